"""Reads every agent home's usage records, incrementally.

`CostReader(town_root).scan()` looks at `<town>/.runtime/homes/*/` for each CLI's record files
(costs/claude.py, codex.py, gemini.py), reads only what was appended since the last scan (the byte
offset of the last complete line is remembered per file; a file that shrank or was replaced is read
again from the start), and returns every usage record found so far. A line that cannot be read is
kept as a Problem (file, line, reason) and its tokens as unknown: never a crash, never a zero.
Directory listings are cached by the directories' mtimes, so a scan with nothing new costs one stat per
recently written file (the quiet ones are looked at once a minute). The first scan in a process starts
from the states a previous one left in the town's cost cache (costs/cache.py), checked against each file.
"""
from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import orjson

from gastown_tui.costs import cache as costs_cache, claude, codex, gemini
from gastown_tui.costs.files import files_under  # noqa: F401 (re-exported)
from gastown_tui.costs.usage import Problem, Usage

CLIS = (claude, codex, gemini)
QUIET_AFTER = 600.0     # a record file not written for this long (seconds) is a finished session, most likely:
SAVE_EVERY = 60.0       # seconds: a reader that lives this long (the server's) writes the cache (costs/cache.py)
#                         when it read something since; a one-shot read (`gastown costs`) only uses it
QUIET_RECHECK = 60.0    # it is looked at again only this often (a resumed session's new records show within it)


class UsageFormat(Protocol):
    """What each CLI's module (claude, codex, gemini) offers the reader."""

    NAME: str

    def new_state(self) -> dict: ...

    def pick(self, lines: list[bytes]) -> list[int]: ...

    def take(self, objs: list, state: dict, agent_key: str, records: dict) -> list[tuple[int, str]]: ...


@dataclass(slots=True)
class FileState:
    cli: UsageFormat
    agent_key: str
    inode: int = -1
    mtime: float = 0.0      # the file's mtime when last read
    mtime_ns: int = 0
    checked: float = 0.0    # when it was last looked at (stat)
    offset: int = 0
    lineno: int = 0
    parse: dict = field(default_factory=dict)
    records: dict = field(default_factory=dict)     # key -> Usage (a repeated key replaces)
    problems: list = field(default_factory=list)
    size: int = 0           # the file's size when last looked at
    verify: bool = False    # a state from the cache: checked against the file on its first look


