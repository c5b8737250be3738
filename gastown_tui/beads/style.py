"""The writing style of a JSONL file, so a changed line looks like its neighbours.

Real ledgers come from several writers: Go `bd` (compact, HTML-escaped, its own key order by
version), a Python script (`", "`/`": "` separators, ASCII escapes, second-precision UTC), and
beads_rust (compact, no HTML escaping, nine-digit fractions). A repository shared with one of
them churns if every line we touch is re-encoded in Beads v0.49's canonical form, so a file
that was not written canonically gets its changed and new lines written in the style its own
lines show: separators, escaping, the record's own key order (new keys where that file's writer
puts them) and the timestamp precision and zone the file uses.

`detect(samples)` looks at up to a few hundred (raw line, record) pairs; `FileStyle.encode(rec)`
writes one record. A file whose lines are canonical (or an empty file) keeps `codec.encode`.
"""
from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field

from gastown_tui.beads.codec import ISSUE_KEYS, encode
from gastown_tui.timestamps import to_ns

SAMPLE = 400
TIMESTAMP_KEYS = frozenset(
    "created_at updated_at closed_at started_at deleted_at compacted_at last_activity due_at defer_until".split()
)
_TS_SHAPE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.(\d+))?(Z|[+-]\d\d:\d\d)$")
_CANON_RANK = {k: i for i, k in enumerate(ISSUE_KEYS)}


@dataclass(frozen=True)
class TimeStyle:
    """How a file writes instants: fraction digits (None: Go's trimmed nanoseconds) and zone."""

    digits: int | None = None
    zone: str = "Z"                       # "Z" or an offset such as "-08:00"

    def matches(self, text: str) -> bool:
        m = _TS_SHAPE.match(text)
        if not m:
            return False
        if m.group(3) != self.zone:
            return False
        if self.digits is None:
            return True
        return len(m.group(2) or "") == self.digits

    def format(self, ns: int) -> str:
        off = 0 if self.zone == "Z" else (int(self.zone[1:3]) * 3600 + int(self.zone[4:6]) * 60) * (
            -1 if self.zone[0] == "-" else 1)
        local = ns + off * 1_000_000_000
        secs, frac = divmod(local, 1_000_000_000)
        days, rem = divmod(secs, 86400)
        hh, rem = divmod(rem, 3600)
        mm, ss = divmod(rem, 60)
        y, mo, d = _civil(days)
        base = f"{y:04d}-{mo:02d}-{d:02d}T{hh:02d}:{mm:02d}:{ss:02d}"
        if self.digits is None:
            tail = f".{frac:09d}".rstrip("0") if frac else ""
            tail = "" if tail == "." else tail
        elif self.digits == 0:
            tail = ""
        else:
            tail = "." + f"{frac:09d}"[: self.digits]
        return base + tail + self.zone


def _civil(days: int) -> tuple[int, int, int]:
    """(year, month, day) of a day count since 1970-01-01 (proleptic Gregorian)."""
    z = days + 719468
    era = (z if z >= 0 else z - 146096) // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    y = yoe + era * 400
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    return (y + 1 if m <= 2 else y), m, d


