"""The benchmark rig ledger shared by benchmarks/town.py and benchmarks/server.py: N beads of random words
(seeded), a tenth of them parents of the other nine, like a busy rig's `.beads/issues.jsonl`."""
from __future__ import annotations

import random

WORDS = "ledger bead hook convoy polecat witness refinery deacon molecule wisp formula merge queue rig".split()


def rig_records(beads: int, seed: int = 4) -> list[dict]:
    rng = random.Random(seed)
    records = []
    for i in range(beads):
        status = rng.choice(["open"] * 5 + ["in_progress", "closed", "closed", "blocked"])
        rec = {"id": f"ca-b{i:05d}", "title": " ".join(rng.choice(WORDS) for _ in range(6)),
               "description": " ".join(rng.choice(WORDS) for _ in range(40)), "status": status,
               "priority": rng.randrange(5), "issue_type": rng.choice(["task", "bug", "feature"])}
        if status == "closed":
            rec["closed_at"] = "2026-01-01T00:00:00Z"
        if i % 10:
            rec["dependencies"] = [{"issue_id": rec["id"], "depends_on_id": f"ca-b{i - i % 10:05d}",
                                    "type": "parent-child", "created_at": "2026-01-01T00:00:00Z"}]
        records.append(rec)
    return records
