"""The simulated coding agent (`gastown agent sim`): a real terminal program, no model.

It looks and behaves like a coding agent in a terminal so the factory runs
offline: a banner that says it is SIMULATED, an input prompt (``❯``), a spinner
with ``esc to interrupt`` while working. On start it runs `gt prime --json` and
works its hooked molecule step by step, following ``sim:`` instructions written
in the hooked bead's description and in each step's description (the language
is documented in `gastown_tui.sim.script`), with real file edits and
`git commit`s in its worktree; it closes each step (`gt mol done STEP`) and ends
with `gt done` (the work loop is `gastown_tui.sim.work`).

Typed text (a nudge) is echoed and acted on: text mentioning ``gt prime`` or
``hook`` makes it re-read its hook and work; ``/exit`` quits; ``/help`` lists the
commands; anything else is acknowledged. Text submitted while it works is queued
(``⎿ queued``) and handled in order when the work stops. Esc (or Ctrl-C) while
working interrupts; Ctrl-C twice or Ctrl-D on an empty prompt quits.

Plain ANSI output, no Textual. The work runs on a thread; this module owns the
terminal (raw input, all drawing) and a wake-up pipe, so it uses no CPU while idle.
"""
from __future__ import annotations

import os
import queue
import re
import select
import signal
import sys
import termios
import threading
import time
from collections import deque
from pathlib import Path

from gastown_tui.sim.actions import SimFailure, SimHang, SimInterrupted, Workspace
from gastown_tui.sim.input import InputParser, Key
from gastown_tui.sim.screen import CYAN, DIM, GREEN, GREY_BG, ORANGE, RED, RESET, LiveArea, SimScreen
from gastown_tui.sim.town import Town
from gastown_tui.sim.work import work_hook

STYLES = {"tool": GREEN, "dim": DIM, "warn": ORANGE, "error": RED, "step": CYAN, "": ""}
_HOOK_WORDS = re.compile(r"\bgt\s+prime\b|\bhook\b|\bprime\b", re.IGNORECASE)
HELP = [
    "commands (SIMULATED agent):",
    "  gt prime / check your hook   re-read the hook and do the work",
    "  /status                      what I am doing",
    "  /exit                        quit",
    "  y / n                        answer a question (needs approval)",
    "  esc                          interrupt the current work",
    "  anything else                acknowledged (there is no model to act on it)",
]


class _Reporter:
    """Hands progress from the work thread to the terminal thread."""

    def __init__(self, agent: "SimAgent"):
        self.agent = agent

    def log(self, text: str, style: str = "") -> None:
        self.agent.post(("log", text, style))

    def activity(self, text: str) -> None:
        self.agent.post(("activity", text, ""))


