"""A session's transcript on disk: `<town>/.runtime/sessions/<agent_key>/<session_id>/`.

- `transcript.raw`: every byte the program wrote, in order; past `RAW_ROTATE_BYTES` it is
  renamed `transcript.raw.1` (replacing an older one) and a new file starts, so a chatty
  agent keeps at most two of them;
- `transcript.txt`: the scrollback and screen as plain text, rewritten atomically
  (temp + fsync + rename) when the agent pauses (idle, needs approval), once a
  minute while output flows, and at exit;
- `meta.json`: who, what, when, and the exit status.

`seance` reads these; a session that restarts gets a new folder, the old one stays.

The raw transcript is buffered in memory: `append` (called on the event loop for every PTY
read) only copies the bytes; one writer thread for the whole process writes a transcript's
pending bytes in one piece once `FLUSH_BYTES` (64 KiB) are pending or `FLUSH_DELAY` (0.25 s)
after its first pending byte, whichever comes first. With 30 busy agents that is a few
writes a second each instead of one per read (~600/s), and none of them on the loop.
`flush()` writes what is pending now (blocking); `close()` flushes and closes — the session
calls it when the program has exited (also after stop(), restart/handoff and the app's
close(), which all wait for it), and an `atexit` hook flushes every open transcript.

What a crash can lose: if the app process dies abruptly (SIGKILL, a crash in native code), the
bytes not yet handed to the OS, i.e. at most the last `FLUSH_DELAY` (0.25 s) of output, plus
however long a write already under way takes the disk (a stalled disk delays writing, never
the loop). Bytes handed to the OS survive the process; the raw file is not fsynced, so a
power cut or kernel crash can lose what the OS had not written back yet.
"""
from __future__ import annotations

import atexit
import json
import logging
import os
import threading
import time
import weakref
from pathlib import Path

from gastown_tui.atomicfile import write_atomic

log = logging.getLogger(__name__)

RAW_ROTATE_BYTES = 128 * 1024 * 1024
FLUSH_BYTES = 64 * 1024  # pending this much: written at once
FLUSH_DELAY = 0.25  # seconds after the first pending byte: written (the crash-loss bound)


def sessions_root(town: Path) -> Path:
    return Path(town) / ".runtime" / "sessions"


class _Writer:
    """One daemon thread writing every transcript's pending bytes when they are due.

    The loop's side (`schedule`) is a dict update under an uncontended lock; the thread is woken only
    when a deadline comes before the one it already sleeps until (in a busy town it is awake anyway),
    and each time it wakes it also writes what falls due within the next `BATCH` seconds (early is
    fine: the crash bound is a maximum), so 30 busy transcripts cost it ~20 wake-ups a second, not 120."""

    BATCH = 0.05

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._due: dict[Transcript, float] = {}  # transcript -> monotonic time it must be written by
        self._wake_at = float("inf")  # when the thread wakes by itself next
        self._thread: threading.Thread | None = None

    def schedule(self, transcript: "Transcript", when: float) -> None:
        with self._cond:
            current = self._due.get(transcript)
            if current is not None and current <= when:
                return
            self._due[transcript] = when
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="transcript-writer", daemon=True)
                self._thread.start()
            if when < self._wake_at:
                self._wake_at = when
                self._cond.notify()

    def forget(self, transcript: "Transcript") -> None:
        with self._cond:
            self._due.pop(transcript, None)

    def _after_fork(self) -> None:  # the thread does not exist in a forked child
        self._cond = threading.Condition()
        self._due = {}
        self._wake_at = float("inf")
        self._thread = None

    def _run(self) -> None:
        while True:
            with self._cond:
                while True:
                    now = time.monotonic()
                    due = [t for t, when in self._due.items() if when <= now + self.BATCH]
                    if due:
                        for t in due:
                            del self._due[t]
                        self._wake_at = now  # awake: nobody needs to notify until it sleeps again
                        break
                    self._wake_at = min(self._due.values()) if self._due else float("inf")
                    self._cond.wait(None if not self._due else self._wake_at - now)
            for t in due:
                try:
                    t.flush()  # OSError is kept by the transcript itself
                except Exception:  # anything else must not end the thread every transcript relies on
                    log.exception("transcript flush of %s failed", getattr(t, "text_path", t))


_WRITER = _Writer()
_OPEN: "weakref.WeakSet[Transcript]" = weakref.WeakSet()
os.register_at_fork(after_in_child=_WRITER._after_fork)


def flush_all() -> None:
    """Writes every open transcript's pending bytes now (blocking). Run at interpreter exit."""
    for t in list(_OPEN):
        t.flush()


atexit.register(flush_all)


