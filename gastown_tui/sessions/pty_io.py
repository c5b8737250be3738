"""A session's end of its terminal: the PTY master read on the loop, written without blocking, and who is
told when output arrived.

The master's file descriptor is registered with the asyncio loop (`loop.add_reader`), so there is no
thread per session. Every readable event drains what is pending (up to READ_CAP, to stay fair to other
sessions) and hands it to the session in one batch (`on_data`: the VT screen, the transcript, the state
classifier), then counts the batch (`seq`) and calls the output listeners (panes, the town server's
stream). End of file is reported once, after the last bytes were handed over (`on_eof`).

Writes are buffered: what the PTY does not take now is written when the loop says it is writable, so a
program that does not read its input never blocks the loop.

A node's session (nodes/remote_session.py) reads and writes a socketpair here exactly as a local one
reads and writes its PTY master: nothing in this file knows the difference.
"""
from __future__ import annotations

import asyncio
import errno
import fcntl
import os
import struct
import termios
import time
from typing import Callable, Generic, TypeVar

READ_CHUNK = 65536
READ_CAP = 1 << 20  # bytes per readable event before yielding to other sessions

Owner = TypeVar("Owner")    # what the output listeners are called with (the session)


def window_size(fd: int) -> tuple[int, int] | None:
    """(cols, rows) of the PTY behind `fd`, or None."""
    try:
        rows, cols, _, _ = struct.unpack("HHHH", fcntl.ioctl(fd, termios.TIOCGWINSZ, b"\0" * 8))
    except OSError:
        return None
    return (cols, rows) if cols and rows else None


class PtyIO(Generic[Owner]):
    """Reads and writes one PTY master (`fd`) on one loop; `owner` (the session) is what the output
    listeners are called with."""

    def __init__(self, owner: Owner, on_data: Callable[[bytes], None], on_eof: Callable[[], None],
                 on_read: Callable[[bytes], None] | None = None) -> None:
        """`on_read(chunk)`: each chunk as soon as it is read, before the next read (to keep it: the
        transcript); `on_data(batch)`: the chunks of one readable event together (the screen, the states)."""
        self.owner = owner
        self.fd: int | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.eof = False  # the master said end of file (or the session closed it): no more reading or writing
        self.seq = 0  # one more for each batch of output
        self.last_output_at = time.monotonic()  # monotonic (sessions/clock.py)
        self._on_data = on_data
        self._on_read = on_read
        self._on_eof = on_eof
        self._listeners: list[Callable[[Owner], None]] = []
        self._outbuf = bytearray()
        self._writer_on = False

    # -- listeners -----------------------------------------------------------------------------
    def add_listener(self, fn: Callable[[Owner], None]) -> None:
        """fn(owner) after each batch of output (do not render here: use a frame timer)."""
        self._listeners.append(fn)

    def remove_listener(self, fn: Callable[[Owner], None]) -> None:
        """For panes that come and go; removing one that is not there is fine."""
        if fn in self._listeners:
            self._listeners.remove(fn)

    def _master(self) -> int:
        if self.fd is None:
            raise RuntimeError("the session's terminal is not open yet (read or written before it started)")
        return self.fd

    # -- reading -------------------------------------------------------------------------------
    def start_reading(self) -> None:
        """Registers the master with the loop (both are set by now)."""
        if self.loop is None:
            raise RuntimeError("the session has no event loop yet (started reading before it started)")
        self.loop.add_reader(self._master(), self.on_readable)

    def on_readable(self) -> None:
        fd = self._master()
        total = 0
        chunks = []
        eof = False
        while total < READ_CAP:
            try:
                data = os.read(fd, READ_CHUNK)
            except BlockingIOError:
                break
            except OSError as exc:
                if exc.errno in (errno.EIO, errno.EBADF):
                    data = b""
                else:
                    raise
            if not data:
                eof = True
                break
            if self._on_read is not None:
                self._on_read(data)
            chunks.append(data)
            total += len(data)
        if chunks:
            self.last_output_at = time.monotonic()
            self.seq += 1
            self._on_data(b"".join(chunks))
            for fn in list(self._listeners):
                fn(self.owner)
        if eof:  # only after the last bytes were handed over
            self._at_eof()

    def _at_eof(self) -> None:
        if self.eof:
            return
        self._stop_loop_io()
        self.eof = True
        self._on_eof()

    def drain_and_close(self) -> None:
        """The program has exited: hand over what it wrote last, then stop reading and writing (the
        master itself is closed with the process)."""
        if not self.eof and self.fd is not None:
            try:
                self.on_readable()
            except OSError:
                pass
        if not self.eof:
            self._stop_loop_io()
        self.eof = True

    def _stop_loop_io(self) -> None:
        if self.loop is not None and self.fd is not None:
            self.loop.remove_reader(self.fd)
            if self._writer_on:
                self.loop.remove_writer(self.fd)
                self._writer_on = False

    # -- writing -------------------------------------------------------------------------------
    def write(self, data: bytes) -> None:
        """Sends bytes to the program (buffered without blocking when the PTY is full)."""
        if not data or self.fd is None:
            return
        self._outbuf += data
        self.flush()

    def flush(self) -> None:
        fd = self.fd
        if fd is None:      # nothing was buffered: write() takes nothing before the terminal is open
            return
        while self._outbuf:
            try:
                n = os.write(fd, self._outbuf)
            except BlockingIOError:
                n = 0
            except OSError:
                self._outbuf.clear()
                break
            if n == 0:
                break
            del self._outbuf[:n]
        want = bool(self._outbuf)
        if want != self._writer_on and self.loop is not None and not self.eof:
            if want:
                self.loop.add_writer(fd, self.flush)
            else:
                self.loop.remove_writer(fd)
            self._writer_on = want

    # -- the terminal's modes --------------------------------------------------------------------
    def isig(self) -> bool | None:
        """Whether the PTY turns ^C into SIGINT now (False: the program put it in raw mode); None if unknown."""
        if self.fd is None or self.eof:
            return None
        try:
            return bool(termios.tcgetattr(self.fd)[3] & termios.ISIG)
        except (termios.error, OSError):
            return None
