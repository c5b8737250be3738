"""ISO-8601 times from agent records ("2026-12-07T17:37:40.462Z") as unix seconds."""
from __future__ import annotations

from datetime import datetime, timezone

_DAYS: dict[str, float] = {}     # "2026-12-07" -> unix time of its UTC midnight


def parse_ts(text) -> float:
    """The agent CLIs' own shape (`YYYY-MM-DDTHH:MM:SS[.fff]Z`) is taken apart by hand with each day's start
    cached (several times quicker than datetime for 30,000 records); anything else goes through datetime,
    which reads every other ISO-8601 form and says what is wrong with a bad one."""
    if not isinstance(text, str) or not text:
        raise ValueError(f"no timestamp: {text!r}")
    if len(text) >= 20 and text[-1] == "Z" and text[10] == "T" and text[13] == ":" and text[16] == ":":
        hh, mm, ss, frac = text[11:13], text[14:16], text[17:19], text[19:-1]
        if hh.isdigit() and mm.isdigit() and ss.isdigit() and hh.isascii() and mm.isascii() and ss.isascii() \
                and (not frac or (frac[0] == "." and frac[1:].isdigit() and frac.isascii())):
            h, m, s = int(hh), int(mm), int(ss)
            if h < 24 and m < 60 and s < 60:
                day = _DAYS.get(text[:10])
                if day is None:
                    day = datetime.fromisoformat(text[:10]).replace(tzinfo=timezone.utc).timestamp()
                    if len(_DAYS) < 4096:
                        _DAYS[text[:10]] = day
                return day + h * 3600 + m * 60 + s + (float(frac) if frac else 0.0)
    return datetime.fromisoformat(text).timestamp()     # Python 3.11 reads the "Z" itself
