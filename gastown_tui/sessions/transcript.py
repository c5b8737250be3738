"""A session's transcript on disk: `<town>/.runtime/sessions/<agent_key>/<session_id>/`.

- `transcript.raw`: every byte the program wrote, appended as it arrives; past
  `RAW_ROTATE_BYTES` it is renamed `transcript.raw.1` (replacing an older one) and a
  new file starts, so a chatty agent keeps at most two of them;
- `transcript.txt`: the scrollback and screen as plain text, rewritten atomically
  (temp + fsync + rename) when the agent pauses (idle, needs approval), once a
  minute while output flows, and at exit;
- `meta.json`: who, what, when, and the exit status.

`seance` reads these; a session that restarts gets a new folder, the old one stays.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from gastown_tui.atomicfile import write_atomic as atomic_write



RAW_ROTATE_BYTES = 128 * 1024 * 1024


def sessions_root(town: Path) -> Path:
    return Path(town) / ".runtime" / "sessions"


class Transcript:
    def __init__(self, folder: Path, rotate_bytes: int = RAW_ROTATE_BYTES) -> None:
        self.folder = Path(folder)
        self.rotate_bytes = rotate_bytes
        self._in_file = 0
        self.folder.mkdir(parents=True, exist_ok=True)
        self.raw_path = self.folder / "transcript.raw"
        self.text_path = self.folder / "transcript.txt"
        self.meta_path = self.folder / "meta.json"
        self._raw = open(self.raw_path, "ab", buffering=0)
        self.bytes_written = 0

    def append(self, data: bytes) -> None:
        if self._raw is not None and data:
            if self._in_file + len(data) > self.rotate_bytes and self._in_file:
                self._raw.close()
                os.replace(self.raw_path, self.raw_path.with_name("transcript.raw.1"))
                self._raw = open(self.raw_path, "ab", buffering=0)
                self._in_file = 0
            self._raw.write(data)
            self._in_file += len(data)
            self.bytes_written += len(data)

    def write_text(self, text: str) -> None:
        atomic_write(self.text_path, (text.rstrip("\n") + "\n").encode("utf-8"))

    def write_meta(self, meta: dict) -> None:
        atomic_write(self.meta_path, (json.dumps(meta, indent=2, sort_keys=True) + "\n").encode("utf-8"))

    def close(self) -> None:
        if self._raw is not None:
            self._raw.close()
            self._raw = None
