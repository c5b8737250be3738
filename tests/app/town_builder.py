"""Builds the fixed town the app tests and snapshots use, through the town's own Python API.

Run as a script in a subprocess: `python tests/app/town_builder.py DEST`.
The process's clock is frozen to a counter (time.time / time.time_ns advance
one millisecond per call from 2026-01-02T03:04:05Z, and event timestamps come
from the same counter), so bead ids, timestamps and branch names are the same
on every run and the snapshots are stable. Git dates are fixed too. Prints the
town root.

The town: rig `alpha` (a small real Python project with a test gate) and rig
`beta`; five beads in alpha, a convoy tracking three of them; three slung to
polecats (one has committed and run `done`, so its merge request is queued;
one is stuck); mail to the Overseer; one escalation; a crew member in beta.
"""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

EPOCH_NS = 1767323045_000_000_000  # 2026-01-02T03:04:05Z
_tick = [0]


def _fake_ns() -> int:
    _tick[0] += 1
    return EPOCH_NS + _tick[0] * 1_000_000


def freeze_clock() -> None:
    time.time_ns = _fake_ns
    time.time = lambda: _fake_ns() / 1e9
    import gastown_tui.town.events as events
    from gastown_tui.timestamps import format_ns

    def now_ts() -> str:
        text = format_ns(_fake_ns())
        return text

    events.now_ts = now_ts


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def sample_repo(dest: Path, name: str) -> Path:
    dest.mkdir(parents=True)
    git(dest, "init", "-q", "-b", "main")
    (dest / f"{name}.py").write_text('"""A tiny module."""\n\n\ndef greet(who: str) -> str:\n    return f"hello {who}"\n')
    (dest / f"test_{name}.py").write_text(
        f"from {name} import greet\n\n\ndef test_greet():\n    assert greet('town') == 'hello town'\n")
    (dest / "README.md").write_text(f"# {name}\n\nA sample project.\n")
    git(dest, "add", "-A")
    git(dest, "commit", "-q", "-m", "initial commit")
    return dest


def build(dest: Path) -> Path:
    freeze_clock()
    from gastown_tui.patrols.escalate import escalate
    from gastown_tui.town.agents import set_agent_state
    from gastown_tui.town.convoys import create_convoy
    from gastown_tui.town.done import submit_done
    from gastown_tui.town.install import install_town
    from gastown_tui.town.ledgers import rig_ledger
    from gastown_tui.town.mail import send_mail
    from gastown_tui.town.rigs import add_rig
    from gastown_tui.town.sling import sling

    town = install_town(dest / "town", name="snaptown", owner="overseer@example.invalid")
    alpha_src = sample_repo(dest / "src-alpha", "alpha")
    beta_src = sample_repo(dest / "src-beta", "beta")
    add_rig(town, "alpha", str(alpha_src), gate="python -m pytest -q")
    add_rig(town, "beta", str(beta_src))
    ledger = rig_ledger(town, "alpha")
    titles = ["Add a farewell function", "Greet in French", "Document greet()", "Type-check the module",
              "Speed up greet for long names"]
    beads = [ledger.create(t, issue_type="task", priority=i % 3 + 1, actor="mayor/",
                           description=f"{t}.\n\nsim: commit {t}").id for i, t in enumerate(titles)]
    create_convoy(town, "Friendlier greetings", beads[:3], owner="mayor/")
    first = sling(town, beads[0], "alpha", no_convoy=True, actor="mayor/")
    second = sling(town, beads[1], "alpha", no_convoy=True, actor="mayor/")
    sling(town, beads[2], "alpha", no_convoy=True, actor="mayor/")
    worktree = Path(first.worktree)
    (worktree / "alpha.py").write_text((worktree / "alpha.py").read_text()
                                       + '\n\ndef farewell(who: str) -> str:\n    return f"goodbye {who}"\n')
    git(worktree, "add", "-A")
    git(worktree, "commit", "-q", "-m", "Add farewell()")
    submit_done(town, worktree, address=first.agent)
    set_agent_state(town, second.agent, "stuck")
    # (a crew member would go in beta: town.crew.add_crew currently fails, see the app report)
    send_mail(town, "mayor/", "overseer", "Convoy started", "Friendlier greetings is under way: 3 beads.")
    send_mail(town, "alpha/witness", "overseer", f"POLECAT_DONE {first.agent}", "Work submitted to the merge queue.")
    escalate(town, "Refinery gate is slow", "The alpha gate took 4 minutes.", source="alpha/refinery",
             severity="medium")
    return town.root


if __name__ == "__main__":
    import os

    os.environ.update(GIT_AUTHOR_DATE="2026-01-02T03:04:05Z", GIT_COMMITTER_DATE="2026-01-02T03:04:05Z")
    # Who created the beads is part of their hash ids and of the screens: the same on every machine.
    os.environ["BD_ACTOR"] = "overseer"
    root = build(Path(sys.argv[1]))
    print(root)
