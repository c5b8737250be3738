"""Per-agent configuration homes for the real agent CLIs.

Each agent gets its own HOME under `<town>/.runtime/homes/<agent_key>/`, seeded
so that the CLI's first-run dialogs do not block an unattended session:
onboarding, trust of the worktree, the choice of API-key login, update checks.
The user's own configuration (`~/.claude.json`, `~/.codex`, `~/.gemini`,
`~/.aider*`) is never read for writing, never modified and never copied.

Credentials stay in the environment. Nothing here writes a key to disk or
logs one: where a CLI would otherwise ask about a key it found (Claude Code's
"Detected a custom API key" dialog), the key is moved to a differently named
variable and handed back by a helper command that prints that variable.

`prepare_home()` returns the environment changes the agent's process needs
(an empty value blanks a variable the CLI must not use). `home_env()` does it
for a session: it picks the CLI from the preset's program name. The facts behind every setting are in
reference/agent-clis.md (measured with Claude Code 2.1.197, Codex 0.169.0,
Gemini CLI 0.61.0 and aider 0.86.2).
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Iterable, Mapping

from gastown_tui.atomicfile import write_atomic

CLIS = ("claude", "codex", "gemini", "aider", "opencode")
CLAUDE_KEY_VAR = "GASTOWN_ANTHROPIC_API_KEY"
LOCAL_TOKEN = "gastown-local-endpoint"  # a placeholder, not a credential: only ever sent to a base URL we were given


class HomeError(Exception):
    """A home could not be prepared; the message names the file and the cause."""


def home_dir(town: Path, agent_key: str) -> Path:
    """`<town>/.runtime/homes/<agent_key>/` (not created)."""
    if not agent_key or "/" in agent_key or agent_key in (".", ".."):
        raise HomeError(f"bad agent key {agent_key!r} for a home folder")
    return Path(town) / ".runtime" / "homes" / agent_key


def cli_for(argv0: str) -> str | None:
    """The CLI a program name belongs to (`/x/node_modules/.bin/claude` -> claude), or None."""
    name = os.path.basename(argv0)
    return name if name in CLIS else None


def home_env(town: Path, agent_key: str, argv0: str, cwd: Path,
             environ: Mapping[str, str] | None = None, preset: str | None = None) -> dict[str, str]:
    """For a session about to run `argv0` in `cwd`: prepares `<town>/.runtime/homes/<agent_key>/`
    and returns the environment to lay over the session's (empty dict for other programs).
    `environ` is the session's environment so far (its endpoint variables are honoured). A program
    whose name says nothing (a `path` setting like /opt/cc/bin/cc-2) is the CLI its PRESET names."""
    cli = cli_for(argv0) or (preset if preset in CLIS else None)
    if cli is None:
        return {}
    return prepare_home(cli, home_dir(town, agent_key), [cwd], environ=environ)


# The variable each CLI natively reads its endpoint from; GASTOWN_MODEL_BASE_URL applies to all.
ENDPOINT_VARS = {"claude": "ANTHROPIC_BASE_URL", "codex": "OPENAI_BASE_URL",
                 "gemini": "GOOGLE_GEMINI_BASE_URL", "aider": "OPENAI_API_BASE", "opencode": "OPENAI_BASE_URL"}


def endpoint_from(cli: str, environ: Mapping[str, str]) -> str | None:
    """The model endpoint root (no /v1) the environment asks for, if any."""
    url = environ.get("GASTOWN_MODEL_BASE_URL") or environ.get(ENDPOINT_VARS[cli])
    if not url:
        return None
    url = url.rstrip("/")
    return url[:-3] if url.endswith("/v1") else url


def prepare_home(cli: str, home: Path, workdirs: Iterable[Path], *, base_url: str | None = None,
                 model: str | None = None, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Seeds `home` for `cli` (claude, codex, gemini, aider) so it starts straight to its prompt in
    each of `workdirs`; returns the environment changes for the agent ("" = blank it out).

    `base_url` (a server root, without /v1) points the CLI at another model endpoint (a local
    server, a proxy); by default it comes from `environ` (GASTOWN_MODEL_BASE_URL or the CLI's own
    variable). Without one the CLI talks to its vendor with the key found in `environ`.
    Idempotent: running it again keeps what the CLI itself wrote in the home."""
    environ = os.environ if environ is None else environ
    home = Path(home)
    _refuse_real_home(home, environ)
    if cli not in CLIS:
        raise HomeError(f"no home preparation for agent CLI {cli!r} (known: {', '.join(CLIS)})")
    base_url = base_url or endpoint_from(cli, environ)
    home.mkdir(parents=True, exist_ok=True)
    tmp = home / "tmp"
    tmp.mkdir(exist_ok=True)
    dirs = [str(Path(d).resolve()) for d in workdirs]
    env: dict[str, str] = {
        "HOME": str(home),
        "TMPDIR": str(tmp),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "XDG_STATE_HOME": str(home / ".local" / "state"),
    }
    env.update(_git_identity(home, environ))
    env.update(_login_profile(home, environ))
    prep = {"claude": _claude, "codex": _codex, "gemini": _gemini, "aider": _aider, "opencode": _opencode}[cli]
    env.update(prep(home, dirs, base_url, model, environ))
    return env


