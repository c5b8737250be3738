"""An agent CLI's installed version, and version ranges (`>=2.1.300,<3`).

State rules and presets carry version ranges (herdr's manifests carry a
`min_engine_version`): a rule that only holds for some versions of a CLI says
which (`versions`), and a preset says which versions were checked against the
real program (`verified`). The installed version is read once per program file
by running `<program> --version` (blocking: call it in a worker thread, e.g.
`loop.run_in_executor`), and cached by the file's path, size and mtime, so an
upgrade of the CLI is noticed at the next session start.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import threading

Version = tuple[int, ...]

_NUM = re.compile(r"(\d+(?:\.\d+){1,3})")
_CLAUSE = re.compile(r"^\s*(>=|<=|==|!=|>|<|=)?\s*(\d+(?:\.\d+){0,3})\s*$")
_cache: dict[tuple, str | None] = {}
_lock = threading.Lock()


class VersionRangeError(ValueError):
    """A range that cannot be read; the message quotes it."""


def parse_version(text: str | None) -> Version | None:
    """The first dotted number in TEXT (`2.1.337 (Claude Code)`, `codex-cli 0.171.0`), or None."""
    if not text:
        return None
    m = _NUM.search(text)
    return tuple(int(p) for p in m.group(1).split(".")) if m else None


def parse_range(spec: str) -> list[tuple[str, Version]]:
    """`>=2.1.300,<3` -> [('>=', (2, 1, 300)), ('<', (3,))]. VersionRangeError on anything else."""
    if not isinstance(spec, str) or not spec.strip():
        raise VersionRangeError(f"version range must be a non-empty string like '>=2.1.300,<3', got {spec!r}")
    out = []
    for clause in spec.split(","):
        m = _CLAUSE.match(clause)
        if not m:
            raise VersionRangeError(f"bad version range {spec!r}: cannot read {clause.strip()!r} "
                                    "(use >=, >, <=, <, == with a dotted version)")
        out.append((m.group(1) or "==", tuple(int(p) for p in m.group(2).split("."))))
    return out


def _cmp(a: Version, b: Version) -> int:
    n = max(len(a), len(b))
    a, b = a + (0,) * (n - len(a)), b + (0,) * (n - len(b))
    return (a > b) - (a < b)


def in_range(version: Version | str | None, spec: str | None) -> bool:
    """Whether VERSION satisfies SPEC. No spec: always. An unknown version satisfies only a range with no
    upper bound (a rule for the newest versions holds for a build we cannot name; one for old ones not)."""
    if spec is None:
        return True
    clauses = parse_range(spec)
    if isinstance(version, str):
        version = parse_version(version)
    if version is None:
        return not any(op in ("<", "<=", "==", "=") for op, _ in clauses)
    for op, bound in clauses:
        c = _cmp(version, bound)
        ok = {">=": c >= 0, ">": c > 0, "<=": c <= 0, "<": c < 0, "==": c == 0, "=": c == 0, "!=": c != 0}[op]
        if not ok:
            return False
    return True


def resolve_program(program: str, path: str | None = None) -> str | None:
    """The full path of PROGRAM as the session would run it (PATH as given), or None."""
    if os.sep in program:
        return program if os.access(program, os.X_OK) and os.path.isfile(program) else None
    return shutil.which(program, path=path)


def installed_version(program: str, path: str | None = None, timeout: float = 20.0) -> str | None:
    """`PROGRAM --version`'s version (`2.1.337`), or None when it is missing or says nothing readable.
    Blocking (runs the program once per file; cached): call it off the event loop."""
    full = resolve_program(program, path)
    if full is None:
        return None
    try:
        st = os.stat(full)
    except OSError:
        return None
    key = (os.path.realpath(full), st.st_size, st.st_mtime_ns)
    with _lock:
        if key in _cache:
            return _cache[key]
    env = dict(os.environ)
    if path is not None:
        env["PATH"] = path
    try:
        out = subprocess.run([full, "--version"], capture_output=True, text=True, timeout=timeout,
                             stdin=subprocess.DEVNULL, env=env)
        text = (out.stdout or "") + "\n" + (out.stderr or "")
        version = parse_version(text) if out.returncode == 0 else None
    except (OSError, subprocess.TimeoutExpired):
        version = None
    found = ".".join(str(p) for p in version) if version else None
    with _lock:
        _cache[key] = found
    return found
