"""The Beads screen's edit form changes the ledger on disk (and refuses a bad priority without losing what was
typed); with the bell enabled in the settings, an escalation rings the terminal bell (counted through App.bell)."""
from __future__ import annotations

import asyncio
import json

import pytest

from gastown_tui.app import GastownApp
from gastown_tui.patrols.escalate import escalate
from gastown_tui.screens.form import FormScreen
from gastown_tui.town.layout import Town

from .helpers import fill_form, frozen_clock, make_app, open_by_key, town_loaded, until

TITLE = "Speed up greet for long names"


def on_disk(root, bead_id: str) -> dict:
    """The bead's record as the alpha ledger's JSONL file holds it now."""
    for line in (root / "alpha" / ".beads" / "issues.jsonl").read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        if record.get("id") == bead_id:
            return record
    raise AssertionError(f"{bead_id} is not in the alpha ledger")


async def test_beads_edit_form_changes_title_and_priority_on_disk(fresh_town):
    app = make_app(fresh_town)
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await open_by_key(pilot, "b", "shown", what="the beads")
        await pilot.press("slash", *"long names", "enter")
        await until(pilot, lambda: [b.title for b in screen.shown] == [TITLE], what="the search")
        bead = screen.current()
        before = on_disk(fresh_town, bead.id)
        assert before["title"] == TITLE and before.get("priority", 0) == 2

        await pilot.press("e")
        await fill_form(pilot, "Speed up greet for very long names", "high", closes=False)
        form = app.screen
        error = str(form.query_one("#form-error").render())
        assert "priority 'high' is not a number 0-4" in error
        assert isinstance(app.screen, FormScreen)  # still open: nothing typed is lost
        assert form.query_one("#field-title").value == "Speed up greet for very long names"
        assert on_disk(fresh_town, bead.id) == before  # and nothing was written

        form.query_one("#field-priority").value = "P0"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: app.screen is screen, what="the form to close")
        await until(pilot, lambda: on_disk(fresh_town, bead.id)["title"] == "Speed up greet for very long names",
                    what="the new title in the ledger file")
        after = on_disk(fresh_town, bead.id)
        assert after.get("priority", 0) == 0
        assert after["description"] == before["description"]  # fields left alone stay as they were
        # the screen reloads and shows the edited bead
        await until(pilot, lambda: any(b.id == bead.id and b.title.endswith("very long names") and b.priority == 0
                                       for b in screen.beads), what="the edit on the Beads screen")


class CountingBellApp(GastownApp):
    """The real app, counting the times it rings the terminal bell."""

    rings = 0

    def bell(self) -> None:
        self.rings += 1
        super().bell()


@pytest.mark.parametrize("bell", [True, False], ids=["bell-on", "bell-off"])
async def test_an_escalation_rings_the_bell_only_when_enabled(fresh_town, bell):
    path = fresh_town / "settings" / "config.json"
    data = json.loads(path.read_text()) if path.exists() else {}
    data["app"] = {"bell": bell}
    path.write_text(json.dumps(data))
    app = CountingBellApp(fresh_town, start_agents=False, clock=frozen_clock)
    async with app.run_test(size=(160, 48)) as pilot:
        await town_loaded(pilot)
        assert app.app_settings.bell is bell
        assert app.rings == 0  # what was already so at start-up (an escalation is open) is not announced ...
        await asyncio.to_thread(escalate, Town(fresh_town), "Gate keeps timing out", "Three runs in a row.",
                                source="alpha/refinery", severity="high")
        await until(pilot, lambda: any(n.title == "Escalation" and "Gate keeps timing out" in n.message
                                       for n in app._notifications), timeout=20, what="the escalation toast")
        # ... nor later: the one ring is the new escalation's (the toast and the bell come from one handler, in
        # that order), and its toast is the only escalation toast
        assert app.rings == (1 if bell else 0)
        toasts = [n.message for n in app._notifications if n.title == "Escalation"]
        assert len(toasts) == 1 and "Gate keeps timing out" in toasts[0], toasts
