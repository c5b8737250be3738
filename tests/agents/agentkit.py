"""Helpers for the agent tests: where the installed CLIs are, a clean environment, a git repo.

(A module of its own: `from conftest import ...` gets whichever conftest was imported last.)
"""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from gastown_tui.sessions.spec import interactive_environ

REPO = Path(__file__).resolve().parents[2]
CACHE = REPO / ".ci" / "cache"
CANDIDATES = {
    "claude": [CACHE / "npm/node_modules/.bin/claude"],
    "codex": [CACHE / "npm/node_modules/.bin/codex"],
    "gemini": [CACHE / "npm/node_modules/.bin/gemini"],
    "aider": [CACHE / "aider-venv/bin/aider"],
    "opencode": [CACHE / "npm/node_modules/.bin/opencode"],
    # Older pins kept where the rules differ (.ci/install-agents puts them in .ci/cache/npm-old).
    "claude-old": [CACHE / "npm-old/node_modules/.bin/claude"],
}
# Variables that could carry a real credential or point a CLI elsewhere: never passed to a test agent.
SCRUB = ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_BASE_URL", "OPENAI_API_KEY", "OPENAI_BASE_URL",
         "OPENAI_API_BASE", "GEMINI_API_KEY", "GOOGLE_API_KEY", "GOOGLE_GEMINI_BASE_URL", "CODEX_HOME",
         "CLAUDE_CONFIG_DIR", "GOOGLE_APPLICATION_CREDENTIALS", "TMUX", "CLAUDECODE", "CLAUDE_CODE_ENTRYPOINT")


def find_cli(name: str) -> str | None:
    for path in CANDIDATES[name]:
        if path.exists() and os.access(path, os.X_OK):
            return str(path)
    return None if name.endswith("-old") else shutil.which(name)


def require_cli(name: str) -> str:
    path = find_cli(name)
    if path is None:
        pytest.skip(f"{name} is not installed (run .ci/install-agents {name}; looked in "
                    f"{', '.join(str(p) for p in CANDIDATES[name])} and PATH)")
    return path


def agent_env(changes: dict[str, str | None], extra: dict[str, str] | None = None) -> dict[str, str]:
    """The test process's environment without credentials or CI markers (the CLI gets a real terminal, as
    in a session), plus a prepared home's changes."""
    env = {k: v for k, v in interactive_environ(dict(os.environ)).items()
           if k not in SCRUB and not k.startswith("PYTEST_")}
    env.update({"TERM": "xterm-256color", "COLORTERM": "truecolor", "LANG": "C.UTF-8"})
    for k, v in changes.items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = v
    env.update(extra or {})
    return env


def git_repo(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "init", "-q", "-b", "main", str(path)], check=True)
    (path / "README.md").write_text("# demo\n")
    subprocess.run(["git", "-C", str(path), "add", "README.md"], check=True)
    subprocess.run(["git", "-C", str(path), "commit", "-q", "-m", "init"], check=True)
    return path.resolve()
