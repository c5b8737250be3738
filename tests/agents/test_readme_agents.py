"""README's "Use your own agents", run as written on a fresh town with Claude Code and the fake model server.

The commands are read from the README (not copied here), with its placeholders replaced: the town and
project folders, Claude Code's path (the one .ci/install-agents installed, which is not on PATH: the
README's `agents.claude.path` line is what finds it) and the gateway URL (the fake model server). The
`npm install` line is skipped (CI installed the pinned CLI). The slung bead must end up merged.
"""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from agentkit import SCRUB, require_cli
from agent_townkit import git
from fake_model import Say, Shell, Write

pytestmark = pytest.mark.agents

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_commands() -> list[str]:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Use your own agents", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```sh\n(.*?)```", section, re.S).group(1)
    lines = []
    for line in block.splitlines():
        command = re.sub(r"\s+#.*$", "", line).strip()
        if command:
            lines.append(command)
    return lines


def test_readme_use_your_own_agents_with_claude_code_merges_a_bead(tmp_path, fake_model, brain):
    claude = require_cli("claude")
    commands = readme_commands()
    assert commands[0].startswith("npm install") and commands[-1].startswith("gastown run --headless"), commands
    project = tmp_path / "src" / "myproject"
    project.mkdir(parents=True)
    git(project, "init", "-q", "-b", "main")
    (project / "README.md").write_text("# myproject\n")
    git(project, "add", "README.md")
    git(project, "commit", "-q", "-m", "init")
    town = tmp_path / "gt"
    subst = {"~/gt": str(town), "~/src/myproject": str(project), "/opt/claude/bin/claude": claude,
             "https://llm-gateway.example": fake_model.url}

    def real(command: str) -> str:
        for placeholder, value in subst.items():
            command = command.replace(placeholder, value)
        return command

    brain.add(r"\[GAS TOWN\]", Shell("gt prime --hook"), Write("CHANGELOG.md", "# Changelog\n\n- first entry\n"),
              Shell("git add CHANGELOG.md && git commit -q -m 'Add a CHANGELOG' && gt done"),
              Say("DONE: the CHANGELOG is in the merge queue."))
    env = {k: v for k, v in os.environ.items() if k not in SCRUB and not k.startswith(("PYTEST_", "GT_", "BD_"))}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"  # `gastown`; not claude
    script = "set -euo pipefail\n" + "\n".join(real(c) for c in commands[1:-1]) + '\necho "BEAD=$BEAD"\n'
    setup = subprocess.run(["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True,
                           timeout=180)
    print(setup.stdout[-3000:])
    assert setup.returncode == 0, setup.stderr[-3000:]
    bead = re.search(r"^BEAD=(\S+)$", setup.stdout, re.M).group(1)
    # `gastown agents` found it at the configured path, with its version, used by the Mayor, polecats, crew.
    assert re.search(r"^claude\s+yes\s+2\.1\.\d+\s+.*mayor,polecat,crew\s+" + re.escape(claude), setup.stdout,
                     re.M), setup.stdout
    cfg = json.loads((town / "settings" / "config.json").read_text())
    assert cfg["role_agents"]["polecat"] == "claude" and cfg["agents"]["claude"]["path"] == claude

    run = subprocess.Popen(["bash", "-c", f"cd {town} && exec {real(commands[-1])}"], env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    merged = False
    try:
        end = time.monotonic() + 150
        while time.monotonic() < end and run.poll() is None:
            try:
                out = subprocess.run([sys.executable, "-m", "gastown_tui.cli", "mq", "list", "--all", "--json"], cwd=town,
                                     env=env, capture_output=True, text=True, timeout=60).stdout
                mrs = json.loads(out or "[]")
            except ValueError:
                mrs = []
            if any(m.get("source_bead") == bead and m.get("state") == "merged" for m in mrs):
                merged = True
                break
            time.sleep(1.0)
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGINT)  # the README's Ctrl-C
        try:
            log, _ = run.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(run.pid, signal.SIGKILL)
            log, _ = run.communicate()
    print(log[-4000:])
    assert merged, f"{bead} was not merged; gastown run said:\n{log[-4000:]}"
    from gastown_tui.town.layout import Town
    from gastown_tui.town.rigs import get_rig

    assert "first entry" in git(get_rig(Town(town), "myproject").repo, "show", "main:CHANGELOG.md")
    shown = subprocess.run([sys.executable, "-m", "gastown_tui.cli", "bd", "show", bead, "--json"], cwd=town, env=env,
                           capture_output=True, text=True, timeout=60)
    assert shown.returncode == 0 and json.loads(shown.stdout)["status"] == "closed", shown.stdout + shown.stderr
    assert run.returncode == 0, log[-2000:]