class CostReader:
    def __init__(self, town_root: Path, *, cache: bool = True):
        self.homes = Path(town_root) / ".runtime" / "homes"
        self._cache = costs_cache.cache_path(self.homes) if cache else None   # see costs/cache.py
        self._saved = 0.0                   # when the cache was last written (or this reader first read)
        self._dirty = False                 # something was read since
        self._loaded = False
        self._files: dict[str, FileState] = {}
        self._dirs: dict[str, tuple[int, list[str]]] = {}     # home|cli -> (folders' stamp, record files there)
        self._listed: dict[str, tuple[UsageFormat, str]] = {}      # every record file -> (cli module, agent_key)
        self._added: list[str] = []         # record files that appeared since the last refresh
        self._gone: list[str] = []          # ...and those that went
        self._active: set[str] = set()      # files written in the last QUIET_AFTER seconds: stat-checked each time
        self._swept = float("-inf")         # when every file was last looked at
        self._lock = threading.Lock()
        self.changed: set[str] = set()      # files whose records changed in the last scan (or were removed)

    # -- finding files -------------------------------------------------------------------------------
    def _record_files(self) -> None:
        """Brings `_listed` up to date, noting what was added and what went. A folder on the way to a CLI's
        records that did not change (its mtime) is not listed again."""
        try:
            homes = [e for e in os.scandir(self.homes) if e.is_dir()]
        except FileNotFoundError:
            homes = []
        visited = set()
        for home in homes:
            for cli in CLIS:
                key = f"{home.path}|{cli.NAME}"
                visited.add(key)
                stamp = _tree_stamp(cli, home.path)
                cached = self._dirs.get(key)
                if cached is not None and cached[0] == stamp:
                    continue
                found = cli.files(Path(home.path))
                self._dirs[key] = (stamp, found)
                before = set(cached[1]) if cached is not None else set()
                for path in found:
                    self._listed[path] = (cli, home.name)
                self._added += found            # new ones read, the others stat-checked (one may be replaced)
                self._gone += before.difference(found)
        for key in set(self._dirs) - visited:       # a home that went: all its records with it
            self._gone += self._dirs.pop(key)[1]

    # -- reading ---------------------------------------------------------------------------------------
    def scan(self) -> tuple[list[Usage], list[Problem]]:
        """Every usage record and every unreadable one, reading only what is new."""
        with self._lock:
            self.refresh()
            records = [u for st in self._files.values() for u in st.records.values()]
            problems = [p for st in self._files.values() for p in st.problems]
            return records, problems

    def refresh(self) -> dict[str, FileState]:
        """Reads what is new; `changed` names the files whose records changed. Returns every file's state.

        New files are read whole; a file written in the last QUIET_AFTER seconds costs one stat when it
        has nothing new; the quiet ones (finished sessions, most likely) are looked at again once every
        QUIET_RECHECK seconds, all in one sweep (a resumed session's new records show within it)."""
        changed: set[str] = set()
        now = time.time()
        self._record_files()
        if not self._loaded:        # the first refresh: take the states a previous process left
            self._loaded, self._saved = True, now
            if self._cache is not None:
                self._files.update(costs_cache.load(self._cache, self._listed, _new_state))
                changed.update(self._files)
        loaded = len(changed)
        for gone in self._gone:      # a deleted file's records are gone with it
            self._listed.pop(gone, None)
            self._active.discard(gone)
            if self._files.pop(gone, None) is not None:
                changed.add(gone)
        self._gone = []
        if now - self._swept >= QUIET_RECHECK:
            self._swept = now
            todo = list(self._listed)
        else:
            todo = [*self._active, *self._added]
        self._added = []
        files, active, listed = self._files, self._active, self._listed
        for path in todo:
            st = files.get(path)
            if st is None:
                st = files[path] = _new_state(*listed[path])
            elif now - st.mtime > QUIET_AFTER and now - st.checked < QUIET_RECHECK:
                continue        # a session file quiet for a while: looked at again once a minute
            st.checked = now
            if self._read_new(path, st):
                changed.add(path)
            if now - st.mtime <= QUIET_AFTER:
                active.add(path)
            else:
                active.discard(path)
        self._dirty = self._dirty or len(changed) > loaded
        if self._dirty and self._cache is not None and now - self._saved >= SAVE_EVERY:
            self._saved, self._dirty = now, False
            costs_cache.save(self._cache, files)
        self.changed = changed
        return self._files

    def _read_new(self, path: str, st: FileState) -> bool:
        """Reads PATH's new complete lines; True when its records (or problems) changed. A file seen before
        costs one stat when nothing was added; a new one is opened, measured (fstat) and read in one go."""
        try:
            if st.inode < 0:
                fd = os.open(path, os.O_RDONLY)
                try:
                    info = os.fstat(fd)
                    data = _read_at(fd, 0, info.st_size)
                finally:
                    os.close(fd)
                st.inode, st.offset, st.lineno = info.st_ino, 0, 0
                st.mtime, st.mtime_ns, st.size = info.st_mtime, info.st_mtime_ns, info.st_size
                return _take(path, st, data, False)
            info = os.stat(path)
            reset = info.st_ino != st.inode or info.st_size < st.offset    # new, replaced or truncated
            if st.verify:       # from the cache: the very file it was, untouched since, or read from the start
                reset = reset or info.st_size != st.size or info.st_mtime_ns != st.mtime_ns
        except OSError as exc:
            st.problems = [Problem(path, None, f"cannot read: {exc.strerror or exc}")]
            return True
        st.verify = False
        if reset:       # start over
            reset = bool(st.records or st.problems)
            st.inode, st.offset, st.lineno = info.st_ino, 0, 0
            st.parse, st.records, st.problems = st.cli.new_state(), {}, []
        st.mtime, st.mtime_ns, st.size = info.st_mtime, info.st_mtime_ns, info.st_size
        if info.st_size == st.offset:
            return reset
        try:
            fd = os.open(path, os.O_RDONLY)
            try:
                data = _read_at(fd, st.offset, info.st_size - st.offset)
            finally:
                os.close(fd)
        except OSError as exc:
            st.problems.append(Problem(path, None, f"cannot read: {exc.strerror or exc}"))
            return True
        return _take(path, st, data, reset)


