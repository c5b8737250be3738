"""Shared helpers for the meow tests: a real ledger in a temp dir, and the real `gastown` CLI."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import cli_path

from gastown_tui.beads import Ledger
from gastown_tui.meow import FormulaLibrary, formula_search_path

GASTOWN = [sys.executable, "-m", "gastown_tui.cli"]


def new_ledger(tmp_path: Path, prefix: str = "gt") -> Ledger:
    return Ledger.init(tmp_path / ".beads", prefix)


def builtin_library() -> FormulaLibrary:
    return FormulaLibrary(formula_search_path())


def write_formula(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.formula.toml"
    path.write_text(text, encoding="utf-8")
    return path


def gastown(*args: str, cwd: Path, check: bool = True, env: dict | None = None) -> subprocess.CompletedProcess:
    if env is None:
        env = {k: v for k, v in os.environ.items() if k not in ("BEADS_DIR", "GT_TOWN", "BD_ACTOR")}
    proc = cli_path.run(args, cwd=cwd, env=env)  # GASTOWN_CLI_VIA: as a process or through the thin client
    if check and proc.returncode != 0:
        raise AssertionError(f"gastown {' '.join(args)} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


def gastown_json(*args: str, cwd: Path):
    return json.loads(gastown(*args, "--json", cwd=cwd).stdout)


def wisp_file_ids(beads_dir: Path) -> set[str]:
    path = beads_dir / "wisps.jsonl"
    if not path.exists():
        return set()
    return {json.loads(line)["id"] for line in path.read_text().splitlines() if line.strip()}


def issues_text(beads_dir: Path) -> str:
    return (beads_dir / "issues.jsonl").read_text()
