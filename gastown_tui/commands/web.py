"""`gastown web [--town DIR] [--host 127.0.0.1] [--port 8765] [--allow-remote] [--no-agents]`.

Serves the town's console to browsers: each tab runs one `gastown app` on the
town (textual-serve). Every run makes a new token; the printed address carries
it, the first visit trades it for a cookie, and every request without one is
refused. It listens on loopback unless --allow-remote lets --host name another
address, and it never serves TLS: put a reverse proxy or an SSH tunnel in front.
"""
from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from gastown_tui.errors import UserError
from gastown_tui.town.layout import find_town
from gastown_tui.web.access import Access, is_loopback
from gastown_tui.web.server import WebServer, serve
from gastown_tui.web.town_server import start_town_server_if_available, town_server_command_exists


def build_parser(prog: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=prog, description="Serve the town's console to a browser (one app per tab).")
    p.add_argument("--town", type=Path, help="the town folder (default: GT_TOWN, or found upward from here)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8765, help="port to listen on (default 8765; 0 picks a free one)")
    p.add_argument("--allow-remote", action="store_true",
                   help="allow a --host other machines can reach (use TLS through a reverse proxy or SSH tunnel)")
    p.add_argument("--no-agents", action="store_true",
                   help="tabs show the town without starting agents or patrols (and no town server is started)")
    return p


def main(argv: list[str], prog: str) -> int:
    args = build_parser(prog).parse_args(argv)
    if not 0 <= args.port <= 65535:
        raise UserError(f"--port must be 0..65535, got {args.port}")
    remote = not is_loopback(args.host)
    if remote and not args.allow_remote:
        raise UserError(f"--host {args.host} is reachable from other machines: add --allow-remote to mean it "
                        "(or keep the default 127.0.0.1 and use an SSH tunnel)")
    town = find_town(args.town, env={} if args.town else None)
    if args.no_agents:
        print("gastown web: --no-agents: the town server is not started; tabs show the town as it is", flush=True)
    else:
        print(f"gastown web: {start_town_server_if_available(town.root)}", flush=True)
    access = Access()
    one_tab = not args.no_agents and not town_server_command_exists()
    if one_tab:
        print("gastown web: one tab runs the town at a time; opening another takes over from the last", flush=True)
    server = WebServer(town.root, access, host=args.host, port=args.port, agents=not args.no_agents,
                       title=f"gastown · {town.root.name}", one_tab=one_tab)

    def ready(port: int) -> None:
        shown = "127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host
        shown = f"[{shown}]" if ":" in shown else shown
        print(f"gastown web: serving the town {town.root} (one app per browser tab)")
        print(f"open: http://{shown}:{port}/?token={access.token}")
        if remote:
            print("gastown web: this is plain HTTP, token and all. TLS belongs to a reverse proxy in front of it; "
                  "or serve on loopback (no --host) and tunnel over SSH from your own machine:")
            print(f"  ssh -L {port}:127.0.0.1:{port} user@{_hostname()}   then open "
                  f"http://127.0.0.1:{port}/?token=…")
        print("Ctrl+C stops serving (tabs close; with a town server, its agents keep running)", flush=True)

    try:
        asyncio.run(serve(server, ready))
    except OSError as exc:
        raise UserError(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}") from None
    return 0


def _hostname() -> str:
    import socket

    return socket.gethostname() or "host"
