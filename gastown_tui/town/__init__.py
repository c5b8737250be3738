"""The town: everything a Gas Town does with its work, short of running the agents.

One module per concept, each a set of plain functions taking a `Town` first
(docs/contracts.md, town section): layout (finding the town), install,
settings, rigs, ledgers (routing ids by prefix), agents, roster, polecats,
crew, namepool, hooks, sling, molecules, prime, done, mq, mail, convoys,
handoff, seance, events, nudges, shims, snapshot (the app's read model) and
actions (the app's calls). The CLI's command modules are thin wrappers over
these; nothing here imports Textual.
"""
