"""Agents that left the town while this app watched them, kept on screen until the Overseer has seen them.

The Witness reaps a polecat as soon as its work has landed: the ledger then no
longer lists it, and the app would drop it from the tree within seconds, before
anyone saw that it finished or what its screen said last. `GhostKeeper`
remembers, in the app's memory only (never the ledger), every agent that had a
live session during this app run. When such an agent is missing from a
complete reading of the town it becomes a ghost, shown under its rig with state
`finished`:

- `ghost` says `finished` (a `polecat_reaped` event names it: its work landed)
  or `gone` (it vanished otherwise, e.g. removed by hand);
- `since` is when the app noticed it had left, so the tree shows the time since;
- its hook is the last one it had with a bead (`gt done` unhooks before the
  reap, so the hook at the very end is usually empty);
- its session object is kept, read only, so its pane shows the last screen.

A ghost goes away once the Overseer has focused it and then moved to another
agent, when dismissed (`d` in Needs you), or when a new agent takes its address.
Only the newest `KEEP_SCREENS` ghosts keep their session (a VT screen with its
scrollback is the heavy part); older ones keep their row and say that their
screen was let go, so a long unattended run does not grow without bound.
Plain Python (no Textual), single-threaded: the controller calls it on the
app's loop only (the town is read off the loop, the view is built on it).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from widgets.view_models import AgentView, HookView

KEEP_SCREENS = 20


@dataclass
class Ghost:
    agent: AgentView  # what the tree shows: state "finished", ghost "finished"/"gone", since = when it left
    hook: HookView  # the hook it last had (bead_id None when it never had work)
    session: object | None  # its last session, read only (None when the app never held one)
    seen: bool = False  # the Overseer has had it in the centre since it left
    screen_released: bool = False  # its session was let go (more than KEEP_SCREENS ghosts were waiting)


class GhostKeeper:
    def __init__(self) -> None:
        self._last: dict[str, AgentView] = {}  # agents live during this run that the town still lists
        self._hooks: dict[str, HookView] = {}  # the last hook with a bead each of those had
        self._sessions: dict[str, object] = {}  # the latest session of each of those
        self._ghosts: dict[str, Ghost] = {}

    def observe(self, agents: list[AgentView], hooks: dict[str, HookView], had_session: set[str], sessions,
                reaped: set[str], now: datetime, focused: str | None) -> list[Ghost]:
        """Takes one complete view of the town's agents; returns the ghosts to show with it.

        `had_session`: addresses that had a session during this app run; `sessions`: the session manager
        (or None); `reaped`: addresses a `polecat_reaped` event names; `focused`: the agent in the centre."""
        present = {a.address for a in agents}
        for address in [a for a in self._ghosts if a in present]:
            del self._ghosts[address]  # a new agent took the name
        for address in [a for a in self._last if a not in present]:
            self._ghosts[address] = self._make_ghost(address, address in reaped, now, address == focused)
        holding = sorted((g for g in self._ghosts.values() if g.session is not None),
                         key=lambda g: g.agent.since or now, reverse=True)
        for old in holding[KEEP_SCREENS:]:
            old.session = None
            old.screen_released = True
        for agent in agents:
            if agent.address not in had_session:
                continue
            self._last[agent.address] = agent
            hook = hooks.get(agent.address)
            if hook is not None and hook.bead_id:
                self._hooks[agent.address] = hook
            session = _session_of(sessions, agent.address)
            if session is not None:
                self._sessions[agent.address] = session
        return list(self._ghosts.values())

    def _make_ghost(self, address: str, reaped: bool, now: datetime, focused: bool) -> Ghost:
        last = self._last.pop(address)
        hook = self._hooks.pop(address, None) or HookView(agent=address, bead_id=None)
        outcome = "finished" if reaped else "gone"
        why = "reaped: its work landed" if reaped else "no longer listed by the town"
        agent = replace(last, state="finished", ghost=outcome, live=False, since=now, hook_id=hook.bead_id,
                        hook_title=hook.title, state_reason=f"{outcome} ({why}); kept here until you have seen it")
        return Ghost(agent, hook, self._sessions.pop(address, None), seen=focused)

    def ghosts(self) -> list[Ghost]:
        return list(self._ghosts.values())

    def session(self, address: str):
        """The ghost's session (read only: for its last screen), or None."""
        ghost = self._ghosts.get(address)
        return ghost.session if ghost is not None else None

    def why_no_screen(self, address: str) -> str:
        ghost = self._ghosts.get(address)
        if ghost is not None and ghost.screen_released:
            return f"its screen was let go: more than {KEEP_SCREENS} finished agents were waiting to be seen"
        return "the app never held its session"

    def see(self, address: str) -> bool:
        """The Overseer has `address` in the centre; True when that made a ghost seen."""
        ghost = self._ghosts.get(address)
        if ghost is None or ghost.seen:
            return False
        ghost.seen = True
        return True

    def leave(self, address: str) -> bool:
        """The Overseer moved away from `address`: a seen ghost there goes; True when one went."""
        ghost = self._ghosts.get(address)
        if ghost is None or not ghost.seen:
            return False
        del self._ghosts[address]
        return True

    def dismiss(self, address: str) -> bool:
        """Drops the ghost at `address`, seen or not; True when there was one."""
        return self._ghosts.pop(address, None) is not None


def _session_of(sessions, address: str):
    if sessions is None:
        return None
    try:
        return sessions.get(address)
    except RuntimeError:  # sessions.SessionError: an address the session layer refuses has no session
        return None
