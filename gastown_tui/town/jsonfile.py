"""Small JSON files written atomically (temp + fsync + rename) and read with clear errors."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gastown_tui.atomicfile import write_atomic
from gastown_tui.errors import UserError


def write_json(path: Path, data: object) -> None:
    write_atomic(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def read_json(path: Path, default: object = None) -> Any:      # a JSON value
    """The JSON in PATH; DEFAULT when the file is absent; UserError naming file, line and cause when invalid."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if default is not None:
            return default
        raise UserError(f"{path}: file not found") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError(f"{path}:{exc.lineno}: invalid JSON: {exc.msg}") from None
    except ValueError as exc:   # json's plain ValueError: a number too long to convert
        raise UserError(f"{path}: invalid JSON: {exc}") from None
