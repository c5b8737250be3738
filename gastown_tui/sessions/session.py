"""One agent program in a pseudo-terminal: its process, screen, transcript and state.

The PTY is opened with pexpect. A `Session` is the hub of four collaborators,
one concept each:
- `PtyIO` (sessions/pty_io.py): reads the PTY master on the loop, writes to it
  without blocking, counts the batches of output and tells the output listeners;
- `SessionStates` (sessions/session_state.py): classifies the screen, sets the
  state, waits for one;
- `SessionText` (sessions/session_text.py): the plain-text copy of what it said;
- `Lifecycle` (sessions/lifecycle.py): the exit, stop(), the reaping of what the
  program left behind, through the interface `LifecycleHost` this class provides.
Each batch of output feeds the VT engine and the raw transcript
(`_take_output`). The engine answers the program's terminal queries (DA1/DA2,
cursor position, OSC 10/11 colours, XTVERSION) through `screen.on_reply`,
which writes back to the PTY.
"""
from __future__ import annotations

import asyncio
import datetime as _dt
import logging
import os
import time
import uuid
from pathlib import Path
from typing import Callable, Protocol

import pexpect

from gastown_tui.sessions import child_signals, procs
from gastown_tui.sessions.keys import encode_key, encode_mouse, encode_paste
from gastown_tui.sessions.cli_version import installed_version
from gastown_tui.sessions.homes import HomeError, home_env
from gastown_tui.sessions.kept import Kept, KeeperLink
from gastown_tui.sessions.adoption import TAIL_BYTES, adopt, keeper_record
from gastown_tui.sessions.lifecycle import Lifecycle
from gastown_tui.sessions.presets import Preset, load_presets
from gastown_tui.sessions.pty_io import READ_CAP, READ_CHUNK, PtyIO  # noqa: F401  (READ_*: their old home)
from gastown_tui.sessions.rules import Detector
from gastown_tui.sessions.screen_log import ScreenLog
from gastown_tui.sessions.spec import (  # SessionError, SessionSpec: re-exported (their old home)
    SessionError as SessionError, SessionSpec as SessionSpec, agent_environment,
)
from gastown_tui.sessions.session_state import SessionStates
from gastown_tui.sessions.session_text import TEXT_FLUSH_EVERY, SessionText  # noqa: F401
from gastown_tui.sessions.states import NudgeResult, SessionStarted, SessionState
from gastown_tui.sessions.submit import submit_text
from gastown_tui.sessions.transcript import Transcript, sessions_root
from gastown_tui.sessions.vt import new_screen
from gastown_tui.town.addresses import agent_key, parse_address

log = logging.getLogger(__name__)


def _where_to_set(preset: str) -> str:
    return (f"install it, or set its path with `gastown config set agents.{preset}.path /full/path/to/program` "
            "(see `gastown agents`)")


def _iso(ts: float | None) -> str | None:
    return None if ts is None else _dt.datetime.fromtimestamp(ts, _dt.timezone.utc).isoformat()


class ChildProcess(Protocol):
    """What a session holds of its program: pexpect's child, or a stand-in (sessions/kept.py
    AdoptedProcess, nodes/remote_session.py RemoteProcess)."""

    def isalive(self) -> bool: ...

    def setwinsize(self, rows: int, cols: int) -> None: ...

    def close(self, force: bool = True) -> None: ...