class SimAgent:
    """The simulated agent's terminal loop."""

    def __init__(self, cwd: Path, stdin_fd: int = 0, stdout_fd: int = 1, autostart: bool = True):
        self.cwd = Path(cwd)
        self.in_fd = stdin_fd
        self.agent = os.environ.get("GT_AGENT") or "sim"
        self.screen = SimScreen(stdout_fd, self.agent, str(self.cwd))
        self.live = LiveArea()
        self.parser = InputParser()
        self.events: queue.Queue = queue.Queue()
        self.wake_r, self.wake_w = os.pipe()
        os.set_blocking(self.wake_w, False)
        self.pending: deque[str] = deque()
        self.worker: threading.Thread | None = None
        self.interrupt = threading.Event()
        self.autostart = autostart
        self.running = True
        self.hung = False
        self.ctrl_c_armed = False
        self.exit_code = 0
        self.asking: tuple[str, dict] | None = None  # a `sim: ask` question waiting for y/n

    # -- plumbing ----------------------------------------------------------
    def post(self, event: tuple) -> None:
        self.events.put(event)
        try:
            os.write(self.wake_w, b"x")
        except (BlockingIOError, OSError):
            pass

    def log(self, text: str, style: str = "") -> None:
        self.screen.line(f"{STYLES.get(style, '')}{text}{RESET}", self.live)

    def set_status(self, status: str) -> None:
        self.live.status = status
        glyph = {"working": "⠂", "needs approval": "?"}.get(status, "✳")
        self.screen.title(f"{glyph} sim: {self.agent} ({status}) [SIMULATED]")

    # -- work ----------------------------------------------------------------
    def start_work(self) -> None:
        if self.worker is not None or self.hung:
            return
        self.interrupt.clear()
        self.live.working = True
        self.live.started = self.live.now = time.monotonic()
        self.live.activity = "Starting"
        self.set_status("working")
        self.screen.draw(self.live)
        reporter = _Reporter(self)
        town = Town(str(self.cwd))
        ws = Workspace(self.cwd, lambda line: reporter.log(f"  ⎿ {line}", "dim"), self.interrupt.is_set,
                       ask=self._ask_from_worker)

        def run() -> None:
            try:
                outcome = work_hook(town, ws, reporter, self.interrupt.is_set)
                self.post(("done", outcome, "ok"))
            except SimInterrupted:
                self.post(("done", "Interrupted by user · what should I do instead?", "interrupted"))
            except SimHang:
                self.post(("hang", "", ""))
            except SimFailure as exc:
                self.post(("done", str(exc), "failed"))
            except Exception as exc:  # a bug in the sim itself: say it on screen, never die silently
                self.post(("done", f"internal error: {type(exc).__name__}: {exc}", "failed"))

        self.worker = threading.Thread(target=run, name="sim-work", daemon=True)
        self.worker.start()

    def _ask_from_worker(self, question: str) -> bool:
        """Runs on the work thread: shows the question and waits for y or n (Esc interrupts)."""
        answer = {"event": threading.Event(), "value": False}
        self.post(("ask", question, answer))
        while not answer["event"].wait(0.1):
            if self.interrupt.is_set():
                raise SimInterrupted()
        return bool(answer["value"])

    def _answer(self, text: str) -> None:
        _, answer = self.asking
        low = text.strip().lower()
        if low not in ("y", "yes", "n", "no"):
            self.pending.append(text)  # a nudge arriving meanwhile is kept for later, not lost
            self.log("  ⎿ queued; please answer y or n first", "warn")
            return
        answer["value"] = low in ("y", "yes")
        self.asking = None
        self.live.question = ""
        self.live.working = True
        self.set_status("working")
        answer["event"].set()
        self.screen.draw(self.live)

    def _drain_events(self) -> None:
        while True:
            try:
                kind, text, extra = self.events.get_nowait()
            except queue.Empty:
                return
            if self.hung:
                continue
            if kind == "log":
                self.log(text, extra)
            elif kind == "activity":
                self.live.activity = text
            elif kind == "ask":
                self.asking = (text, extra)
                self.live.working = False
                self.live.question = text
                self.set_status("needs approval")
                self.screen.draw(self.live)
            elif kind == "resize":
                self.screen.redraw(self.live)
            elif kind == "hang":
                self.hung = True
                self.screen.hidden = True
                self.worker = None
            elif kind == "done":
                self.worker = None
                self.asking = None
                self.live.question = ""
                self.live.working = False
                if extra == "ok":
                    if text:
                        self.log(f"✓ {text}", "tool")
                    self.set_status("idle")
                elif extra == "interrupted":
                    self.log(f"⎿ {text}", "warn")
                    self.set_status("idle")
                else:
                    self.log(f"✗ failed: {text}", "error")
                    self.log("  the work stays on my hook; type 'gt prime' to try again", "dim")
                    self.set_status("failed")
                self.screen.draw(self.live)
                self._handle_pending()

    # -- input ---------------------------------------------------------------
    def _handle_pending(self) -> None:
        while self.pending and self.worker is None and not self.hung and self.running:
            self.handle_message(self.pending.popleft(), echoed=True)

    def submit(self, text: str) -> None:
        text = text.strip()
        if not text:
            self.screen.draw(self.live)
            return
        self.screen.line(f"{GREY_BG}❯ {text} {RESET}", None)
        if self.asking is not None:
            self._answer(text)
            return
        if self.worker is not None:
            self.pending.append(text)
            self.log("  ⎿ queued (working); I will read it when this work stops", "dim")
            return
        self.handle_message(text, echoed=True)

    def handle_message(self, text: str, echoed: bool) -> None:
        if not echoed:
            self.screen.line(f"{GREY_BG}❯ {text} {RESET}", None)
        low = text.lower().strip()
        if low in ("/exit", "exit", "/quit", "quit"):
            self.running = False
            return
        if low in ("/help", "help", "?"):
            for line in HELP:
                self.log(line, "dim")
            return
        if low == "/status":
            self.log(f"  ⎿ {self.live.status}", "dim")
            return
        if _HOOK_WORDS.search(text):
            self.log("  ⎿ checking my hook", "dim")
            self.start_work()
            return
        self.log(f"  ⎿ Acknowledged: {text!r} (SIMULATED agent: no model to act on free text)", "dim")
        self.screen.draw(self.live)

    def on_key(self, key: Key) -> None:
        if key.kind != "ctrl_c":
            self.ctrl_c_armed = False
        if key.kind in ("text", "paste"):
            self.live.input += key.text
        elif key.kind == "backspace":
            self.live.input = self.live.input[:-1]
        elif key.kind == "ctrl_u":
            self.live.input = ""
        elif key.kind == "enter":
            text, self.live.input = self.live.input, ""
            self.submit(text)
            return
        elif key.kind == "esc":
            if self.worker is not None:
                self.interrupt.set()
                self.live.activity = "Interrupting"
        elif key.kind == "ctrl_c":
            if self.worker is not None:
                self.interrupt.set()
                if self.ctrl_c_armed:      # ^C twice quits even while working (as Claude Code does)
                    self.running = False
                    return
                self.ctrl_c_armed = True
            elif self.live.input and not self.ctrl_c_armed:   # clears the line; once more quits
                self.live.input = ""
                self.ctrl_c_armed = True
                self.log("  ⎿ press Ctrl-C again to exit", "dim")
            elif self.ctrl_c_armed:
                self.running = False
                return
            else:
                self.ctrl_c_armed = True
                self.log("  ⎿ press Ctrl-C again to exit", "dim")
        elif key.kind == "ctrl_d" and not self.live.input and self.worker is None:
            self.running = False
            return
        self.screen.draw(self.live)

    # -- main loop -------------------------------------------------------------
    def run(self) -> int:
        old = _enter_raw(self.in_fd)
        signal.signal(signal.SIGTERM, lambda *_: self._stop_signal(143))
        signal.signal(signal.SIGHUP, lambda *_: self._stop_signal(129))
        signal.signal(signal.SIGWINCH, lambda *_: self.post(("resize", "", "")))
        try:
            self.screen.start()
            if self.autostart:
                self.start_work()  # working from the first frame: starting -> working -> idle
            else:
                self.set_status("idle")
                self.screen.draw(self.live)
            self.screen.flush()
            input_open = True
            while self.running and (input_open or self.worker is not None or self.hung):
                timeout = 0.1 if (self.worker is not None and not self.hung) else None
                watch = [self.in_fd, self.wake_r] if input_open else [self.wake_r]
                try:
                    ready, _, _ = select.select(watch, [], [], timeout)
                except InterruptedError:
                    continue
                if self.wake_r in ready:
                    os.read(self.wake_r, 4096)
                    self._drain_events()
                if self.in_fd in ready:
                    try:
                        data = os.read(self.in_fd, 4096)
                    except OSError:
                        data = b""
                    if not data:
                        input_open = False  # end of input: finish the work in hand, then exit
                        continue
                    if self.hung:
                        continue  # looks stuck: swallow input, draw nothing
                    for key in self.parser.feed(data):
                        self.on_key(key)
                        if not self.running:
                            break
                if self.worker is not None and not self.hung:
                    self.live.now = time.monotonic()
                    self.screen.draw(self.live)
                self.screen.flush()  # everything this turn drew, in one write
            return self.exit_code
        finally:
            self.interrupt.set()
            if self.worker is not None:
                self.worker.join(timeout=1.5)  # it kills the command it is running; no orphan is left
            if not self.hung:
                self.screen.stop()
            _leave_raw(self.in_fd, old)

    def _stop_signal(self, code: int) -> None:
        self.exit_code = code
        self.running = False
        self.interrupt.set()
        try:
            os.write(self.wake_w, b"x")
        except OSError:
            pass


def _enter_raw(fd: int):
    """No echo, no line editing, no signals from keys (we handle Ctrl-C); output processing kept."""
    if not os.isatty(fd):
        return None
    old = termios.tcgetattr(fd)
    new = termios.tcgetattr(fd)
    new[0] &= ~(termios.ICRNL | termios.IXON)
    new[3] &= ~(termios.ICANON | termios.ECHO | termios.ISIG | termios.IEXTEN)
    new[6][termios.VMIN] = 1
    new[6][termios.VTIME] = 0
    termios.tcsetattr(fd, termios.TCSANOW, new)
    return old


def _leave_raw(fd: int, old) -> None:
    if old is not None:
        try:
            termios.tcsetattr(fd, termios.TCSADRAIN, old)
        except termios.error:
            pass


def main(cwd: Path | None = None, autostart: bool = True) -> int:
    agent = SimAgent(cwd or Path.cwd(), autostart=autostart)
    return agent.run()


if __name__ == "__main__":
    sys.exit(main())
