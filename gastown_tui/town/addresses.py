"""Agent addresses (identities) and the file-system key each one maps to.

Addresses are Gas Town's: `mayor/`, `deacon/`, `boot`, `<rig>/witness`,
`<rig>/refinery`, `<rig>/polecats/<name>`, `<rig>/crew/<name>`, `overseer`.
Per-agent folders under `.runtime/` (sessions, nudge queue, homes) are named by
`agent_key(address)`, which is flat and reversible.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

TOWN_ROLES = {"mayor": "mayor/", "deacon": "deacon/", "boot": "boot", "overseer": "overseer"}
_NAME = r"[A-Za-z0-9_-]+"
_RIG_ROLE = re.compile(rf"^({_NAME})/(witness|refinery)$")
_RIG_WORKER = re.compile(rf"^({_NAME})/(polecats|crew)/({_NAME})$")


@dataclass(frozen=True)
class Address:
    """A parsed agent address."""

    role: str  # mayor, deacon, boot, overseer, witness, refinery, polecat, crew
    rig: str | None = None
    name: str | None = None

    def __str__(self) -> str:
        if self.role in ("witness", "refinery"):
            return f"{self.rig}/{self.role}"
        if self.role in ("polecat", "crew"):
            plural = "polecats" if self.role == "polecat" else "crew"
            return f"{self.rig}/{plural}/{self.name}"
        return TOWN_ROLES[self.role]

    @property
    def key(self) -> str:
        return agent_key(str(self))


def parse_address(text: str) -> Address:
    """Parses an address; raises ValueError naming the text when it is not one."""
    text = text.strip()
    bare = text.rstrip("/")
    if bare in TOWN_ROLES:
        return Address(bare)
    if m := _RIG_ROLE.match(text):
        return Address(m.group(2), rig=m.group(1))
    if m := _RIG_WORKER.match(text):
        return Address("polecat" if m.group(2) == "polecats" else "crew", rig=m.group(1), name=m.group(3))
    raise ValueError(f"not an agent address: {text!r}")


def rig_worker(address: str) -> tuple[str, str]:
    """(rig, name) of a polecat's or a crew member's address; ValueError for any other address."""
    a = parse_address(address)
    if a.rig is None or a.name is None:
        raise ValueError(f"not a polecat's or crew member's address: {address!r}")
    return a.rig, a.name


def agent_key(address: str) -> str:
    """Flat folder name for an address: `gastown/polecats/nux` -> `gastown--polecats--nux`, `mayor/` -> `mayor`."""
    return str(parse_address(address)).rstrip("/").replace("/", "--")


def address_from_key(key: str) -> str:
    """Inverse of agent_key."""
    return str(parse_address(key.replace("--", "/")))
