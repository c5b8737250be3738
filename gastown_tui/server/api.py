"""The reads and actions a town offers its clients, by name: what the protocol's `call` runs.

`{"cmd":"call","fn":"mr.approve","args":{"mr_id":"gt-12"}}` on the town server
and the app's in-process link (`gastown --no-server`, the Pilot tests) both go
through `dispatch`, so the two behave alike. Every function takes the `Town`
and JSON-able keyword arguments and returns something JSON-able: a one-line
outcome for an action, plain dicts/lists for a read.

Actions that write ledgers run in the town's write turn (`patrol_turn`: they
never overlap a patrol run in this process); reads take no lock (ledgers are
cached per thread). No Textual here; the app never imports this module's
domain imports itself, it names the functions.
"""
from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any, Callable

from gastown_tui.costs.report import spend_for_app
from gastown_tui.demo.build import build_demo_town
from gastown_tui.errors import UserError
from gastown_tui.meow import progress as molecule_progress
from gastown_tui.nodes.placement import sling_placed
from gastown_tui.nodes.status import agent_nodes, node_statuses
from gastown_tui.patrols import refinery
from gastown_tui.town.write_lock import patrol_turn
from gastown_tui.town import convoys, mail, seance
from gastown_tui.town.handoff import request_handoff
from gastown_tui.town.install import install_town
from gastown_tui.town.layout import Town, find_town
from gastown_tui.town.ledgers import all_ledgers, ledger_for_id, rig_ledger, town_ledger
from gastown_tui.town.mq import mr_diff
from gastown_tui.town.nudges import enqueue
from gastown_tui.town.polecats import spawn_polecat
from gastown_tui.town.rigs import add_rig
from gastown_tui.town.snapshot import town_snapshot
from gastown_tui.town.ralph import hook_line as ralph_hook_line
from gastown_tui.server.reading import (AgentFacts, ConvoyFacts, EscalationFacts, EventFacts, MailFacts, MRFacts,
                                        NodeHealthFacts, ProgressFacts, Reading, StepFacts, TownFacts, TrackedFacts)

OVERSEER = "overseer"

Fn = Callable[..., Any]
CALLS: dict[str, Fn] = {}
READS: set[str] = set()  # the calls that change nothing (a client need not re-read the town after them)


class UnknownCall(UserError):
    """A client named a function the town does not offer."""


def offered(name: str, *, writes: bool = False) -> Callable[[Fn], Fn]:
    """Registers `fn` under `name`; `writes`: it runs in the town's write turn."""

    def register(fn: Fn) -> Fn:
        if writes:
            def in_turn(town: Town, **args: Any) -> Any:
                with patrol_turn():
                    return fn(town, **args)

            CALLS[name] = in_turn
        else:
            CALLS[name] = fn
            READS.add(name)
        return fn

    return register


def dispatch(town: Town, name: str, args: dict[str, Any] | None = None) -> Any:
    """Runs the offered function `name` on `town` (blocking: call it off any event loop)."""
    fn = CALLS.get(name)
    if fn is None:
        raise UnknownCall(f"unknown call {name!r} (known: {', '.join(sorted(CALLS))})")
    return fn(town, **(args or {}))


# -- the town's read model ------------------------------------------------------------------------

@offered("town.read")
def read_town(town: Town, events_limit: int = 200) -> dict:
    return reading_of(town, events_limit).to_json()


def reading_of(town: Town, events_limit: int = 200) -> Reading:
    """One reading of the town; what cannot be read becomes an error line, never an exception."""
    errors: list[str] = []
    try:
        snap = town_snapshot(town, events_limit=events_limit)
    except UserError as exc:
        return Reading(None, {}, (str(exc),))
    except Exception as exc:  # a broken file must not leave the app blank: say what broke
        return Reading(None, {}, (f"cannot read the town: {type(exc).__name__}: {exc}",))
    on_nodes, nodes = node_reading(town, {a.address for a in snap.agents}, errors)
    facts = TownFacts(
        name=snap.name,
        agents=tuple(AgentFacts(a.address, a.role, a.rig, a.name, a.agent_state, a.hook_bead, a.hook_title,
                                a.molecule, a.updated_at, on_nodes.get(a.address)) for a in snap.agents),
        nodes=nodes,
        convoys=tuple(ConvoyFacts(c.id, c.title, c.status, tuple(TrackedFacts(t.bead_id, t.title, t.status,
                                                                              t.assignee) for t in c.tracked))
                      for c in snap.convoys),
        mail=tuple(mail_facts(m) for m in snap.mail),
        mrs=tuple(MRFacts(m.id, m.rig, m.title, m.state, m.branch, m.target, m.source_bead, m.polecat,
                          int(m.priority or 0), m.gate_output) for m in snap.mrs),
        escalations=tuple(EscalationFacts(e[0], e[1], e[2]) for e in snap.escalations),
        events=tuple(EventFacts(e.ts, e.type, e.actor, e.payload if isinstance(e.payload, dict) else {})
                     for e in snap.events))
    progress: dict[str, ProgressFacts] = {}
    for agent in snap.agents:
        root = agent.molecule
        if root and root not in progress:
            try:
                p = molecule_progress(ledger_for_id(town, root), root)
            except Exception as exc:  # a broken molecule shows as an error line, not a crash
                errors.append(f"molecule {root} of {agent.address}: {exc}")
                continue
            progress[root] = progress_facts(p)
    return Reading(facts, progress, tuple(errors))


