"""`FirstRead`: the attached app asks its town's server for what its first frame shows while it imports.

`gastown` / `gastown app` on a town whose server runs spends most of its start importing Textual and its
own screens. `FirstRead.begin(root)` is called before those imports: a thread connects to the town's
socket, says hello, starts the app's `watch` and asks for `town.read` (pipelined, docs/protocol.md), and
reads until the town's answer is in. When the app mounts, `SocketLink` takes the connection over
(`Connection.adopt`): the replies and events the thread read are handed on in the order they came, then the
socket goes on from where the thread stopped, so nothing is missed or read twice. The app builds the Town
screen with the town already in it: its first frame is the town, not an empty screen filled a read later.

Standard library only on the thread (no asyncio, no Textual). A failure (no server, a refused hello, a
slow answer) leaves `taken()` None: the app then connects as it always did and says what went wrong.
"""
from __future__ import annotations

import os
import socket
import threading
from pathlib import Path

from gastown_tui import __version__
from gastown_tui.server import paths, wire

HELLO, WATCH, READ = 1, 2, 3  # the ids of the three requests the thread sends
WATCH_TOPICS = ["state", "town", "lifecycle", "notice"]
TIMEOUT = 10.0  # seconds for the server to answer before the app connects the ordinary way
# What this app is to the server: "app" in a terminal; "web" for a browser tab's app (`gastown web` sets
# GASTOWN_CLIENT=web), which the server lets resize an agent only while it is the town's only screen.
CLIENT_KIND = "web" if os.environ.get("GASTOWN_CLIENT") == "web" else "app"


class FirstRead:
    def __init__(self, root: Path, client: str = CLIENT_KIND) -> None:
        self.root = Path(root)
        self.client = client
        self.server: dict = {}  # the hello reply
        self.messages: list[dict] = []  # every line after the hello reply, decoded, in arrival order
        self.rest = b""  # the start of the next line, read but not complete
        self.error = ""  # why there is no first read (for the server log / tests; the app reconnects)
        self._sock: socket.socket | None = None
        self._done = threading.Event()
        self._hello = threading.Event()  # the hello was answered (or the first read failed before that)
        self._taken = False
        self._thread = threading.Thread(target=self._run, name="gastown-first-read", daemon=True)

    @classmethod
    def begin(cls, root: Path, client: str = CLIENT_KIND) -> "FirstRead":
        first = cls(root, client)
        first._thread.start()
        return first

    def requests(self) -> bytes:
        return b"".join((
            wire.encode({"id": HELLO, "cmd": "hello", "protocol": wire.PROTOCOL, "version": __version__,
                         "client": self.client, "interactive": True, "pid": os.getpid()}),
            wire.encode({"id": WATCH, "cmd": "watch", "topics": WATCH_TOPICS}),
            wire.encode({"id": READ, "cmd": "call", "fn": "town.read", "args": {}}),
        ))

    def _run(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(TIMEOUT)
            sock.connect(paths.socket_path(str(self.root)))
            sock.sendall(self.requests())
            self._read_until_town(sock)
        except (OSError, ValueError, wire.BadRequest) as exc:  # the app connects the ordinary way instead
            self.error = self.error or f"{type(exc).__name__}: {exc}"
        if self.error:
            sock.close()
        else:
            self._sock = sock
        self._hello.set()
        self._done.set()

    def _read_until_town(self, sock: socket.socket) -> None:
        buf = bytearray()
        have_read = False
        while not have_read:
            data = sock.recv(1 << 16)
            if not data:
                raise ConnectionError("the server closed the connection")
            buf += data
            start = 0
            while (nl := buf.find(b"\n", start)) >= 0:
                line, start = bytes(buf[start:nl]), nl + 1
                if not line.strip():
                    continue
                msg = wire.decode(line)
                if not self.server:  # the hello's reply comes first (the server answers hello in order)
                    if msg.get("id") != HELLO or not msg.get("ok"):
                        self.error = msg.get("error") or f"no hello reply: {line[:200]!r}"
                        return
                    self.server = msg.get("data") or {}
                    self._hello.set()
                    continue
                self.messages.append(msg)
                have_read = have_read or msg.get("id") == READ
            del buf[:start]
            if len(buf) > wire.MAX_LINE:
                raise ValueError("an over-long line from the server")
        self.rest = bytes(buf)

    def answered(self, timeout: float = TIMEOUT + 1) -> bool:
        """Whether the town's server answered the hello (waits for that answer, not for the town's read)."""
        self._hello.wait(timeout)
        return bool(self.server) and not self.error

    def ready(self) -> bool:
        return self._done.is_set()

    def wait(self, timeout: float = TIMEOUT + 1) -> bool:
        """Waits for the thread; True when the connection is there to take."""
        self._done.wait(timeout)
        return self._done.is_set() and self._sock is not None

    def taken(self) -> socket.socket | None:
        """The connected socket (once: the caller owns it from now on), or None when the first read failed."""
        if self._taken or not self._done.is_set():
            return None
        self._taken = True
        sock, self._sock = self._sock, None
        return sock

    def close(self) -> None:
        """Nobody will take the connection (the app did not attach after all)."""
        self._taken = True
        if self._done.is_set() and self._sock is not None:
            self._sock.close()
            self._sock = None
