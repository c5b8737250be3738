"""Adding costs up: by agent, bead, convoy, rig, role or day (`gastown costs`), and today's spend (app)."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from gastown_tui.costs.book import Entry, book_for
from gastown_tui.costs.usage import FIELDS

GROUPS = ("agent", "bead", "convoy", "rig", "role", "day", "model")
NONE_LABEL = {"bead": "(no bead)", "convoy": "(no convoy)", "rig": "(town)", "model": "(model unknown)"}


@dataclass
class Total:
    calls: int = 0
    input: int = 0
    output: int = 0
    cache_write: int = 0
    cache_read: int = 0
    usd: float = 0.0              # of the priced calls only
    unpriced_tokens: int = 0      # tokens of calls whose model has no price
    models: set = field(default_factory=set)

    def add(self, e: Entry) -> None:
        u = e.usage
        self.calls += 1
        self.input += u.input
        self.output += u.output
        self.cache_write += u.cache_write
        self.cache_read += u.cache_read
        if e.usd is None:
            self.unpriced_tokens += u.tokens
        else:
            self.usd += e.usd
        self.models.add(u.model or "(unknown)")

    @property
    def tokens(self) -> int:
        return self.input + self.output + self.cache_write + self.cache_read

    def to_json(self) -> dict:
        return {"calls": self.calls, **{f: getattr(self, f) for f in FIELDS}, "tokens": self.tokens,
                "usd": round(self.usd, 9) if self.unpriced_tokens < self.tokens or not self.tokens else None,
                "unpriced_tokens": self.unpriced_tokens,
                "price": "known" if not self.unpriced_tokens else ("unknown" if self.unpriced_tokens == self.tokens
                                                                   else "partly unknown"),
                "models": sorted(self.models)}

    def money(self) -> str:
        if not self.tokens:
            return "$0.00"
        if self.unpriced_tokens == self.tokens:
            return "price unknown"
        text = f"${self.usd:,.2f}"
        return text + (f" + {self.unpriced_tokens:,} tokens price unknown" if self.unpriced_tokens else "")


def day_of(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%d")


def key_of(e: Entry, by: str) -> str:
    if by == "day":
        return day_of(e.usage.ts)
    if by == "model":
        return e.usage.model or NONE_LABEL["model"]
    value = getattr(e, by)
    return value if value else NONE_LABEL.get(by, "(none)")


def group(entries: list[Entry], by: str, since: float | None = None) -> tuple[dict[str, Total], Total]:
    rows: dict[str, Total] = {}
    total = Total()
    for e in entries:
        if since is not None and e.usage.ts < since:
            continue
        rows.setdefault(key_of(e, by), Total()).add(e)
        total.add(e)
    return rows, total


def costs_report(town_root: Path, by: str = "agent", since: float | None = None) -> dict:
    """What `gastown costs --json` prints."""
    entries, problems = book_for(town_root).entries()
    rows, total = group(entries, by, since)
    return {"by": by, "since": since, "rows": [{by: k, **v.to_json()} for k, v in sorted(rows.items())],
            "total": total.to_json(), "problems": [str(p) for p in problems], "unknown_records": len(problems)}


def today_start(now: float | None = None) -> float:
    now = time.time() if now is None else now
    d = datetime.fromtimestamp(now, timezone.utc)
    return datetime(d.year, d.month, d.day, tzinfo=timezone.utc).timestamp()


def spend_summary(town_root: Path, by: str = "convoy", since: float | None = None) -> dict:
    """For the app (header: today's spend; convoy/agent/bead trees): {"today": text, "today_usd",
    "today_tokens", "by": {key: text}, "unknown_records": n}. Patrol agents make no model calls: they show
    $0.00 because nothing was spent, not because anything is unknown."""
    entries, problems = book_for(town_root).entries()
    _, today = group(entries, by, today_start())
    rows, _ = group(entries, by, since)
    return {"today": today.money(), "today_usd": round(today.usd, 6), "today_tokens": today.tokens,
            "by": {k: v.money() for k, v in rows.items()}, "unknown_records": len(problems)}


def spend_for_app(town_root: Path, now: float | None = None) -> dict:
    """Everything the app shows of costs, from one read of the book: {"today": text or "" (nothing spent
    today), "today_tokens", "agents"/"convoys"/"beads": {key: text} (all time; only keys that spent
    something), "unknown_records": n, "recorded": whether any model call was recorded at all}. A model
    with no price shows its tokens with "price unknown", never "$0.00"."""
    book = book_for(town_root)
    entries, problems = book.entries()
    start = today_start(now)
    cached = _APP_SPEND.get(book.town_root)
    if cached is not None and cached[0] == (book.generation, start):
        return cached[1]                # nothing new since the last answer (the app asks every few seconds)
    today = Total()
    groups: dict[str, dict[str, Total]] = {"agent": {}, "convoy": {}, "bead": {}}
    for e in entries:
        if e.usage.ts >= start:
            today.add(e)
        for by, rows in groups.items():
            key = getattr(e, by)
            if key:
                rows.setdefault(key, Total()).add(e)
    answer = {"today": app_money(today), "today_tokens": today.tokens,
              "agents": {k: app_money(v) for k, v in groups["agent"].items()},
              "convoys": {k: app_money(v) for k, v in groups["convoy"].items()},
              "beads": {k: app_money(v) for k, v in groups["bead"].items()},
              "unknown_records": len(problems), "recorded": bool(entries)}
    _APP_SPEND[book.town_root] = ((book.generation, start), answer)
    return answer


_APP_SPEND: dict[Path, tuple[tuple[int, float], dict]] = {}    # town -> ((book generation, day), answer)


def app_money(t: Total) -> str:
    """The app's short form: "$1.23", "12,345 tok price unknown", "$1.23+" (part unknown); "" for nothing."""
    if not t.tokens:
        return ""
    if t.unpriced_tokens == t.tokens:
        return f"{t.tokens:,} tok price unknown"
    return f"${t.usd:,.2f}" + (f" + {t.unpriced_tokens:,} tok price unknown" if t.unpriced_tokens else "")
