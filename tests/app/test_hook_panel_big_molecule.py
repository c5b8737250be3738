"""The hook panel with a big (lazy) wisp: the count, a progress bar and the steps around the next one."""
from __future__ import annotations

from gastown_tui.beads.ledger import RawLedger
from gastown_tui.meow import close_step, formula_search_path, progress, wisp
from gastown_tui.meow.search import FormulaLibrary
from gastown_tui.server.api import progress_facts
from gastown_tui.server.reading import AgentFacts
from gastown_tui.ui.town_view import TownViewBuilder
from widgets.hook_panel import hook_text


def test_the_hook_panel_shows_step_count_and_progress_of_a_big_wisp(tmp_path):
    ledger = RawLedger.init(tmp_path / ".beads", "gt")
    bead = ledger.create("Move the tower")["id"]
    root = wisp(ledger, "towers-of-hanoi", {"discs": "12"}, FormulaLibrary(formula_search_path()), on=bead,
                lazy=True)
    for _ in range(2048):
        close_step(ledger, progress(ledger, root).next.id)
    info = AgentFacts("r/polecats/a", "polecat", "r", "a", "working", bead, "Move the tower", root, "")
    hook = TownViewBuilder._hook(info, {root: progress_facts(progress(ledger, root))})
    assert hook.done == 2048 and hook.step_count == 4095 and len(hook.steps) < 20
    text = hook_text(hook, "r/polecats/a").plain
    assert "2,048/4,095" in text and "step 2,049 of 4,095" in text
    assert "█" * 12 + "░" * 12 in text          # half way
    assert "Move disc 12 from peg A to peg C" in text   # the next step (the middle move) is listed
