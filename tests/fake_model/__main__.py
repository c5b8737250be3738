"""Run the fake model server by hand: `cd tests && python -m fake_model --max-seconds 600`.

Prints the base URL (and writes the port to --port-file), logs requests to --log as JSON lines
(credentials redacted), and stops by itself after --max-seconds. --script FILE takes JSON rules:
[{"pattern": "regex", "steps": [{"shell": "cmd"}, {"write": "path", "content": "..."}, {"say": "text"},
{"fail": 529}, {"stall": 30, "say": "..."}]}, ...]; prompts no rule matches get the built-in behaviour
(`write F: TEXT`, `run: CMD`, `run!: CMD`, `sleep N ...`, `stall N`, `fail STATUS`, else ECHO).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from .brain import Brain, Reply, Say, Shell, Write
from .server import FakeModel


def step_from_json(step: dict, where: str):
    if not isinstance(step, dict):
        raise SystemExit(f"{where}: a step must be an object, got {step!r}")
    actions = []
    if "say" in step:
        actions.append(Say(str(step["say"])))
    if "shell" in step:
        actions.append(Shell(str(step["shell"]), escalate=bool(step.get("escalate"))))
    if "write" in step:
        actions.append(Write(str(step["write"]), str(step.get("content", ""))))
    reply = Reply(actions=actions, delay=float(step.get("delay", 0)), stall=float(step.get("stall", 0)),
                  fail_status=int(step.get("fail", 0)))
    if not actions and not reply.fail_status:
        raise SystemExit(f"{where}: a step needs say, shell, write or fail")
    return reply


def load_script(path: Path) -> Brain:
    try:
        rules = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise SystemExit(f"{path}: {exc}")
    brain = Brain()
    for i, rule in enumerate(reversed(rules if isinstance(rules, list) else [])):
        where = f"{path}: rule {len(rules) - i}"
        steps = [step_from_json(s, f"{where} step {n + 1}") for n, s in enumerate(rule.get("steps", []))]
        brain.add(str(rule.get("pattern", "")), *steps)
    return brain


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m fake_model", description=__doc__.splitlines()[0])
    ap.add_argument("--max-seconds", type=float, default=600.0)
    ap.add_argument("--port-file", type=Path)
    ap.add_argument("--log", type=Path)
    ap.add_argument("--script", type=Path)
    args = ap.parse_args(argv)
    brain = load_script(args.script) if args.script else Brain()
    fm = FakeModel(brain, max_seconds=args.max_seconds, log_path=args.log).start()
    if args.port_file:
        args.port_file.write_text(str(fm.port))
    print(f"fake model at {fm.url} (stops after {args.max_seconds:g} s)", flush=True)
    try:
        while not fm.stopped:
            time.sleep(0.2)
    except KeyboardInterrupt:
        fm.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
