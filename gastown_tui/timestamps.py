"""RFC3339Nano timestamps as Beads writes them (Go `time.Time` JSON form).

Timestamps stay strings in records (so a round trip keeps them byte for byte);
these helpers make new ones and compare existing ones as instants.
"""
from __future__ import annotations

import re
import time
from datetime import datetime, timezone

_TS = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)[Tt ](\d\d):(\d\d):(\d\d)(?:\.(\d+))?(?:([Zz])|([+-])(\d\d):?(\d\d))?"
)
_EPOCH_DAYS: dict[tuple[int, int, int], int] = {}


def format_ns(ns: int) -> str:
    """Go's RFC3339Nano in UTC: fraction with trailing zeros trimmed, no dot when zero."""
    secs, frac = divmod(ns, 1_000_000_000)
    base = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs))
    if frac:
        return f"{base}.{frac:09d}".rstrip("0") + "Z"
    return base + "Z"


_last_ns = 0


def now_ns() -> int:
    """Nanoseconds since the epoch, strictly increasing within this process."""
    global _last_ns
    ns = time.time_ns()
    if ns <= _last_ns:
        ns = _last_ns + 1
    _last_ns = ns
    return ns


def now() -> str:
    """A new timestamp for `created_at`/`updated_at`/`closed_at` (UTC, nanoseconds)."""
    return format_ns(now_ns())


def _days(y: int, m: int, d: int) -> int:
    key = (y, m, d)
    days = _EPOCH_DAYS.get(key)
    if days is None:
        days = (datetime(y, m, d) - datetime(1970, 1, 1)).days
        _EPOCH_DAYS[key] = days
    return days


def _to_ns_slow(text: str) -> int:
    m = _TS.match(text or "")
    if not m:
        raise ValueError(f"not an RFC3339 timestamp: {text!r}")
    y, mo, d, h, mi, s, frac, z, sign, oh, om = m.groups()
    secs = _days(int(y), int(mo), int(d)) * 86400 + int(h) * 3600 + int(mi) * 60 + int(s)
    if sign:
        off = int(oh) * 3600 + int(om) * 60
        secs -= off if sign == "+" else -off
    nanos = int((frac or "0")[:9].ljust(9, "0"))
    return secs * 1_000_000_000 + nanos


_DAY_BY_DATE: dict[str, int] = {}
_MEMO: dict[str, int] = {}


def to_ns(text: str) -> int:
    """Nanoseconds since the epoch for an RFC3339 string; ValueError when it is not one."""
    ns = _MEMO.get(text)
    if ns is not None:
        return ns
    try:
        # Fast path for the shapes Beads writes: ...THH:MM:SS[.fff]Z or ...[.fff]+hh:mm
        if text[10] != "T" or text[13] != ":" or text[16] != ":":
            raise ValueError
        days = _DAY_BY_DATE.get(text[:10])
        if days is None:
            days = _days(int(text[0:4]), int(text[5:7]), int(text[8:10]))
            _DAY_BY_DATE[text[:10]] = days
        secs = days * 86400 + int(text[11:13]) * 3600 + int(text[14:16]) * 60 + int(text[17:19])
        rest = text[19:]
        if rest[-1] == "Z":
            frac, off = rest[:-1], 0
        elif rest[-6] in "+-" and rest[-3] == ":":
            off = int(rest[-5:-3]) * 3600 + int(rest[-2:]) * 60
            if rest[-6] == "-":
                off = -off
            frac = rest[:-6]
        else:
            raise ValueError
        if frac:
            if frac[0] != "." or not frac[1:].isdigit():
                raise ValueError
            nanos = int(frac[1:10].ljust(9, "0"))
        else:
            nanos = 0
        ns = (secs - off) * 1_000_000_000 + nanos
    except (ValueError, IndexError, TypeError):
        ns = _to_ns_slow(text)
    if len(_MEMO) > 2_000_000:
        _MEMO.clear()
    _MEMO[text] = ns
    return ns


def to_ns_or(text: str | None, default: int = 0) -> int:
    """Like to_ns, but `default` for a missing or unreadable value."""
    if not text:
        return default
    try:
        return to_ns(text)
    except (ValueError, TypeError):
        return default


def to_unix(text: object) -> float:
    """Seconds since the epoch for an RFC3339 string (what the ledger, the event log and the
    runtime files write); ValueError when it is not one. The one timestamp parser: use it (or
    `to_ns`/`to_datetime`) rather than `datetime.fromisoformat`."""
    return to_ns(str(text)) / 1e9


def to_datetime(text: str) -> datetime:
    """The instant as an aware UTC datetime (microsecond precision)."""
    return datetime.fromtimestamp(to_ns(text) / 1e9, tz=timezone.utc)
