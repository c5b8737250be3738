"""Agent CLI presets as data: how to start each CLI and how to read its screen.

Built-in here: `sim` (the simulated agent) and `shell`. The real agent CLIs
(`claude`, `codex`, `gemini`, `aider`, `opencode`, `amp`), verified against the
real programs, are in `gastown_tui/sessions/agent_presets.py`.

Layers, each merged key by key over the one before:
1. `BUILTIN` below;
2. `gastown_tui.sessions.agent_presets.PRESETS`;
3. `<town>/settings/config.json` → `{"agents": {name: {...}}}`.

Two settings are for people rather than preset authors (`gastown config set
agents.claude.path ...`): `path`, the program to run in place of argv[0] (also
in the resume command), and `base_url`, the model endpoint the CLI is pointed
at (a proxy, a local server; it becomes GASTOWN_MODEL_BASE_URL, which the
agent's home preparation turns into the CLI's own setting).
"""
from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

from gastown_tui.sessions.agent_presets import PRESETS as AGENT_PRESETS
from gastown_tui.sessions.cli_version import VersionRangeError, parse_range
from gastown_tui.sessions.rules import Rule, RuleError

BEACON_MODES = ("arg", "paste", "none")  # or "flag:<option>", e.g. "flag:-i"
_FIELDS = {
    "argv", "env", "beacon", "resume_argv", "rules", "quit_keys", "escape_cancels", "stuck_after",
    "process_names", "ready_timeout", "submit_key", "description", "verified", "path", "base_url",
    "keep_alt_screen_text",
}

BUILTIN: dict[str, dict] = {
    "sim": {
        "description": "the built-in simulated agent (no model)",
        "argv": [sys.executable, "-m", "gastown_tui.cli", "agent", "sim"],
        "beacon": "paste",
        "resume_argv": None,
        "quit_keys": ["ctrl+c", "ctrl+c"],
        "escape_cancels": True,
        "ready_timeout": 10.0,
        "process_names": ["python", "python3", "gastown"],
        "rules": [
            {"name": "sim.working.esc-to-interrupt", "state": "working", "region": "bottom:8", "pattern": "esc to interrupt"},
            {"name": "sim.needs-approval.prompt", "state": "needs-approval", "region": "bottom:8", "pattern": r"\(y/n\)"},
            {"name": "sim.idle.footer", "state": "idle", "region": "bottom:4", "pattern": r"· (idle|failed)"},
            {"name": "sim.working.title", "state": "working", "title": r"^⠂ sim"},
            {"name": "sim.idle.title", "state": "idle", "title": r"^✳ sim"},
        ],
    },
    "shell": {
        "description": "a plain shell",
        "argv": ["bash", "--norc", "--noprofile", "-i"],
        "env": {"PS1": "$ "},
        "beacon": "none",
        "resume_argv": None,
        "quit_keys": ["ctrl+c", "ctrl+d"],
        "ready_timeout": 5.0,
        "process_names": ["bash", "sh", "zsh"],
        "keep_alt_screen_text": False,  # a plain terminal: at exit its screen is what tmux would show
        "rules": [
            {"name": "shell.working.output", "state": "working", "active_within": 1.0},
            {"name": "shell.idle.prompt", "state": "idle", "region": "cursor_line", "pattern": r"[$#%>] ?\S*$"},
            {"name": "shell.idle.quiet", "state": "idle", "quiet_for": 1.0},
        ],
    },
}


class PresetError(ValueError):
    """A preset (or an override of one) that cannot be used; names where it came from."""


