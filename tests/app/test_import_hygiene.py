"""An app attached to a town server does not load the town's domain: the deliberate deferrals stay deferred.

`gastown_tui.app` defers the in-process link (sessions, patrols, ledgers), the Welcome screen defers the town
installer, the Beads screen defers pydantic (`ui/wire.py`), and the socket link defers the agent presets.
Measured (benchmarks/attach.py's machine, loaded): importing the app fell from ~2.5 s to ~1.0 s."""
from __future__ import annotations

import subprocess
import sys

DEFERRED = ("pydantic", "git", "gastown_tui.patrols.runtime", "gastown_tui.sessions.manager",
            "gastown_tui.beads.ledger", "gastown_tui.server.api", "gastown_tui.client.in_process")


def test_the_attached_app_imports_no_domain():
    code = ("import sys, gastown_tui.app, gastown_tui.client.socket_link\n"
            f"print(','.join(m for m in {DEFERRED!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"loaded at start-up: {out.stdout.strip()}"
