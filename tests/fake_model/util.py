"""Small helpers shared by the protocol modules."""
from __future__ import annotations

import os
import re
import uuid


def pieces(text: str, size: int = 24) -> list[str]:
    """Splits text into stream deltas (at least one, possibly empty)."""
    return [text[i:i + size] for i in range(0, len(text), size)] or [""]


def new_id(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:24]}"


def abs_path(cwd: str | None, path: str) -> str:
    if os.path.isabs(path) or not cwd:
        return path
    return os.path.join(cwd, path)


def find_cwd(texts: list[str], patterns: list[str]) -> str | None:
    for text in texts:
        for pat in patterns:
            if m := re.search(pat, text):
                return m.group(1).strip()
    return None


def is_machine_text(text: str) -> bool:
    """Text an agent CLI adds on its own (system reminders, context blocks), not typed by a person."""
    t = text.lstrip()
    return (not t or t.startswith("<") or t.startswith("# AGENTS.md instructions")
            or t.startswith("This is the Gemini CLI"))