# ---- Claude Code -----------------------------------------------------------------------


def _claude(home: Path, dirs: list[str], base_url: str | None, model: str | None,
            environ: Mapping[str, str]) -> dict[str, str]:
    cfg_path = home / ".claude" / ".claude.json"  # with CLAUDE_CONFIG_DIR set, the CLI keeps it there
    cfg = _read_json(cfg_path)
    cfg.update({
        "hasCompletedOnboarding": True,  # else an offline preflight to api.anthropic.com exits the CLI
        "lastOnboardingVersion": "2.1.197",
        "bypassPermissionsModeAccepted": True,
        "autoUpdates": False,
        "theme": cfg.get("theme", "dark"),
    })
    projects = cfg.setdefault("projects", {})
    for d in dirs:
        p = projects.setdefault(d, {})
        p.update({"hasTrustDialogAccepted": True, "hasCompletedProjectOnboarding": True})
        p.setdefault("allowedTools", [])
    _write_json(cfg_path, cfg)
    settings_path = home / ".claude" / "settings.json"
    settings = _read_json(settings_path)
    settings["skipDangerousModePermissionPrompt"] = True
    env: dict[str, str] = {
        "CLAUDE_CONFIG_DIR": str(home / ".claude"),  # the home's, never the user's
        "CLAUDE_CODE_TMPDIR": str(home / "tmp"),
        "DISABLE_AUTOUPDATER": "1",
        "DISABLE_TELEMETRY": "1",
        "DISABLE_ERROR_REPORTING": "1",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
    }
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        env["IS_SANDBOX"] = "1"  # --dangerously-skip-permissions refuses root without it
    key = environ.get("ANTHROPIC_API_KEY") or environ.get(CLAUDE_KEY_VAR)
    if key:
        # The CLI would ask "Do you want to use this API key?" (default No). Hand the key over
        # through a helper that prints a renamed variable instead: nothing is written to disk.
        settings["apiKeyHelper"] = f"printenv {CLAUDE_KEY_VAR}"
        env["ANTHROPIC_API_KEY"] = ""  # blank: the CLI then takes the key from the helper
        env[CLAUDE_KEY_VAR] = key
    else:
        settings.pop("apiKeyHelper", None)
        if base_url and not environ.get("ANTHROPIC_AUTH_TOKEN"):
            env["ANTHROPIC_AUTH_TOKEN"] = LOCAL_TOKEN
    _write_json(settings_path, settings)
    if base_url:
        env["ANTHROPIC_BASE_URL"] = base_url.rstrip("/")
    if model:
        env["ANTHROPIC_MODEL"] = model
    return env


# ---- Codex CLI -------------------------------------------------------------------------


def _codex(home: Path, dirs: list[str], base_url: str | None, model: str | None,
           environ: Mapping[str, str]) -> dict[str, str]:
    codex_home = home / ".codex"
    codex_home.mkdir(exist_ok=True)
    # A provider of our own reads the key from the environment: no `codex login`, no auth.json,
    # and OPENAI_BASE_URL (which 0.169 ignores) is not needed.
    url = (base_url.rstrip("/") + "/v1") if base_url else "https://api.openai.com/v1"
    key_var = "OPENAI_API_KEY"
    name = model or ("fake-model" if base_url else None)  # else Codex's own default model
    lines = [
        "# Written by gastown for this agent; rewritten at each start.",
        *([f"model = {_toml_str(name)}"] if name else []),
        'model_provider = "gastown"',
        "check_for_update_on_startup = false",
        "",
        "[model_providers.gastown]",
        'name = "gastown"',
        f"base_url = {_toml_str(url)}",
        f"env_key = {_toml_str(key_var)}",
        'wire_api = "responses"',
        "request_max_retries = 1",
        "stream_max_retries = 1",
        "",
        "[features]",
        "daemon_auto_start = false  # else a detached app-server outlives the session",
        "",
        "[notice]",
        "hide_full_access_warning = true",
        "",
    ]
    for d in dirs:
        lines += [f"[projects.{_toml_str(d)}]", 'trust_level = "trusted"', ""]
    _write_text(codex_home / "config.toml", "\n".join(lines))
    env: dict[str, str] = {"CODEX_HOME": str(codex_home)}
    if base_url and not environ.get(key_var):
        env[key_var] = LOCAL_TOKEN
    return env