def node_reading(town: Town, agents: set[str], errors: list[str]) -> tuple[dict[str, str], tuple]:
    """(agent address -> its node, the nodes' health) for the town's agents; a bad nodes file is an error
    line, never a failed read."""
    try:
        placed = {a: n for a, n in agent_nodes(town).items() if a in agents}
        return placed, tuple(NodeHealthFacts(**asdict(n)) for n in node_statuses(town, placed))
    except UserError as exc:
        errors.append(str(exc))
        return {}, ()


def progress_facts(p) -> ProgressFacts:
    """What the app shows of a molecule (a meow Progress): its steps, or for a big lazy wisp only the steps
    around the next one with the counts, and the next Ralph step's attempts."""
    window = getattr(p, "window", None)
    shown = window() if window is not None else p.steps
    return ProgressFacts(p.root, p.formula, tuple(StepFacts(s.id, s.title, s.status, bool(s.ready)) for s in shown),
                         p.total if window is not None else None, p.done if window is not None else None,
                         ralph_hook_line(p))


def mail_facts(m: mail.MailInfo) -> MailFacts:
    return MailFacts(m.id, m.sender, m.to, m.subject, m.body, bool(m.read), m.thread_id, m.created_at)


# -- costs: what the agents' model calls cost (issue 15) ------------------------------------------

@offered("costs.spend")
def costs_spend(town: Town) -> dict:
    """Today's spend and the cost per agent, convoy and bead (costs/report.py `spend_for_app`): the town's
    cost book reads only new usage records, so a repeat is cheap."""
    return spend_for_app(town.root)


# -- the Refinery and the hooks --------------------------------------------------------------------

@offered("mr.approve", writes=True)
def approve(town: Town, mr_id: str) -> str:
    """Overseer approval: the Refinery merges this request now."""
    refinery.approve(town, mr_id, actor=OVERSEER)
    return f"{mr_id} approved: the Refinery merges it next"


@offered("mr.send_back", writes=True)
def send_back(town: Town, mr_id: str, note: str) -> str:
    """Back to the polecat with a note (mailed; the work returns to its hook)."""
    refinery.send_back(town, mr_id, note, actor=OVERSEER)
    return f"{mr_id} sent back with your note"


@offered("mr.resling", writes=True)
def resling(town: Town, mr_id: str, target: str) -> str:
    agent = refinery.resling(town, mr_id, target, actor=OVERSEER)
    return f"{mr_id} superseded; its bead is now on {agent}'s hook"


@offered("mr.diff")
def diff(town: Town, mr_id: str) -> dict:
    """{files: [[status, path]], diff: unified diff} of a merge request."""
    files, text = mr_diff(town, mr_id)
    return {"files": [list(f) for f in files], "diff": text}


@offered("sling", writes=True)
def sling(town: Town, bead_id: str, target: str) -> str:
    result, placed = sling_placed(town, bead_id, target, actor=OVERSEER)
    return f"{bead_id} slung to {result.agent}" + (f" on node {placed.node}" if placed is not None else "")


@offered("nudge", writes=True)
def nudge(town: Town, address: str, text: str, urgent: bool = False) -> str:
    enqueue(town.runtime / "nudge_queue", address, text, sender=OVERSEER, urgent=urgent)
    return f"nudge queued for {address}"


@offered("handoff", writes=True)
def handoff(town: Town, address: str, note: str = "") -> str:
    request_handoff(town, address, note)
    return f"{address} handed off"


# -- mail --------------------------------------------------------------------------------------------

@offered("mail.inbox")
def mail_inbox(town: Town, address: str) -> list[dict]:
    return [asdict(mail_facts(m)) for m in mail.inbox(town, address, include_archived=False)]


