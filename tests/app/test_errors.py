"""Bad input is reported clearly (naming the id, file or folder) and changes nothing."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from gastown_tui.town.layout import Town
from gastown_tui.town.ledgers import all_ledgers

from .helpers import fill_form, make_app, palette_run, town_loaded, until

GASTOWN = Path(sys.executable).parent / "gastown"


def test_app_command_names_a_folder_that_is_not_a_town(tmp_path):
    out = subprocess.run([str(GASTOWN), "app", "--town", str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 1
    assert str(tmp_path) in out.stderr and "town" in out.stderr, out.stderr


async def test_slinging_an_unknown_bead_says_which_and_changes_nothing(fresh_town):
    town = Town(fresh_town)
    before = {l.path: l.path.read_bytes() for l in all_ledgers(town)}
    app = make_app(fresh_town)
    async with app.run_test(size=(160, 48)) as pilot:
        await town_loaded(pilot)
        await palette_run(pilot, "sling")
        await fill_form(pilot, "al-nosuch", "alpha")
        await until(pilot, lambda: any("al-nosuch" in n.message and n.severity == "error"
                                       for n in app._notifications), what="an error naming the bead")
    assert {l.path: l.path.read_bytes() for l in all_ledgers(town)} == before


async def test_a_broken_ledger_line_is_reported_not_a_blank_app(fresh_town):
    ledger = fresh_town / "alpha" / ".beads" / "issues.jsonl"
    text = ledger.read_text()
    ledger.write_text(text + '{"id": "al-broken", "title": \n')
    app = make_app(fresh_town)
    async with app.run_test(size=(160, 48)) as pilot:
        await until(pilot, lambda: app.controller.view is not None, what="a view, even a broken one")
        await until(pilot, lambda: any(n.severity == "error" for n in app._notifications), what="the error toast")
        message = next(n.message for n in app._notifications if n.severity == "error")
        assert "issues.jsonl" in message, message
    assert ledger.read_text().endswith('{"id": "al-broken", "title": \n')  # nothing rewritten or lost
