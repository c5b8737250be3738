"""Encoding records as Beads v0.49 writes them, and the canonical key order.

Go's `json.Encoder` writes struct fields in declaration order, omits empty
`omitempty` fields, keeps UTF-8 raw and escapes `<`, `>`, `&`, U+2028 and U+2029.
`encode()` reproduces that byte for byte for records in canonical order.
"""
from __future__ import annotations

import json

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

_encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
_decoder = json.JSONDecoder()
_decode = _decoder.decode
_scan = _decoder.scan_once          # the C scanner, without decode()'s two regex passes


def _empty(value) -> bool:
    return value is None or value == "" or value is False or value == [] or value == {} or (
        value == 0 and not isinstance(value, bool) and isinstance(value, int)
    )


def _ordered(obj: dict, keys, always) -> dict:
    out = {}
    for k in keys:
        if k in obj:
            v = obj[k]
            if k in always or not _empty(v):
                out[k] = v
    for k, v in obj.items():  # unknown keys: kept, in their original order, after the known ones
        if k not in out and k not in keys:
            out[k] = v
    return out


def canonical(record: dict) -> dict:
    """The record with keys in v0.49 order, empty optional fields dropped, unknown keys last."""
    out = _ordered(record, ISSUE_KEYS, ISSUE_ALWAYS)
    deps = out.get("dependencies")
    if deps:
        out["dependencies"] = [
            _ordered(d, DEPENDENCY_KEYS, DEPENDENCY_ALWAYS) if isinstance(d, dict) else d for d in deps
        ]
    comments = out.get("comments")
    if comments:
        out["comments"] = [
            _ordered(c, COMMENT_KEYS, COMMENT_ALWAYS) if isinstance(c, dict) else c for c in comments
        ]
    return out


def dumps(obj) -> str:
    """Compact JSON with Go's escaping (no canonical reordering)."""
    s = _encoder.encode(obj)
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


def decode(line: str):
    """Parses one line (any of the three real styles); ValueError (JSONDecodeError) if it is not JSON."""
    try:
        obj, end = _scan(line, 0)
    except StopIteration:
        return _decode(line)            # leading space or not JSON: the full decoder says which
    if end != len(line) and line[end:].strip():
        return _decode(line)            # extra data after the value: let the decoder name it
    return obj


def decode_joined(lines: list[str]) -> list:
    """The values of many one-value lines, parsed as one JSON array (ValueError if that fails)."""
    return _decode("[" + ",".join(lines) + "]")
