"""`gastown prime`: what an agent reads first — who it is, its rules, its hook and checklist.

`prime_info` returns the `gt prime --json` shape of docs/contracts.md;
`render_prime` turns it into the text an agent reads.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
import re
from pathlib import Path

from gastown_tui.errors import UserError
from gastown_tui.town.layout import Town
from gastown_tui.town import molecules
from gastown_tui.town.addresses import parse_address
from gastown_tui.town.agents import resolve_address, workdir
from gastown_tui.town.handoff import pending_handoff_note
from gastown_tui.town.hooks import hooked_record
from gastown_tui.town.ledgers import ledger_for_id
from gastown_tui.town.mail import inbox
from gastown_tui.town.ralph import status_line
from gastown_tui.town.rigs import list_rigs

# Gas Town's structured lines on a hooked bead: shown in --json, left out of the text an agent reads.
_BOOKKEEPING = re.compile(r"^(attached_\w+|dispatched_by|convoy_id|mr_id|branch|formula_vars): ")
GUPP = "GUPP: if there is work on your hook, you run it. Start now; do not wait to be asked."
ROLE_RULES = {
    "polecat": [
        "You work only in your own worktree, on your own branch.",
        "Follow the checklist step by step; close each step with `gt mol done STEP_ID`.",
        "Commit your work, then run `gt done` to submit it to the merge queue. There is no approval step.",
        "If nothing needs changing, close the bead with a reason (`bd close ID --reason ...`), then `gt done`.",
        "Stuck or failing repeatedly? Mail your witness (`gt mail send <rig>/witness -s HELP: ...`).",
    ],
    "crew": [
        "You work with the Overseer directly; your workspace is a full clone you keep.",
        "File work as beads and dispatch it with `gt sling BEAD RIG`.",
        "Before you stop: commit, pull --rebase, push; hand off with `gt handoff -m NOTE`.",
    ],
    "witness": [
        "You watch this rig's polecats: nudge the quiet, help the stuck, report what is lost. You do not write code.",
        "Handle your mail (POLECAT_DONE, MERGED, HELP) with `gt mail inbox`.",
    ],
    "refinery": [
        "You process the merge queue one request at a time: rebase, run the gate, fast-forward.",
        "Conflicts and red gates go back to the polecat; never delete a branch before its work is on the target.",
    ],
    "mayor": [
        "You are the town's front door: the Overseer tells you what to build; you file it and sling it. "
        "You do not write the code yourself.",
        "File it: one bead per piece of work, in the rig it belongs to: "
        "`bd create \"TITLE\" --rig RIG -d \"WHAT DONE LOOKS LIKE\"` (prints the new id).",
        "Track it: `gt convoy create \"NAME\" ID ID ...` — one convoy per request, so the Overseer sees it land.",
        "Sling it: `gt sling ID RIG` puts a bead on a fresh polecat's hook; the Deacon feeds a convoy's "
        "other ready beads as polecats free up, and the Refinery merges what they submit.",
        "Check on it: `gt convoy status`, `bd ready --rig RIG`, `gt mail inbox` (escalations come to you and "
        "the Overseer).",
    ],
    "deacon": [
        "You patrol the town: keep agents alive, land convoys, find orphaned work. Be quiet when all is well.",
    ],
    "boot": ["You check on the Deacon and wake it when needed, then exit."],
    "overseer": ["You are the person at the keyboard."],
}


def infer_agent(town: Town, cwd: Path) -> str | None:
    """An address from a working folder inside the town (polecat, crew, witness, refinery, mayor, deacon)."""
    try:
        parts = Path(cwd).resolve().relative_to(town.root).parts
    except ValueError:
        return None
    if not parts:
        return None
    if parts[0] in ("mayor", "deacon"):
        return f"{parts[0]}/"
    if len(parts) >= 3 and parts[1] in ("polecats", "crew"):
        return f"{parts[0]}/{parts[1]}/{parts[2]}"
    if len(parts) >= 2 and parts[1] in ("witness", "refinery"):
        return f"{parts[0]}/{parts[1]}"
    return None


def resolve_agent(town: Town, agent: str | None, cwd: Path | None = None, env: Mapping[str, str] | None = None) -> str:
    """The acting agent's canonical address: AGENT, else GT_AGENT, else the agent whose folder CWD is in.

    An address the town does not know is refused, naming the nearest known ones."""
    env = os.environ if env is None else env
    agent = agent or env.get("GT_AGENT") or infer_agent(town, cwd or Path.cwd())
    if not agent:
        raise UserError("who is asking? set GT_AGENT, pass --agent ADDRESS, or run inside an agent's folder")
    return resolve_address(town, agent)


def prime_info(town: Town, address: str) -> dict:
    a = parse_address(address)
    hook = hooked_record(town, address)
    molecule = None
    next_step = None
    ralph = None         # the next step's Ralph loop: attempt k of N, the last failure (town/ralph.py)
    warnings: list[str] = []
    if hook is not None:
        root, formula = molecules.attached(hook)
        if root:
            ledger = ledger_for_id(town, hook["id"])
            try:
                molecule, next_step = molecules.view(ledger, root, formula)
            except UserError as exc:     # a burned or broken molecule must not hide the hook itself
                warnings.append(f"the hook's molecule {root} cannot be read: {exc}")
            if next_step:
                ralph = status_line(ledger.raw(next_step))
    wd = workdir(town, address)
    worktree = str(wd) if a.role in ("polecat", "crew") and wd is not None else None
    unread = [m for m in inbox(town, address) if not m.read]
    rules = [GUPP] + ROLE_RULES.get(a.role, [])
    if a.role == "mayor":
        rules.append(_rigs_line(town))
    return {
        "agent": str(a), "role": a.role, "rig": a.rig, "name": a.name,
        "hook": dict(hook) if hook is not None else None,
        "molecule": molecule, "next_step": next_step, "worktree": worktree,
        "workdir": str(wd) if wd else None, "town": str(town.root),
        "rules": rules,
        "mail": {"unread": len(unread), "subjects": [f"{m.id}: {m.subject} (from {m.sender})" for m in unread[:5]]},
        "handoff": pending_handoff_note(town, address),
        "warnings": warnings,
        "ralph": ralph,
    }


def _rigs_line(town: Town) -> str:
    rigs = list_rigs(town)
    if not rigs:
        return "This town has no rigs yet: add one with `gastown rig add NAME GIT_URL`, then file work in it."
    return "Rigs in this town: " + ", ".join(f"{r.name} (beads {r.prefix}-…)" for r in rigs) + "."


def render_prime(info: dict, checklist: str | None = None) -> str:
    role, agent = info["role"], info["agent"]
    where = f" in rig {info['rig']}" if info.get("rig") else ""
    lines = [f"# You are {agent} — the {role}{where}", ""]
    if info.get("worktree"):
        lines += [f"Your worktree: {info['worktree']}", ""]
    lines += ["## Rules", *[f"- {r}" for r in info["rules"]], ""]
    hook = info.get("hook")
    if hook:
        lines += ["## 🚨 WORK ON YOUR HOOK — begin now 🚨", "",
                  f"Hooked: {hook['id']} — {hook.get('title', '')} (P{hook.get('priority', 2)})"]
        desc = "\n".join(line for line in (hook.get("description") or "").splitlines()
                         if not _BOOKKEEPING.match(line)).strip()
        if desc:
            lines += ["", desc]
        lines.append("")
        mol = info.get("molecule")
        if mol:
            lines.append(f"## Checklist ({mol.get('total', len(mol['steps'])):,} steps from {mol.get('formula') or 'molecule'} "
                         f"{mol['id']})")
            if checklist:
                lines += ["", checklist.rstrip(), ""]
            else:
                for i, st in enumerate(mol["steps"], mol.get("first_shown", 0) + 1):
                    mark = "x" if st["status"] == "closed" else " "
                    lines.append(f"{i}. [{mark}] {st['id']}: {st['title']}")
                lines.append("")
            if info.get("next_step") and not checklist:
                lines += [f"Next step: {info['next_step']} (close it with `gt mol done {info['next_step']}`)", ""]
            if (info.get("ralph") or {}).get("text"):
                lines += ["## Ralph loop", info["ralph"]["text"], ""]
    else:
        lines += ["## Your hook is empty", "Check your mail (`gt mail inbox`); if there is nothing, wait for work.", ""]
    for warning in info.get("warnings") or ():
        lines += [f"⚠️  {warning}", ""]
    mail = info.get("mail") or {}
    if mail.get("unread"):
        lines += [f"## Mail: {mail['unread']} unread (`gt mail inbox`)", *[f"- {s}" for s in mail["subjects"]], ""]
    if info.get("handoff"):
        lines += ["## Handoff from your previous session", info["handoff"], ""]
    return "\n".join(lines).rstrip() + "\n"
