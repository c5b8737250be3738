"""The `gastown web` server: textual-serve with a guard, gastown's page, and one fixed command.

Each browser WebSocket spawns one `gastown app --town TOWN` process (textual-serve's
model) and quits it when the tab closes. The command is fixed when the server
starts; nothing a browser sends can change it, so the browser gets the app and
never a shell.
"""
from __future__ import annotations

import asyncio
import html
import logging
import shlex
import signal
import sys
from pathlib import Path

from aiohttp import WSMsgType, web
from textual_serve.server import Server, to_int

from gastown_tui.web.access import Access
from gastown_tui.web.app_service import TabAppService

log = logging.getLogger("gastown.web")

PAGE = Path(__file__).with_name("page.html")


def app_command(town_root: Path, *, agents: bool = True) -> str:
    """The only command a tab can run: this Python's gastown app on this town."""
    argv = [sys.executable, "-m", "gastown_tui.cli", "app", "--town", str(town_root)]
    if not agents:
        argv.append("--no-agents")
    return shlex.join(argv)


class WebServer(Server):
    """textual-serve's Server, every route behind `Access`, serving gastown's own page."""

    def __init__(self, town_root: Path, access: Access, *, host: str = "127.0.0.1", port: int = 8765,
                 agents: bool = True, title: str = "gastown", one_tab: bool = False) -> None:
        super().__init__(app_command(town_root, agents=agents), host=host, port=port, title=title)
        self.town_root = town_root
        self.access = access
        # one_tab: each tab's app runs the town itself (no town server), so two at once would run every agent
        # twice; the newest tab takes over, and its app starts only once the previous one has exited
        self.one_tab = one_tab
        self.tabs: dict[web.WebSocketResponse, asyncio.Event] = {}  # socket -> set once its app has exited

    async def _make_app(self) -> web.Application:
        app = await super()._make_app()
        app.middlewares.append(self.access.middleware())
        return app

    async def on_startup(self, app: web.Application) -> None:
        """(textual-serve prints a banner here; `gastown web` prints its own lines.)"""

    async def on_shutdown(self, app: web.Application) -> None:
        """Stopping the server closes every tab (each tab's app then quits)."""
        for websocket in list(self.tabs):
            await websocket.close(code=1001, message=b"gastown web stopped")

    async def handle_index(self, request: web.Request) -> web.Response:
        page = PAGE.read_text(encoding="utf-8").replace("$TITLE", html.escape(self.title))
        return web.Response(text=page, content_type="text/html")

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        """One tab: start its app process at the browser's size, relay both ways, quit the app at the end."""
        websocket = web.WebSocketResponse(heartbeat=15)
        width = max(10, min(to_int(request.query.get("width", "80"), 80), 1000))
        height = max(5, min(to_int(request.query.get("height", "24"), 24), 500))
        await websocket.prepare(request)
        if self.one_tab:
            await self._take_over()
        tab = TabAppService(self.command, write_bytes=websocket.send_bytes, write_str=websocket.send_str,
                            close=websocket.close, download_manager=self.download_manager)
        exited = self.tabs[websocket] = asyncio.Event()
        try:
            await tab.start(width, height)
            await self._relay(websocket, tab)
        except asyncio.CancelledError:
            await websocket.close()
        except Exception:  # one tab's failure is logged; the server and the other tabs go on
            log.exception("tab failed")
        finally:
            try:
                await tab.stop()
            finally:
                exited.set()
                self.tabs.pop(websocket, None)
        return websocket

    async def _take_over(self) -> None:
        """Closes the other tabs and waits (up to a minute) until their apps have exited."""
        others = list(self.tabs.items())
        for websocket, _exited in others:
            await websocket.close(code=4000, message=b"the town was opened in another tab")
        for _websocket, exited in others:
            try:
                await asyncio.wait_for(exited.wait(), 60)
            except asyncio.TimeoutError:
                log.warning("a previous tab's app did not exit within 60 s")

    async def _relay(self, websocket: web.WebSocketResponse, tab: TabAppService) -> None:
        async for message in websocket:
            if message.type != WSMsgType.TEXT:
                continue
            try:
                envelope = message.json()
                kind = envelope[0]
            except (ValueError, TypeError, IndexError, KeyError):
                continue  # a bad message is dropped, never fatal
            if kind == "stdin" and len(envelope) > 1 and isinstance(envelope[1], str):
                await tab.send_bytes(envelope[1].encode("utf-8"))
            elif kind == "resize" and len(envelope) > 1 and isinstance(envelope[1], dict):
                size = envelope[1]
                await tab.set_terminal_size(max(10, min(to_int(str(size.get("width")), 80), 1000)),
                                            max(5, min(to_int(str(size.get("height")), 24), 500)))
            elif kind == "ping" and len(envelope) > 1:
                await websocket.send_json(["pong", str(envelope[1])[:32]])
            elif kind == "focus":
                await tab.focus()
            elif kind == "blur":
                await tab.blur()


async def serve(server: WebServer, ready=None) -> None:
    """Runs until SIGINT/SIGTERM; `ready(port)` is called once the socket listens."""
    app = await server._make_app()
    runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=20)
    await runner.setup()
    site = web.TCPSite(runner, server.host, server.port)
    await site.start()
    port = site._server.sockets[0].getsockname()[1] if site._server and site._server.sockets else server.port
    server.port = server.access.port = port
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    if ready is not None:
        ready(port)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
