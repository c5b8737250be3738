"""The node daemon's log: one stamped line per event on its stderr, which `node serve` points at
DIR/daemon/daemon.log when it starts the daemon (nodes/serve.py)."""
from __future__ import annotations

import os
import sys
import time


def log(text: str) -> None:
    sys.stderr.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} node-daemon[{os.getpid()}] {text}\n")
    sys.stderr.flush()
