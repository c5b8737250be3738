"""`TownLink`: everything the app asks of its town, in one interface with two implementations.

- `gastown_tui.client.socket_link.SocketLink` talks to the town's server over its socket (the default
  for `gastown` / `gastown app`): the agents live in the server and outlive the app.
- `gastown_tui.client.in_process.InProcessLink` runs the town in the app's own process (`--no-server`,
  the Pilot tests): the agents end with the app.

Both run reads and actions by name through `gastown_tui.server.api` (`call`), so they behave alike.
Screens reach the link through the app (`app.load` / `app.act`), never the domain. Callbacks (`on_state`,
`on_town_changed`) are called on the app's event loop.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Protocol


@dataclass(frozen=True)
class StateEvent:
    """A session's state changed (sessions' words: starting, working, needs-approval, idle, stuck, exited)."""

    address: str
    old: str
    new: str
    rule: str
    at: float | None = None
    exit_status: int | None = None


OnState = Callable[[StateEvent], None]


class SessionSource(Protocol):
    """What the panes need: the session (local `Session` or `RemoteSession`) of an agent, or None."""

    def get(self, address: str) -> Any: ...


class TownLink(Protocol):
    root: Path
    detaches: bool  # True: leaving the app leaves the agents running (a server holds them)

    @property
    def sessions(self) -> SessionSource | None:
        """The agents' sessions as this app sees them; None while none are held or reachable."""

    async def start(self, on_state: OnState, start_agents: bool) -> None:
        """Connects (or starts the in-process runtime); state changes then arrive through `on_state`."""

    async def watch_town(self, on_town_changed: Callable[[], None]) -> None:
        """Runs until cancelled, calling `on_town_changed` whenever the town's ledgers or events change."""

    async def call(self, name: str, **args: Any) -> Any:
        """One read or action of `gastown_tui.server.api` by name; raises with the town's one-line error."""

    async def patrols(self) -> list: ...   # PatrolActivity of every patrol the town runs

    async def lifecycle(self, what: str, address: str) -> str:
        """start / stop / restart one agent's session; returns what happened in words."""

    def focus(self, address: str | None) -> None:
        """The agent in this app's centre pane: its keys come from here, and only this app's pane sizes it."""

    def show_soon(self, address: str) -> None:
        """The agent whose pane the app is about to make: its screen may be fetched ahead of the pane."""

    async def close(self) -> None:
        """The app leaves: detaches from the server, or (in process) stops the agents it runs."""

    async def stop_town(self) -> None:
        """Stops every agent and the server (`gastown down`)."""

