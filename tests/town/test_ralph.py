"""Ralph steps without a running town: the formula key, the check (timeouts kill the whole process group),
`gastown sling --ralph`, `gt mol done` refusing until the check passes, escalation, `gastown ralph raise`."""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from town_testkit import gastown, new_bead, sh

SHARED_FORMULAS = Path(__file__).resolve().parents[2] / ".." / "shared" / "formulas"


def test_a_ralph_table_is_read_with_defaults_and_bad_ones_are_refused_naming_file_and_step(tmp_path):
    from gastown_tui.meow.errors import FormulaError
    from gastown_tui.meow.parse import read_formula_file

    good = tmp_path / "g.formula.toml"
    good.write_text('formula = "g"\n[[steps]]\nid = "a"\nralph = { check = "make test" }\n'
                    '[[steps]]\nid = "b"\nralph = { check = "true", max_attempts = 5, timeout = "90s" }\n')
    steps = read_formula_file(good).steps
    assert steps[0].ralph.to_json() == {"check": "make test", "max_attempts": 3, "timeout": 600.0}
    assert steps[1].ralph.to_json() == {"check": "true", "max_attempts": 5, "timeout": 90.0}
    for body, needle in (('{ max_attempts = 2 }', "ralph.check"), ('{ check = "x", max_attempts = 0 }', "max_attempts"),
                         ('{ check = "x", timeout = "soon" }', "ralph.timeout"), ('"make test"', "must be a table"),
                         ('{ check = "x", tries = 2 }', "unknown key")):
        bad = tmp_path / "b.formula.toml"
        bad.write_text(f'formula = "b"\n[[steps]]\nid = "s1"\nralph = {body}\n')
        with pytest.raises(FormulaError) as err:
            read_formula_file(bad)
        assert str(bad) in str(err.value) and "'s1'" in str(err.value) and needle in str(err.value), str(err.value)


def test_the_shipped_formulas_still_load_and_none_is_a_ralph_step():
    from gastown_tui.meow.parse import read_formula_file

    files = sorted(SHARED_FORMULAS.glob("*.formula.*")) if SHARED_FORMULAS.is_dir() else []
    if not files:
        pytest.skip(f"no shared formulas at {SHARED_FORMULAS}")
    for path in files:
        assert all(step.ralph is None for step in read_formula_file(path).steps), path


def test_a_check_that_runs_too_long_is_killed_with_its_whole_process_group(tmp_path):
    from gastown_tui.town.ralph import run_check

    pidfile = tmp_path / "child.pid"
    started = time.monotonic()
    result = run_check(f"sleep 30 & echo $! > {pidfile}; echo working; wait", tmp_path, timeout=0.5)
    assert time.monotonic() - started < 5
    assert result.timed_out and not result.passed and result.exit is None
    assert "working" in result.output and "killed after 0.5s" in result.output
    child = int(pidfile.read_text())
    for _ in range(50):
        if not Path(f"/proc/{child}").exists() or "Z" in Path(f"/proc/{child}/stat").read_text().split()[2]:
            break
        time.sleep(0.05)   # the kill is sent; the kernel tears the child down asynchronously
    else:
        pytest.fail(f"the check's background child {child} outlived the timeout")
    ok = run_check("echo fine; exit 0", tmp_path, timeout=5)
    assert ok.passed and ok.output == "fine"
    bad = run_check("seq 1 100; exit 3", tmp_path, timeout=5)
    assert bad.exit == 3 and bad.output.splitlines() == [str(i) for i in range(81, 101)]   # the tail, 20 lines


