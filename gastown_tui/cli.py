"""The `gastown` command: dispatches to one module per command group.

`gastown bd ...` is the Beads command line; every other command is a Gas Town
(`gt`) command. Only the module for the command being run is imported, so a
`gastown bd ready` never pays for the app (nor for Textual).

Each command module exposes `main(argv: list[str], prog: str) -> int`.
"""
from __future__ import annotations

import importlib
import sys

from gastown_tui import __version__
from gastown_tui.errors import UserError, nearest

# name -> (module, one-line summary). One module per command group, named after it.
COMMANDS: dict[str, tuple[str, str]] = {
    "bd": ("gastown_tui.commands.bd", "the Beads ledger command line (create, ready, close, ...)"),
    "formula": ("gastown_tui.commands.formula", "list, show and validate formulas"),
    "mol": ("gastown_tui.commands.mol", "cook, pour, wisp, progress, squash and burn molecules"),
    "install": ("gastown_tui.commands.install", "create a town"),
    "rig": ("gastown_tui.commands.rig", "add, list, show and remove rigs"),
    "polecat": ("gastown_tui.commands.polecat", "spawn, list and remove polecats"),
    "crew": ("gastown_tui.commands.crew", "add, list and remove crew workspaces"),
    "sling": ("gastown_tui.commands.sling", "put work on an agent's hook"),
    "hook": ("gastown_tui.commands.hook", "show or clear a hook"),
    "prime": ("gastown_tui.commands.prime", "print an agent's role, rules, hook and checklist"),
    "done": ("gastown_tui.commands.done", "submit a polecat's work to the merge queue"),
    "mq": ("gastown_tui.commands.mq", "the merge queue"),
    "mail": ("gastown_tui.commands.mail", "send, read, reply to and archive mail"),
    "convoy": ("gastown_tui.commands.convoy", "create, extend and track convoys"),
    "handoff": ("gastown_tui.commands.handoff", "end this session; a fresh one continues"),
    "seance": ("gastown_tui.commands.seance", "read a predecessor session's transcript"),
    "nudge": ("gastown_tui.commands.nudge", "queue text to type into an agent's terminal"),
    "feed": ("gastown_tui.commands.feed", "print the town's event log"),
    "ralph": ("gastown_tui.commands.ralph", "Ralph loops on molecule steps: show attempts, raise the limit"),
    "costs": ("gastown_tui.commands.costs", "tokens and money spent, by agent, bead, convoy, rig, role or day"),
    "budget": ("gastown_tui.commands.budget", "spending budgets and the breaker: show, raise, reset"),
    "shims": ("gastown_tui.commands.shims", "write gt and bd launchers for agents"),
    "agent": ("gastown_tui.commands.agent", "run a built-in agent (sim)"),
    "run": ("gastown_tui.commands.run", "run the town's sessions and patrols (--headless: the town server)"),
    "server": ("gastown_tui.commands.server", "serve the town in the foreground (agents, patrols, client socket)"),
    "up": ("gastown_tui.commands.up", "start the town's server in the background (idempotent)"),
    "down": ("gastown_tui.commands.down", "stop every agent and the town's server"),
    "status": ("gastown_tui.commands.status", "the town server: pid, uptime, clients, agents (--json)"),
    "demo": ("gastown_tui.commands.demo", "create a demo town and run the factory"),
    "app": ("gastown_tui.commands.app", "open the terminal app (the default)"),
    "config": ("gastown_tui.commands.config", "get, set and list the town's settings (checked)"),
    "agents": ("gastown_tui.commands.agents", "list agent CLIs: found, version, verified range, roles"),
    "web": ("gastown_tui.commands.web", "serve the console to a browser (one app per tab, token-guarded)"),
    "keeper": ("gastown_tui.server.keeper", "keep the town's agents alive across server crashes (runs the server)"),
    "service": ("gastown_tui.commands.service", "install, remove or show the login service for the town's server"),
    "attach": ("gastown_tui.commands.attach", "attach this terminal to one agent (detach: ctrl+b d)"),
    "node": ("gastown_tui.commands.node", "add, list, show, check and remove nodes (machines reached over SSH)"),
}


def _usage() -> str:
    width = max(len(n) for n in COMMANDS)
    lines = [
        "usage: gastown [--version] [COMMAND] [ARGS...]",
        "",
        "With no command, opens the app on the town here (or a welcome screen).",
        "",
        "commands:",
    ]
    lines += [f"  {name:<{width}}  {summary}" for name, (_, summary) in COMMANDS.items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in ("--version", "-V"):
        print(f"gastown {__version__}")
        return 0
    if argv and argv[0] in ("-h", "--help", "help"):
        print(_usage())
        return 0
    # `gt` shim calls `gastown gt ARGS`: the gt commands are the top-level ones.
    if argv and argv[0] == "gt":
        argv = argv[1:]
    name = argv[0] if argv and not argv[0].startswith("-") else "app"
    rest = argv[1:] if argv and argv[0] == name else argv
    if name not in COMMANDS:
        near = nearest(name, COMMANDS)
        hint = f" (did you mean: {', '.join(near)})" if near else ""
        print(f"gastown: unknown command {name!r}{hint}", file=sys.stderr)
        print(_usage(), file=sys.stderr)
        return 2
    module_name, _ = COMMANDS[name]
    module = importlib.import_module(module_name)
    return run_command(module.main, rest, f"gastown {name}")


def run_command(func, argv: list[str], prog: str) -> int:
    """Runs a command's main, turning UserError into a one-line message and exit 1."""
    try:
        return int(func(argv, prog) or 0)
    except UserError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        return 0
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
