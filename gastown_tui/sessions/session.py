"""One agent program in a pseudo-terminal: its process, screen, transcript and state.

The PTY is opened with pexpect; its file descriptor is registered with the
asyncio loop (`loop.add_reader`), so there is no thread per session. Every
readable event drains what is pending (up to a cap, to stay fair to other
sessions), feeds the VT engine, and appends to the raw transcript. The engine
answers the program's terminal queries (DA1/DA2, cursor position, OSC 10/11
colours, XTVERSION) through `screen.on_reply`, which writes back to the PTY.
"""
from __future__ import annotations

import asyncio
import datetime as _dt
import errno
import logging
import os
import time
import uuid
from pathlib import Path
from typing import Callable

import pexpect

from gastown_tui.sessions import procs
from gastown_tui.sessions.keys import encode_key, encode_mouse, encode_paste
from gastown_tui.sessions.lifecycle import Lifecycle
from gastown_tui.sessions.presets import Preset, load_presets
from gastown_tui.sessions.rules import Detector
from gastown_tui.sessions.screen_log import ScreenLog
from gastown_tui.sessions.spec import SessionError, SessionSpec, agent_environment
from gastown_tui.sessions.session_state import SessionStates
from gastown_tui.sessions.session_text import TEXT_FLUSH_EVERY, SessionText  # noqa: F401
from gastown_tui.sessions.states import NudgeResult, SessionExited, SessionStarted, SessionState
from gastown_tui.sessions.submit import submit_text
from gastown_tui.sessions.transcript import Transcript, raw_tail, sessions_root
from gastown_tui.sessions.vt import new_screen
from gastown_tui.town.addresses import agent_key, parse_address

log = logging.getLogger(__name__)

READ_CHUNK = 65536
READ_CAP = 1 << 20  # bytes per readable event before yielding to other sessions


def _where_to_set(preset: str) -> str:
    return (f"install it, or set its path with `gastown config set agents.{preset}.path /full/path/to/program` "
            "(see `gastown agents`)")


def _winsize(fd: int) -> tuple[int, int] | None:
    """(cols, rows) of the PTY behind `fd`, or None."""
    import fcntl
    import struct
    import termios

    try:
        rows, cols, _, _ = struct.unpack("HHHH", fcntl.ioctl(fd, termios.TIOCGWINSZ, b"\0" * 8))
    except OSError:
        return None
    return (cols, rows) if cols and rows else None


def _iso(ts: float | None) -> str | None:
    return None if ts is None else _dt.datetime.fromtimestamp(ts, _dt.timezone.utc).isoformat()


