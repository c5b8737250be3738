"""Running `gastown`/`gt`/`bd` commands inside the server for thin clients (the protocol's `exec`).

A command runs in the server's one exec thread (one command at a time: the single-writer rule), as the
same `gastown_tui.cli.main` a separate process would run, with the caller's working directory, environment
and output:

- **cwd**: the exec thread has its own working directory (Linux `unshare(CLONE_FS)` in that thread only),
  so `os.chdir` there moves nothing else in the server, and relative paths, `Path.cwd()` and child
  processes (git) all see the caller's folder. Where that call is missing, `exec` is refused and the thin
  client falls back to running the command itself.
- **environment**: `os.environ` becomes a mapping that, in the exec thread, is the caller's environment
  (elsewhere: the server's own); a child process started there without `env=` gets the caller's too.
- **terminal**: `isatty()` and `os.get_terminal_size()` answer for the caller's fds 0-2, as it measured them.
- **stdout/stderr**: `sys.stdout`/`sys.stderr` become proxies that, in the exec thread, hand the bytes to
  the caller's sink (streamed back as `out` events); `SystemExit` (argparse) becomes the exit code.

Ledgers stay loaded between calls: `town/ledgers.py` caches them per thread and the exec thread lives as
long as the server, so a `bd ready` on 10,000 beads parses the file once, not per call.
"""
from __future__ import annotations

import asyncio
import ctypes
import io
import os
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import MutableMapping
from concurrent.futures import ThreadPoolExecutor
from typing import Callable

from gastown_tui import cli

CLONE_FS = 0x00000200
# Commands that own an event loop, a terminal or the server itself: never run inside the server.
NOT_IN_SERVER = {"run", "demo", "app", "agent", "server", "up", "down", "status", "keeper", "attach",
                 "service", "web"}

_state = threading.local()  # in the exec thread: .env, .sink (callable(stream, bytes)), .tty, .sizes


def in_exec() -> bool:
    return getattr(_state, "sink", None) is not None


class _Environ(MutableMapping):
    """os.environ for the whole server: the caller's environment inside the exec thread, else the real one."""

    def __init__(self, real) -> None:
        self._real = real

    def _target(self):
        env = getattr(_state, "env", None)
        return self._real if env is None else env

    def __getitem__(self, key):
        return self._target()[key]

    def __setitem__(self, key, value):
        self._target()[key] = value

    def __delitem__(self, key):
        del self._target()[key]

    def __iter__(self):
        return iter(dict(self._target()))

    def __len__(self):
        return len(self._target())

    def copy(self) -> dict:
        return dict(self._target())

    def __repr__(self) -> str:
        return f"environ({dict(self._target())!r})"


class _Stream(io.TextIOBase):
    """sys.stdout / sys.stderr: the caller's sink inside the exec thread, the server's stream elsewhere."""

    def __init__(self, real, number: int) -> None:
        self._real = real
        self._number = number
        self.buffer = _Buffer(self)

    def _sink(self):
        return getattr(_state, "sink", None)

    def write(self, text: str) -> int:
        sink = self._sink()
        if sink is None:
            return self._real.write(text)
        sink(self._number, text.encode("utf-8", "surrogateescape"))
        return len(text)

    def flush(self) -> None:
        if self._sink() is None:
            self._real.flush()

    def isatty(self) -> bool:
        if self._sink() is None:
            return self._real.isatty()
        return bool((getattr(_state, "tty", None) or {}).get(self._number))

    def fileno(self) -> int:
        if self._sink() is None:
            return self._real.fileno()
        raise io.UnsupportedOperation("fileno: output goes to a thin client")

    @property
    def encoding(self) -> str:
        return "utf-8" if self._sink() is not None else self._real.encoding

    @property
    def errors(self) -> str:
        return "strict" if self._sink() is not None else self._real.errors

    def writable(self) -> bool:
        return True


class _Buffer(io.RawIOBase):
    def __init__(self, stream: _Stream) -> None:
        self._stream = stream

    def write(self, data) -> int:
        sink = self._stream._sink()
        if sink is None:
            return self._stream._real.buffer.write(data)
        sink(self._stream._number, bytes(data))
        return len(data)

    def writable(self) -> bool:
        return True

    def flush(self) -> None:
        if self._stream._sink() is None:
            self._stream._real.buffer.flush()


_installed = False


def install() -> None:
    """Puts the environment and stream proxies in place (once, at server start)."""
    global _installed
    if _installed:
        return
    _installed = True
    os.environ = _Environ(os.environ)  # os.getenv reads the module global: it follows
    sys.stdout = _Stream(sys.stdout, 1)
    sys.stderr = _Stream(sys.stderr, 2)
    original = subprocess.Popen._execute_child

    def execute_child(self, args, executable, preexec_fn, close_fds, pass_fds, cwd, env, *rest):
        if env is None and getattr(_state, "env", None) is not None:
            env = dict(_state.env)
        return original(self, args, executable, preexec_fn, close_fds, pass_fds, cwd, env, *rest)

    subprocess.Popen._execute_child = execute_child
    real_size = os.get_terminal_size

    def get_terminal_size(fd: int = 1):
        sizes = getattr(_state, "sizes", None)
        if sizes is None:
            return real_size(fd)
        size = sizes.get(fd)  # the caller's own terminal (rich, shutil ask about fds 0-2)
        if size is None:
            raise OSError(25, "Inappropriate ioctl for device")
        return os.terminal_size(size)

    os.get_terminal_size = get_terminal_size
    _cache_argparse_messages()


_LANG_VARS = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")


