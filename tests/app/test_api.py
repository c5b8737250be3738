"""The app names the town's reads and actions (`app.load("mail.inbox", …)`, `app.act(…, "mr.approve", …)`);
every name it uses is one the town offers (gastown_tui/server/api.py), so a rename fails here, not at a click."""
from __future__ import annotations

import re
from pathlib import Path

from gastown_tui.server import api
from gastown_tui.server.reading import READ_CALLS

ROOT = Path(__file__).resolve().parents[2]
APP_SOURCES = [ROOT / "gastown_tui" / "app.py", *sorted((ROOT / "gastown_tui" / "screens").glob("*.py")),
               *sorted((ROOT / "gastown_tui" / "ui").glob("*.py"))]
NAMED = re.compile(r"""\.(?:load|act)\(\s*(?:f?"[^"]*"\s*,\s*)?"([a-z_.]+)"|\.call\("([a-z_.]+)\"""")


def test_every_call_the_app_makes_is_offered_by_the_town():
    used: dict[str, str] = {}
    for path in APP_SOURCES:
        for m in NAMED.finditer(path.read_text(encoding="utf-8")):
            used.setdefault(m.group(1) or m.group(2), path.name)
    assert len(used) >= 15, f"the pattern found too few calls to be checking anything: {sorted(used)}"
    unknown = {name: where for name, where in used.items() if name not in api.CALLS}
    assert not unknown, f"the app calls what the town does not offer: {unknown}"


def test_the_clients_list_of_reads_is_the_towns():
    assert READ_CALLS == api.READS
