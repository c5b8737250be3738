"""Everything the app can do, as command-palette entries (ctrl+p)."""
from __future__ import annotations

from functools import partial
from typing import Iterable

from textual.app import SystemCommand

from gastown_tui.screens.form import Field, FormScreen
from gastown_tui.screens.town import TownScreen
from widgets.agent_tree import tree_order
from widgets.pane_grid import LAYOUTS

SCREENS = [("town", "Town"), ("needs_you", "Needs you"), ("merge_queue", "Merge queue"), ("convoys", "Convoys"),
           ("beads", "Beads"), ("mail", "Mail"), ("seance", "Seance")]


def _town_screen(app):
    for screen in app.screen_stack:
        if isinstance(screen, TownScreen):
            return screen
    return None


def _focused(app) -> str:
    town = _town_screen(app)
    return (town.focused_agent or "") if town else ""


def _on_town(app, method: str, *args) -> None:
    app.open_screen("town")
    town = _town_screen(app)
    if town is not None:
        getattr(town, method)(*args)


def _form(app, title: str, fields: list[Field], then) -> None:
    app.push_screen(FormScreen(title, fields), lambda values: values and then(values))


def _sling(app) -> None:
    _form(app, "Sling a bead", [Field("bead", "Bead id"), Field("target", "Rig or agent address")],
          lambda v: app.act(f"sling {v['bead']}", "sling", bead_id=v["bead"].strip(), target=v["target"].strip()))


def _nudge(app) -> None:
    _form(app, "Nudge an agent", [Field("agent", "Agent address", _focused(app)), Field("text", "Text to type")],
          lambda v: app.act(f"nudge {v['agent']}", "nudge", address=v["agent"].strip(), text=v["text"]))


def _handoff(app) -> None:
    _form(app, "Handoff (end the session; a fresh one continues)",
          [Field("agent", "Agent address", _focused(app)), Field("note", "Note for the successor", required=False)],
          lambda v: app.act(f"handoff {v['agent']}", "handoff", address=v["agent"].strip(), note=v["note"]))


def _ralph_raise(app) -> None:
    """One more Ralph attempt for an exhausted step (town/ralph.py `app_raise_attempts`)."""
    from gastown_tui.town.ralph import app_raise_attempts  # deferred: the attached app loads no town domain

    view = app.controller.view if app.controller is not None else None
    hook = view.hooks.get(_focused(app)) if view is not None else None
    _form(app, "Raise Ralph attempts (an exhausted step goes on)",
          [Field("id", "Step or hooked bead", (hook.bead_id or "") if hook else ""),
           Field("by", "More attempts", "1")],
          lambda v: app.run_domain(f"raise Ralph attempts of {v['id']}", app_raise_attempts, app.town_root,
                                   v["id"].strip(), int(v["by"].strip() or "1")))


def _budget_resume(app) -> None:
    """Raise a tripped budget (or reset its count) so work resumes (town/budget.py `app_resume`)."""
    from gastown_tui.town.budget import app_resume  # deferred: the attached app loads no town domain

    _form(app, "Resume a tripped budget",
          [Field("scope", "Budget (town, rig:NAME or convoy:ID)", "town"),
           Field("limit", "New limit (blank: reset today's count)", required=False)],
          lambda v: app.run_domain(f"resume budget {v['scope']}", app_resume, app.town_root, v["scope"].strip(),
                                   v["limit"].strip() or None))


def _new_convoy(app) -> None:
    _form(app, "New convoy", [Field("title", "Title"), Field("beads", "Bead ids (space separated)")],
          lambda v: app.act("new convoy", "convoy.create", title=v["title"], bead_ids=v["beads"].split()))


def _add_rig(app) -> None:
    _form(app, "Add a rig", [Field("name", "Rig name"), Field("repo", "Git repository (path or URL)")],
          lambda v: app.act(f"add rig {v['name']}", "rig.add", name=v["name"].strip(), repo=v["repo"].strip()))


def _spawn(app) -> None:
    _form(app, "Spawn a polecat", [Field("rig", "Rig"), Field("name", "Name (blank: from the name pool)", required=False)],
          lambda v: app.act(f"spawn polecat in {v['rig']}", "polecat.spawn", rig=v["rig"].strip(),
                            name=v["name"].strip() or None))


def _lifecycle(app, what: str) -> None:
    _form(app, f"{what.capitalize()} an agent", [Field("agent", "Agent address", _focused(app))],
          lambda v: app.agent_lifecycle(what, v["agent"].strip()))


def commands(app, screen) -> Iterable[SystemCommand]:
    for name, title in SCREENS:
        yield SystemCommand(f"Open {title}", f"Show the {title} screen", partial(app.open_screen, name))
    yield SystemCommand("Help: keys", "Every key binding and its id", app.action_help)
    if app.controller is None:
        return
    view = app.controller.view
    for number, agent in enumerate(tree_order(view.agents) if view else [], start=1):
        yield SystemCommand(f"Go to agent {number} {agent.address}", f"{agent.state} {agent.hook_id or ''}",
                            partial(_on_town, app, "focus_agent", agent.address))
    yield SystemCommand("Next agent", "Focus the next agent in the tree", partial(_on_town, app, "action_next_agent"))
    yield SystemCommand("Previous agent", "Focus the previous agent", partial(_on_town, app, "action_prev_agent"))
    yield SystemCommand("Next agent needing attention", "Approval, stuck, dead or finished-unseen",
                        partial(_on_town, app, "action_next_attention"))
    yield SystemCommand("Previous agent needing attention", "", partial(_on_town, app, "action_prev_attention"))
    for size in LAYOUTS:
        yield SystemCommand(f"Layout {size}", f"Show {size} pane(s) in the centre", partial(_on_town, app, "set_layout", size))
    yield SystemCommand("Zoom pane", "The focused pane fills the screen (again to undo)", partial(_on_town, app, "action_zoom"))
    yield SystemCommand("Toggle activity feed", "Show or hide the event log", partial(_on_town, app, "action_toggle_feed"))
    yield SystemCommand("Sling", "Put a bead on an agent's hook (or a new polecat's)", partial(_sling, app))
    yield SystemCommand("Nudge", "Type text into an agent's terminal", partial(_nudge, app))
    yield SystemCommand("Handoff", "End an agent's session; a fresh one continues its hook", partial(_handoff, app))
    yield SystemCommand("Seance", "Read an identity's past sessions", partial(app.open_screen, "seance"))
    yield SystemCommand("Raise Ralph attempts", "Let an exhausted Ralph step try again", partial(_ralph_raise, app))
    yield SystemCommand("Resume budget", "Raise or reset a tripped budget breaker", partial(_budget_resume, app))
    yield SystemCommand("New convoy", "Track a set of beads to delivery", partial(_new_convoy, app))
    yield SystemCommand("Add rig", "Add a git project to the town", partial(_add_rig, app))
    yield SystemCommand("Spawn polecat", "A new worker in a rig", partial(_spawn, app))
    for what in ("start", "stop", "restart"):
        yield SystemCommand(f"{what.capitalize()} agent", f"{what.capitalize()} an agent's session",
                            partial(_lifecycle, app, what))
    yield SystemCommand("Stop the town…", "Stop every agent and the town's server (asks first)", app.stop_town)
    for theme in sorted(app.available_themes):
        if theme.startswith("gastown") or theme not in ("textual-dark", "textual-light"):
            yield SystemCommand(f"Theme: {theme}", "Switch the colour theme", partial(setattr, app, "theme", theme))
