"""`gastown service install|uninstall|status`: start the town's server at login (systemd user unit on
Linux, launchd agent on macOS), through its keeper, never killing agents when the service restarts.
The file's contents are gastown_tui/server/service.py's."""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
from pathlib import Path

from gastown_tui.atomicfile import write_atomic
from gastown_tui.commands.town_option import town_of
from gastown_tui.errors import UserError
from gastown_tui.server import service as svc


def _manager(platform: str) -> str | None:
    return shutil.which("systemctl" if platform == "systemd" else "launchctl")


def _run(argv: list[str]) -> tuple[int, str]:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return 1, str(exc)
    return done.returncode, (done.stdout + done.stderr).strip()


def main(argv: list[str], prog: str) -> int:
    p = argparse.ArgumentParser(prog=prog, description="Start the town's server at login, as a user service "
                                                       "that never kills its agents when it restarts.")
    p.add_argument("action", choices=["install", "uninstall", "status"])
    p.add_argument("--town", type=Path, help="the town (default: GT_TOWN, or the town around the current folder)")
    p.add_argument("--platform", choices=["systemd", "launchd"], default=svc.default_platform(),
                   help="the service manager (default: this system's)")
    p.add_argument("--no-enable", action="store_true",
                   help="only write or remove the file; do not call systemctl/launchctl")
    args = p.parse_args(argv)
    town = str(town_of(args.town).root)
    path = svc.service_path(town, args.platform)
    name = svc.unit_name(town) if args.platform == "systemd" else svc.launchd_label(town)
    tool = None if args.no_enable else _manager(args.platform)

    if args.action == "install":
        write_atomic(Path(path), svc.service_text(town, args.platform), mode=0o644)
        print(f"wrote {path}")
        if args.platform == "systemd":
            steps = [["systemctl", "--user", "daemon-reload"], ["systemctl", "--user", "enable", "--now", name]]
        else:
            steps = [["launchctl", "load", "-w", path]]
        if tool is None:
            print("to start it now and at every login, run: " + " && ".join(" ".join(s) for s in steps))
            return 0
        for step in steps:
            code, out = _run(step)
            if code != 0:
                raise UserError(f"{' '.join(step)} failed ({code}): {out.splitlines()[-1] if out else 'no output'}; "
                                f"the file {path} is written")
        print(f"enabled {name}: the town's server starts at login (agents survive service restarts)")
        return 0

    if args.action == "uninstall":
        if not os.path.exists(path):
            print(f"no service installed for {town} ({path} does not exist)")
            return 0
        if tool is not None:
            step = (["systemctl", "--user", "disable", name] if args.platform == "systemd"
                    else ["launchctl", "unload", "-w", path])
            code, out = _run(step)
            if code != 0:
                print(f"{' '.join(step)} failed ({code}): {out.splitlines()[-1] if out else 'no output'}")
        os.unlink(path)
        if tool is not None and args.platform == "systemd":
            _run(["systemctl", "--user", "daemon-reload"])
        print(f"removed {path}; a running town server keeps running (`gastown down` stops it)")
        return 0

    # status
    if not os.path.exists(path):
        print(f"not installed ({path} does not exist)")
        return 3
    served = svc.installed_town(path)
    print(f"installed: {path}")
    print(f"town: {served}")
    if served != town:
        print(f"warning: the file runs {served}, not {town}")
    if tool is not None:
        step = (["systemctl", "--user", "is-active", name] if args.platform == "systemd"
                else ["launchctl", "list", name])
        code, out = _run(step)
        print(f"{args.platform}: {out.splitlines()[0] if out else ('running' if code == 0 else 'not running')}")
    return 0