class Session(Lifecycle):
    """The PTY, screen, transcript and state of one agent program; its process lifecycle (exit, stop,
    leftovers) is the `Lifecycle` mixin (sessions/lifecycle.py); its state tracking is a `SessionStates`
    (sessions/session_state.py) and its plain-text side a `SessionText` (sessions/session_text.py)."""

    def __init__(self, spec: SessionSpec, presets: dict[str, Preset] | None = None) -> None:
        try:
            address = parse_address(spec.agent)
        except ValueError as exc:
            raise SessionError(f"session for {spec.agent!r}: {exc}") from None
        if isinstance(spec.preset, str):
            presets = presets if presets is not None else load_presets(spec.town)
            if spec.preset not in presets:
                raise SessionError(f"session for {spec.agent}: unknown preset {spec.preset!r} "
                                   f"(known: {', '.join(sorted(presets))})")
            self.preset = presets[spec.preset]
        else:
            self.preset = spec.preset
        self.spec = spec
        self.address = address
        self.agent = str(address)
        self.agent_key = agent_key(self.agent)
        self.id = uuid.uuid4().hex[:12]
        self.screen = new_screen(spec.cols, spec.rows, spec.scrollback_lines, engine=spec.engine)
        self.screen.on_reply = self.write
        self.screen.on_osc = self._on_osc
        self.state = SessionState.STARTING
        self.state_rule = f"{self.preset.name}.starting"
        self.state_detail = "started; waiting for the ready screen"
        self.exit_status: int | None = None
        self.pid: int | None = None
        self.tty: str | None = None  # the PTY's slave side, e.g. /dev/pts/5
        self.argv: list[str] = []
        # One clock rule (sessions/clock.py): started_at/ended_at are wall-clock (recorded in
        # meta.json); every other instant a session keeps is monotonic.
        self.started_at: float | None = None
        self.ended_at: float | None = None
        self.last_output_at = time.monotonic()
        self.last_screen_change_at = time.monotonic()
        self.output_seq = 0
        self.osc7501: str | None = None
        self.cli_version: str | None = None  # `argv[0] --version`, read at start (rules carry version ranges)
        self.screen_log = ScreenLog()  # what it said on the alternate screen (gone from the screen at exit)
        self._osc_changed = False
        self._detector = Detector(list(self.preset.rules), self.preset.stuck_after, self.preset.name)
        self._proc: pexpect.spawn | None = None
        self._fd: int | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._listeners: list[Callable[[object], None]] = []
        self._output_listeners: list[Callable[["Session"], None]] = []
        self._outbuf = bytearray()
        self._writer_on = False
        self._exited = asyncio.Event()
        self._states = SessionStates(self)  # classifying, setting and waiting for the state
        self._watch_task: asyncio.Task | None = None
        self._eof = False
        self._finishing = False
        self._pidfd: procs.ExitWatcher | None = None  # Linux: instant exit notice
        self._reap_task: asyncio.Task | None = None  # after the exit: leftovers, PTY, transcript
        self._text = SessionText(self)  # what it said, and seance's plain-text copy of it
        self._input_lock = asyncio.Lock()
        self.stopping = False  # stop() began: nothing more is typed in
        self._beacon_task: asyncio.Task | None = None
        root = sessions_root(spec.town) if spec.town else Path(os.environ.get("TMPDIR", "/tmp")) / "gastown-sessions"
        self.transcript_dir = root / self.agent_key / self.id
        self.transcript: Transcript | None = None
        self.keeper = None  # a KeeperLink (sessions/kept.py): the keeper holds this PTY while the server lives
        self.adopted = False  # started by an earlier server, handed over by the keeper

    # -- listeners ---------------------------------------------------------------------------
    def add_listener(self, fn: Callable[[object], None]) -> None:
        """fn(event) for StateChange, SessionStarted and SessionExited, called on the loop."""
        self._listeners.append(fn)

    def add_output_listener(self, fn: Callable[["Session"], None]) -> None:
        """fn(session) after each batch of output (do not render here: use a frame timer)."""
        self._output_listeners.append(fn)

    def remove_listener(self, fn: Callable[[object], None]) -> None:
        if fn in self._listeners:
            self._listeners.remove(fn)

    def remove_output_listener(self, fn: Callable[["Session"], None]) -> None:
        """For panes that come and go; removing one that is not there is fine."""
        if fn in self._output_listeners:
            self._output_listeners.remove(fn)

    def _emit(self, event: object) -> None:
        for fn in list(self._listeners):
            fn(event)

    # -- environment ---------------------------------------------------------------------------
    def environment(self) -> dict[str, str]:
        """The program's environment (the agent's identity, TERM, shims first on PATH)."""
        return agent_environment(self.spec, self.preset, self.address, self.id)

    # -- start ---------------------------------------------------------------------------------
    async def start(self) -> None:
        if self._proc is not None:
            raise SessionError(f"session {self.id} for {self.agent} was already started")
        self._loop = asyncio.get_running_loop()
        cwd = Path(self.spec.cwd)
        if not cwd.is_dir():
            raise SessionError(f"session for {self.agent}: working directory {cwd} does not exist")
        beacon = self.spec.beacon if self.preset.beacon != "paste" else None
        self.argv = list(self.spec.argv) if self.spec.argv else self.preset.command(beacon, resume=self.spec.resume)
        env = self.environment()
        if self.spec.town:  # a real agent CLI gets its own seeded home (no first-run dialogs)
            from gastown_tui.sessions.homes import HomeError, home_env

            try:
                env.update(home_env(Path(self.spec.town), self.agent_key, self.argv[0], cwd, environ=env,
                                    preset=self.preset.name))
            except HomeError as exc:
                raise SessionError(f"session for {self.agent}: cannot prepare its home: {exc}") from None
        if any(rule.versions for rule in self.preset.rules):  # cached per program file; run off the loop
            from gastown_tui.sessions.cli_version import installed_version

            self.cli_version = await self._loop.run_in_executor(None, installed_version, self.argv[0],
                                                                env.get("PATH"))
            self._detector.set_version(self.cli_version)
        try:
            proc = pexpect.spawn(self.argv[0], self.argv[1:], cwd=str(cwd), env=env,
                                 dimensions=(self.spec.rows, self.spec.cols), echo=True, use_poll=True)
        except pexpect.ExceptionPexpect as exc:
            raise SessionError(f"session for {self.agent} (preset {self.preset.name}): cannot run "
                               f"{self.argv[0]!r}: {exc}; {_where_to_set(self.preset.name)}") from None
        proc.delayafterclose = proc.ptyproc.delayafterclose = 0.0  # it sleeps that long in close(), on the loop
        self._proc = proc
        self.pid = proc.pid
        self.tty = procs.pty_name(proc.child_fd) or procs.tty_of(proc.pid)
        self._fd = proc.child_fd
        os.set_blocking(self._fd, False)
        self.started_at = time.time()
        self.last_output_at = time.monotonic()
        self.transcript = Transcript(self.transcript_dir, write_through=self.keeper is not None)
        self._write_meta()
        if self.keeper is not None:
            self.keeper.keep(self.pid, self._fd, self._keeper_record())
        self._loop.add_reader(self._fd, self._on_readable)
        self._watch_task = self._loop.create_task(self._watch(), name=f"session-watch-{self.agent_key}")
        self._watch_pidfd()
        self._emit(SessionStarted(self.id, self.agent, self.pid, tuple(self.argv), time.time()))
        if self.preset.beacon == "paste" and self.spec.beacon:
            self._beacon_task = self._loop.create_task(self._deliver_beacon(self.spec.beacon))

    def _keeper_record(self) -> dict:
        """What a later server needs to adopt this session (sessions/kept.py, SessionManager.adopt_kept)."""
        spec = self.spec
        return {"agent": self.agent, "session_id": self.id, "preset": self.preset.name,
                "transcript_dir": str(self.transcript_dir), "argv": self.argv, "started_at": self.started_at,
                "spec": {"cwd": str(spec.cwd), "town": str(spec.town) if spec.town else None,
                         "env": {str(k): str(v) for k, v in spec.env.items()}, "argv": spec.argv,
                         "beacon": spec.beacon, "cols": spec.cols, "rows": spec.rows,
                         "scrollback_lines": spec.scrollback_lines, "resume": spec.resume, "engine": spec.engine}}

    async def adopt(self, kept, link=None, tail_bytes: int = 512 * 1024) -> None:
        """Takes over an agent another server started (`kept`: a sessions.kept.Kept handed over by the
        keeper): its PTY master and pid, the same session id and transcript folder. The screen is rebuilt
        from the transcript's tail, then the program is asked to repaint (its size changed and changed back,
        two SIGWINCHes). Its exit is seen by pidfd; the status comes from waitpid or from the keeper."""
        from gastown_tui.sessions.kept import AdoptedProcess

        if self._proc is not None:
            raise SessionError(f"session {self.id} for {self.agent} was already started")
        self._loop = asyncio.get_running_loop()
        record = kept.record
        self.id = record.get("session_id") or self.id
        if record.get("transcript_dir"):
            self.transcript_dir = Path(record["transcript_dir"])
        self.argv = list(record.get("argv") or [])
        self.started_at = record.get("started_at") or time.time()
        self.adopted = True
        self.keeper = link
        proc = AdoptedProcess(kept.pid, kept.fd, link, kept.status)
        self._proc = proc
        self.pid = kept.pid
        self._fd = kept.fd
        self.tty = procs.pty_name(kept.fd)
        os.set_blocking(self._fd, False)
        cols, rows = _winsize(kept.fd) or (self.screen.cols, self.screen.rows)
        if (cols, rows) != (self.screen.cols, self.screen.rows):
            self.screen.resize(cols, rows)
        tail = await self._loop.run_in_executor(None, raw_tail, self.transcript_dir, tail_bytes)
        self.screen.on_reply = lambda data: None  # old queries in the replay are not answered again
        try:
            self.screen.feed(tail)
        finally:
            self.screen.on_reply = self.write
        self.transcript = Transcript(self.transcript_dir, write_through=link is not None)
        self.last_output_at = time.monotonic()
        self._write_meta()
        self._loop.add_reader(self._fd, self._on_readable)
        self._watch_task = self._loop.create_task(self._watch(), name=f"session-watch-{self.agent_key}")
        self._watch_pidfd()
        self._emit(SessionStarted(self.id, self.agent, self.pid, tuple(self.argv), time.time()))
        self._check_exit()
        if not self.exited:
            self._schedule_classify()
            self._loop.create_task(self._repaint_nudge(cols, rows), name=f"session-repaint-{self.agent_key}")

    async def _repaint_nudge(self, cols: int, rows: int) -> None:
        """A size change and back: the program redraws its whole screen (the herdr trick)."""
        try:
            self._proc.setwinsize(rows, max(2, cols - 1))
            await asyncio.sleep(0.05)
            if not self.exited and (self.screen.cols, self.screen.rows) == (cols, rows):
                self._proc.setwinsize(rows, cols)
        except OSError:
            pass

    async def _deliver_beacon(self, text: str) -> None:
        await self.wait_state({SessionState.IDLE}, timeout=self.preset.ready_timeout)
        if self.alive:
            await self.submit(text)

    def _meta(self) -> dict:
        return {
            "session_id": self.id, "agent": self.agent, "agent_key": self.agent_key, "preset": self.preset.name,
            "argv": self.argv, "cwd": str(self.spec.cwd), "pid": self.pid, "cols": self.screen.cols,
            "rows": self.screen.rows, "started_at": _iso(self.started_at), "ended_at": _iso(self.ended_at),
            "exit_status": self.exit_status, "state": str(self.state), "state_rule": self.state_rule,
            "resume": self.spec.resume, "engine": self.screen.engine, "cli_version": self.cli_version,
            **self._transcript_problem(),
        }

    def _transcript_problem(self) -> dict:
        """A raw-transcript write that failed (disk full, folder removed) is said in meta.json."""
        t = self.transcript
        if t is None or t.error is None:
            return {}
        return {"transcript_error": f"{t.raw_path}: {t.error}", "transcript_bytes_lost": t.bytes_lost}

    def _write_meta(self) -> None:
        if self.transcript is not None:
            self.transcript.write_meta(self._meta())

    # -- output --------------------------------------------------------------------------------
    def _on_readable(self) -> None:
        total = 0
        chunks = []
        eof = False
        while total < READ_CAP:
            try:
                data = os.read(self._fd, READ_CHUNK)
            except BlockingIOError:
                break
            except OSError as exc:
                if exc.errno in (errno.EIO, errno.EBADF):
                    data = b""
                else:
                    raise
            if not data:
                eof = True
                break
            chunks.append(data)
            total += len(data)
        if chunks:
            data = b"".join(chunks)
            self.screen.feed(data)
            if self.transcript is not None:
                self.transcript.append(data)
            self.last_output_at = time.monotonic()
            self.output_seq += 1
            self._text.dirty = True
            if self._osc_changed:  # Codex may say working and blocked within one debounce: do not miss it
                self._osc_changed = False
                if self._states.handle is not None:
                    self._states.handle.cancel()
                self._classify()
            self._schedule_classify()
            for fn in list(self._output_listeners):
                fn(self)
        if eof:  # only after the last bytes reached the screen and the transcript
            self._on_eof()

    def _on_osc(self, number: int, payload: str) -> None:
        if number == 7501:  # Codex: state=working:app=codex / state=blocked:... / state=idle
            for part in payload.split(":"):
                key, _, value = part.partition("=")
                if key == "state" and value != self.osc7501:
                    self.osc7501 = value
                    self._osc_changed = True  # an explicit state: classified as soon as this batch is on screen
            self._schedule_classify()

    def _on_eof(self) -> None:
        if self._eof:
            return
        self._eof = True
        if self._loop is not None and self._fd is not None:
            self._loop.remove_reader(self._fd)
            if self._writer_on:
                self._loop.remove_writer(self._fd)
                self._writer_on = False
        self._check_exit()

    # -- input ---------------------------------------------------------------------------------
    def write(self, data: bytes) -> None:
        """Sends bytes to the program (buffered without blocking when the PTY is full)."""
        if not data or self._fd is None or self.exited:
            return
        self._outbuf += data
        self._flush_out()

    def _flush_out(self) -> None:
        while self._outbuf:
            try:
                n = os.write(self._fd, self._outbuf)
            except BlockingIOError:
                n = 0
            except OSError:
                self._outbuf.clear()
                break
            if n == 0:
                break
            del self._outbuf[:n]
        want = bool(self._outbuf)
        if want != self._writer_on and self._loop is not None and not self._eof:
            if want:
                self._loop.add_writer(self._fd, self._flush_out)
            else:
                self._loop.remove_writer(self._fd)
            self._writer_on = want

    def send_key(self, key: str) -> None:
        self.write(encode_key(key, self.screen.modes))

    def paste(self, text: str) -> None:
        self.write(encode_paste(text, self.screen.modes))

    def send_mouse(self, kind: str, button: int, x: int, y: int, **mods) -> None:
        self.write(encode_mouse(kind, button, x, y, self.screen.modes, **mods))

    def resize(self, cols: int, rows: int) -> None:
        self.screen.resize(cols, rows)
        if self._proc is not None and not self.exited:
            try:
                self._proc.setwinsize(rows, cols)
            except OSError:
                pass

    async def submit(self, text: str) -> NudgeResult:
        """Types `text` and presses Enter until the program took it (see sessions/submit.py)."""
        if self.stopping:
            return NudgeResult(False, 0, f"{self.agent} is being stopped")
        async with self._input_lock:
            if self.stopping:
                return NudgeResult(False, 0, f"{self.agent} is being stopped")
            return await submit_text(self, text)

    # -- state (sessions/session_state.py) --------------------------------------------------------
    @property
    def waiters(self) -> int:
        """Coroutines waiting on a state: classify promptly while > 0."""
        return self._states.waiters

    @waiters.setter
    def waiters(self, value: int) -> None:
        self._states.waiters = value

    def _schedule_classify(self) -> None:
        self._states.schedule()

    def _classify(self) -> None:
        self._states.classify()

    def _set_state(self, state: SessionState, rule: str, detail: str) -> None:
        self._states.set(state, rule, detail)

    async def wait_state(self, states: set[SessionState], timeout: float | None = None) -> bool:
        """Waits until the state is one of `states` (or exited); False on timeout."""
        return await self._states.wait(states, timeout)

    # -- lifecycle (the process side is in sessions/lifecycle.py) --------------------------------
    async def _watch(self) -> None:
        """Exit checks, timing-based state rules and the plain-text transcript, 4 times a second."""
        forced_at = 0.0
        loop = asyncio.get_running_loop()
        while not self.exited:
            # on a shared 0.25 s grid: every session's watch wakes the loop once, not once each (remote
            # sessions start a round trip apart, so unaligned they woke an idle town 40 times a second)
            await asyncio.sleep(0.25 - loop.time() % 0.25)
            self._check_exit()
            if self.exited:
                break
            now = time.monotonic()
            if now - forced_at >= 1.0:  # timing rules (quiet_for, stuck) change without output
                forced_at = now
                self._schedule_classify()
            if self._text.due(now):
                self._flush_text()

    def _finish(self, status: int) -> None:
        """The program exited (or is given up on): last output drained, state exited; then the lifecycle
        kills what it left behind and `_closing_job` closes the PTY and finishes the transcript."""
        if self.ended_at is not None or self._finishing:
            return
        self._finishing = True
        # Drain whatever the program wrote last before closing the PTY.
        if not self._eof and self._fd is not None:
            try:
                self._on_readable()
            except OSError:
                pass
        self.exit_status = status
        self.ended_at = time.time()
        if self._loop is not None and self._fd is not None and not self._eof:
            self._loop.remove_reader(self._fd)
            if self._writer_on:
                self._loop.remove_writer(self._fd)
        self._eof = True
        self._states.cancel()
        self._close_pidfd()
        self._replay_screen_log()
        self._set_state(SessionState.EXITED, "process.exit",
                        f"exited with status {status}" if status >= 0 else f"killed by signal {-status}")
        self._after_exit()

    def _closing_job(self) -> Callable[[], None]:
        """A blocking job (run in a worker thread once the leftovers are dead): close the PTY, write the
        plain-text history and meta.json (atomic, fsynced), flush and close the raw transcript. The text
        is taken here, on the loop (the engine is not thread-safe); it is the last copy written (any
        earlier one still in flight is dropped, see _text_job), and no copy is taken after it."""
        proc, transcript = self._proc, self.transcript
        write_text = self._text.final_job(transcript)
        meta = self._meta()

        keeper, pid = self.keeper, self.pid

        def job() -> None:
            try:
                proc.close(force=True)
            except Exception as exc:  # the program is gone either way; say why closing failed
                log.warning("session %s (%s): closing the PTY failed: %s", self.id, self.agent, exc)
            if keeper is not None and pid:
                keeper.release(pid)  # the keeper closes its copy of the PTY and forgets the agent
            if transcript is None:
                return
            try:
                transcript.close()  # every raw byte on disk before the exit is announced
            except OSError:
                pass
            try:
                if write_text is not None:
                    write_text()
                meta.update(self._transcript_problem())  # known once the last bytes were written
                transcript.write_meta(meta)
            except OSError:
                pass
        return job

    def _announce_exit(self) -> None:
        if self._exited.is_set():
            return
        self._exited.set()
        self._emit(SessionExited(self.id, self.agent, self.exit_status, time.time()))

    # -- plain text (sessions/session_text.py) ---------------------------------------------------
    def _flush_text(self) -> None:
        self._text.flush()

    def _replay_screen_log(self) -> None:
        self._text.replay_screen_log()

    def conversation_text(self) -> str:
        """What the program said: the text it showed on the alternate screen (kept as it changed), then
        the main screen's scrollback and screen (on the loop: the engine is not thread-safe)."""
        return self._text.conversation_text()

    def _text_job(self, text: str) -> Callable[[], None]:
        """A blocking job writing `text` as transcript.txt unless a newer text is already written."""
        return self._text.job(text)

    def close_screen(self) -> None:
        self.screen.close()
