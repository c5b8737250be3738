"""Encoding records as Beads v0.49 writes them, and the canonical key order.

Go's `json.Encoder` writes struct fields in declaration order, omits empty
`omitempty` fields, keeps UTF-8 raw and escapes `<`, `>`, `&`, U+2028 and U+2029.
`encode()` reproduces that byte for byte for records in canonical order.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

# beads-format.md §1.1, @v0.49.0 (the JSONL era). Keys without omitempty are listed in ALWAYS.
ISSUE_KEYS = (
    "id title description design acceptance_criteria notes status priority issue_type assignee owner "
    "estimated_minutes created_at created_by updated_at closed_at close_reason closed_by_session due_at "
    "defer_until external_ref source_system compaction_level compacted_at compacted_at_commit "
    "original_size labels dependencies comments deleted_at deleted_by delete_reason original_type "
    "sender ephemeral pinned is_template bonded_from creator validations quality_score crystallizes "
    "await_type await_id timeout waiters holder source_formula source_location hook_bead role_bead "
    "agent_state last_activity role_type rig mol_type work_type event_kind actor target payload"
).split()
ISSUE_ALWAYS = frozenset({"id", "title", "priority", "created_at", "updated_at"})
DEPENDENCY_KEYS = ("issue_id", "depends_on_id", "type", "created_at", "created_by", "metadata", "thread_id")
DEPENDENCY_ALWAYS = frozenset({"issue_id", "depends_on_id", "type", "created_at"})
COMMENT_KEYS = ("id", "issue_id", "author", "text", "created_at")
COMMENT_ALWAYS = frozenset(COMMENT_KEYS)

_ISSUE_RANK = {k: i for i, k in enumerate(ISSUE_KEYS)}
_DEPENDENCY_RANK = {k: i for i, k in enumerate(DEPENDENCY_KEYS)}
_COMMENT_RANK = {k: i for i, k in enumerate(COMMENT_KEYS)}

_encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
_decoder = json.JSONDecoder()
_decode = _decoder.decode
# the C scanner, without decode()'s two regex passes (set by JSONDecoder.__init__; typeshed omits it)
_scan = _decoder.scan_once  # type: ignore[attr-defined]


def _c_encoder() -> Callable[[object, int], Iterable[str]] | None:
    """The C encoder `json.JSONEncoder.encode` builds afresh on every call, built once (no
    circular-reference markers: records come from JSON). None when unavailable or when it would
    not write exactly what the standard encoder writes."""
    try:
        # the C accelerators' names, None without _json; typeshed does not declare them
        from json.encoder import c_encode_basestring, c_make_encoder  # type: ignore[attr-defined]
        if c_make_encoder is None or c_encode_basestring is None:
            return None
        enc = c_make_encoder(None, _encoder.default, c_encode_basestring, None, ":", ",", False, False, True)
        sample = {"a": ["é<>&\u2028", 1, 2.5, -0.0, 1e300, None, True, False, {}, [], {"b": "\"\\\n"}], "": 0}
        if "".join(enc(sample, 0)) != _encoder.encode(sample):
            return None
        return enc
    except (TypeError, ValueError, AttributeError):  # a Python whose C encoder takes other arguments
        return None


_C_ENCODE = _c_encoder()


def _empty(value: object) -> bool:
    return value is None or value == "" or value is False or value == [] or value == {} or (
        value == 0 and not isinstance(value, bool) and isinstance(value, int)
    )


# Canonical order depends only on which keys a record has, in which order; records written
# in bulk share a handful of such shapes, so each shape's plan is worked out once (per kind).
_MAX_PLANS = 4096
_ISSUE_PLANS: dict[tuple, tuple] = {}
_DEPENDENCY_PLANS: dict[tuple, tuple] = {}
_COMMENT_PLANS: dict[tuple, tuple] = {}


def _plan(shape: tuple, plans: dict, rank: dict, always: frozenset[str]) -> tuple:
    """(keys in canonical order, the optional known keys (dropped when empty), order == shape)."""
    known = sorted((k for k in shape if k in rank), key=rank.__getitem__)
    order = tuple(known) + tuple(k for k in shape if k not in rank)    # unknown keys last, as they came
    plan = (order, tuple(k for k in known if k not in always), order == shape)
    if len(plans) >= _MAX_PLANS:
        plans.clear()
    plans[shape] = plan
    return plan


def _ordered(obj: dict, plans: dict, rank: dict, always: frozenset[str], copy: bool = True) -> dict:
    """Keys in canonical order, empty optional known keys dropped, unknown keys last in their own
    order. With copy=False the record itself comes back when it is already canonical."""
    shape = tuple(obj)
    plan = plans.get(shape)
    if plan is None:
        plan = _plan(shape, plans, rank, always)
    order, optional, same = plan
    drop = None
    for k in optional:
        v = obj[k]
        if not v and _empty(v):
            if drop is None:
                drop = {k}
            else:
                drop.add(k)
    if drop is None:
        if same:
            return dict(obj) if copy else obj
        return {k: obj[k] for k in order}
    return {k: obj[k] for k in order if k not in drop}


def canonical(record: dict) -> dict:
    """The record with keys in v0.49 order, empty optional fields dropped, unknown keys last.
    (A new dict; its dependency and comment objects may be the record's own when already canonical.)"""
    out = _ordered(record, _ISSUE_PLANS, _ISSUE_RANK, ISSUE_ALWAYS)
    deps = out.get("dependencies")
    if deps:
        out["dependencies"] = [
            _ordered(d, _DEPENDENCY_PLANS, _DEPENDENCY_RANK, DEPENDENCY_ALWAYS, False) if isinstance(d, dict) else d for d in deps
        ]
    comments = out.get("comments")
    if comments:
        out["comments"] = [
            _ordered(c, _COMMENT_PLANS, _COMMENT_RANK, COMMENT_ALWAYS, False) if isinstance(c, dict) else c for c in comments
        ]
    return out


def dumps(obj: object) -> str:
    """Compact JSON with Go's escaping (no canonical reordering)."""
    s = "".join(_C_ENCODE(obj, 0)) if _C_ENCODE is not None else _encoder.encode(obj)
    if "<" in s:
        s = s.replace("<", "\\u003c")
    if ">" in s:
        s = s.replace(">", "\\u003e")
    if "&" in s:
        s = s.replace("&", "\\u0026")
    if "\u2028" in s:
        s = s.replace("\u2028", "\\u2028")
    if "\u2029" in s:
        s = s.replace("\u2029", "\\u2029")
    return s


def encode(record: dict) -> str:
    """One canonical JSONL line (without the newline) for a bead record."""
    return dumps(canonical(record))


def decode(line: str) -> Any:      # a JSON value
    """Parses one line (any of the three real styles); ValueError (JSONDecodeError) if it is not JSON."""
    try:
        obj, end = _scan(line, 0)
    except StopIteration:
        return _decode(line)            # leading space or not JSON: the full decoder says which
    if end != len(line) and line[end:].strip():
        return _decode(line)            # extra data after the value: let the decoder name it
    return obj


def json_error(exc: ValueError) -> str:
    """Why a line is not JSON: the decoder's message and column, or the plain ValueError's own
    text (a number too long to convert raises one with neither)."""
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg} at column {exc.colno}"
    return str(exc)


def decode_joined(lines: list[str]) -> list:
    """The values of many one-value lines, parsed as one JSON array (ValueError if that fails)."""
    return _decode("[" + ",".join(lines) + "]")
