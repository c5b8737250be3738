"""The demo rig's project: `textkit`, a tiny Python package with its own tests.

Its gate is the standard library's unittest (no install step, well under a
second), so the Refinery can run it on every merge request quickly.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

FILES: dict[str, str] = {
    "README.md": (
        "# textkit\n\nSmall text helpers. This is the sample project of the `gastown demo`: simulated\n"
        "polecats add features to it and the Refinery merges them after running the tests.\n\n"
        "Run the tests with `python -m unittest discover -s tests -t .`\n"
    ),
    "textkit/__init__.py": '"""textkit: small text helpers."""\n\n__version__ = "0.1.0"\n',
    "textkit/stats.py": (
        '"""Counting things in text."""\n\n\n'
        "def line_count(text: str) -> int:\n"
        '    """Number of lines; a trailing newline does not start a new line."""\n'
        "    return len(text.splitlines())\n"
    ),
    "tests/__init__.py": "",
    "tests/test_stats.py": (
        "import unittest\n\nfrom textkit.stats import line_count\n\n\n"
        "class LineCount(unittest.TestCase):\n"
        "    def test_counts_lines(self):\n"
        '        self.assertEqual(line_count("a\\nb\\n"), 2)\n\n'
        "    def test_empty(self):\n"
        '        self.assertEqual(line_count(""), 0)\n'
    ),
    ".gitignore": "__pycache__/\n*.pyc\n",
}

GATE_ARGS = ["-m", "unittest", "discover", "-s", "tests", "-t", "."]


def gate_command(python: str | None = None) -> str:
    """The rig's gate: this Python running the project's unittest suite."""
    import shlex

    return " ".join(shlex.quote(a) for a in [python or sys.executable, *GATE_ARGS])


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True)


def write_sample_project(dest: Path) -> Path:
    """Creates the project as a git repository with one commit on `main`; returns its path."""
    dest = Path(dest)
    if dest.exists() and any(dest.iterdir()):
        raise FileExistsError(f"{dest} already exists and is not empty")
    for rel, text in FILES.items():
        path = dest / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    _git(dest, "init", "-q", "-b", "main")
    _git(dest, "add", "-A")
    _git(dest, "-c", "user.name=Gas Town Demo", "-c", "user.email=demo@gastown.local",
         "commit", "-q", "-m", "textkit: line_count and its tests")
    return dest
