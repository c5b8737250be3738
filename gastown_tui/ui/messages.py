"""App-level messages: domain news adapted at the edge (posted by the controller's workers)."""
from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from widgets.view_models import TownView


@dataclass
class TownRefreshed(Message):
    """A new snapshot of the town was read."""

    view: TownView


@dataclass
class ActionFinished(Message):
    """A domain action (run in a worker) finished; `error` is the message when it failed."""

    what: str
    error: str | None = None
    detail: str = ""


@dataclass
class Notice(Message):
    """Something the Overseer should hear about (convoy landed, approval needed, merge failed...)."""

    title: str
    text: str
    severity: str = "information"  # information, warning, error
    bell: bool = False
