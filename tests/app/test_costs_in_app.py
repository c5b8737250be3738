"""Costs in the app (issue 15): today's spend in the header, per agent in the agent tree, per convoy and bead
in the convoy tree, per bead in the Beads screen; patrol roles show $0; a model with no price shows tokens
with "price unknown", never $0. The usage records are written in Claude Code's and Codex's own formats into
the agents' homes, as the real CLIs write them (tests/costs/records.py)."""
from __future__ import annotations

import json
import time

from widgets.agent_tree import AgentTree
from widgets.convoy_tree import ConvoyTree
from widgets.town_header import TownHeader

from costs.records import write_claude, write_codex
from .helpers import make_app, town_loaded, until


def home(root, address: str):
    return root / ".runtime" / "homes" / address.strip("/").replace("/", "--")


def hooked(root) -> dict[str, str]:
    """agent address -> the bead on its hook now, from the town's event log."""
    out = {}
    for line in (root / ".events.jsonl").read_text().splitlines():
        e = json.loads(line)
        if e["type"] == "hook":
            out[e["payload"]["agent"]] = e["payload"]["bead"]
        elif e["type"] == "unhook":
            out.pop(e["payload"]["agent"], None)
    return out


def header_text(app) -> str:
    return app.screen.query_one(TownHeader).text.plain


def tree_lines(tree) -> list[str]:
    lines, todo = [], [tree.root]
    while todo:
        node = todo.pop(0)
        lines.append(str(node.label))
        todo[:0] = list(node.children)
    return lines


async def test_the_header_trees_and_beads_screen_show_what_the_records_add_up_to(fresh_town):
    from gastown_tui.screens.beads import BeadsScreen
    from textual.widgets import DataTable

    hooks = hooked(fresh_town)
    (first, bead1), (second, bead2) = sorted(hooks.items())[:2]
    now = time.time()
    # claude-opus-4-8: $5 / $25 / $6.25 / $0.50 per million input / output / cache write / cache read
    write_claude(home(fresh_town, first), "p", "s1", [
        {"ts": now - 30, "input": 100_000, "output": 20_000, "cache_write": 0, "cache_read": 0},
        {"ts": now - 20, "input": 100_000, "output": 20_000, "cache_write": 40_000, "cache_read": 200_000}])
    # a model with no price: its tokens, never $0
    write_codex(home(fresh_town, second), "c1", [{"ts": now - 10, "input": 1_000, "output": 234}],
                model="no-such-model-1")
    first_usd = (200_000 * 5 + 40_000 * 25 + 40_000 * 6.25 + 200_000 * 0.5) / 1e6   # 2.35
    app = make_app(fresh_town)
    async with app.run_test(size=(200, 50)) as pilot:
        await town_loaded(pilot)
        await until(pilot, lambda: app.controller.view.spend is not None, what="the costs", timeout=30)
        await until(pilot, lambda: "today" in header_text(app), what="today's spend in the header")
        header = header_text(app)
        assert f"today ${first_usd:,.2f} + 1,234 tok price unknown" in header, header
        agents = tree_lines(app.screen.query_one(AgentTree))
        first_name, second_name = first.rsplit("/", 1)[-1], second.rsplit("/", 1)[-1]
        assert any(first_name in line and f"${first_usd:,.2f}" in line for line in agents), agents
        assert any(second_name in line and "1,234 tok price unknown" in line and "$" not in line
                   for line in agents), agents
        patrols = [line for line in agents if "witness" in line or "refinery" in line]
        assert patrols and all("$0" in line for line in patrols), patrols
        convoys = app.screen.query_one(ConvoyTree)
        convoys.root.expand_all()
        lines = tree_lines(convoys)
        convoy_line = next(line for line in lines if "Friendlier greetings" in line)
        assert f"${first_usd:,.2f} + 1,234 tok price unknown" in convoy_line, lines
        assert any(bead1 in line and f"${first_usd:,.2f}" in line for line in lines), lines
        assert any(bead2 in line and "1,234 tok price unknown" in line for line in lines), lines

        app.push_screen(BeadsScreen(bead1))
        await until(pilot, lambda: isinstance(app.screen, BeadsScreen) and app.screen.shown, what="the beads")
        screen = app.screen
        table = screen.query_one(DataTable)
        await until(pilot, lambda: "cost" in table.columns, what="the cost column")

        def cost_of(bead_id: str) -> str:
            return str(table.get_cell(bead_id, "cost"))

        await until(pilot, lambda: cost_of(bead1) == f"${first_usd:,.2f}", what=f"{bead1}'s cost")
        assert cost_of(bead2) == "1,234 tok price unknown"
        others = [b.id for b in screen.shown if b.id not in (bead1, bead2)]
        assert others and all(cost_of(b) == "" for b in others)

        # a new call lands: the app reads it (no more often than every few seconds) without a restart
        write_claude(home(fresh_town, first), "p", "s1",
                     [{"ts": time.time(), "input": 1_000_000, "output": 0, "cache_write": 0, "cache_read": 0}])
        app.refresh_costs()
        await until(pilot, lambda: cost_of(bead1) == f"${first_usd + 5:,.2f}", what="the new call's cost",
                    timeout=30)
        assert f"today ${first_usd + 5:,.2f}" in header_text(app)


async def test_a_town_without_usage_records_shows_no_costs_at_all(shared_town):
    app = make_app(shared_town)
    async with app.run_test(size=(200, 50)) as pilot:
        await town_loaded(pilot)
        await until(pilot, lambda: app.controller.spend is not None, what="the costs read", timeout=30)
        await pilot.pause()
        assert app.controller.view.spend is None
        assert "today" not in header_text(app) and "$" not in header_text(app)
        assert not any("$" in line for line in tree_lines(app.screen.query_one(AgentTree)))
        assert not any("$" in line for line in tree_lines(app.screen.query_one(ConvoyTree)))


def test_only_unreadable_usage_records_show_as_unknown_never_as_nothing_spent(tmp_path):
    """Every record broken: the header says today's spend is unknown and how many records could not be read;
    an agent whose records were all unreadable shows no cost (not $0), a patrol role $0."""
    from gastown_tui.server.reading import AgentFacts, Reading, TownFacts
    from gastown_tui.ui.town_view import TownViewBuilder

    town = TownFacts("t", agents=(AgentFacts("r/polecats/a", "polecat", "r", "a", "working", None, None, None, ""),
                                  AgentFacts("r/witness", "witness", "r", "witness", "", None, None, None, "")))
    spend = {"today": "", "today_tokens": 0, "agents": {}, "convoys": {}, "beads": {}, "unknown_records": 2,
             "recorded": False}
    view = TownViewBuilder(tmp_path).to_view(Reading(town), {}, set(), False, spend=spend)
    assert view.spend is not None and view.spend.today == "unknown" and view.spend.unknown_records == 2
    assert [(a.name, a.cost) for a in view.agents] == [("a", ""), ("witness", "$0")]
    nothing = TownViewBuilder(tmp_path).to_view(Reading(town), {}, set(), False,
                                                spend={**spend, "unknown_records": 0})
    assert nothing.spend is None and all(a.cost == "" for a in nothing.agents)