class Session:
    """One agent program: its screen, transcript and state. Its PTY I/O is a `PtyIO` (sessions/pty_io.py),
    its process lifecycle (exit, stop, leftovers) a `Lifecycle` (sessions/lifecycle.py), its state tracking
    a `SessionStates` (sessions/session_state.py) and its plain-text side a `SessionText`
    (sessions/session_text.py)."""

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
        self._io = PtyIO(self, self._take_output, self._at_eof, on_read=self._keep)  # the PTY master: reading,
        # writing, listeners
        self.last_screen_change_at = time.monotonic()
        self.osc7501: str | None = None
        self.cli_version: str | None = None  # `argv[0] --version`, read at start (rules carry version ranges)
        self.screen_log = ScreenLog()  # what it said on the alternate screen (gone from the screen at exit)
        self._osc_changed = False
        self._detector = Detector(list(self.preset.rules), self.preset.stuck_after, self.preset.name)
        self._proc: ChildProcess | None = None
        self._listeners: list[Callable[[object], None]] = []
        self.life = Lifecycle(self)  # the exit, stop(), the reaping of leftovers
        self._states = SessionStates(self)  # classifying, setting and waiting for the state
        self._watch_task: asyncio.Task | None = None
        self._finishing = False
        self._text = SessionText(self)  # what it said, and seance's plain-text copy of it
        self._input_lock = asyncio.Lock()
        self.stopping = False  # stop() began: nothing more is typed in
        self._beacon_task: asyncio.Task | None = None
        root = sessions_root(spec.town) if spec.town else Path(os.environ.get("TMPDIR", "/tmp")) / "gastown-sessions"
        self.transcript_dir = root / self.agent_key / self.id
        self.transcript: Transcript | None = None
        self.keeper: KeeperLink | None = None  # the keeper holds this PTY while the server lives
        self.adopted = False  # started by an earlier server, handed over by the keeper

    # -- the PTY (sessions/pty_io.py) -----------------------------------------------------------
    # A node's session (nodes/remote_session.py) sets `_fd`, `_loop` and `last_output_at` and registers
    # `_on_readable` itself, with a socketpair standing in for the PTY master.
    @property
    def _fd(self) -> int | None:
        return self._io.fd

    @_fd.setter
    def _fd(self, fd: int | None) -> None:
        self._io.fd = fd

    @property
    def _loop(self) -> asyncio.AbstractEventLoop | None:
        return self._io.loop

    @_loop.setter
    def _loop(self, loop: asyncio.AbstractEventLoop | None) -> None:
        self._io.loop = loop

    loop = _loop  # (LifecycleHost's name)

    @property
    def output_seq(self) -> int:
        """One more for each batch of output the program wrote."""
        return self._io.seq

    @property
    def last_output_at(self) -> float:
        """When the program last wrote something (monotonic)."""
        return self._io.last_output_at

    @last_output_at.setter
    def last_output_at(self, at: float) -> None:
        self._io.last_output_at = at

    def _on_readable(self) -> None:
        self._io.on_readable()

    def _keep(self, chunk: bytes) -> None:
        """Each chunk read from the PTY goes into the transcript at once, before the next read: a server
        killed between reading bytes and keeping them loses them (its keeper's duplicate master cannot give
        them back), so that window is one read and one write long."""
        if self.transcript is not None:
            self.transcript.append(chunk)

    def _take_output(self, data: bytes) -> None:
        """A batch of output (already in the transcript, `_keep`): onto the screen, and the state classified
        soon."""
        self.screen.feed(data)
        self._text.dirty = True
        if self._osc_changed:  # Codex may say working and blocked within one debounce: do not miss it
            self._osc_changed = False
            self._states.cancel()
            self._states.classify()
        self._states.schedule()

    def _at_eof(self) -> None:
        """The PTY said end of file, after the last bytes reached the screen and the transcript."""
        self._check_exit()

    def isig(self) -> bool | None:
        """Whether the PTY turns ^C into SIGINT now (False: raw mode); None if unknown."""
        return self._io.isig()

    # -- listeners ---------------------------------------------------------------------------
    def add_listener(self, fn: Callable[[object], None]) -> None:
        """fn(event) for StateChange, SessionStarted and SessionExited, called on the loop."""
        self._listeners.append(fn)

    def add_output_listener(self, fn: Callable[[Session], None]) -> None:
        """fn(session) after each batch of output (do not render here: use a frame timer)."""
        self._io.add_listener(fn)

    def remove_listener(self, fn: Callable[[object], None]) -> None:
        if fn in self._listeners:
            self._listeners.remove(fn)

    def remove_output_listener(self, fn: Callable[["Session"], None]) -> None:
        """For panes that come and go; removing one that is not there is fine."""
        self._io.remove_listener(fn)

    def emit(self, event: object) -> None:
        for fn in list(self._listeners):
            fn(event)

    _emit = emit  # (the name nodes/remote_session.py uses)

    # -- environment ---------------------------------------------------------------------------
    def environment(self) -> dict[str, str]:
        """The program's environment (the agent's identity, TERM, shims first on PATH)."""
        return agent_environment(self.spec, self.preset, self.address, self.id)

    # -- start ---------------------------------------------------------------------------------
    async def start(self) -> None:
        if self._proc is not None:
            raise SessionError(f"session {self.id} for {self.agent} was already started")
        loop = self._loop = asyncio.get_running_loop()
        cwd = Path(self.spec.cwd)
        if not cwd.is_dir():
            raise SessionError(f"session for {self.agent}: working directory {cwd} does not exist")
        beacon = self.spec.beacon if self.preset.beacon != "paste" else None
        self.argv = list(self.spec.argv) if self.spec.argv else self.preset.command(beacon, resume=self.spec.resume)
        env = self.environment()
        if self.spec.town:  # a real agent CLI gets its own seeded home (no first-run dialogs)
            try:
                env.update(home_env(Path(self.spec.town), self.agent_key, self.argv[0], cwd, environ=env,
                                    preset=self.preset.name))
            except HomeError as exc:
                raise SessionError(f"session for {self.agent}: cannot prepare its home: {exc}") from None
        if any(rule.versions for rule in self.preset.rules):  # cached per program file; run off the loop
            self.cli_version = await loop.run_in_executor(None, installed_version, self.argv[0], env.get("PATH"))
            self._detector.set_version(self.cli_version)
        try:
            proc = pexpect.spawn(self.argv[0], self.argv[1:], cwd=str(cwd), env=env,
                                 dimensions=(self.spec.rows, self.spec.cols), echo=True, use_poll=True,
                                 preexec_fn=child_signals.reset)
        except pexpect.ExceptionPexpect as exc:
            raise SessionError(f"session for {self.agent} (preset {self.preset.name}): cannot run "
                               f"{self.argv[0]!r}: {exc}; {_where_to_set(self.preset.name)}") from None
        # it sleeps that long in close(), on the loop (ptyproc: the ptyprocess under it, untyped in the stubs)
        proc.delayafterclose = proc.ptyproc.delayafterclose = 0.0  # type: ignore[attr-defined]
        self._proc = proc
        pid = self.pid = proc.pid
        if pid is None:     # pexpect sets it once the child is forked
            raise SessionError(f"session for {self.agent}: {self.argv[0]!r} did not start (no pid)")
        self.tty = procs.pty_name(proc.child_fd) or procs.tty_of(pid)
        self._fd = proc.child_fd
        os.set_blocking(proc.child_fd, False)
        self.started_at = time.time()
        self.last_output_at = time.monotonic()
        self.transcript = Transcript(self.transcript_dir, write_through=self.keeper is not None)
        if self.keeper is not None:
            self.keeper.keep(pid, proc.child_fd, keeper_record(self))
        self.begin_running()
        if self.preset.beacon == "paste" and self.spec.beacon:
            self._beacon_task = loop.create_task(self._deliver_beacon(self.spec.beacon))

    async def adopt(self, kept: Kept, link: KeeperLink | None = None, tail_bytes: int = TAIL_BYTES) -> None:
        """Takes over an agent another server started (sessions/adoption.py)."""
        await adopt(self, kept, link, tail_bytes)

    def begin_running(self) -> None:
        """The program runs and its PTY is set: meta.json written, the PTY read, its exit watched, and
        SessionStarted told (the last steps of `start` and of `adopt`)."""
        loop, pid = self._loop, self.pid
        if loop is None or pid is None:
            raise SessionError(f"session {self.id} for {self.agent}: running without a loop or a process")
        self._write_meta()
        self._io.start_reading()
        self._watch_task = loop.create_task(self._watch(), name=f"session-watch-{self.agent_key}")
        self._watch_pidfd()
        self.emit(SessionStarted(self.id, self.agent, pid, tuple(self.argv), time.time()))

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

    # -- output ----------------------------------------------------------------------------------
    def _on_osc(self, number: int, payload: str) -> None:
        if number == 7501:  # Codex: state=working:app=codex / state=blocked:... / state=idle
            for part in payload.split(":"):
                key, _, value = part.partition("=")
                if key == "state" and value != self.osc7501:
                    self.osc7501 = value
                    self._osc_changed = True  # an explicit state: classified as soon as this batch is on screen
            self._states.schedule()

    # -- input ---------------------------------------------------------------------------------
    def write(self, data: bytes) -> None:
        """Sends bytes to the program (buffered without blocking when the PTY is full)."""
        if not self.exited:
            self._io.write(data)

    def send_key(self, key: str) -> None:
        self.write(encode_key(key, self.screen.modes))

    def paste(self, text: str) -> None:
        self.write(encode_paste(text, self.screen.modes))

    def send_mouse(self, kind: str, button: int, x: int, y: int, **mods: bool) -> None:
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

    async def wait_state(self, states: set[SessionState], timeout: float | None = None) -> bool:
        """Waits until the state is one of `states` (or exited); False on timeout."""
        return await self._states.wait(states, timeout)

    # -- lifecycle (sessions/lifecycle.py): what it needs of the session, and what it offers -----
    @property
    def process(self) -> ChildProcess | None:
        """The pexpect child (or the stand-in of an adopted or a node's session); None before start."""
        return self._proc

    @property
    def input_lock(self) -> asyncio.Lock:
        """Held while a nudge is typed (sessions/submit.py): stop()'s keys never land inside it."""
        return self._input_lock

    @property
    def quit_keys(self) -> tuple[str, ...]:
        return tuple(self.preset.quit_keys)

    def cancel_beacon(self) -> None:
        if self._beacon_task is not None and not self._beacon_task.done():
            self._beacon_task.cancel()

    @property
    def exited(self) -> bool:
        return self.exit_status is not None or self.ended_at is not None

    @property
    def alive(self) -> bool:
        return self._proc is not None and not self.exited

    async def wait_exit(self, timeout: float | None = None) -> int | None:
        """The exit status once the program has exited, its leftovers are dead and the transcript is
        written; None on timeout."""
        return await self.life.wait_exit(timeout)

    async def stop(self, grace: float = 3.0) -> int | None:
        """Polite quit keys, then SIGTERM, then SIGKILL, to the whole process tree."""
        return await self.life.stop(grace)

    def kill_now(self) -> None:
        """SIGKILL the tree at once (atexit / emergency); no waiting."""
        self.life.kill_now()

    def _check_exit(self) -> None:
        self.life.check_exit()

    @property
    def _reap_task(self) -> asyncio.Task | None:
        return self.life.reap_task

    # The process operations a node's session replaces (nodes/remote_session.py).
    def _watch_pidfd(self) -> None:
        self.life.watch_pidfd()

    async def _signal_tree(self, sig: int) -> list[int]:
        return await self.life.signal_tree(sig)

    def _reap_now(self, job: Callable[[], None]) -> None:
        self.life.reap_now(job)

    def _announce_exit(self) -> None:
        self.life.announce_exit()

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
                self._states.schedule()
            if self._text.due(now):
                self._text.flush()

    def finish(self, status: int) -> None:
        """The program exited (or is given up on): last output drained, state exited; then the lifecycle
        kills what it left behind and `closing_job` closes the PTY and finishes the transcript."""
        if self.ended_at is not None or self._finishing:
            return
        self._finishing = True
        self._io.drain_and_close()  # whatever the program wrote last, before the PTY is closed
        self.exit_status = status
        self.ended_at = time.time()
        self._states.cancel()
        self.life.close_pidfd()
        self._text.replay_screen_log()
        self._states.set(SessionState.EXITED, "process.exit",
                        f"exited with status {status}" if status >= 0 else f"killed by signal {-status}")
        self.life.after_exit()

    def closing_job(self) -> Callable[[], None]:
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
                if proc is not None:    # None: it never started
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

    # -- plain text (sessions/session_text.py) ---------------------------------------------------
    def conversation_text(self) -> str:
        """What the program said: the text it showed on the alternate screen (kept as it changed), then
        the main screen's scrollback and screen (on the loop: the engine is not thread-safe)."""
        return self._text.conversation_text()

    def _text_job(self, text: str) -> Callable[[], None]:
        """A blocking job writing `text` as transcript.txt unless a newer text is already written."""
        return self._text.job(text)

    def close_screen(self) -> None:
        self.screen.close()