def _cache_argparse_messages() -> None:
    """argparse looks every help string up in gettext's catalogues, searching the locale folders on disk
    each time (about half of building `gastown bd`'s parser). In the long-lived server the answers are
    cached, per the caller's language variables."""
    import argparse
    import gettext

    cache: dict = {}

    def cached(fn):
        def lookup(*args):
            key = (fn, args, tuple(os.environ.get(v) for v in _LANG_VARS))
            found = cache.get(key)
            if found is None:
                if len(cache) > 20_000:
                    cache.clear()
                found = cache[key] = fn(*args)
            return found
        return lookup

    argparse._ = cached(gettext.gettext)
    argparse.ngettext = cached(gettext.ngettext)


def _private_cwd() -> None:
    """Exec thread initializer: its own cwd (CLONE_FS unshared for this thread only)."""
    _state.private = False
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        _state.private = libc.unshare(CLONE_FS) == 0
    except (OSError, AttributeError):
        _state.private = False


class Output:
    """Collects a command's output and hands it to `deliver(stream, bytes)` in chunks (order kept)."""

    CHUNK = 64 * 1024

    def __init__(self, deliver: Callable[[int, bytes], None]) -> None:
        self._deliver = deliver
        self._stream = 0
        self._parts: list[bytes] = []
        self._size = 0

    def __call__(self, stream: int, data: bytes) -> None:
        if not data:
            return
        if stream != self._stream:
            self.flush()
            self._stream = stream
        self._parts.append(data)
        self._size += len(data)
        if self._size >= self.CHUNK or data.endswith(b"\n") and self._size >= 4096:
            self.flush()

    def flush(self) -> None:
        if self._parts:
            data, self._parts, self._size = b"".join(self._parts), [], 0
            self._deliver(self._stream, data)


def run_in_thread(argv: list[str], cwd: str, env: dict, sink: Callable[[int, bytes], None],
                  tty: dict | None = None, sizes: dict | None = None) -> int:
    """Runs `gastown ARGV` in the calling (exec) thread; returns its exit code. Blocking."""
    out = Output(sink)
    os.chdir(cwd)
    _state.env, _state.sink, _state.tty, _state.sizes = dict(env), out, tty or {}, sizes or {}
    try:
        try:
            code = cli.main(list(argv))
        except SystemExit as exc:
            if exc.code is None:
                code = 0
            elif isinstance(exc.code, int):
                code = exc.code
            else:
                out(2, (str(exc.code) + "\n").encode("utf-8", "surrogateescape"))
                code = 1
        except BaseException:  # what an uncaught exception prints in a process, and its status
            out(2, traceback.format_exc().encode("utf-8", "surrogateescape"))
            code = 1
        return int(code or 0)
    finally:
        out.flush()
        _state.env = _state.sink = _state.tty = _state.sizes = None


class Busy(Exception):
    """The exec thread is held by a long command: (seconds, its argv)."""

    def __init__(self, seconds: float, argv: list[str]) -> None:
        super().__init__(seconds, argv)
        self.seconds, self.argv = seconds, argv


class ExecRunner:
    """The server's exec thread. `busy()` says for how long, and running what, when a command has held it
    for more than a moment (the server then lets callers run their commands themselves)."""

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="exec", initializer=_private_cwd)
        self.private_cwd: bool | None = None
        self._running: tuple[float, list[str]] | None = None  # (started at, argv) of the command in the thread
        self.waiting = 0

    def busy(self) -> tuple[float, list[str]] | None:
        """(seconds, argv) of the running command, or None when the thread is free."""
        if self._running is None:
            return None
        started, argv = self._running
        return time.monotonic() - started, argv

    async def check(self) -> bool:
        """Whether the exec thread got its own cwd (else exec is refused and clients run commands themselves)."""
        if self.private_cwd is None:
            loop = asyncio.get_running_loop()
            self.private_cwd = await loop.run_in_executor(self._pool, lambda: bool(getattr(_state, "private", False)))
        return self.private_cwd

    async def run(self, argv: list[str], cwd: str, env: dict, deliver: Callable[[int, bytes], None],
                  tty: dict | None = None, sizes: dict | None = None, give_up_after: float | None = None) -> int:
        """Runs the command in the exec thread; its exit status. Raises Busy when, still waiting for the
        thread, the command holding it has run longer than GIVE_UP_AFTER seconds (the caller then runs
        the command itself rather than queue behind a stuck one)."""
        loop = asyncio.get_running_loop()

        def sink(stream: int, data: bytes) -> None:
            loop.call_soon_threadsafe(deliver, stream, data)

        gate = threading.Lock()
        state = {"started": False, "given_up": False}

        def job() -> int | None:
            with gate:
                if state["given_up"]:
                    return None
                state["started"] = True
            self._running = (time.monotonic(), list(argv))
            try:
                return run_in_thread(argv, cwd, env, sink, tty, sizes)
            finally:
                self._running = None

        idle = self._running is None and self.waiting == 0  # nothing ahead of it: it starts at once
        fut = loop.run_in_executor(self._pool, job)
        self.waiting += 1
        try:
            if idle:  # never queued behind a long command: no need to watch the thread while it runs
                await asyncio.wait({fut})
            while not fut.done():
                done, _ = await asyncio.wait({fut}, timeout=0.25)
                if done:
                    break
                busy = self.busy()
                if give_up_after is not None and busy is not None and busy[0] > give_up_after:
                    with gate:
                        if not state["started"]:  # still queued behind a long command: the caller runs it
                            state["given_up"] = True
                            raise Busy(busy[0], busy[1])
            code = fut.result()
            if code is None:
                raise Busy(0.0, [])
            return code
        finally:
            self.waiting -= 1

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
