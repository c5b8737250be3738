"""What an agent's everyday commands load (harlequin-style import hygiene).

Agents run `gastown bd list` and `gastown prime` many times a session, through
shims: they must stay fast, so they never load Textual (the app) nor GitPython
(vcs, for worktrees and merges), and the ledger reads plain dicts without
pydantic. Each command runs for real in a subprocess on a real town with a
polecat's hooked molecule; the test reads that subprocess's `sys.modules`.
The deliberate deferrals that keep these out are commented where they stand
(`beads/ledger.py` `_issue_cls`, `town/hooks.py` `hooked_work`, `patrols/actions.py`,
`patrols/runtime.py`...); `python tools/import_graph.py local -vv` lists every one.
The other deferrals are checked below by what importing the modules a command runs
loads (KEPT_OUT): each entry is one reason given in a "deferred" comment.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

HEAVY = ("textual", "widgets", "git", "pexpect")

# (who, the modules it runs, what the deferrals keep out of it)
KEPT_OUT = [
    ("`gastown node serve` (on the node, at every connection the town makes)",
     ["gastown_tui.cli", "gastown_tui.commands.node", "gastown_tui.nodes.serve"],
     ["gastown_tui.commands.node_admin", "gastown_tui.nodes.placement", "gastown_tui.nodes.install",
      "gastown_tui.nodes.check", "gastown_tui.town.cli_support", "pydantic", "git", "textual"]),
    ("the headless commands (`run --headless`, `server`, `demo --headless`)",
     ["gastown_tui.commands.run", "gastown_tui.commands.server", "gastown_tui.commands.demo"],
     ["textual", "widgets", "gastown_tui.app"]),
    ("`gt mol` except closing a step", ["gastown_tui.cli", "gastown_tui.commands.mol"],
     ["gastown_tui.town.ralph", "pydantic", "git", "textual"]),
    ("a runtime handed its sessions (`gastown polecat reap`, tests)",
     ["gastown_tui.patrols.runtime", "gastown_tui.patrols.actions"],
     ["gastown_tui.sessions.manager", "gastown_tui.sessions.session", "pexpect", "psutil", "pydantic"]),
    ("the app's command palette (an app attached to a town server loads no town domain)",
     ["gastown_tui.ui.palette"],
     ["gastown_tui.town.ralph", "gastown_tui.town.budget", "gastown_tui.beads.ledger", "pydantic"]),
]


@pytest.mark.parametrize("who,modules,kept_out", KEPT_OUT, ids=[k[0].split(" (")[0] for k in KEPT_OUT])
def test_deferred_imports_stay_deferred(who, modules, kept_out):
    code = ("import json, sys\n"
            f"for m in {modules!r}: __import__(m)\n"
            f"print(json.dumps([m for m in {kept_out!r} if m in sys.modules]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == [], f"{who} loads {out.stdout.strip()}"

RUN = """
import json, sys
sys.argv = ["gastown", *json.loads(sys.argv[1])]
try:
    from gastown_tui.cli import main
    code = main()
except SystemExit as exc:
    code = exc.code
loaded = sorted({m.split(".")[0] for m in sys.modules})
print("\\nMODULES " + json.dumps({"code": code, "loaded": loaded}))
"""


def loaded_by(args: list[str], cwd, env: dict) -> list[str]:
    proc = subprocess.run([sys.executable, "-c", RUN, json.dumps(args)], cwd=cwd, env={**os.environ, **env},
                          capture_output=True, text=True, timeout=120)
    marker = proc.stdout.rsplit("\nMODULES ", 1)
    assert len(marker) == 2, f"gastown {' '.join(args)} printed no module list\n{proc.stdout}\n{proc.stderr}"
    result = json.loads(marker[1])
    assert result["code"] in (0, None), f"gastown {' '.join(args)} exited {result['code']}\n{proc.stderr}"
    return result["loaded"]


@pytest.fixture
def hooked(formula_ready, rig):
    from gastown_tui.town.ledgers import rig_ledger
    from gastown_tui.town.sling import sling

    town = formula_ready
    bead = rig_ledger(town, "calc").create("Add subtract", actor="overseer").id
    result = sling(town, bead, "calc")
    return town, result


def test_bd_list_and_prime_load_neither_textual_nor_gitpython(hooked):
    town, slung = hooked
    worktree, agent = slung.worktree, slung.agent
    env = {"GT_AGENT": agent, "BD_ACTOR": agent}
    for args in (["bd", "list"], ["bd", "list", "--json"], ["prime"], ["prime", "--json"]):
        loaded = loaded_by(args, worktree, env)
        assert "gastown_tui" in loaded, "the probe did not run the command line"
        pulled = [m for m in HEAVY if m in loaded]
        assert not pulled, f"`gastown {' '.join(args)}` loads {pulled}"
    for args in (["bd", "list"], ["prime"]):
        loaded = loaded_by(args, worktree, env)
        assert "pydantic" not in loaded, f"`gastown {' '.join(args)}` builds pydantic models; it reads plain records"