def _new_state(cli: UsageFormat, agent_key: str) -> FileState:
    return FileState(cli, agent_key, parse=cli.new_state())


def _read_at(fd: int, offset: int, size: int) -> bytes:
    """SIZE bytes of FD from OFFSET (fewer if the file is shorter by now): os.pread without Python's file
    objects, which cost more than the read itself for the thousands of small files of a cold read."""
    data = os.pread(fd, size, offset)
    if len(data) < size and data:       # a short read (a very large file): read on until the end
        parts = [data]
        while size > 0:
            size -= len(parts[-1])
            offset += len(parts[-1])
            part = os.pread(fd, size, offset) if size > 0 else b""
            if not part:
                break
            parts.append(part)
        data = b"".join(parts)
    return data


def _take(path: str, st: FileState, data: bytes, reset: bool) -> bool:
    """Works the complete lines of DATA (read at st.offset) into st: only the lines that can hold usage are
    decoded (the CLI's `pick`), all of them with one orjson call when they are all sound (else line by line,
    a broken one becoming a Problem naming its line), and the CLI's `take` works them in one pass (of lines
    repeating one record only the last counts)."""
    end = data.rfind(b"\n")
    if end < 0:
        return reset                # half a line so far: read it when it is complete
    st.offset += end + 1
    lines = data.split(b"\n")
    lines.pop()                     # what follows the last newline: half a line, or nothing
    first = st.lineno + 1
    st.lineno += len(lines)
    cli = st.cli
    picked = cli.pick(lines)
    if not picked:
        return True
    raws = [lines[i] for i in picked]
    objs = None
    try:
        objs = orjson.loads(b"[" + b",".join(raws) + b"]")
    except orjson.JSONDecodeError:
        pass
    problems = st.problems
    if objs is None or len(objs) != len(raws):      # some line is not one JSON value: one at a time
        objs = []
        for i, raw in zip(picked, raws):
            try:
                objs.append(orjson.loads(raw))
            except orjson.JSONDecodeError as exc:
                problems.append(Problem(path, first + i, f"unreadable usage record ({exc})"))
                objs.append(None)
    for n, reason in cli.take(objs, st.parse, st.agent_key, st.records):
        problems.append(Problem(path, first + picked[n], reason))
    return True


def _tree_stamp(cli: UsageFormat, home: str) -> int:
    """A number that changes when a record file is added under HOME for CLI (the sum of the mtimes of
    the folders its files live in, down to the session folders)."""
    root = os.path.join(home, *_ROOTS[cli.NAME])
    total = 0
    try:
        total += os.stat(root).st_mtime_ns
        for entry in os.scandir(root):
            if entry.is_dir():
                total += entry.stat().st_mtime_ns
                if cli.NAME != "claude":       # codex: YYYY/MM/DD; gemini: <project>/chats
                    for sub in os.scandir(entry.path):
                        if sub.is_dir():
                            total += sub.stat().st_mtime_ns
                            if cli.NAME == "codex":
                                for day in os.scandir(sub.path):
                                    if day.is_dir():
                                        total += day.stat().st_mtime_ns
    except (FileNotFoundError, NotADirectoryError, PermissionError):
        return -1
    return total


_ROOTS = {"claude": (".claude", "projects"), "codex": (".codex", "sessions"), "gemini": (".gemini", "tmp")}
