"""`gastown install [DIR] [--agent NAME]`: create a town, and choose the agent CLI its roles run.

The agent CLIs on PATH are detected (`gastown agents` shows the same). `--agent NAME` sets the agent of
the roles that talk to a model (the Mayor, polecats, crew; the Deacon, Boot, Witness and Refinery run
inside the town as patrols); in a terminal, without --agent, the question is asked, its default the
first CLI found at a verified version, else the simulated agent `sim`. Without a terminal and without
--agent the roles use `sim`, and the output says so and how to change it.
"""
from __future__ import annotations

import argparse
import os
import sys

from gastown_tui.errors import UserError
from gastown_tui.sessions.agent_detect import AGENT_CLIS, detect, first_verified
from gastown_tui.sessions.presets import load_presets
from gastown_tui.town.install import install_town
from gastown_tui.town.jsonfile import read_json, write_json

AGENT_ROLES = ("mayor", "polecat", "crew")


def _choose(found, default: str, names: list[str]) -> str:
    print("Agent CLIs on this machine:")
    for i in found:
        if i.name in ("sim", "shell"):
            continue
        if i.found:
            ok = {True: "verified", False: f"not among the verified {i.verified}", None: "version unknown"}[i.verified_ok]
            print(f"  {i.name:<9} {i.version or '?':<9} {ok:<28} {i.path}")
        else:
            print(f"  {i.name:<9} not found")
    while True:
        try:
            answer = input(f"Which agent should the Mayor, polecats and crew run? [{default}] ").strip()
        except EOFError:
            answer = ""
        answer = answer or default
        if answer in names:
            return answer
        print(f"  unknown agent {answer!r}; one of: {', '.join(names)}")


def main(argv: list[str], prog: str) -> int:
    p = argparse.ArgumentParser(prog=prog, description="Create a town (mayor/town.json marks its root) and choose "
                                "the agent CLI its Mayor, polecats and crew run.")
    p.add_argument("dir", nargs="?", default=".", help="where (default: here)")
    p.add_argument("--name", help="the town's name (default: the folder's name)")
    p.add_argument("--agent", help="the agent preset for the Mayor, polecats and crew (claude, codex, gemini, aider, "
                   "opencode, sim, ...); default: asked in a terminal, else sim")
    args = p.parse_args(argv)
    presets = load_presets()
    names = sorted(presets)
    if args.agent is not None and args.agent not in presets:
        raise UserError(f"--agent {args.agent!r}: unknown agent preset (known: {', '.join(names)})")
    found = detect(presets, os.environ.get("PATH"), names=[n for n in AGENT_CLIS if n in presets])
    suggested = first_verified(found)
    agent = args.agent
    asked = False
    if agent is None and sys.stdin.isatty() and sys.stdout.isatty():
        agent = _choose(found, suggested or "sim", names)
        asked = True
    town = install_town(args.dir, name=args.name)
    print(f"Created town at {town.root}")
    chosen = agent or "sim"
    data = read_json(town.settings_path, default={})
    data["default_agent"] = chosen
    roles = data.setdefault("role_agents", {})
    for role in AGENT_ROLES:
        roles[role] = chosen
    write_json(town.settings_path, data)
    info = next((i for i in found if i.name == chosen), None)
    if chosen == "sim":
        why = "" if asked or args.agent else " (the default without a terminal or --agent)"
        print(f"  agents: the Mayor, polecats and crew run the simulated agent `sim`{why}: no model, scripted work.")
        if suggested and not asked and not args.agent:
            print(f"  {suggested} {next(i.version for i in found if i.name == suggested)} is installed: "
                  f"use it with `gastown config set role_agents.polecat {suggested}` (and mayor, crew), "
                  f"or create the town with --agent {suggested}")
        elif not suggested:
            print("  no agent CLI was found on PATH (`gastown agents` lists what is looked for)")
    else:
        where = f"{info.path}, version {info.version or 'unknown'}" if info and info.found else \
            f"NOT FOUND on PATH: set its path with `gastown config set agents.{chosen}.path /full/path`"
        print(f"  agents: the Mayor, polecats and crew run {chosen} ({where})")
        if info and info.verified_ok is False:
            print(f"  note: {chosen} {info.version} is not among the versions its screen rules were verified "
                  f"with ({info.verified}); states may read wrongly")
    print("  the Deacon, Boot, Witness and Refinery run inside the town as patrols")
    print(f"  next: gastown rig add NAME SOURCE   (in {town.root}, or with GT_TOWN={town.root})")
    return 0
