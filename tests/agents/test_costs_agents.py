"""Costs with the real CLIs: Claude Code, Codex and Gemini CLI polecats work slung beads against the fake model
server, which reports known, different token counts on every response; `gastown costs --by bead --json` (read
from what each CLI recorded in its home) equals what the server handed out, per bead and per convoy, exactly.

Side requests without tools (titles, Gemini's model router) are answered with zero usage: Gemini CLI keeps no
record of its router calls, so a count there could never be read back (a known gap, said in the report)."""
from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from agent_townkit import agent_spec, make_town, new_bead, wait_until
from fake_model import Say, Usage, Write

from gastown_tui.patrols.gupp import beacon
from gastown_tui.sessions.manager import SessionManager
from gastown_tui.town.sling import sling

pytestmark = pytest.mark.agents
CLIS = ("claude", "codex", "gemini")


def _usage_plan():
    n = itertools.count(1)

    def usage(conv) -> Usage:
        if not conv.has_tools:
            return Usage(0, 0, 0, 0)
        k = next(n)
        return Usage(input=1000 + 17 * k, output=40 + 3 * k,
                     cache_write=(200 + 5 * k) if conv.protocol == "anthropic" else 0, cache_read=300 + 7 * k)
    return usage


def _costs(town: Path, by: str) -> dict:
    out = subprocess.run([sys.executable, "-m", "gastown_tui.cli", "costs", "--by", by, "--json"], cwd=town,
                         capture_output=True, text=True, env={**os.environ, "GT_TOWN": str(town)}, timeout=60)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["unknown_records"] == 0, data["problems"]
    return {r[by]: {k: r[k] for k in ("input", "output", "cache_write", "cache_read")} for r in data["rows"]}


async def test_costs_by_bead_and_convoy_equal_what_the_fake_model_handed_out(tmp_path, fake_model, brain):
    from agentkit import find_cli

    missing = [c for c in CLIS if find_cli(c) is None]
    if missing:
        pytest.skip(f"not installed: {', '.join(missing)} (run .ci/install-agents {' '.join(missing)})")
    fake_model.usage = _usage_plan()
    town, rig = make_town(tmp_path)
    work = {}
    for cli in CLIS:
        bead = new_bead(rig, f"Write {cli}.txt")
        result = sling(town, bead, rig.name)
        work[cli] = (bead, result)
        brain.add(rf"\[GAS TOWN\].*{result.agent.rsplit('/', 1)[1]}", Write(f"{cli}.txt", f"by {cli}\n"),
                  Say(f"DONE {cli}"))
    mgr = SessionManager(town.root)
    await mgr.start()
    try:
        starts = []     # the CLIs run one after the other: each one's requests are those from its start on
        for cli, (bead, result) in work.items():
            starts.append((len(fake_model.requests), bead))
            spec = agent_spec(town, result.agent, cli, Path(result.worktree), fake_model.url,
                              beacon=beacon(result.agent, rig.name, "mayor/", time.time()))
            session = await mgr.spawn(spec)
            wt = Path(result.worktree)
            await wait_until(lambda: (wt / f"{cli}.txt").exists() and any(
                f"DONE {cli}" in str(r.get("decision")) for r in fake_model.requests), 90,
                f"{cli} to write its file and finish")
            await wait_until(lambda: session.state.value == "idle", 30, f"{cli} idle")
        expected_by_bead: dict[str, dict] = {}
        for i, rec in enumerate(fake_model.requests):
            u = rec.get("usage")
            if not u or not any(u.values()):
                continue
            bead = [b for start, b in starts if start <= i][-1]
            row = expected_by_bead.setdefault(bead, dict.fromkeys(u, 0))
            for k, v in u.items():
                row[k] += v
        expected_by_bead = {b: {"input": r["input"], "output": r["output"], "cache_write": r["cache_write"],
                                "cache_read": r["cache_read"]} for b, r in expected_by_bead.items()}
        assert set(expected_by_bead) == {b for b, _ in work.values()}
        got: dict = {}

        def matches():   # the CLIs write their records as they go; the last one may land a moment later
            got.update(_costs(town.root, "bead"))
            return got == expected_by_bead
        try:
            await wait_until(matches, 20, "the records to add up")
        except AssertionError:
            assert got == expected_by_bead
        convoy_of = {}
        from gastown_tui.town.convoys import convoys_tracking
        for bead, _ in work.values():
            convoy_of[convoys_tracking(town, bead)[0]] = expected_by_bead[bead]
        assert _costs(town.root, "convoy") == convoy_of
    finally:
        await mgr.close()
