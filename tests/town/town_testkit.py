"""Helpers for the town tests (a module with a unique name, imported by conftest and the tests)."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import cli_path
from kit.git import one_commit_repo

REPO = Path(__file__).resolve().parents[2]


def sh(cwd: Path, *args: str) -> str:
    return subprocess.run(list(args), cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def make_project(path: Path) -> Path:
    """A small Python project with its own passing test suite, committed on main."""
    return one_commit_repo(path, {"calc.py": "def add(a, b):\n    return a + b\n",
                                  "test_calc.py": "from calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n"},
                           message="calc with tests")


def gastown(*args: str, cwd: Path, env: dict | None = None, check: bool = True) -> subprocess.CompletedProcess:
    """Runs the real `gastown` command line in a subprocess."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    proc = cli_path.run(args, cwd=cwd, env=full_env)  # GASTOWN_CLI_VIA: as a process or through the thin client
    if check and proc.returncode != 0:
        raise AssertionError(f"gastown {' '.join(args)} exited {proc.returncode}\nstdout:{proc.stdout}\nstderr:{proc.stderr}")
    return proc


def ensure_polecat_work(town_root: Path) -> None:
    """Sling pours the built-in polecat-work formula by default; the tests need it shipped."""
    from gastown_tui.resources import formulas_dir

    assert any(formulas_dir().glob("polecat-work.formula.*")), f"no polecat-work formula in {formulas_dir()}"



def new_bead(town, rig: str, title: str, **kw) -> str:
    from gastown_tui.town.ledgers import rig_ledger

    return rig_ledger(town, rig).create(title, actor="overseer", **kw).id


def commit_in(worktree: Path, name: str, text: str, message: str) -> str:
    (Path(worktree) / name).write_text(text)
    sh(worktree, "git", "add", name)
    sh(worktree, "git", "commit", "-q", "-m", message)
    return sh(worktree, "git", "rev-parse", "HEAD")
