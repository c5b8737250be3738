"""Every key binding of the app, in one table, rebindable from the town's settings.

Each binding has an id (`scope.action`); `settings/config.json` may override
any of them under `"app": {"keymap": {"town.next_agent": "j"}}` (several keys
are comma-separated, as in Textual keymaps). The help screen (`?`) lists the
whole table with the keys in force; the footer shows the ones marked `show`.
"""
from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding

from gastown_tui.errors import nearest


@dataclass(frozen=True)
class Key:
    id: str  # scope.action, the name used in settings keymaps
    keys: str  # default key(s), comma-separated
    action: str  # Textual action string
    description: str
    show: bool = True  # in the footer (everything is in the help screen)


APP_KEYS = [
    Key("app.help", "question_mark", "help", "Help", True),
    Key("app.town", "t", "open_screen('town')", "Town"),
    Key("app.needs_you", "u", "open_screen('needs_you')", "Needs you"),
    Key("app.merge_queue", "m", "open_screen('merge_queue')", "Merge queue"),
    Key("app.convoys", "c", "open_screen('convoys')", "Convoys"),
    Key("app.beads", "b", "open_screen('beads')", "Beads"),
    Key("app.mail", "i", "open_screen('mail')", "Mail"),
    Key("app.seance", "S", "open_screen('seance')", "Seance", False),
    Key("app.palette", "ctrl+p", "command_palette", "Commands", False),
    Key("app.quit", "ctrl+q", "quit", "Quit", False),
]

# The app attached to a town server: ctrl+q leaves the agents running, and the footer says so.
DETACH = Key("app.quit", "ctrl+q", "quit", "Detach (agents keep running)", True)
ATTACHED_APP_KEYS = [DETACH if k.id == "app.quit" else k for k in APP_KEYS]

TOWN_KEYS = [
    Key("town.next_agent", "n", "next_agent", "Next agent"),
    Key("town.prev_agent", "p", "prev_agent", "Prev agent"),
    Key("town.next_attention", "a", "next_attention", "Next needing you"),
    Key("town.prev_attention", "A", "prev_attention", "Prev needing you", False),
    Key("town.goto", "g", "goto", "Go to"),
    Key("town.focus_pane", "enter", "focus_pane", "Type into pane"),
    Key("town.layout", "l", "cycle_layout", "Layout"),
    Key("town.zoom", "z", "zoom", "Zoom"),
    Key("town.feed", "f", "toggle_feed", "Feed"),
    Key("town.leave_pane", "d", "leave_pane", "Leave the pane (after the prefix)", False),
    Key("town.nudge", "N", "nudge", "Nudge", False),
    Key("town.restart", "R", "restart_agent", "Restart agent", False),
    Key("town.start", "s", "start_agent", "Start agent", False),
] + [Key(f"town.jump_{n}", str(n), f"jump({n})", f"Agent {n}", False) for n in range(1, 10)]

NEEDS_YOU_KEYS = [
    Key("needs_you.next", "n", "next_item", "Next item"),
    Key("needs_you.act", "enter", "act", "Act on it"),
    Key("needs_you.next_and_act", "space", "next_and_act", "Next item and act"),
    Key("needs_you.restart", "R", "restart", "Restart agent"),
    Key("needs_you.dismiss", "d", "dismiss_item", "Dismiss (seen/read)"),
    Key("needs_you.back", "escape", "back", "Back", False),
]

MERGE_QUEUE_KEYS = [
    Key("merge_queue.approve", "a", "approve", "Approve (merge now)"),
    Key("merge_queue.send_back", "x", "send_back", "Send back"),
    Key("merge_queue.resling", "r", "resling", "Re-sling"),
    Key("merge_queue.open_pane", "o", "open_pane", "Open pane"),
    Key("merge_queue.diff_mode", "v", "toggle_diff_mode", "Unified/side by side"),
    Key("merge_queue.back", "escape", "back", "Back", False),
]

CONVOY_KEYS = [
    Key("convoys.new", "C", "new_convoy", "New convoy"),
    Key("convoys.sling", "s", "sling_ready", "Sling ready"),
    Key("convoys.add", "plus", "add_beads", "Add beads"),
    Key("convoys.close", "x", "close_convoy", "Close"),
    Key("convoys.back", "escape", "back", "Back", False),
]

BEADS_KEYS = [
    Key("beads.search", "slash", "search", "Search"),
    Key("beads.filter", "F", "cycle_filter", "Filter"),
    Key("beads.create", "plus", "create", "Create"),
    Key("beads.edit", "e", "edit", "Edit"),
    Key("beads.close", "x", "close_bead", "Close"),
    Key("beads.sling", "s", "sling", "Sling"),
    Key("beads.back", "escape", "back", "Back", False),
]

MAIL_KEYS = [
    Key("mail.compose", "w", "compose", "Write"),
    Key("mail.reply", "r", "reply", "Reply"),
    Key("mail.address", "A", "choose_address", "Other inbox"),
    Key("mail.back", "escape", "back", "Back", False),
]

SEANCE_KEYS = [
    Key("seance.search", "slash", "search", "Search"),
    Key("seance.identity", "A", "choose_identity", "Identity"),
    Key("seance.back", "escape", "back", "Back", False),
]

ALL_SCOPES: dict[str, list[Key]] = {
    "Everywhere": APP_KEYS,
    "Town": TOWN_KEYS,
    "Needs you": NEEDS_YOU_KEYS,
    "Merge queue": MERGE_QUEUE_KEYS,
    "Convoys": CONVOY_KEYS,
    "Beads": BEADS_KEYS,
    "Mail": MAIL_KEYS,
    "Seance": SEANCE_KEYS,
}

KNOWN_IDS = {k.id for keys in ALL_SCOPES.values() for k in keys}


def bindings(keys: list[Key]) -> list[Binding]:
    """Textual Bindings (with ids, so keymaps apply) for a scope's keys."""
    return [Binding(k.keys, k.action, k.description, show=k.show, id=k.id) for k in keys]


class KeymapError(ValueError):
    """A keymap entry in the settings that names no binding or gives no key."""


def validate_keymap(keymap: object, source: str) -> dict[str, str]:
    """Checks a settings keymap; raises KeymapError naming the file and the entry."""
    if not isinstance(keymap, dict):
        raise KeymapError(f"{source}: app.keymap must be an object of binding id -> keys")
    clean: dict[str, str] = {}
    for binding_id, keys in keymap.items():
        if binding_id not in KNOWN_IDS:
            near = nearest(binding_id, KNOWN_IDS)
            hint = f" (did you mean: {', '.join(near)})" if near else ""
            raise KeymapError(f"{source}: app.keymap: unknown binding {binding_id!r}{hint}")
        if not isinstance(keys, str) or not keys.strip():
            raise KeymapError(f"{source}: app.keymap.{binding_id}: give keys as a string, e.g. \"j\" or \"j,down\"")
        clean[binding_id] = keys.strip()
    return clean


def keys_in_force(key: Key, keymap: dict[str, str]) -> str:
    """The keys a binding answers to after the keymap is applied."""
    return keymap.get(key.id, key.keys)