@dataclass
class FileStyle:
    """A non-canonical file's style. `canonical=True` means: write with `codec.encode`."""

    canonical: bool = True
    item_sep: str = ","
    key_sep: str = ":"
    html_escape: bool = True
    ascii_only: bool = False
    time: TimeStyle | None = None
    key_order: dict[str, float] = field(default_factory=dict)   # key -> typical position

    # -- writing ---------------------------------------------------------------------------
    def encode(self, record: dict, original_keys: list[str] | None = None) -> str:
        """One line for `record`. `original_keys`: the key order of the line it replaces, if any."""
        if self.canonical:
            return encode(self._retime(record, self.time) if self.time is not None else record)
        rec = self._ordered(record, original_keys)
        if self.time is not None:
            rec = self._retime(rec, self.time)
        text = json.dumps(rec, ensure_ascii=self.ascii_only, separators=(self.item_sep, self.key_sep))
        if self.html_escape:
            text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
        if not self.ascii_only:
            text = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
        return text

    def _where(self, key: str) -> float:
        rank = self.key_order
        if key in rank:
            return rank[key]
        c = _CANON_RANK.get(key)
        return c / len(_CANON_RANK) if c is not None else 2.0

    def _ordered(self, record: dict, original_keys: list[str] | None) -> dict:
        """The replaced line's key order kept; a key it did not have goes where this file puts it.
        A new record gets the file's typical order."""
        if original_keys is None:
            return {k: record[k] for k in sorted(record, key=self._where)}
        order = [k for k in original_keys if k in record]
        kept = set(order)
        for key in record:
            if key in kept:
                continue
            pos = self._where(key)
            at = next((i for i, k in enumerate(order) if self._where(k) > pos), len(order))
            order.insert(at, key)
        return {k: record[k] for k in order}

    def _retime(self, rec: dict, ts_style: TimeStyle) -> dict:
        out = rec
        for key in TIMESTAMP_KEYS.intersection(rec):
            value = rec[key]
            if isinstance(value, str) and not ts_style.matches(value):
                try:
                    fixed = ts_style.format(to_ns(value))
                except (ValueError, TypeError):
                    continue
                if out is rec:
                    out = dict(rec)
                out[key] = fixed
        for list_key in ("dependencies", "comments"):
            items = rec.get(list_key)
            if not items:
                continue
            new_items = None
            for i, item in enumerate(items):
                value = item.get("created_at") if isinstance(item, dict) else None
                if isinstance(value, str) and not ts_style.matches(value):
                    try:
                        fixed = ts_style.format(to_ns(value))
                    except (ValueError, TypeError):
                        continue
                    if new_items is None:
                        new_items = list(items)
                    new_items[i] = {**item, "created_at": fixed}
            if new_items is not None:
                if out is rec:
                    out = dict(rec)
                out[list_key] = new_items
        return out


CANONICAL = FileStyle()


def detect(samples: list[tuple[str, dict]]) -> FileStyle:
    """The style most of these (raw line, record) pairs were written in."""
    if not samples:
        return CANONICAL
    samples = samples[:SAMPLE]
    same = sum(1 for raw, rec in samples if raw == encode(rec))
    if same * 10 >= len(samples) * 9:
        ts = _time_style(samples)
        # Go's own UTC form is what canonical writing produces anyway; another zone is kept.
        return CANONICAL if ts is None or ts == TimeStyle(None, "Z") else FileStyle(time=ts)
    spaced = sum(1 for raw, _ in samples if raw.startswith('{"') and '": ' in raw[:80])
    item_sep, key_sep = (", ", ": ") if spaced * 2 > len(samples) else (",", ":")
    html_escaped = any("\\u003c" in raw or "\\u003e" in raw or "\\u0026" in raw for raw, _ in samples)
    html_raw = any(("<" in raw or ">" in raw or "&" in raw) for raw, _ in samples)
    html_escape = html_escaped or not html_raw
    non_ascii_raw = any(any(ord(ch) > 127 for ch in raw) for raw, _ in samples)
    ascii_escaped = any(re.search(r"\\u00[89a-f][0-9a-f]|\\u0[1-9a-f][0-9a-f]{2}|\\u[1-9a-f][0-9a-f]{3}", raw)
                        for raw, _ in samples)
    ascii_only = ascii_escaped and not non_ascii_raw
    return FileStyle(canonical=False, item_sep=item_sep, key_sep=key_sep, html_escape=html_escape,
                     ascii_only=ascii_only, time=_time_style(samples), key_order=_key_order(samples))


def _time_style(samples: list[tuple[str, dict]]) -> TimeStyle | None:
    digits: Counter = Counter()
    zones: Counter = Counter()
    for _, rec in samples:
        for key in ("created_at", "updated_at", "closed_at"):
            value = rec.get(key)
            m = _TS_SHAPE.match(value) if isinstance(value, str) else None
            if m:
                digits[len(m.group(2) or "")] += 1
                zones[m.group(3)] += 1
    if not digits:
        return None
    zone = zones.most_common(1)[0][0]
    # Go's RFC3339Nano trims trailing zeros, so its fractions vary in length; a fixed writer's don't.
    if len(digits) > 2 or (len(digits) == 2 and 0 not in digits and max(digits) == 9):
        return TimeStyle(None, zone)
    common = digits.most_common(1)[0][0]
    if len(digits) == 2 and common == 9:
        return TimeStyle(None, zone)
    return TimeStyle(common, zone)


def _key_order(samples: list[tuple[str, dict]]) -> dict[str, float]:
    """Each key's mean relative position (0..1) across the samples that have it."""
    total: dict[str, float] = {}
    count: Counter = Counter()
    for _, rec in samples:
        keys = list(rec)
        n = max(len(keys) - 1, 1)
        for i, k in enumerate(keys):
            total[k] = total.get(k, 0.0) + i / n
            count[k] += 1
    return {k: total[k] / count[k] for k in total}
