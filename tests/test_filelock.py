"""The one file lock (gastown_tui/filelock.py): one holder across processes, a clear error on timeout."""
import subprocess
import sys

import pytest

from gastown_tui.errors import UserError
from gastown_tui.filelock import FileLock, file_lock

HOLD = """
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o644)
fcntl.flock(fd, fcntl.LOCK_EX)
print("held", flush=True)
sys.stdin.readline()
"""


def test_a_lock_another_process_holds_times_out_naming_what_and_where(tmp_path):
    path = tmp_path / "locks" / "rigs.lock"
    path.parent.mkdir()
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(path)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(UserError, match=r"timed out after 0s waiting for the rig registry lock \(.*rigs.lock\)"):
            with file_lock(path, timeout=0.2, what="rig registry lock"):
                pass
    finally:
        holder.communicate("\n", timeout=30)
    with file_lock(path, timeout=5, what="rig registry lock"):   # free again: taken at once
        assert path.exists()


def test_filelock_is_reentrant_for_its_thread(tmp_path):
    lock = FileLock(tmp_path / "x.lock")
    with lock:
        with lock:
            assert lock.held
        assert lock.held
    assert not lock.held
