"""The raw transcript is written in pieces (64 KiB or 0.25 s, by a writer thread), yet it holds every byte the
program printed once the session has exited, keeps what was printed more than 0.25 s before a crash, and is
complete at interpreter exit without close()."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from gastown_tui.sessions.session import Session, SessionSpec
from gastown_tui.sessions.transcript import FLUSH_BYTES, Transcript

ROOT = Path(__file__).resolve().parents[2]

# Prints ~600 KB (well over the 64 KiB flush threshold) of coloured lines, wide and multi-byte characters,
# in uneven pieces, with the terminal in raw mode (no \n -> \r\n), keeps a copy of exactly what it printed,
# then a tail of ~25 KB (under the threshold) and exits the instant its last byte is written.
PRINTER = textwrap.dedent(r"""
    import os, random, sys, time, tty
    tty.setraw(1)
    rnd = random.Random(5)
    words = ["gastown", "héllo", "wörld", "日本語", "🚀", "\x1b[1;31mred\x1b[0m", "\x1b[38;5;200mpink\x1b[0m", "\t", "x" * 40]
    out = bytearray()
    i = 0
    while len(out) < 600_000:
        out += ("%06d " % i + " ".join(rnd.choice(words) for _ in range(rnd.randint(1, 30))) + "\r\n").encode()
        i += 1
    tail = b"".join(b"tail %05d \xe2\x9c\xb3\r\n" % j for j in range(1500)) + b"LAST-LINE-OF-OUTPUT"
    with open(sys.argv[1], "wb") as fh:
        fh.write(out + tail)
    view, pos = memoryview(bytes(out)), 0
    while pos < len(view):
        step = rnd.randint(1, 9000)
        pos += os.write(1, view[pos:pos + step])
    time.sleep(0.3)  # the bulk is read (and written out in 64 KiB pieces) before the tail comes
    view, pos = memoryview(tail), 0
    while pos < len(view):
        pos += os.write(1, view[pos:])
    os._exit(0)
""")


async def test_the_raw_transcript_is_every_byte_the_program_printed_even_when_it_exits_at_once(tmp_path):
    expected = tmp_path / "printed.bin"
    s = Session(SessionSpec("gastown/crew/max", "shell", cwd=tmp_path, town=tmp_path,
                            argv=[sys.executable, "-c", PRINTER, str(expected)]))
    await s.start()
    # The tail (under 64 KiB) stays pending until the exit, however long the teardown takes on this machine:
    # only the flush at exit can put it on disk.
    s.transcript.flush_delay = 600.0
    assert await s.wait_exit(60) == 0
    printed = expected.read_bytes()
    assert len(printed) > 8 * FLUSH_BYTES
    raw = (s.transcript_dir / "transcript.raw").read_bytes()
    assert len(raw) == len(printed), f"{len(raw)} bytes on disk, {len(printed)} printed"
    assert raw == printed
    assert "LAST-LINE-OF-OUTPUT" in (s.transcript_dir / "transcript.txt").read_text(encoding="utf-8")


def test_small_appends_are_written_together_and_all_reach_the_file(tmp_path):
    tr = Transcript(tmp_path / "s")
    data = [f"chunk {i:05d}\r\n".encode() for i in range(5000)]  # ~70 KB in 5000 reads
    for piece in data:
        tr.append(piece)
    tr.close()
    assert tr.raw_path.read_bytes() == b"".join(data)
    assert tr.writes <= 10, tr.writes


def _wait_file(path: Path, want: bytes, timeout: float = 10.0) -> bytes:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = path.read_bytes()
        if got == want:
            return got
        time.sleep(0.01)
    return path.read_bytes()


def test_pending_bytes_are_written_by_themselves_after_the_delay_or_at_the_size(tmp_path):
    tr = Transcript(tmp_path / "s")
    try:
        tr.append(b"a few bytes")  # far below the size: written once the delay is up, with no flush() call
        assert _wait_file(tr.raw_path, b"a few bytes") == b"a few bytes"
        slow = Transcript(tmp_path / "t", flush_delay=60.0)  # the size alone triggers this one
        try:
            big = b"z" * (FLUSH_BYTES + 10)
            slow.append(big)
            assert _wait_file(slow.raw_path, big) == big
        finally:
            slow.close()
    finally:
        tr.close()


CRASHER = textwrap.dedent(r"""
    import os, signal, sys, time
    sys.path.insert(0, sys.argv[1])
    from gastown_tui.sessions.transcript import Transcript
    tr = Transcript(sys.argv[2])
    tr.append(b"printed well before the crash\n")
    time.sleep(float(sys.argv[3]))
    if sys.argv[4] == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    tr.append(b"printed just before a normal exit without close()\n")
    sys.exit(0)
""")


def _child(tmp_path: Path, how: str, wait: float) -> bytes:
    folder = tmp_path / how
    proc = subprocess.run([sys.executable, "-c", CRASHER, str(ROOT), str(folder), str(wait), how],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == (-9 if how == "kill" else 0), proc.stderr
    return (folder / "transcript.raw").read_bytes()


def test_a_crash_loses_at_most_the_last_quarter_second(tmp_path):
    # 2 s after it was printed, far past the 0.25 s bound (a loaded machine may run the writer late)
    assert _child(tmp_path, "kill", 2.0) == b"printed well before the crash\n"


def test_an_exit_without_close_flushes_everything(tmp_path):
    assert _child(tmp_path, "exit", 0.0) == (b"printed well before the crash\n"
                                              b"printed just before a normal exit without close()\n")


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full (a disk that is always full)")
def test_a_full_disk_is_counted_and_said_not_raised(tmp_path):
    folder = tmp_path / "s"
    folder.mkdir()
    (folder / "transcript.raw").symlink_to("/dev/full")  # every write fails with ENOSPC
    tr = Transcript(folder)
    tr.append(b"lost bytes")
    tr.close()  # no exception reaches the caller (the loop, or the session's closing job)
    assert tr.error is not None and "No space left" in str(tr.error)
    assert tr.bytes_lost == len(b"lost bytes")


def test_rotation_keeps_every_byte_across_the_two_files(tmp_path):
    size = 1000
    tr = Transcript(tmp_path / "s", rotate_bytes=size)
    sent = b"".join(bytes([65 + i % 26]) * 70 for i in range(20))  # 1400 bytes, appended in one flush
    for i in range(0, len(sent), 70):
        tr.append(sent[i:i + 70])
    tr.close()
    old, raw = (tmp_path / "s" / "transcript.raw.1").read_bytes(), (tmp_path / "s" / "transcript.raw").read_bytes()
    assert len(old) == size and len(raw) <= size
    assert old + raw == sent
