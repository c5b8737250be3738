"""`gt` and `bd` for agents: hand the command to the town's server, else run it here.

    python -S .../gastown_tui/thin/client.py gt|bd ARGS...     (what the shims in .runtime/shims run)

Standard library only, and it imports nothing of gastown but `server/paths.py` (loaded by path), so it
starts in the time `python -S` takes. It sends argv, cwd and the environment to the server's `exec`,
writes the `out` events to its stdout/stderr as they come, and exits with the command's exit status.
With no server (or one that cannot run this command: `not-in-server`, another protocol version) it
becomes `python -m gastown_tui.cli gt|bd ARGS...` (exec, same pid): the command runs in-process as it
always did, and prints the same bytes.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
PROTOCOL = 1
FALLBACK_CODES = ("not-in-server", "version-mismatch", "hello-first", "unknown-command")


def fallback(sub, args, why=""):
    """Runs the command in this process (replaces it): today's path, used when no server can."""
    if why and os.environ.get("GASTOWN_THIN_REQUIRE_SERVER"):  # tests: a server must answer
        sys.stderr.write(f"{sub}: no town server answered ({why}) and GASTOWN_THIN_REQUIRE_SERVER is set\n")
        sys.exit(3)
    py = sys.executable
    argv = [py, "-m", "gastown_tui.cli", sub, *args]
    env = os.environ.copy()
    package_root = os.path.dirname(os.path.dirname(HERE))
    path = env.get("PYTHONPATH")
    env["PYTHONPATH"] = package_root + (os.pathsep + path if path else "")
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(py, argv, env)


def socket_for(cwd):
    sys.path.insert(0, os.path.join(os.path.dirname(HERE), "server"))
    try:
        import paths
    finally:
        del sys.path[0]
    return paths.socket_for(cwd)


class _Ctx:
    """What `_json.make_scanner` reads from a decoder: plain JSON, nothing hooked."""
    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int

    @staticmethod
    def parse_constant(name):
        return {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}[name]


def codec():
    """(dumps, loads) from the C accelerator `_json`: importing the `json` package (and, through it, `re`)
    costs more than the rest of this client's start-up. `json` where `_json` is missing."""
    try:
        import _json

        enc = _json.make_encoder(None, None, _json.encode_basestring_ascii, None, ":", ",", False, False, True)
        scan = _json.make_scanner(_Ctx)

        def dumps(obj):
            return "".join(enc(obj, 0))

        def loads(text):
            obj, end = scan(text, 0)
            return obj
        return dumps, loads
    except (ImportError, AttributeError, TypeError):
        import json

        return (lambda obj: json.dumps(obj, separators=(",", ":"))), json.loads


def run(sub, args):
    import _socket as socket

    dumps, loads = codec()

    try:
        cwd = os.getcwd()
    except OSError:
        fallback(sub, args)
    path = socket_for(cwd)
    if not path:
        fallback(sub, args, "not in a town")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(path)
    except OSError as exc:
        s.close()
        fallback(sub, args, f"{path}: {exc.strerror}")
    hello = {"id": 1, "cmd": "hello", "protocol": PROTOCOL, "client": sub, "interactive": False, "pid": os.getpid()}
    tty = {"1": os.isatty(1), "2": os.isatty(2)}
    sizes = {}
    for fd in (0, 1, 2):
        try:
            sizes[str(fd)] = list(os.get_terminal_size(fd))
        except OSError:
            pass
    req = {"id": 2, "cmd": "exec", "argv": [sub, *args], "cwd": cwd, "env": dict(os.environ), "tty": tty,
           "sizes": sizes}
    try:
        s.sendall((dumps(hello) + "\n" + dumps(req) + "\n").encode("ascii"))
    except OSError:
        s.close()
        fallback(sub, args)
    buf = b""
    wrote = False
    while True:
        try:
            chunk = s.recv(262144)
        except OSError:
            chunk = b""
        if not chunk:
            if not wrote:
                fallback(sub, args, "the server closed the connection")
            sys.stderr.write(f"{sub}: the town server closed the connection before the command finished\n")
            return 1
        buf += chunk
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            if not line.strip():
                continue
            msg = loads(line.decode("utf-8", "surrogateescape"))
            if "event" in msg:
                if msg["event"] == "out":
                    data = msg.get("data", "").encode("utf-8", "surrogateescape")
                    fd = 2 if msg.get("stream") == 2 else 1
                    while data:
                        data = data[os.write(fd, data):]
                    wrote = True
                continue
            if msg.get("ok"):
                if msg.get("id") == 2:
                    return int(msg["data"].get("exit", 0))
                continue
            if not wrote and msg.get("code") in FALLBACK_CODES + ("bad-request",):
                s.close()
                fallback(sub, args)
            sys.stderr.write(f"{sub}: the town server refused: {msg.get('error', msg)}\n")
            return 1


def main():
    if len(sys.argv) < 2 or sys.argv[1] not in ("gt", "bd"):
        sys.stderr.write("usage: client.py gt|bd ARGS...\n")
        return 2
    try:
        return run(sys.argv[1], sys.argv[2:])
    except BrokenPipeError:
        return 0
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
