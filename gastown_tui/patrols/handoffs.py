"""The handoff patrol: acts on `gastown handoff` in a running town.

`gt handoff -m NOTE` (town/handoff.py) mails the note to the agent itself and
writes `.runtime/handoffs/<agent_key>.json`. The runner wakes this patrol when
such a marker appears (and when a session with a pending marker changes state).
For each marker:

- the agent's session here is still busy (starting or working): let it finish
  its turn (an agent usually says goodbye after `gt handoff`), for at most
  `wait` seconds (settings: `patrols.handoff_wait`, default 2m);
- then `handoff`: stop the old session politely (its transcript stays on disk
  for `gt seance`), consume the marker, start a fresh session for the same
  identity, workspace and preset with the start-up beacon (topic `handoff`:
  GUPP, the successor runs `gt prime` and finds its hook and the note), and log
  a `session_replaced` event (actions.py `do_handoff`);
- the live session started after the request and is not the one that asked
  (someone already replaced it, e.g. the Witness): the marker is consumed and
  nothing else happens;
- no session for that agent runs in this town runtime: reported once; the
  marker stays (whoever runs that agent acts on it);
- a marker that cannot be read is reported once (file and cause) and left as is.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from gastown_tui.timestamps import to_unix
from gastown_tui.patrols.base import Change, Decision, Patrol, Report, RunContext, Timer
from gastown_tui.town.handoff import consume_handoff, pending_handoffs

BUSY = ("starting", "working")


@dataclass
class HandoffSettings:
    wait: float = 120.0  # longest a busy session is left to finish its turn before it is replaced anyway
    retry: float = 30.0  # a replacement that failed is tried again after this long


@dataclass
class HandoffMemory:
    seen: dict[str, float] = field(default_factory=dict)  # marker key -> when this patrol first saw it
    reported: set[str] = field(default_factory=set)  # marker keys / bad files already reported
    failed: dict[str, float] = field(default_factory=dict)  # marker key -> when replacing last failed


def _when(ts) -> float | None:
    try:
        return to_unix(ts)
    except ValueError:
        return None


class Handoffs(Patrol):
    role = "handoff"
    name = "handoff"

    def __init__(self, town, sessions, actions, settings: HandoffSettings | None = None,
                 timer: Timer = Timer(30, 300)):
        self.town = town
        self.sessions = sessions
        self.actions = actions
        self.settings = settings or HandoffSettings()
        self.timer = timer
        self.memory = HandoffMemory()

    def _folder(self):
        return self.town.runtime / "handoffs"

    def concerns(self, change: Change) -> bool:
        if change.kind == "manual":
            return True
        if change.kind == "runtime" and change.path is not None:
            return change.path.parent == self._folder() and change.path.suffix == ".json"
        if change.kind == "session":  # a session with a pending handoff finished its turn, or went away
            if not any(e.get("type") == "SessionExited" or e.get("state") not in BUSY for e in change.events):
                return False
            folder = self._folder()
            return folder.is_dir() and any(folder.glob("*.json"))
        return False

    def run(self, ctx: RunContext) -> Report:
        did: list[Decision] = []
        waits: list[float] = []
        pending = []
        for path, marker, error in pending_handoffs(self.town):
            if marker is None:
                key = f"bad:{path}:{error}"
                if key not in self.memory.reported:
                    self.memory.reported.add(key)
                    did.append(Decision("handoff", str(path), f"cannot read the handoff marker: {error}",
                                        detail={"error": error}, done=False))
                continue
            address = marker["address"]
            pending.append(address)
            key = f"{address}@{marker.get('requested_at')}"
            first_seen = self.memory.seen.setdefault(key, ctx.now)
            session = self.sessions.get(address) if self.sessions is not None else None
            if session is None:
                if key not in self.memory.reported:
                    self.memory.reported.add(key)
                    did.append(Decision("handoff", address, f"{address} asked for a handoff but no session of it "
                                        "runs in this town; the request stays for whoever runs it",
                                        bead=marker.get("hook"), detail={"marker": str(path)}, done=False))
                continue
            asked_by, asked_at = marker.get("session_id"), _when(marker.get("requested_at"))
            started = getattr(session, "started_at", None)
            if asked_by and session.id != asked_by and asked_at and started and started >= asked_at:
                consume_handoff(self.town, address, marker.get("requested_at"))
                self._forget(key)
                did.append(Decision("handoff", address, f"{address} already runs a fresh session ({session.id}, "
                                    f"started after the request of {asked_by}): request consumed",
                                    bead=marker.get("hook"), detail={"result": "already replaced",
                                                                     "session": session.id}))
                continue
            state = getattr(session.state, "value", str(session.state))
            waited = ctx.now - first_seen
            if session.alive and state in BUSY and waited < self.settings.wait:
                waits.append(self.settings.wait - waited)
                continue
            failed_at = self.memory.failed.get(key)
            if failed_at is not None and ctx.now - failed_at < self.settings.retry:
                waits.append(self.settings.retry - (ctx.now - failed_at))
                continue
            why = "finished its turn" if state not in BUSY else f"still {state} after {waited:.0f}s"
            d = Decision("handoff", address, f"{address} handed off ({why}): replacing its session {session.id} "
                         "with a fresh one", bead=marker.get("hook"),
                         detail={"old_session": session.id, "state": state, "waited": round(waited, 1),
                                 "requested_at": marker.get("requested_at"), "mail": marker.get("mail_id"),
                                 "note": (marker.get("note") or "")[:200]})
            self.actions.apply(d, actor="handoff")
            if d.done:
                self._forget(key)
            else:
                self.memory.failed[key] = ctx.now
                waits.append(self.settings.retry)
            did.append(d)
        return Report(saw={"pending": pending}, did=did, next_in=min(waits) if waits else None)

    def _forget(self, key: str) -> None:
        self.memory.seen.pop(key, None)
        self.memory.failed.pop(key, None)
        self.memory.reported.discard(key)
