"""Service files that start a town's server (through its keeper) at login: a systemd user unit on Linux,
a launchd agent on macOS. Pure text here; `gastown service` (commands/service.py) writes and removes them.

What matters in them:
- the service runs the keeper (server/keeper.py), which runs the server and holds the agents' PTYs;
- systemd: `KillMode=process` — stopping or restarting the unit signals the keeper only, never every
  process in the unit's control group (the agents are in it: with the default `control-group` a unit
  restart kills every agent, gascity#1174); `Restart=on-failure`. A keeper told to stop (SIGTERM) lets
  the server go without stopping the agents and leaves a holder with their PTYs for the next keeper
  (keeper.py); `gastown down` is what stops a town;
- launchd: `AbandonProcessGroup` (launchd's equivalent: the agents are not killed with the job) and
  `KeepAlive` `{SuccessfulExit: false}` (restart on failure), `RunAtLoad`.
- the PATH of whoever installed it, so agents find their CLIs (a login service gets a bare PATH).
"""
from __future__ import annotations

import hashlib
import os
import plistlib
import re
import sys

from gastown_tui.server.keeper import keeper_argv

LABEL_PREFIX = "org.gastown.town"


def town_key(town: str) -> str:
    """A short name for TOWN: its folder's name (letters, digits, - and _) and a hash of its path."""
    town = os.path.realpath(town)
    base = re.sub(r"[^A-Za-z0-9_-]+", "-", os.path.basename(town)).strip("-") or "town"
    return f"{base[:40]}-{hashlib.sha256(town.encode('utf-8', 'surrogateescape')).hexdigest()[:10]}"


def default_platform() -> str:
    return "launchd" if sys.platform == "darwin" else "systemd"


def unit_name(town: str) -> str:
    return f"gastown-{town_key(town)}.service"


def launchd_label(town: str) -> str:
    return f"{LABEL_PREFIX}.{town_key(town)}"


def service_path(town: str, platform: str, environ=None) -> str:
    environ = os.environ if environ is None else environ
    home = environ.get("HOME") or os.path.expanduser("~")
    if platform == "systemd":
        config = environ.get("XDG_CONFIG_HOME") or os.path.join(home, ".config")
        return os.path.join(config, "systemd", "user", unit_name(town))
    if platform == "launchd":
        return os.path.join(home, "Library", "LaunchAgents", launchd_label(town) + ".plist")
    raise ValueError(f"unknown service platform {platform!r} (systemd or launchd)")


def _systemd_word(word: str) -> str:
    """One ExecStart/Environment word, quoted for systemd (specifiers % and variables $ escaped)."""
    word = word.replace("%", "%%").replace("$", "$$")
    if re.fullmatch(r"[A-Za-z0-9_@%+=:,./-]+", word):
        return word
    return '"' + word.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _systemd_plain(value: str) -> str:
    """A whole-line value (a path, a description): only specifiers (%) escaped, no quotes."""
    return value.replace("%", "%%").replace("\n", " ")


def systemd_unit(town: str, argv: list[str] | None = None, path_env: str | None = None) -> str:
    town = os.path.realpath(town)
    argv = argv or keeper_argv(town)
    log = os.path.join(town, ".runtime", "server.log")
    path_env = os.environ.get("PATH", os.defpath) if path_env is None else path_env
    return "\n".join([
        "# Written by `gastown service install`; `gastown service uninstall` removes it.",
        "[Unit]",
        f"Description=Gas Town server for {_systemd_plain(town)}",
        "",
        "[Service]",
        "Type=simple",
        f"WorkingDirectory={_systemd_plain(town)}",
        f"ExecStart={' '.join(_systemd_word(a) for a in argv)}",
        f"Environment={_systemd_word('PATH=' + path_env)}",
        f"Environment={_systemd_word('GT_TOWN=' + town)}",
        "# Stopping or restarting the unit signals the keeper only: the agents it keeps are never killed",
        "# with the unit's control group.",
        "KillMode=process",
        "Restart=on-failure",
        "RestartSec=2",
        f"StandardOutput=append:{_systemd_plain(log)}",
        f"StandardError=append:{_systemd_plain(log)}",
        "",
        "[Install]",
        "WantedBy=default.target",
        "",
    ])


def launchd_plist(town: str, argv: list[str] | None = None, path_env: str | None = None) -> bytes:
    town = os.path.realpath(town)
    log = os.path.join(town, ".runtime", "server.log")
    path_env = os.environ.get("PATH", os.defpath) if path_env is None else path_env
    return plistlib.dumps({
        "Label": launchd_label(town),
        "ProgramArguments": list(argv or keeper_argv(town)),
        "WorkingDirectory": town,
        "EnvironmentVariables": {"PATH": path_env, "GT_TOWN": town},
        "RunAtLoad": True,
        "KeepAlive": {"SuccessfulExit": False},
        "AbandonProcessGroup": True,
        "ProcessType": "Interactive",
        "StandardOutPath": log,
        "StandardErrorPath": log,
    })


def service_text(town: str, platform: str, argv: list[str] | None = None, path_env: str | None = None) -> bytes:
    if platform == "systemd":
        return systemd_unit(town, argv, path_env).encode()
    if platform == "launchd":
        return launchd_plist(town, argv, path_env)
    raise ValueError(f"unknown service platform {platform!r} (systemd or launchd)")


def installed_town(path: str) -> str | None:
    """The town an installed service file runs (None if it is not one of ours)."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return None
    if path.endswith(".plist"):
        try:
            return plistlib.loads(data).get("WorkingDirectory")
        except (plistlib.InvalidFileException, ValueError, AttributeError):  # not a plist, or not a dict
            return None
    m = re.search(rb"^WorkingDirectory=(.*)$", data, re.M)
    if not m:
        return None
    return m.group(1).decode("utf-8", "surrogateescape").replace("%%", "%")
