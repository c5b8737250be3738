"""Real git repositories for the patrol tests: a bare rig repo, the Refinery's worktree, polecat worktrees."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kit.git import commit_file, git  # noqa: F401  (re-exported to the patrol tests)


@dataclass
class Rig:
    bare: Path
    refinery: Path
    root: Path

    def polecat(self, name: str, branch: str) -> Path:
        wt = self.root / "polecats" / name
        git(self.bare, "worktree", "add", "-q", "-b", branch, str(wt), "main")
        return wt

    def main_file(self, path: str) -> str:
        return git(self.bare, "show", f"main:{path}")


def make_rig(root: Path) -> Rig:
    """A bare repo with one commit on main (calc.py + a unittest), and the Refinery's worktree on main."""
    seed = root / "seed"
    seed.mkdir(parents=True)
    git(seed, "init", "-q", "-b", "main")
    commit_file(seed, "calc.py", "def add(a, b):\n    return a + b\n", "calc")
    commit_file(
        seed, "test_calc.py",
        "import unittest\nimport calc\n\nclass T(unittest.TestCase):\n    def test_add(self):\n        self.assertEqual(calc.add(2, 3), 5)\n",
        "tests",
    )
    bare = root / "rig.git"
    git(root, "clone", "-q", "--bare", str(seed), str(bare))
    refinery = root / "refinery"
    git(bare, "worktree", "add", "-q", str(refinery), "main")
    return Rig(bare=bare, refinery=refinery, root=root)
