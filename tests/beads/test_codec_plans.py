"""The fast canonical encoder (per-shape key plans, the C JSON encoder built once) writes exactly
what the plain definition of Beads' v0.49 line says, byte for byte, and never changes its input."""
from __future__ import annotations

import json
import random

from gastown_tui.beads import codec
from gastown_tui.beads.codec import (
    COMMENT_ALWAYS, COMMENT_KEYS, DEPENDENCY_ALWAYS, DEPENDENCY_KEYS, ISSUE_ALWAYS, ISSUE_KEYS, encode,
)


def _empty(v) -> bool:
    return v is None or v == "" or v is False or v == [] or v == {} or (type(v) is int and v == 0)


def _reference_order(obj: dict, keys, always) -> dict:
    """The definition: known keys in declaration order (optional ones only when not empty),
    then unknown keys in their original order."""
    out = {k: obj[k] for k in keys if k in obj and (k in always or not _empty(obj[k]))}
    out.update((k, v) for k, v in obj.items() if k not in keys)
    return out


def reference_encode(rec: dict) -> str:
    out = _reference_order(rec, ISSUE_KEYS, ISSUE_ALWAYS)
    if out.get("dependencies"):
        out["dependencies"] = [_reference_order(d, DEPENDENCY_KEYS, DEPENDENCY_ALWAYS) if isinstance(d, dict) else d
                               for d in out["dependencies"]]
    if out.get("comments"):
        out["comments"] = [_reference_order(c, COMMENT_KEYS, COMMENT_ALWAYS) if isinstance(c, dict) else c
                           for c in out["comments"]]
    text = json.dumps(out, ensure_ascii=False, separators=(",", ":"))
    for ch, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"),
                    ("\u2029", "\\u2029")):
        text = text.replace(ch, esc)
    return text


VALUES = [None, "", 0, 1, -7, False, True, [], {}, "x<y>&z\u2028\u2029é\"\\\n", 0.0, 2.5, 1e300, [1, "a"],
          {"k": None}, "plain"]


def random_records(n: int, seed: int = 7):
    rng = random.Random(seed)
    keys = [k for k in ISSUE_KEYS if k not in ("dependencies", "comments")] + [
        "zzz_unknown", "_type", "wisp", "aaa_unknown"]
    for _ in range(n):
        rec = {k: rng.choice(VALUES) for k in rng.sample(keys, rng.randrange(1, 30))}
        if rng.random() < 0.6:
            rec["dependencies"] = [
                {k: rng.choice(VALUES) for k in rng.sample([*DEPENDENCY_KEYS, "extra"], rng.randrange(1, 8))}
                for _ in range(rng.randrange(0, 4))]
        if rng.random() < 0.3:
            rec["comments"] = [
                {k: rng.choice(VALUES) for k in rng.sample([*COMMENT_KEYS, "extra"], rng.randrange(1, 6))}
                for _ in range(rng.randrange(0, 3))] + ["not an object"]
        yield rec


def test_fast_encode_matches_the_definition_on_random_records():
    assert codec._C_ENCODE is not None      # this Python has the C encoder: the fast path is the one tested
    for rec in random_records(6000):
        before = json.dumps(rec)
        assert encode(rec) == reference_encode(rec), rec
        assert json.dumps(rec) == before      # the input record is untouched (nested objects too)


def test_fast_encode_matches_the_definition_on_every_shared_ledger(shared):
    folder = shared / "ledgers"
    seen = 0
    for path in sorted(folder.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            if isinstance(rec, dict) and "id" in rec:
                assert encode(rec) == reference_encode(rec), (path.name, rec.get("id"))
                seen += 1
    assert seen > 1000


def test_plans_are_bounded_and_still_right_after_being_dropped(monkeypatch):
    monkeypatch.setattr(codec, "_MAX_PLANS", 8)
    recs = list(random_records(300, seed=11))
    for rec in recs + recs:               # the second round meets plans rebuilt after a clear
        assert encode(rec) == reference_encode(rec)
    assert len(codec._ISSUE_PLANS) <= 8
