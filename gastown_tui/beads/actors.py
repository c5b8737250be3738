"""Who is acting on the ledger when a caller does not say."""
from __future__ import annotations

import os


def default_actor() -> str:
    """Who is acting: BD_ACTOR, else BEADS_ACTOR, else the login name."""
    return os.environ.get("BD_ACTOR") or os.environ.get("BEADS_ACTOR") or os.environ.get("USER") or "unknown"
