"""The thin `gt`/`bd` client's work: hand the command to the town's server, else run it here.

Agents call `gt` and `bd` all day, so this runs in about the time `python -S -c pass` takes: it imports
only what `python -S` has already loaded plus `_socket` (no `os`, no `json`, no `site`, nothing of gastown
when the shim knows the socket); the request line is built by hand; the server's reply is raw output
bytes (the protocol's `exec` with `raw`), written straight to fds 1/2 with `posix.write`. The shims import
this module (its cached bytecode, which `write_shims` compiles) rather than run it as a script, which
Python would compile on every call.

With no server (or one that cannot run this command: `not-in-server`, another protocol) it becomes
`python -m gastown_tui.cli gt|bd ARGS...` in this same process (run_here): the command runs in-process as
it always did, and prints the same bytes.
"""
import posix
import sys

PROTOCOL = 1
FALLBACK_CODES = (b"not-in-server", b"version-mismatch", b"hello-first", b"unknown-command", b"bad-request")
HERE = __file__.rpartition("/")[0] or "."
PACKAGE_ROOT = HERE.rpartition("/")[0].rpartition("/")[0] or "/"
_ENC = sys.getfilesystemencoding()
_ERR = sys.getfilesystemencodeerrors()


def _q(text):
    """TEXT as a JSON string (what json.dumps(ensure_ascii=False) would write; lone surrogates escaped)."""
    if text.isascii() and text.isprintable() and '"' not in text and "\\" not in text:
        return '"' + text + '"'
    out = []
    for ch in text:
        o = ord(ch)
        if ch == '"' or ch == "\\":
            out.append("\\" + ch)
        elif o < 0x20 or 0xD800 <= o < 0xE000:
            out.append("\\u%04x" % o)
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


class Fallback(Exception):
    """No server can run the command: run it in this process (see run_here)."""


def fallback(sub, args, why, python=None):
    """Ends the attempt to use the server: raises Fallback (main() then runs the command here)."""
    if why and posix.environ.get(b"GASTOWN_THIN_REQUIRE_SERVER"):  # tests: a server must answer
        _say(f"{sub}: no town server answered ({why}) and GASTOWN_THIN_REQUIRE_SERVER is set\n")
        sys.exit(3)
    raise Fallback


def run_here(sub, args, python=None):
    """Becomes `PYTHON -m gastown_tui.cli SUB ARGS` in this process, as that command would start: the same
    sys.executable, sys.path (the caller's folder, PYTHONPATH with the package's root first, the
    environment's site-packages from `site`), argv and environment (PYTHONPATH for child processes too).
    Starting a second interpreter instead would cost a whole Python start-up on every call without a
    server. Never returns."""
    import os

    py = python or sys.executable
    root = PACKAGE_ROOT
    path = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = root + (os.pathsep + path if path else "")
    sys.executable = py
    sys.argv[:] = ["-m", sub, *args]
    try:
        sys.path[0] = os.getcwd()
    except OSError:  # the caller's folder is gone: -m would search no folder of its own either
        del sys.path[0]
    sys.path.insert(1, root)
    import site

    site.main()  # `python -S` skipped it: the environment's site-packages (and .pth files) as -m has them
    main_module = sys.modules["__main__"].__dict__
    keep = {k: main_module[k] for k in ("__builtins__", "__name__", "__loader__") if k in main_module}
    main_module.clear()
    main_module.update(keep)
    sys.stdout.flush()
    import runpy

    runpy._run_module_as_main("gastown_tui.cli")
    sys.exit(0)


def _say(text):
    data = text.encode("utf-8", "surrogateescape")
    try:
        while data:
            data = data[posix.write(2, data):]
    except OSError:
        pass


def _write(fd, data):
    while data:
        data = data[posix.write(fd, data):]


def _int_after(line, key):
    """The integer after KEY (bytes like b'"exit":') in LINE, else None."""
    i = line.find(key)
    if i < 0:
        return None
    i += len(key)
    j = i + 1 if line[i:i + 1] == b"-" else i
    while line[j:j + 1].isdigit():
        j += 1
    try:
        return int(line[i:j])
    except ValueError:
        return None


def _request(sub, args, cwd):
    env = ",".join(_q(k.decode(_ENC, _ERR)) + ":" + _q(v.decode(_ENC, _ERR)) for k, v in posix.environ.items())
    tty = ",".join('"%d":%s' % (fd, "true" if posix.isatty(fd) else "false") for fd in (1, 2))
    sizes = []
    for fd in (0, 1, 2):
        try:
            cols, lines = posix.get_terminal_size(fd)
        except OSError:
            continue
        sizes.append('"%d":[%d,%d]' % (fd, cols, lines))
    return ('{"id":1,"cmd":"exec","hello":{"protocol":%d,"client":"%s","pid":%d},"raw":true,"argv":[%s],'
            '"cwd":%s,"env":{%s},"tty":{%s},"sizes":{%s}}\n'
            % (PROTOCOL, sub, posix.getpid(), ",".join(_q(a) for a in [sub, *args]), _q(cwd), env, tty,
               ",".join(sizes))).encode("utf-8")