def test_sling_ralph_gates_every_step_and_a_person_can_raise_an_exhausted_one(town, rig, tmp_path):
    bead = new_bead(town, "calc", "Make it pass")
    env = {"GT_TOWN": str(town.root)}
    out = json.loads(gastown("sling", bead, "calc", "--ralph", "--check", "test -e ok.txt", "--max-attempts", "2",
                             "--no-convoy", "--json", cwd=town.root, env=env).stdout)
    mol, agent, wt = out["molecule"], out["agent"], Path(out["worktree"])
    shown = json.loads(gastown("ralph", "show", bead, "--json", cwd=town.root, env=env).stdout)
    assert shown and all(s["check"] == "test -e ok.txt" and s["max_attempts"] == 2 for s in shown)
    first = shown[0]["step"]
    agent_env = {**env, "GT_AGENT": agent, "GT_SESSION_ID": "s1", "BEADS_DIR": str(town.rig_dir("calc") / ".beads")}
    done = gastown("mol", "done", first, cwd=wt, env=agent_env, check=False)
    assert done.returncode == 1 and "Ralph check failed on attempt 1 of 2 (exit 1)" in done.stderr
    assert "a fresh session takes attempt 2 of 2" in done.stderr
    marker = json.loads((town.runtime / "handoffs" / f"{agent.replace('/', '--')}.json").read_text())
    assert marker["reason"] == "ralph" and marker["attempt"] == 2 and "test -e ok.txt" in marker["note"]
    again = gastown("mol", "done", first, cwd=wt, env=agent_env, check=False)   # the same session: not an attempt
    assert again.returncode == 1 and "attempt on" in again.stderr and "is over" in again.stderr
    os.remove(town.runtime / "handoffs" / f"{agent.replace('/', '--')}.json")   # what the handoff patrol does
    done = gastown("mol", "done", first, cwd=wt, env={**agent_env, "GT_SESSION_ID": "s2"}, check=False)
    assert done.returncode == 1 and "no attempts left" in done.stderr and "escalated" in done.stderr
    prime = gastown("prime", "--agent", agent, cwd=wt, env=agent_env).stdout
    assert "Ralph: all 2 attempts failed; escalated to the Overseer" in prime
    feed = [json.loads(line) for line in town.events_path.read_text().splitlines()]
    assert [e["payload"]["attempt"] for e in feed if e["type"] == "ralph_attempt"] == [1, 2]
    assert [e["type"] for e in feed].count("ralph_exhausted") == 1
    (wt / "work.txt").write_text("work\n")
    sh(wt, "git", "add", "work.txt")
    sh(wt, "git", "commit", "-qm", "work")
    done = gastown("done", cwd=wt, env=agent_env, check=False)       # no skipping the open Ralph step
    assert done.returncode == 1 and f"Ralph step {first} is still open" in done.stderr, done.stderr
    raised = json.loads(gastown("ralph", "raise", bead, "--json", cwd=town.root, env=env).stdout)
    assert raised == [{"step": first, "old": 2, "new": 3}]
    prime = gastown("prime", "--agent", agent, cwd=wt, env=agent_env).stdout
    assert "Ralph: attempt 3 of 3" in prime and "test -e ok.txt" in prime
    (wt / "ok.txt").write_text("ok\n")
    done = gastown("mol", "done", first, "--json", cwd=wt, env={**agent_env, "GT_SESSION_ID": "s3"})
    assert json.loads(done.stdout)["closed"]["id"] == first
    attempts = json.loads(gastown("ralph", "show", first, "--json", cwd=town.root, env=env).stdout)[0]["attempts"]
    assert [(a["n"], a["passed"], a["session"]) for a in attempts] == [(1, False, "s1"), (2, False, "s2"),
                                                                        (3, True, "s3")]
    from gastown_tui.meow.tracking import progress
    from gastown_tui.town.ledgers import ledger_for_id
    from gastown_tui.town.ralph import hook_line

    line = hook_line(progress(ledger_for_id(town, bead), mol))     # the hook panel: the next Ralph step
    assert line.startswith("Ralph: attempt 1 of") and "test -e ok.txt" in line, line


def test_sling_ralph_without_any_check_is_refused_and_changes_nothing(town, tmp_path):
    from gastown_tui.town.rigs import add_rig
    from town_testkit import make_project

    add_rig(town, "nogate", str(make_project(tmp_path / "p2")))
    bead = new_bead(town, "nogate", "No gate here")
    env = {"GT_TOWN": str(town.root)}
    out = gastown("sling", bead, "nogate", "--ralph", cwd=town.root, env=env, check=False)
    assert out.returncode == 1 and "--ralph needs a check" in out.stderr and "--check CMD" in out.stderr
    hook = gastown("bd", "show", bead, "--json", cwd=town.rig_dir("nogate"), env=env).stdout
    assert '"hooked"' not in hook
