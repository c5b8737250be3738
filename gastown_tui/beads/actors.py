"""Who is acting on the ledger when a caller does not say."""
from __future__ import annotations

import os


def default_actor() -> str:
    """Who is acting: BD_ACTOR, else BEADS_ACTOR, else the login name (USER, LOGNAME, else the name of this
    process's uid, as containers and cron jobs often run without USER), else "overseer"."""
    name = (os.environ.get("BD_ACTOR") or os.environ.get("BEADS_ACTOR") or os.environ.get("USER")
            or os.environ.get("LOGNAME"))
    if name:
        return name
    try:
        import pwd  # POSIX only; deferred so the module imports everywhere

        return pwd.getpwuid(os.getuid()).pw_name or "overseer"
    except (ImportError, KeyError, OSError):
        return "overseer"