# ---- Gemini CLI ------------------------------------------------------------------------


def _gemini(home: Path, dirs: list[str], base_url: str | None, model: str | None,
            environ: Mapping[str, str]) -> dict[str, str]:
    gdir = home / ".gemini"
    settings_path = gdir / "settings.json"
    s = _read_json(settings_path)
    sec = s.setdefault("security", {})
    sec.setdefault("auth", {})["selectedType"] = "gemini-api-key"  # env-only "gateway" auth is rejected
    sec.setdefault("folderTrust", {})["enabled"] = False
    gen = s.setdefault("general", {})
    gen.update({"disableAutoUpdate": True, "disableUpdateNag": True})
    s.setdefault("privacy", {})["usageStatisticsEnabled"] = False
    s.setdefault("telemetry", {})["enabled"] = False
    s.setdefault("ide", {})["hasSeenNudge"] = True
    if model:
        s.setdefault("model", {})["name"] = model
    _write_json(settings_path, s)
    trusted = _read_json(gdir / "trustedFolders.json")
    trusted.update({d: "TRUST_FOLDER" for d in dirs})
    _write_json(gdir / "trustedFolders.json", trusted)
    env: dict[str, str] = {"GEMINI_CLI_NO_RELAUNCH": "true"}
    if base_url:
        env["GOOGLE_GEMINI_BASE_URL"] = base_url.rstrip("/")
        if not environ.get("GEMINI_API_KEY"):
            env["GEMINI_API_KEY"] = LOCAL_TOKEN
    return env


# ---- aider -----------------------------------------------------------------------------


