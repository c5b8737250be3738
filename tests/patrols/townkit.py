"""A real town with the demo's sample project as its rig, and polecats that submit real branches."""
from __future__ import annotations

from pathlib import Path

from gastown_tui.demo.sample import gate_command, write_sample_project
from kit.git import git


def make_town(tmp: Path, rig_name: str = "textkit", **rig_settings):
    from gastown_tui.town.install import install_town
    from gastown_tui.town.rigs import add_rig, get_rig
    from gastown_tui.town.settings import RigSettings

    src = write_sample_project(tmp / "src")
    town = install_town(tmp / "town")
    rig = add_rig(town, rig_name, str(src), gate=gate_command())
    if rig_settings:
        s = RigSettings.load(rig.settings_path)
        for key, value in rig_settings.items():
            if isinstance(value, dict):
                s.data.setdefault(key, {}).update(value)
            else:
                s.data[key] = value
        s.save()
    return town, get_rig(town, rig_name)


def submit(town, rig, title: str, files: dict[str, str], message: str | None = None, priority: int = 2,
           polecat=None):
    """A bead, a polecat with it on its hook, a commit in its worktree, the branch pushed, an MR. Returns (mr, cat, bead)."""
    from gastown_tui.town.hooks import hook_bead
    from gastown_tui.town.ledgers import open_ledger
    from gastown_tui.town.mq import create_mr
    from gastown_tui.town.polecats import spawn_polecat

    ledger = open_ledger(rig.beads_dir)
    bead = ledger.create(title, priority=priority)
    cat = polecat or spawn_polecat(town, rig.name, bead_id=bead.id)
    hook_bead(town, bead.id, cat.address)
    wt = Path(cat.worktree)
    for rel, text in files.items():
        (wt / rel).parent.mkdir(parents=True, exist_ok=True)
        (wt / rel).write_text(text)
    git(wt, "add", "-A")
    git(wt, "commit", "-q", "-m", message or title)
    git(wt, "push", "-q", "-f", "origin", f"HEAD:refs/heads/{cat.branch}")
    sha = git(wt, "rev-parse", "HEAD")
    ledger.update(bead.id, status="in_progress")
    mr = create_mr(town, ledger, rig.name, source=bead.id, branch=cat.branch, target=rig.target, commit_sha=sha,
                   worker=cat.address, agent_bead=None, priority=priority, convoy_id=None, actor=cat.address)
    return mr, cat, bead


def main_file(rig, path: str) -> str:
    return git(rig.repo, "show", f"main:{path}")