class Transcript:
    def __init__(self, folder: Path, rotate_bytes: int = RAW_ROTATE_BYTES, flush_bytes: int = FLUSH_BYTES,
                 flush_delay: float = FLUSH_DELAY, write_through: bool = False) -> None:
        self.folder = Path(folder)
        # write_through: each append is handed to the OS at once (a write(2) to the page cache, on the
        # caller's thread). A kept session (sessions/kept.py) uses it: when its server is killed, the next
        # server continues the same file, and bytes read but not yet written would be a gap in it.
        self.write_through = write_through
        self.rotate_bytes = rotate_bytes
        self.flush_bytes = flush_bytes
        self.flush_delay = flush_delay
        self.folder.mkdir(parents=True, exist_ok=True)
        self.raw_path = self.folder / "transcript.raw"
        self.text_path = self.folder / "transcript.txt"
        self.meta_path = self.folder / "meta.json"
        self._fd: int | None = os.open(self.raw_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
        self._in_file = os.fstat(self._fd).st_size
        self._base = _read_base(self.folder)  # bytes the program wrote before transcript.raw's first byte
        self._lock = threading.Lock()  # guards _pending/_urgent/_closed: held only to copy, never while writing
        self._file_lock = threading.Lock()  # one writer at a time, in order: held while writing
        self._pending = bytearray()
        self._urgent = False  # a flush for FLUSH_BYTES is already asked for
        self._closed = False
        self.bytes_written = 0  # bytes accepted by append() (on disk once flushed)
        self.bytes_flushed = 0  # bytes handed to the OS
        self.writes = 0  # write(2) calls made for the raw file
        self.error: OSError | None = None  # the first write that failed (those bytes are counted in bytes_lost)
        self.bytes_lost = 0
        _OPEN.add(self)

    def append(self, data: bytes) -> None:
        """Queues `data` (the program's output, in order) for the raw file; never touches the disk."""
        if not data:
            return
        if self.write_through:
            with self._file_lock:
                if self._closed or self._fd is None:
                    return
                self.bytes_written += len(data)
                self._write(self._fd, memoryview(data))
            return
        with self._lock:
            if self._closed:
                return
            first = not self._pending
            self._pending += data
            urgent = not self._urgent and len(self._pending) >= self.flush_bytes
            if urgent:
                self._urgent = True
        self.bytes_written += len(data)
        if urgent:
            _WRITER.schedule(self, 0.0)
        elif first:
            _WRITER.schedule(self, time.monotonic() + self.flush_delay)

    @property
    def pending(self) -> int:
        """Bytes appended but not handed to the OS yet."""
        return len(self._pending)

    def flush(self) -> None:
        """Writes the pending bytes now (blocking; the writer thread does this by itself when due)."""
        with self._file_lock:
            with self._lock:
                data, self._pending = self._pending, bytearray()
                self._urgent = False
            if data and self._fd is not None:
                self._write(self._fd, memoryview(data))
            elif data:  # the raw file could not be reopened after a rotation
                self.bytes_lost += len(data)

    def _write(self, fd: int, data: memoryview) -> None:
        """Appends to the raw file (FD, the open self._fd) under the file lock, rotating it at rotate_bytes."""
        try:
            while data:
                room = self.rotate_bytes - self._in_file
                if room <= 0:
                    os.close(fd)
                    self._fd = None
                    os.replace(self.raw_path, self.raw_path.with_name("transcript.raw.1"))
                    self._base += self._in_file
                    try:
                        write_atomic(self.folder / BASE_NAME, f"{self._base}\n".encode())
                    except OSError as exc:
                        log.warning("%s: cannot record the raw transcript's offset: %s", self.folder, exc)
                    fd = self._fd = os.open(self.raw_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC,
                                            0o644)
                    self._in_file = 0
                    room = self.rotate_bytes
                n = os.write(fd, data[:room])
                self.writes += 1
                self._in_file += n
                self.bytes_flushed += n
                data = data[n:]
        except OSError as exc:  # disk full, folder removed...: counted and kept in .error, never raised on the loop
            if self.error is None:
                self.error = exc
            self.bytes_lost += len(data)

    def write_text(self, text: str) -> None:
        write_atomic(self.text_path, (text.rstrip("\n") + "\n").encode("utf-8", errors="replace"))

    def write_meta(self, meta: dict) -> None:
        write_atomic(self.meta_path, (json.dumps(meta, indent=2, sort_keys=True) + "\n").encode("utf-8"))

    def close(self) -> None:
        """Flushes what is pending and closes the raw file (blocking). Appends after this are ignored."""
        with self._lock:
            self._closed = True
        self.flush()
        _WRITER.forget(self)
        _OPEN.discard(self)
        with self._file_lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None


BASE_NAME = "transcript.raw.base"  # written at each rotation: the offset of transcript.raw's first byte


def _read_base(folder: Path) -> int:
    try:
        return int((Path(folder) / BASE_NAME).read_text().strip() or 0)
    except (OSError, ValueError):
        return 0


def raw_length(folder: Path) -> int:
    """How many bytes of the program's output the raw transcript holds, rotations included (a node's
    session resumes its stream from there in a restarted server: nodes/remote_adoption.py)."""
    try:
        size = os.stat(Path(folder) / "transcript.raw").st_size
    except FileNotFoundError:
        size = 0
    return _read_base(folder) + size


def raw_tail(folder: Path, limit: int = 512 * 1024) -> bytes:
    """The last `limit` bytes a session's program wrote (`transcript.raw`, reaching back into
    `transcript.raw.1` when the current file is shorter), to rebuild its screen in a new server."""
    folder = Path(folder)
    parts: list[bytes] = []
    left = limit
    for name in ("transcript.raw", "transcript.raw.1"):
        if left <= 0:
            break
        try:
            with open(folder / name, "rb") as f:
                size = f.seek(0, os.SEEK_END)
                f.seek(max(0, size - left))
                data = f.read(left)
        except FileNotFoundError:
            continue
        parts.insert(0, data)
        left -= len(data)
    return b"".join(parts)