def _socket_for(cwd, known):
    """GASTOWN_SOCKET, else the socket the shim was written for (a town's own shims), else the town's
    around CWD (server/paths.py, loaded by path: only then is `os` imported)."""
    named = posix.environ.get(b"GASTOWN_SOCKET")
    if named:
        return named.decode(_ENC, _ERR)
    if known:
        return known
    sys.path.insert(0, PACKAGE_ROOT + "/gastown_tui/server")
    try:
        import paths
    finally:
        del sys.path[0]
    return paths.socket_for(cwd)


def run(sub, args, python=None, known_socket=None):
    """Runs `SUB ARGS` through the town's server; its exit status (or never returns: the fallback)."""
    try:
        cwd = posix.getcwd()
    except OSError:
        fallback(sub, args, "", python)
    path = _socket_for(cwd, known_socket)
    if not path:
        fallback(sub, args, "not in a town", python)
    try:
        posix.stat(path)  # no server: no socket module to load either
        import _socket

        s = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
        try:
            s.connect(path)
            s.sendall(_request(sub, args, cwd))
        except OSError:
            s.close()
            raise
    except OSError as exc:
        # A town's own shim whose town has no server (no socket file) runs the command itself, as it
        # would with no thin client at all; anything else is "no server answered".
        why = "" if path == known_socket and exc.errno == 2 else f"{path}: {exc.strerror}"
        fallback(sub, args, why, python)
    buf = b""
    need = 0  # raw output bytes still to come for fd `to`
    to = 1
    wrote = False
    while True:
        try:
            chunk = s.recv(65536)  # under malloc's mmap threshold: no mmap per call
        except OSError:
            chunk = b""
        if not chunk:
            s.close()
            if not wrote:
                fallback(sub, args, "the server closed the connection", python)
            _say(f"{sub}: the town server closed the connection before the command finished\n")
            return 1
        buf += chunk
        while buf:
            if need:
                part = buf[:need] if len(buf) > need else buf
                _write(to, part)
                need -= len(part)
                buf = buf[len(part):]
                continue
            nl = buf.find(b"\n")
            if nl < 0:
                break
            line, buf = buf[:nl], buf[nl + 1:]
            if line.startswith(b'{"event":"raw"'):  # {"event":"raw","req":1,"stream":1|2,"bytes":N} + N bytes
                to = 2 if b'"stream":2' in line else 1
                need = _int_after(line, b'"bytes":') or 0
                wrote = True
            elif line.startswith(b'{"id":1,"ok":true'):
                code = _int_after(line, b'"exit":')
                return 0 if code is None else code
            elif line.startswith(b"{\"event\""):
                continue  # another event (none is sent to an exec-only connection today)
            elif line.strip():
                done = _refused(sub, args, line, wrote, python, s)
                if done is not None:
                    return done


def _refused(sub, args, line, wrote, python, s):
    """An error reply: the server cannot run this (fall back) or refused it (say why, exit 1)."""
    for code in FALLBACK_CODES:
        if b'"code":"' + code + b'"' in line:
            if not wrote:
                s.close()
                fallback(sub, args, "", python)
            break
    import _json

    text = line.decode("utf-8", "replace")
    try:
        msg = _json.scanstring(text, text.index('"error":"') + 9)[0]
    except ValueError:
        msg = text
    _say(f"{sub}: the town server refused: {msg}\n")
    return 1


def main(sub=None, python=None, known_socket=None):
    """The shims' entry: `main("gt", "/venv/bin/python", "/town/.runtime/server.sock")` with sys.argv's
    arguments; or, with no SUB, `client.py gt|bd ARGS...`."""
    argv = sys.argv[1:]
    if sub is None:
        if not argv or argv[0] not in ("gt", "bd"):
            _say("usage: client.py gt|bd ARGS...\n")
            return 2
        sub, argv = argv[0], argv[1:]
    try:
        code = run(sub, argv, python, known_socket)
    except BrokenPipeError:
        code = 0
    except KeyboardInterrupt:
        code = 130
    except Fallback:
        run_here(sub, argv, python)
    # Every byte went out with write(2) and nothing needs cleaning up: skip the interpreter's finalization,
    # which costs a millisecond or two, as much as the rest of this client.
    posix._exit(code & 0xFF)  # what sys.exit(code) would make of it
