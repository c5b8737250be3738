"""State detection: a preset's rules (plain data) applied to what the screen shows.

A rule is a dict; every condition it has must hold, and the first rule that
holds decides the state. Conditions:

- `region` + `pattern`: a regex searched in part of the screen: `all`,
  `top:N`, `bottom:N` (the N rows ending at the last drawn row — the last
  non-blank row or the cursor row, whichever is lower — so that agents drawing
  inline on a half-empty screen, like Claude Code, are read the same way as
  full-screen ones), `cursor_line`, `last_line` (the last non-blank row);
- `title`: a regex searched in the window title (OSC 0/2);
- `osc7501`: Codex's machine-readable state (`working`, `blocked`, `idle`, `done`);
- `active_within`: output arrived in the last N seconds;
- `quiet_for`: no output for at least N seconds.

A rule may also carry `versions`, a range of the CLI's versions it holds for
(`>=2.1.300`, `<2.1.300,>=2.0`; see cli_version.py): the session reads the
installed version at start and the detector keeps only the rules for it. With
the version unknown, the rules without an upper bound hold (the newest ones).

`Detector.classify` adds what no preset decides: `exited` when the process is
gone, `starting` until a rule first matches, and `stuck` when the state is
working but nothing but spinners and clocks has changed for `stuck_after`.
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass

from gastown_tui.sessions.cli_version import VersionRangeError, in_range, parse_range
from gastown_tui.sessions.states import SessionState

_KEYS = {"name", "state", "region", "pattern", "title", "osc7501", "active_within", "quiet_for", "note", "versions"}
# Spinner glyphs, blinking markers and digits: what changes on a live screen without meaning progress.
_NOISE = re.compile(r"[\d\u2800-\u28ff✢✳✶✻✽✦✧·∴∷*◐◓◑◒◴◵◶◷●○◉◌|/\\\-█░▁▂▃▄▅▆▇•◦⏺⎿]")
_SPACES = re.compile(r"[ \t]+")


class RuleError(ValueError):
    """A state rule that cannot be used; the message names the rule and the problem."""


@dataclass(frozen=True)
class Rule:
    name: str
    state: SessionState
    region: str | None = None
    pattern: re.Pattern | None = None
    title: re.Pattern | None = None
    osc7501: str | None = None
    active_within: float | None = None
    quiet_for: float | None = None
    versions: str | None = None

    def holds_for(self, version: str | None) -> bool:
        """Whether this rule is meant for that CLI version (see the module doc for an unknown one)."""
        return in_range(version, self.versions)

    @classmethod
    def from_dict(cls, data: dict, where: str = "") -> "Rule":
        label = f"{where}rule {data.get('name', '?')!r}"
        if not isinstance(data, dict):
            raise RuleError(f"{where}rule must be an object, got {data!r}")
        unknown = set(data) - _KEYS
        if unknown:
            raise RuleError(f"{label}: unknown keys {sorted(unknown)} (known: {sorted(_KEYS)})")
        if "name" not in data or "state" not in data:
            raise RuleError(f"{label}: needs 'name' and 'state'")
        try:
            state = SessionState(data["state"])
        except ValueError:
            raise RuleError(f"{label}: unknown state {data['state']!r}") from None
        if state in (SessionState.EXITED, SessionState.STUCK, SessionState.STARTING):
            raise RuleError(f"{label}: state {state} is decided by the session, not by a rule")

        def rx(key: str) -> re.Pattern | None:
            if key not in data:
                return None
            try:
                return re.compile(data[key])
            except re.error as exc:
                raise RuleError(f"{label}: bad {key} regex {data[key]!r}: {exc}") from None

        region = data.get("region")
        if "pattern" in data and region is None:
            region = "all"
        if region is not None and not _valid_region(region):
            raise RuleError(f"{label}: bad region {region!r} (all, top:N, bottom:N, cursor_line, last_line)")
        conds = [k for k in ("pattern", "title", "osc7501", "active_within", "quiet_for") if k in data]
        if not conds:
            raise RuleError(f"{label}: has no condition")
        versions = data.get("versions")
        if versions is not None:
            try:
                parse_range(versions)
            except VersionRangeError as exc:
                raise RuleError(f"{label}: {exc}") from None
        return cls(
            name=str(data["name"]),
            state=state,
            region=region,
            pattern=rx("pattern"),
            title=rx("title"),
            osc7501=data.get("osc7501"),
            active_within=float(data["active_within"]) if "active_within" in data else None,
            quiet_for=float(data["quiet_for"]) if "quiet_for" in data else None,
            versions=versions,
        )

    def explain(self) -> str:
        parts = []
        if self.pattern is not None:
            parts.append(f"{self.pattern.pattern!r} in {self.region}")
        if self.title is not None:
            parts.append(f"title matches {self.title.pattern!r}")
        if self.osc7501 is not None:
            parts.append(f"OSC 7501 state={self.osc7501}")
        if self.active_within is not None:
            parts.append(f"output in the last {self.active_within:g}s")
        if self.quiet_for is not None:
            parts.append(f"no output for {self.quiet_for:g}s")
        if self.versions is not None:
            parts.append(f"for versions {self.versions}")
        return " and ".join(parts)


def _valid_region(region: str) -> bool:
    if region in ("all", "cursor_line", "last_line"):
        return True
    kind, _, n = region.partition(":")
    return kind in ("top", "bottom") and n.isdigit() and int(n) > 0


def region_text(lines: list[str], region: str, cursor_y: int) -> str:
    if region == "all":
        return "\n".join(lines)
    if region == "cursor_line":
        return lines[cursor_y] if 0 <= cursor_y < len(lines) else ""
    if region == "last_line":
        for line in reversed(lines):
            if line.strip():
                return line
        return ""
    kind, _, n = region.partition(":")
    if kind == "top":
        return "\n".join(lines[: int(n)])
    end = max(cursor_y, max((i for i, line in enumerate(lines) if line.strip()), default=0))
    return "\n".join(lines[max(0, end + 1 - int(n)): end + 1])


@dataclass
class Observation:
    """What the detector looks at, taken from a session at one moment."""

    lines: list[str]
    cursor_y: int
    title: str
    osc7501: str | None
    now: float
    last_output_at: float
    exited: bool = False


def normalized(lines: list[str]) -> str:
    """Screen text with spinners, blinking markers and digits (timers, clocks, token counts) removed, and
    the spaces they leave collapsed (`● Running` and `  Running` are the same screen)."""
    return "\n".join(_SPACES.sub(" ", _NOISE.sub("", line)).strip() for line in lines)


class Detector:
    """Classifies observations with a preset's rules; remembers what it needs for `stuck`."""

    def __init__(self, rules: list[Rule], stuck_after: float = 600.0, preset: str = "",
                 version: str | None = None) -> None:
        self.all_rules = list(rules)
        self.rules = [r for r in self.all_rules if r.holds_for(version)]
        self.version = version
        self.stuck_after = stuck_after
        self.preset = preset
        self.ready = False
        self._last_norm: str | None = None
        self._last_lines: list[str] | None = None
        self.last_change_at = time.monotonic()

    def set_version(self, version: str | None) -> None:
        """The CLI's installed version is known (or still unknown): keep the rules meant for it."""
        self.version = version
        self.rules = [r for r in self.all_rules if r.holds_for(version)]

    def note_screen(self, lines: list[str], now: float) -> bool:
        """Records the screen; returns True when it changed beyond spinners and clocks."""
        if lines == self._last_lines:  # the same rows (a session notes each screen twice): nothing new
            return False
        self._last_lines = list(lines)
        norm = normalized(lines)
        if norm != self._last_norm:
            self._last_norm = norm
            self.last_change_at = now
            return True
        return False

    def classify(self, obs: Observation) -> tuple[SessionState, str, str]:
        """(state, rule name, detail) for one observation."""
        if obs.exited:
            return SessionState.EXITED, "process.exit", "the process has exited"
        self.note_screen(obs.lines, obs.now)
        for rule in self.rules:
            if self._matches(rule, obs):
                self.ready = True
                state, name, detail = rule.state, rule.name, rule.explain()
                if state is SessionState.WORKING:
                    still = obs.now - self.last_change_at
                    if still >= self.stuck_after:
                        return (SessionState.STUCK, "timing.stuck",
                                f"working ({name}) but the screen has not changed for {still:.0f}s "
                                f"(stuck after {self.stuck_after:g}s)")
                return state, name, detail
        if not self.ready:
            return SessionState.STARTING, f"{self.preset}.starting", "no ready rule has matched yet"
        return SessionState.IDLE, "fallback.no-rule", "no rule matched; nothing says it is working"

    @staticmethod
    def _matches(rule: Rule, obs: Observation) -> bool:
        # a pattern with no region searches the whole screen (as Rule.from_data reads one)
        if rule.pattern is not None and not rule.pattern.search(region_text(obs.lines, rule.region or "all",
                                                                             obs.cursor_y)):
            return False
        if rule.title is not None and not rule.title.search(obs.title):
            return False
        if rule.osc7501 is not None and obs.osc7501 != rule.osc7501:
            return False
        quiet = obs.now - obs.last_output_at
        if rule.active_within is not None and quiet > rule.active_within:
            return False
        if rule.quiet_for is not None and quiet < rule.quiet_for:
            return False
        return True
