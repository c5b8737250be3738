"""How the CLI tests run `gastown`: as its own process (the default), or the way agents run `gt`/`bd`.

    GASTOWN_CLI_VIA=thin      the stdlib-only thin client (gastown_tui/thin/client.py, `python -S`) talking
                              to a real town server that runs the command in-process (one server per test
                              process, started on first use, stopped at exit)
    GASTOWN_CLI_VIA=fallback  the thin client with no server: it runs the command itself, as today

Both must print the same bytes and exit with the same status as `python -m gastown_tui.cli`:
`GASTOWN_CLI_VIA=thin pytest tests/beads/test_bd_cli.py tests/town tests/meow/test_cli.py`.
"""
from __future__ import annotations

import atexit
import os
import subprocess
import sys
import tempfile
from pathlib import Path

VIA = os.environ.get("GASTOWN_CLI_VIA", "process")
THIN = Path(__file__).resolve().parent.parent / "gastown_tui" / "thin" / "client.py"
_server = None


def command(args) -> tuple[list[str], dict[str, str]]:
    """(argv, extra environment) that run `gastown ARGS` the configured way."""
    args = [str(a) for a in args]
    if VIA == "process":
        return [sys.executable, "-m", "gastown_tui.cli", *args], {}
    sub, rest = ("bd", args[1:]) if args[:1] == ["bd"] else ("gt", args[1:] if args[:1] == ["gt"] else args)
    argv = [sys.executable, "-S", str(THIN), sub, *rest]
    if VIA == "fallback":
        return argv, {"GASTOWN_SOCKET": os.path.join(tempfile.gettempdir(), f"gastown-no-server-{os.getpid()}.sock")}
    if VIA == "thin":
        return argv, {"GASTOWN_SOCKET": _thin_server(), "GASTOWN_THIN_REQUIRE_SERVER": "1"}
    raise ValueError(f"GASTOWN_CLI_VIA={VIA!r}: expected process, thin or fallback")


def run(args, *, cwd, env: dict | None = None, timeout: float = 120, text: bool = True) -> subprocess.CompletedProcess:
    argv, extra = command(args)
    full = dict(os.environ if env is None else env)
    full.update(extra)
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=text, env=full, timeout=timeout)


def _thin_server() -> str:
    global _server
    if _server is None:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from server.serverkit import ServerProcess, make_town

        root = Path(tempfile.mkdtemp(prefix="gastown-cli-town-"))
        _server = ServerProcess(make_town(root / "town"))
        atexit.register(_server.stop)
        _server.wait_ready()
    return _server.socket