@offered("mail.thread")
def mail_thread(town: Town, mail_id: str) -> list[dict]:
    return [asdict(mail_facts(m)) for m in mail.thread(town, mail_id)]


@offered("mail.send", writes=True)
def mail_send(town: Town, to: str, subject: str, body: str, reply_to: str | None = None,
              sender: str = OVERSEER) -> str:
    if reply_to:
        mail_id = mail.reply(town, reply_to, body, sender=sender, subject=subject)
        return f"reply to {to} sent ({mail_id})"
    ids = mail.send_mail(town, sender, to, subject, body)
    return f"mail to {to} sent ({', '.join(ids)})"


@offered("mail.mark_read", writes=True)
def mail_mark_read(town: Town, mail_id: str) -> None:
    mail.mark_read(town, mail_id)


# -- convoys, rigs, polecats -----------------------------------------------------------------------

@offered("convoy.create", writes=True)
def convoy_create(town: Town, title: str, bead_ids: list[str]) -> str:
    return f"convoy {convoys.create_convoy(town, title, bead_ids)} created"


@offered("convoy.add", writes=True)
def convoy_add(town: Town, convoy_id: str, bead_ids: list[str]) -> str:
    convoys.add_to_convoy(town, convoy_id, bead_ids)
    return f"{len(bead_ids)} bead(s) added to {convoy_id}"


@offered("convoy.close", writes=True)
def convoy_close(town: Town, convoy_id: str) -> str:
    convoys.close_convoy(town, convoy_id)
    return f"convoy {convoy_id} closed"


@offered("rig.add", writes=True)
def rig_add(town: Town, name: str, repo: str) -> str:
    add_rig(town, name, repo)
    return f"rig {name} added"


@offered("polecat.spawn", writes=True)
def polecat_spawn(town: Town, rig: str, name: str | None = None) -> str:
    return f"polecat {spawn_polecat(town, rig, name=name).address} spawned"


# -- beads: the ledgers' own API -------------------------------------------------------------------

def _ledger(town: Town, bead_id: str | None = None, rig: str | None = None):
    if bead_id:
        return ledger_for_id(town, bead_id)
    if rig:
        return rig_ledger(town, rig)
    return town_ledger(town)


@offered("beads.all")
def all_beads(town: Town) -> list[dict]:
    """Every live bead of every ledger (town first, then rigs), open before closed, by priority then id."""
    beads = [b for ledger in all_ledgers(town) for b in ledger.all()]
    beads.sort(key=lambda b: (b.status == "closed", b.priority, b.id))
    return [b.model_dump(mode="json", exclude_defaults=True) for b in beads]


@offered("bead.create", writes=True)
def bead_create(town: Town, title: str, rig: str | None = None, **fields: Any) -> str:
    return _ledger(town, rig=rig).create(title, actor=OVERSEER, **fields).id


@offered("bead.update", writes=True)
def bead_update(town: Town, bead_id: str, **fields: Any) -> str:
    _ledger(town, bead_id).update(bead_id, actor=OVERSEER, **fields)
    return f"{bead_id} updated"


@offered("bead.close", writes=True)
def bead_close(town: Town, bead_id: str, reason: str | None = None) -> str:
    _ledger(town, bead_id).close(bead_id, reason=reason, actor=OVERSEER)
    return f"{bead_id} closed"


@offered("bead.comment", writes=True)
def bead_comment(town: Town, bead_id: str, text: str) -> str:
    _ledger(town, bead_id).add_comment(bead_id, text, OVERSEER)
    return f"comment added to {bead_id}"


# -- seance: past sessions and their transcripts ---------------------------------------------------

@offered("seance.sessions")
def predecessors(town: Town, address: str) -> list[dict]:
    return [s.to_dict() for s in seance.list_predecessors(town, address)]


@offered("seance.transcript")
def transcript(town: Town, address: str, session_id: str | None = None, lines: int = 5000) -> str:
    session = seance.get_session(town, address, session_id)
    if session is None:
        return ""
    tail = seance.transcript_tail(session, lines=lines)
    return tail if isinstance(tail, str) else "\n".join(tail or [])


# -- towns (the Welcome screen: before there is a town, so no Town argument) ----------------------

def create_town(path: str, name: str) -> Path:
    return install_town(Path(path).expanduser(), name or None).root


def open_town(path: str) -> Path:
    return find_town(Path(path).expanduser(), env={}).root


def build_demo(path: str) -> Path:
    return Path(build_demo_town(Path(path).expanduser()).town.root)

