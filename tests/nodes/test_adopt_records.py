"""The records a restarted town adopts from (nodes/remote_adoption.py), without ssh: a record that cannot be
read is named in the log and skipped; one naming a node the town no longer has, or an agent already running
here, is dropped with a `node_adopt_skipped` event (its program, unclaimed, is then hung up by its node)."""
from __future__ import annotations

import asyncio
import json
import logging

from gastown_tui.nodes.provider import NodeProvider
from gastown_tui.nodes.remote_adoption import load_records, records_dir


def test_bad_records_are_named_and_dropped(tmp_path, caplog):
    from gastown_tui.sessions.presets import load_presets
    from gastown_tui.town.install import install_town

    town = install_town(tmp_path / "town")
    folder = records_dir(town.root)
    folder.mkdir(parents=True)
    (folder / "torn.json").write_text('{"sid": "torn", "node": ')
    (folder / "nowhere.json").write_text(json.dumps({"sid": "nowhere", "node": "gone-node", "agent": "mayor",
                                                     "session_id": "nowhere", "spec": {"cwd": "x"}}))
    (folder / "twice.json").write_text(json.dumps({"sid": "twice", "node": "gone-node", "agent": "deacon",
                                                   "session_id": "twice", "spec": {"cwd": "x"}}))
    with caplog.at_level(logging.WARNING):
        assert [r["sid"] for r in load_records(town.root)] == ["nowhere", "twice"]
    assert any("torn.json" in r.getMessage() for r in caplog.records)

    async def adopt():
        provider = NodeProvider(town.root)
        return await provider.adopt(load_presets(town.root), {"deacon"}, lambda event: None)

    with caplog.at_level(logging.WARNING):
        assert asyncio.run(adopt()) == []
    events = [json.loads(line) for line in town.events_path.read_text().splitlines()]
    skipped = {e["payload"]["sid"]: e["payload"]["reason"] for e in events if e["type"] == "node_adopt_skipped"}
    assert "gone-node" in skipped["nowhere"]  # the node is no longer registered
    assert "already runs" in skipped["twice"]
    assert sorted(p.name for p in folder.iterdir()) == ["torn.json"]  # the two dropped; the torn one left, named
