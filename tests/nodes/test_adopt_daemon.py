"""The node daemon's rule for a restarted town (no ssh; the daemon on its own socket, as in
test_faults_daemon.py): a new link that proves the same town (nodes/town_identity.py) keeps that town's
programs and claims the ones it names (same pid, output from the byte it asks, input ids going on from
the node's), the ones it does not name are hung up; another town's hello hangs them up; a program whose
town says nothing for longer than it was told (the town's grace and a margin) is hung up by the node."""
from __future__ import annotations

from gastown_tui.nodes.channel import pack
from gastown_tui.nodes.town_identity import town_proof

from nodes.test_faults_daemon import Town, _alive, spawn_msg
from waiting import until


async def hello(town: Town, link: str, proof: str | None, **extra) -> dict:
    msg = {"op": "hello", "link": link, **extra}
    if proof is not None:
        msg["town"] = proof
    town.send(msg)
    return await town.wait(lambda e: e.get("ev") == "hello", "hello")


async def test_a_restarted_town_claims_its_programs_and_the_unclaimed_and_other_towns_end(node_dir, tmp_path):
    proof = town_proof(tmp_path / "town", "n1", str(node_dir))
    assert proof == town_proof(tmp_path / "town", "n1", str(node_dir))  # the same town: the same proof
    assert proof != town_proof(tmp_path / "other-town", "n1", str(node_dir))  # another town's key
    assert (tmp_path / "town" / ".runtime" / "nodes" / "town.key").stat().st_mode & 0o777 == 0o600

    first = await Town(node_dir).open()
    await hello(first, "server-1", proof)
    first.send(spawn_msg("kept"))
    first.send(spawn_msg("forgotten"))
    pids = {}
    for sid in ("kept", "forgotten"):
        pids[sid] = (await first.wait(lambda e, s=sid: e.get("ev") == "spawned" and e["sid"] == s, sid))["pid"]
    await until(lambda: b"ready>" in first.output("kept"), what="the prompt")
    first.send({"op": "input", "sid": "kept", "iid": 1, "data": pack(b"one\r")})
    await until(lambda: b"got one" in first.output("kept"), what="the first line")
    seen = len(first.output("kept"))
    first.close()  # the town server is killed: its connection ends without a hangup

    second = await Town(node_dir).open()  # the restarted server: a new link, the same town's proof
    await hello(second, "server-2", proof)
    assert _alive(pids["kept"]) and _alive(pids["forgotten"])  # kept for the claim
    second.send({"op": "attach", "sessions": {"kept": {"seq": seen}}})
    attached = await second.wait(lambda e: e.get("ev") == "attached", "attached")
    assert attached["unknown"] == [] and attached["sessions"]["kept"]["last_iid"] == 1
    assert attached["sessions"]["kept"]["alive"]
    await until(lambda: not _alive(pids["forgotten"]), what="the program no record claims hung up")
    assert _alive(pids["kept"])
    second.send({"op": "input", "sid": "kept", "iid": 1, "data": pack(b"one\r")})  # an old id: not typed again
    second.send({"op": "input", "sid": "kept", "iid": 2, "data": pack(b"two\r")})
    await until(lambda: b"got two" in second.output("kept"), what="a line typed to the adopted program")
    whole = first.output("kept")[:seen] + second.output("kept")
    assert whole.count(b"got one") == 1 and whole.count(b"got two") == 1

    stranger = await Town(node_dir).open()  # another town on the same folder: never handed this town's program
    await hello(stranger, "elsewhere-1", town_proof(tmp_path / "other-town", "n1", str(node_dir)))
    stranger.send({"op": "attach", "sessions": {"kept": {"seq": 0}}})
    attached = await stranger.wait(lambda e: e.get("ev") == "attached", "the stranger's attach")
    assert attached["unknown"] == ["kept"] and not stranger.output("kept")
    stranger.send({"op": "input", "sid": "kept", "iid": 9, "data": pack(b"not yours\r")})
    refused = await stranger.wait(lambda e: e.get("ev") == "error" and e.get("op") == "input", "the input refused")
    assert "not this town link's" in refused["error"]
    await until(lambda: not _alive(pids["kept"]), what="another town's hello hangs the program up")
    for t in (second, stranger):
        t.close()


async def test_a_program_whose_town_never_comes_back_is_hung_up_by_the_node(node_dir, tmp_path):
    town = await Town(node_dir).open()
    await hello(town, "server-1", town_proof(tmp_path / "town", "n1", str(node_dir)), orphan_after=2)
    town.send(spawn_msg("s1"))
    pid = (await town.wait(lambda e: e.get("ev") == "spawned", "spawned"))["pid"]
    for _ in range(3):  # while the town speaks, its program runs
        town.send({"op": "ping", "t": 0})
        await town.wait(lambda e: e.get("ev") == "pong", "pong")
        town.events.clear()
    assert _alive(pid)
    town.close()  # the town is gone and never comes back
    await until(lambda: not _alive(pid), timeout=20, what="the orphaned program hung up")
    log = (node_dir / "daemon" / "daemon.log").read_text()
    assert "said nothing for" in log and "hung up" in log
