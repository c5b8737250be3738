"""The plain-terminal attach loop: the agent's screen on this terminal, keys to the agent, ctrl+b d leaves.

Sizing: an attach is an observer (it shows the agent at the size it has, cropped to this terminal) unless
it is the town server's only interactive client; then it claims the agent's size (focus) and keeps it
equal to this terminal's (SIGWINCH). When the server goes away (an upgrade, a restart by the keeper), it
reconnects by itself and carries on with a full frame.
"""
from __future__ import annotations

import asyncio
import base64
import os
import shutil
import signal
import sys
import termios
import tty

from gastown_tui.attach.render import AnsiScreen, DetachKeys
from gastown_tui.client.connection import Connection, Disconnected, RemoteError, reconnect
from gastown_tui.server import paths

HINT = "detach: ctrl+b d"
RECONNECT_WAIT = 60.0
OUT_LIMIT = 256 * 1024  # bytes waiting for the terminal before they are dropped for one full redraw


class AttachError(Exception):
    """The attach cannot start; the message says why."""


def _size(fd: int) -> tuple[int, int]:
    try:
        size = os.get_terminal_size(fd)
        return size.columns, size.lines
    except OSError:
        fallback = shutil.get_terminal_size()
        return fallback.columns, fallback.lines


class Attach:
    def __init__(self, town_root: str, agent: str, stdin_fd: int = 0, stdout_fd: int = 1,
                 observer: bool | None = None) -> None:
        self.town = town_root
        self.agent = agent
        self.stdin_fd, self.stdout_fd = stdin_fd, stdout_fd
        self.force_observer = observer  # None: decide (claim the size only as the only interactive client)
        self.conn: Connection | None = None
        self.claims_size = False
        cols, rows = _size(stdout_fd)
        self.screen = AnsiScreen(cols, rows)
        self.keys = DetachKeys()
        self.done = asyncio.Event()
        self.outcome = ""
        self._saved_tty = None
        self._held = bytearray()  # keys typed while the server was away
        self._outbuf = bytearray()
        self._stale = False  # the output buffer overflowed: draw the whole screen when the terminal drains
        self._writing = False
        self._loop = None

    # -- output ------------------------------------------------------------------------------
    def out(self, text: str) -> None:
        """Writes to the terminal without ever blocking the loop: what the terminal does not take now waits
        in a buffer; past OUT_LIMIT (a slow SSH link, a stopped reader) the buffer is dropped and the whole
        current screen is drawn once the terminal drains (the latest screen, never a growing queue)."""
        if self._stale or self._loop is None:
            return  # a full redraw is due anyway (or the attach has not begun drawing: it starts with one)
        self._outbuf += text.encode("utf-8", "replace")
        if len(self._outbuf) > OUT_LIMIT:
            self._drop_unwritten()
            self._stale = True
        self._flush()

    def _drop_unwritten(self) -> None:
        """Drops what the terminal has not taken, except the end of a character it took only the start of
        (a write may stop inside one): the terminal's stream stays whole UTF-8."""
        keep = 0
        while keep < min(3, len(self._outbuf)) and self._outbuf[keep] & 0xC0 == 0x80:
            keep += 1
        del self._outbuf[keep:]

    def _flush(self) -> None:
        while self._outbuf or self._stale:
            if not self._outbuf and self._stale:
                self._stale = False
                self._outbuf += self.screen.redraw().encode("utf-8", "replace")
            try:
                n = os.write(self.stdout_fd, self._outbuf)
            except BlockingIOError:
                n = 0
            except OSError:  # the terminal is gone (an SSH drop): the attach ends, the agent does not
                self._outbuf.clear()
                self._stale = False
                self.finish("the terminal went away")
                break
            if n == 0:
                break
            del self._outbuf[:n]
        want = bool(self._outbuf)
        if want != self._writing and self._loop is not None:
            if want:
                self._loop.add_writer(self.stdout_fd, self._flush)
            else:
                self._loop.remove_writer(self.stdout_fd)
            self._writing = want

    def out_now(self, text: str) -> None:
        """Blocking write (start and end of the attach, outside the loop's work)."""
        data = self._outbuf + text.encode("utf-8", "replace")
        self._outbuf = bytearray()
        blocking = os.get_blocking(self.stdout_fd)
        try:
            os.set_blocking(self.stdout_fd, True)
            while data:
                data = data[os.write(self.stdout_fd, data):]
        except OSError:
            pass
        finally:
            try:
                os.set_blocking(self.stdout_fd, blocking)
            except OSError:
                pass

    def on_event(self, event: dict) -> None:
        kind = event.get("event")
        if kind == "style":
            self.screen.style(event)
        elif kind == "screen" and event.get("agent") == self.agent:
            self.out(self.screen.apply(event))
            if event.get("exited"):
                status = event.get("exit_status")
                self.finish(f"{self.agent} exited" + (f" (status {status})" if status is not None else ""))
        elif kind == "lifecycle" and event.get("address") == self.agent and event.get("what") == "exited":
            status = event.get("exit_status")
            self.finish(f"{self.agent} exited" + (f" (status {status})" if status is not None else ""))

    def finish(self, outcome: str) -> None:
        if not self.done.is_set():
            self.outcome = outcome
            self.done.set()

    # -- connecting ----------------------------------------------------------------------------
    async def connect(self, again: bool = False) -> None:
        sock = paths.socket_path(self.town)
        self.screen.styles.clear()  # style ids are per connection
        opener = (lambda **kw: reconnect(sock, timeout=RECONNECT_WAIT, **kw)) if again else \
                 (lambda **kw: Connection.open(sock, **kw))
        try:
            probe = await opener(client="attach", interactive=False, on_event=self.on_event)
        except (OSError, asyncio.TimeoutError, ConnectionError) as exc:
            raise AttachError(f"no town server answers on {sock} ({exc}); `gastown up` starts one") from None
        status = await probe.request("status")
        known = [a["address"] for a in status.get("agents", [])]
        agent = next((a for a in status.get("agents", []) if a["address"] == self.agent
                      or a["address"].rstrip("/") == self.agent.rstrip("/")), None)
        if agent is None:
            await probe.close()
            raise AttachError(f"{self.agent} has no session in this town "
                              f"(agents: {', '.join(known) if known else 'none running'})")
        self.agent = agent["address"]
        others = [c for c in status.get("clients", []) if c.get("interactive") and c.get("id") != probe.server.get("client_id")]
        claim = (not others) if self.force_observer is None else not self.force_observer
        conn = probe
        if claim:  # the only interactive client: it may size the agent to this terminal
            await probe.close()
            conn = await Connection.open(sock, client="attach", interactive=True, on_event=self.on_event)
        self.conn = conn
        self.claims_size = claim
        await conn.request("watch", topics=["lifecycle"])
        await conn.request("focus", agent=self.agent)
        if claim:
            await self.claim_size()
        await conn.request("subscribe", agents=[self.agent])
        if self._held:
            held, self._held = bytes(self._held), bytearray()
            await self._send(held)

    async def claim_size(self) -> None:
        if self.conn is None or not self.claims_size:
            return
        cols, rows = self.screen.term_cols, self.screen.term_rows
        try:
            await self.conn.request("resize", agent=self.agent, cols=cols, rows=rows)
        except (RemoteError, Disconnected):
            pass

    # -- input ---------------------------------------------------------------------------------
    def on_stdin(self) -> None:
        try:
            data = os.read(self.stdin_fd, 65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self.finish("the terminal went away")
            return
        send, detach = self.keys.feed(data)
        if send:
            if self.conn is not None and not self.conn.closed.is_set() and not self._held:
                asyncio.get_running_loop().create_task(self._send(send))
            else:  # reconnecting: typed keys wait (in order) for the server that comes back
                self._held += send
        if detach:
            self.finish(f"detached from {self.agent}")

    async def _send(self, data: bytes) -> None:
        try:
            await self.conn.request("input", agent=self.agent, data=base64.b64encode(data).decode())
        except (RemoteError, Disconnected):
            pass

    def on_winch(self) -> None:
        cols, rows = _size(self.stdout_fd)
        self.out(self.screen.resize_terminal(cols, rows))
        if self.claims_size:
            asyncio.get_running_loop().create_task(self.claim_size())

    # -- the loop ------------------------------------------------------------------------------
    async def run(self) -> str:
        loop = asyncio.get_running_loop()
        await self.connect()
        self.out_now(f"attached to {self.agent} ({HINT})\r\n")
        is_tty = os.isatty(self.stdin_fd)
        if is_tty:
            self._saved_tty = termios.tcgetattr(self.stdin_fd)
            tty.setraw(self.stdin_fd)
        self.out_now("\x1b[?1049h\x1b[2J")
        out_blocking = os.get_blocking(self.stdout_fd)
        os.set_blocking(self.stdout_fd, False)
        self._loop = loop
        self._stale = True  # the first frame may have arrived before: draw what is known
        self._flush()
        loop.add_reader(self.stdin_fd, self.on_stdin)
        try:
            loop.add_signal_handler(signal.SIGWINCH, self.on_winch)
        except (ValueError, RuntimeError):
            pass
        try:
            while not self.done.is_set():
                closed = loop.create_task(self.conn.closed.wait())
                done = loop.create_task(self.done.wait())
                await asyncio.wait({closed, done}, return_when=asyncio.FIRST_COMPLETED)
                closed.cancel()
                done.cancel()
                if self.done.is_set():
                    break
                # the server went away: an upgrade or a restart by the keeper; come back when it answers
                try:
                    await self.connect(again=True)
                except AttachError as exc:
                    self.finish(str(exc))
                except (Disconnected, RemoteError, OSError, ConnectionError) as exc:
                    self.finish(f"the town server went away ({exc})")
        finally:
            loop.remove_reader(self.stdin_fd)
            if self._writing:
                loop.remove_writer(self.stdout_fd)
                self._writing = False
            self._loop = None
            try:
                loop.remove_signal_handler(signal.SIGWINCH)
            except (ValueError, RuntimeError):
                pass
            self._drop_unwritten()  # frames the terminal did not take are not worth waiting for
            self._stale = False
            try:
                os.set_blocking(self.stdout_fd, out_blocking)
            except OSError:
                pass
            self.out_now(AnsiScreen.reset_modes() + "\x1b[?1049l")
            if self._saved_tty is not None:
                termios.tcsetattr(self.stdin_fd, termios.TCSADRAIN, self._saved_tty)
            if self.conn is not None:
                await self.conn.close()
        self.out_now(f"[{self.outcome}]\n")
        return self.outcome


def attach(town_root: str, agent: str, observer: bool | None = None) -> int:
    try:
        asyncio.run(Attach(town_root, agent, observer=observer).run())
    except AttachError as exc:
        print(f"gastown attach: {exc}", file=sys.stderr)
        return 1
    return 0
