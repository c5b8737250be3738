"""What the agents' model calls cost: token use read from what each agent CLI records in its home.

Each agent runs with its own HOME under `<town>/.runtime/homes/<agent_key>/` (sessions/homes.py), where
the CLI keeps its own records: Claude Code's project JSONL, Codex's session rollouts, Gemini CLI's chat
logs. `reader.CostReader` reads them incrementally (file offsets remembered), `attribution` puts each
model call on the agent, the bead on its hook at that moment, the bead's convoy, the rig and the role,
`prices` turns tokens into money (a shipped table per model, overridable in settings/config.json), and
`report` adds them up. Nothing here imports Textual; the app calls `report.spend_summary`.
"""