def _aider(home: Path, dirs: list[str], base_url: str | None, model: str | None,
           environ: Mapping[str, str]) -> dict[str, str]:
    name = model or ("openai/fake-model" if base_url else None)
    conf = [
        "# Written by gastown for this agent; rewritten at each start.",
        "check-update: false",
        "show-release-notes: false",
        "analytics: false",
        "analytics-disable: true",
        "gitignore: false",
        "show-model-warnings: false",
        "edit-format: diff",  # shell-command suggestions need a diff-style format
        "pretty: true",
        # Keep aider's files out of the worktree (untracked files there would block `gt done`).
        f"chat-history-file: {json.dumps(str(home / 'aider.chat.history.md'))}",
        f"input-history-file: {json.dumps(str(home / 'aider.input.history'))}",
        "map-tokens: 0",  # no repo map, so no .aider.tags.cache in the worktree
    ]
    if name:
        conf.append(f"model: {json.dumps(name)}")
        # An entry for the model: no fetch of litellm's price list, no "unknown context window" prompt.
        _write_json(home / ".aider.model.metadata.json", {name: {
            "max_input_tokens": 200000, "max_output_tokens": 8192, "input_cost_per_token": 0,
            "output_cost_per_token": 0, "litellm_provider": name.split("/", 1)[0] if "/" in name else "openai",
            "mode": "chat"}})
    _write_text(home / ".aider.conf.yml", "\n".join(conf) + "\n")
    env: dict[str, str] = {"LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    if base_url:
        env["OPENAI_API_BASE"] = base_url.rstrip("/") + "/v1"
        if not environ.get("OPENAI_API_KEY"):
            env["OPENAI_API_KEY"] = LOCAL_TOKEN
    return env


# ---- opencode --------------------------------------------------------------------------


def _opencode(home: Path, dirs: list[str], base_url: str | None, model: str | None,
              environ: Mapping[str, str]) -> dict[str, str]:
    path = home / ".config" / "opencode" / "opencode.json"
    cfg = _read_json(path)
    cfg.update({"$schema": "https://opencode.ai/config.json", "autoupdate": False, "share": "disabled"})
    env: dict[str, str] = {
        "OPENCODE_DISABLE_AUTOUPDATE": "1", "OPENCODE_DISABLE_SHARE": "1", "OPENCODE_DISABLE_LSP_DOWNLOAD": "1",
        "OPENCODE_DISABLE_DEFAULT_PLUGINS": "1",
    }
    if base_url:
        name = model or "fake-model"
        # An OpenAI-compatible provider of our own; the key is read from the environment ({env:...}).
        cfg.setdefault("provider", {})["gastown"] = {
            "npm": "@ai-sdk/openai-compatible", "name": "gastown endpoint",
            "options": {"baseURL": base_url.rstrip("/") + "/v1", "apiKey": "{env:OPENAI_API_KEY}"},
            "models": {name: {"name": name, "tool_call": True}}}
        cfg["model"] = f"gastown/{name}"
        env["OPENCODE_DISABLE_MODELS_FETCH"] = "1"
        if not environ.get("OPENAI_API_KEY"):
            env["OPENAI_API_KEY"] = LOCAL_TOKEN
    elif model:
        cfg["model"] = model
    _write_json(path, cfg)
    return env


# ---- shared ----------------------------------------------------------------------------


def _git_identity(home: Path, environ: Mapping[str, str]) -> dict[str, str]:
    """With HOME moved, git would lose the user's identity: include their global config
    (read-only, by reference) from the home's own .gitconfig. Nothing is copied."""
    # GIT_CONFIG_GLOBAL, when set, is included too: some CLIs (Gemini) drop it from their shells.
    real = Path(environ.get("GIT_CONFIG_GLOBAL") or (_user_home() / ".gitconfig"))
    lines = ["# Written by gastown: the user's git config is included, never copied or changed."]
    if real.is_file() and real.resolve() != (home / ".gitconfig").resolve():
        lines += ["[include]", f"\tpath = {real}"]
    _write_text(home / ".gitconfig", "\n".join(lines) + "\n")
    # Gemini CLI runs shell commands with GIT_CONFIG_GLOBAL=/dev/null: hand the identity over as
    # the standard author/committer variables too (a name and an address, not a credential).
    env: dict[str, str] = {}
    for key, kinds in (("user.name", ("GIT_AUTHOR_NAME", "GIT_COMMITTER_NAME")),
                       ("user.email", ("GIT_AUTHOR_EMAIL", "GIT_COMMITTER_EMAIL"))):
        value = _git_config(key, environ)
        for var in kinds:
            if environ.get(var):
                env[var] = environ[var]
            elif value:
                env[var] = value
    return env


def _git_config(key: str, environ: Mapping[str, str]) -> str | None:
    import subprocess

    probe = {k: v for k, v in environ.items() if not k.startswith("GIT_") or k == "GIT_CONFIG_GLOBAL"}
    probe["HOME"] = str(_user_home())
    try:
        out = subprocess.run(["git", "config", "--get", key], capture_output=True, text=True, env=probe,
                             timeout=10, cwd="/")
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() or None


def _user_home() -> Path:
    """This process's user's home (not an agent's: `environ` may already hold an agent HOME)."""
    try:
        import pwd

        return Path(os.environ.get("HOME") or pwd.getpwuid(os.getuid()).pw_dir)
    except (ImportError, KeyError):
        return Path.home()


PROFILE = """# Written by gastown. Agent CLIs run commands in login shells (Codex: bash -lc), and the
# system profile resets PATH: put back the session's PATH, with the town's gt/bd shims first.
if [ -n "$GASTOWN_PATH" ]; then PATH="$GASTOWN_PATH"; fi
if [ -n "$GT_TOWN" ] && [ -d "$GT_TOWN/.runtime/shims" ]; then
  case ":$PATH:" in *":$GT_TOWN/.runtime/shims:"*) ;; *) PATH="$GT_TOWN/.runtime/shims:$PATH" ;; esac
fi
export PATH
"""


def _login_profile(home: Path, environ: Mapping[str, str]) -> dict[str, str]:
    for name in (".profile", ".bash_profile", ".zprofile"):
        _write_text(home / name, PROFILE)
    return {"GASTOWN_PATH": environ.get("GASTOWN_PATH") or environ.get("PATH", os.defpath)}


def _refuse_real_home(home: Path, environ: Mapping[str, str]) -> None:
    if _user_home().resolve() == home.resolve():
        raise HomeError(f"refusing to prepare {home}: it is the user's own home directory")


def _toml_str(s: str) -> str:
    return json.dumps(s)  # a TOML basic string for the characters we write (paths, names, URLs)


def _read_json(path: Path) -> dict:
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text() or "{}")
    except json.JSONDecodeError as exc:
        raise HomeError(f"{path}: line {exc.lineno} column {exc.colno}: not valid JSON ({exc.msg}); "
                        "fix or delete the file") from None
    except ValueError as exc:   # json's plain ValueError: a number too long to convert
        raise HomeError(f"{path}: not valid JSON ({exc}); fix or delete the file") from None
    if not isinstance(data, dict):
        raise HomeError(f"{path}: expected a JSON object, found {type(data).__name__}")
    return data


def _write_json(path: Path, data: dict) -> None:
    _write_text(path, json.dumps(data, indent=2) + "\n")


def _write_text(path: Path, text: str) -> None:
    write_atomic(path, text)