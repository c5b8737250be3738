"""`.beads/config.yaml`: the few settings the ledger reads (flat `key: value` lines).

Keys used: `issue-prefix`, `types.custom` and `status.custom` (comma-separated).
Other lines are left alone; the file is only written by `Ledger.init`.
"""
from __future__ import annotations

from pathlib import Path

CONFIG_NAME = "config.yaml"


def read_config(beads_dir: Path) -> dict[str, str]:
    path = Path(beads_dir) / CONFIG_NAME
    out: dict[str, str] = {}
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return out
    for line in text.splitlines():
        stripped = line.split(" #", 1)[0].strip()
        if not stripped or stripped.startswith("#") or line[:1].isspace() or ":" not in stripped:
            continue
        key, _, value = stripped.partition(":")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        out[key.strip()] = value
    return out


def custom_list(config: dict[str, str], key: str) -> list[str]:
    """A comma-separated config value as names (`name:category` keeps only the name)."""
    raw = config.get(key, "").strip("[] ")
    return [part.strip().strip("\"'").split(":", 1)[0] for part in raw.split(",") if part.strip()]


def config_text(prefix: str) -> str:
    return (
        "# Beads configuration (read by gastown bd)\n"
        f"issue-prefix: {prefix}\n"
    )
