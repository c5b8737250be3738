"""Checks a demo town after the factory ran: did the convoy land, and did it land right?

- the convoy is closed;
- the rig's `main` has every bead's change and its own tests pass on it (run in a
  throwaway worktree of main);
- how many times each bead was sent back (MR state changes to conflict/failed in
  the event log);
- no commit any polecat made is lost: every commit of every submitted branch
  (each merge request's commit and its ancestors since the project's first commit)
  is on main (by patch identity, so the Refinery's rebased copies count) or still
  reachable from a kept ref or branch in the rig's repo. (Commits never submitted
  live on the polecat's own branch in the Mayor's clone, which nothing here deletes.)
"""
from __future__ import annotations

import json
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from gastown_tui.demo.beads import ALL
from gastown_tui.demo.sample import gate_command
from gastown_tui.errors import NotFound
from gastown_tui.town.convoys import get_convoy
from gastown_tui.town.mq import list_mrs


@dataclass
class DemoCheck:
    landed: bool
    missing_changes: list[str] = field(default_factory=list)  # bead keys whose change is not on main
    tests_pass: bool = False
    tests_tail: str = ""
    sent_back: dict[str, list[str]] = field(default_factory=dict)  # bead key -> ["conflict", "failed", ...]
    commits_checked: int = 0
    lost_commits: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.landed and not self.missing_changes and self.tests_pass and not self.lost_commits

    def summary(self) -> str:
        backs = ", ".join(f"{k}: {'/'.join(v)}" for k, v in self.sent_back.items() if v) or "none"
        return (f"convoy {'landed' if self.landed else 'NOT landed'}; main has "
                f"{len(ALL) - len(self.missing_changes)}/{len(ALL)} changes; main's tests "
                f"{'pass' if self.tests_pass else 'FAIL'}; sent back: {backs}; "
                f"{self.commits_checked} polecat commits checked, {len(self.lost_commits)} lost")


def _git(repo: Path, *args: str, check: bool = True, input: str | None = None) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=check, capture_output=True, text=True,
                          input=input).stdout


def _patch_id(repo: Path, rev: str) -> str | None:
    out = subprocess.run(f"git show {rev} | git patch-id --stable", shell=True, cwd=repo, capture_output=True,
                         text=True).stdout.split()
    return out[0] if out else None


def main_patch_ids(repo: Path, target: str = "main") -> set[str]:
    out = subprocess.run(f"git log -p --format='commit %H' {target} | git patch-id --stable", shell=True,
                         cwd=repo, capture_output=True, text=True).stdout
    return {line.split()[0] for line in out.splitlines() if line.strip()}


def lost_commits(repo: Path, tips: list[str], target: str = "main") -> tuple[int, list[str]]:
    """(commits checked, commits neither on target by patch identity nor reachable from another ref)."""
    roots = _git(repo, "rev-list", "--max-parents=0", target).split()
    on_main = main_patch_ids(repo, target)
    commits: set[str] = set()
    for tip in tips:
        if _git(repo, "cat-file", "-t", tip, check=False).strip() != "commit":
            commits.add(tip)  # the object itself is gone: certainly lost
            continue
        commits.update(_git(repo, "rev-list", tip, "--not", *roots).split())
    lost = []
    for c in sorted(commits):
        if _git(repo, "cat-file", "-t", c, check=False).strip() != "commit":
            lost.append(c)
            continue
        if _patch_id(repo, c) in on_main:
            continue
        holders = [r for r in _git(repo, "for-each-ref", "--contains", c, "--format=%(refname)").split()
                   if r != f"refs/heads/{target}"]
        if not holders:
            lost.append(c)
    return len(commits), lost


def run_main_tests(repo: Path, target: str = "main") -> tuple[bool, str]:
    with tempfile.TemporaryDirectory(prefix="gastown-demo-main-") as tmp:
        wt = Path(tmp) / "main"
        _git(repo, "worktree", "add", "--detach", "-q", str(wt), target)
        try:
            proc = subprocess.run(gate_command(), shell=True, cwd=wt, capture_output=True, text=True)
            return proc.returncode == 0, (proc.stdout + proc.stderr).strip()[-600:]
        finally:
            _git(repo, "worktree", "remove", "--force", str(wt), check=False)


def sent_back(town_root: Path, bead_ids: dict[str, str]) -> dict[str, list[str]]:
    by_id = {v: k for k, v in bead_ids.items()}
    out: dict[str, list[str]] = {k: [] for k in bead_ids}
    path = Path(town_root) / ".events.jsonl"
    for line in path.read_text().splitlines():
        try:
            e = json.loads(line)
        except ValueError:
            continue
        p = e.get("payload") or {}
        if e.get("type") == "mr_state" and p.get("new") in ("conflict", "failed") and p.get("source") in by_id:
            out[by_id[p["source"]]].append(p["new"])
    return out


def check_demo(demo) -> DemoCheck:
    town, rig = demo.town, demo.rig
    try:
        landed = get_convoy(town, demo.convoy).status == "closed"
    except NotFound:            # the Mayor has not filed the demo's convoy yet
        landed = False
    result = DemoCheck(landed=landed)
    for b in ALL:
        text = _git(rig.repo, "show", f"main:{b.expect_path}", check=False)
        if b.expect_text not in text:
            result.missing_changes.append(b.key)
    result.tests_pass, result.tests_tail = run_main_tests(rig.repo)
    result.sent_back = sent_back(town.root, demo.beads)
    tips = [m.commit_sha for m in list_mrs(town, rig=rig.name, include_closed=True) if m.commit_sha]
    result.commits_checked, result.lost_commits = lost_commits(rig.repo, tips)
    return result