@dataclass(frozen=True)
class Preset:
    name: str
    argv: tuple[str, ...]
    env: dict = field(default_factory=dict)
    beacon: str = "none"
    resume_argv: tuple[str, ...] | None = None
    rules: tuple[Rule, ...] = ()
    quit_keys: tuple[str, ...] = ("ctrl+c",)
    escape_cancels: bool = False
    stuck_after: float = 600.0
    process_names: tuple[str, ...] = ()
    ready_timeout: float = 30.0
    submit_key: str = "enter"
    description: str = ""
    verified: str | None = None  # the CLI versions its rules were checked against, e.g. ">=2.1.197,<=2.1.337"
    # An agent's alternate-screen text is written back into its scrollback at exit (what it said survives it);
    # a plain terminal (htop, vim) is left as tmux would show it.
    keep_alt_screen_text: bool = True

    @property
    def program(self) -> str:
        """The program the preset runs (argv[0]): what `--version` and `gastown agents` look at."""
        return self.argv[0]

    @classmethod
    def from_dict(cls, name: str, data: dict, where: str = "") -> "Preset":
        label = f"{where}preset {name!r}"
        unknown = set(data) - _FIELDS
        if unknown:
            raise PresetError(f"{label}: unknown keys {sorted(unknown)} (known: {sorted(_FIELDS)})")
        argv = data.get("argv")
        path = data.get("path")
        if path is not None:
            if not isinstance(path, str) or not path.strip():
                raise PresetError(f"{label}: 'path' must be the program's path (a non-empty string), got {path!r}")
            if argv and isinstance(argv, (list, tuple)):
                argv = [path, *argv[1:]]
        if not argv or not isinstance(argv, (list, tuple)) or not all(isinstance(a, str) for a in argv):
            raise PresetError(f"{label}: 'argv' must be a non-empty list of strings (never a shell string), got {argv!r}")
        beacon = data.get("beacon", "none")
        if beacon not in BEACON_MODES and not (isinstance(beacon, str) and beacon.startswith("flag:") and len(beacon) > 5):
            raise PresetError(f"{label}: 'beacon' must be arg, paste, none or flag:<option>, got {beacon!r}")
        env = data.get("env") or {}
        if not isinstance(env, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in env.items()):
            raise PresetError(f"{label}: 'env' must map names to strings, got {env!r}")
        base_url = data.get("base_url")
        if base_url is not None:
            if not isinstance(base_url, str) or not base_url.startswith(("http://", "https://")):
                raise PresetError(f"{label}: 'base_url' must be an http(s) URL, got {base_url!r}")
            env = {**env, "GASTOWN_MODEL_BASE_URL": base_url.rstrip("/")}
        try:
            rules = tuple(Rule.from_dict(r, f"{label} ") for r in data.get("rules") or ())
        except RuleError as exc:
            raise PresetError(str(exc)) from None
        resume = data.get("resume_argv")
        if path is not None and resume:
            resume = [path, *list(resume)[1:]]
        verified = data.get("verified")
        if verified is not None:
            try:
                parse_range(verified)
            except VersionRangeError as exc:
                raise PresetError(f"{label}: 'verified': {exc}") from None
        try:
            return cls(
                name=name,
                argv=tuple(argv),
                env=dict(env),
                beacon=beacon,
                resume_argv=tuple(resume) if resume else None,
                rules=rules,
                quit_keys=tuple(data.get("quit_keys") or ("ctrl+c",)),
                escape_cancels=bool(data.get("escape_cancels", False)),
                stuck_after=float(data.get("stuck_after", 600.0)),
                process_names=tuple(data.get("process_names") or ()),
                ready_timeout=float(data.get("ready_timeout", 30.0)),
                submit_key=str(data.get("submit_key", "enter")),
                description=str(data.get("description", "")),
                verified=verified,
                keep_alt_screen_text=bool(data.get("keep_alt_screen_text", True)),
            )
        except (TypeError, ValueError) as exc:
            raise PresetError(f"{label}: {exc}") from None

    def command(self, beacon_text: str | None, resume: bool = False, session: str = "") -> list[str]:
        """The argv to run, with the start-up prompt placed the way this CLI takes it."""
        base = list(self.resume_argv) if resume and self.resume_argv else list(self.argv)
        base = [a.replace("{session}", session) for a in base]
        if beacon_text and not resume:
            if self.beacon == "arg":
                base.append(beacon_text)
            elif self.beacon.startswith("flag:"):
                base += [self.beacon[5:], beacon_text]
        return base


def _merge(base: dict, over: dict) -> dict:
    out = dict(base)
    for key, value in over.items():
        if key == "env" and isinstance(value, dict):
            out["env"] = {**(base.get("env") or {}), **value}
        else:
            out[key] = value
    # An argv override (another path, other flags) carries into the resume command unless that is
    # overridden too: resuming must run the same program the same way. A resume command that is the old
    # argv plus options (`claude --flag --continue`) becomes the new argv plus those options; any other
    # (`codex resume --last ...`) gets the new program.
    old_argv, new_argv, resume = base.get("argv"), out.get("argv"), out.get("resume_argv")
    if ("argv" in over and "resume_argv" not in over and resume and old_argv and new_argv
            and isinstance(new_argv, (list, tuple)) and isinstance(resume, (list, tuple))):
        resume, old_argv = list(resume), list(old_argv)
        if resume[:len(old_argv)] == old_argv:
            out["resume_argv"] = [*new_argv, *resume[len(old_argv):]]
        elif resume[0] == old_argv[0]:
            out["resume_argv"] = [new_argv[0], *resume[1:]]
    return out


def _settings_overrides(town: Path) -> tuple[dict, str]:
    path = town / "settings" / "config.json"
    if not path.exists():
        return {}, str(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise PresetError(f"{path}:{exc.lineno}: not valid JSON: {exc.msg}") from None
    except ValueError as exc:   # json's plain ValueError: a number too long to convert
        raise PresetError(f"{path}: not valid JSON: {exc}") from None
    agents = data.get("agents", {}) if isinstance(data, dict) else None
    if not isinstance(agents, dict):
        raise PresetError(f"{path}: 'agents' must be an object of preset overrides")
    return agents, str(path)


def load_presets(town: Path | None = None) -> dict[str, Preset]:
    """All presets: built-ins, then agent_presets.PRESETS, then the town's settings/config.json."""
    raw = {name: dict(data) for name, data in BUILTIN.items()}
    layers = [(AGENT_PRESETS, "gastown_tui/sessions/agent_presets.py: ")]
    if town is not None:
        overrides, path = _settings_overrides(Path(town))
        layers.append((overrides, f"{path}: agents."))
    out = {name: Preset.from_dict(name, data) for name, data in raw.items()}
    for layer, where in layers:
        for name, over in layer.items():
            if not isinstance(over, dict):
                raise PresetError(f"{where}{name}: must be an object, got {over!r}")
            raw[name] = _merge(raw.get(name, {}), over)
            out[name] = Preset.from_dict(name, raw[name], where)  # errors name the layer that broke it
    return out
