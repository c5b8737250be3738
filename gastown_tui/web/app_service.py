"""One browser tab's app process (textual-serve's AppService), plus what gastown adds to it.

- The process is told it runs for a browser (`GASTOWN_CLIENT=web`), so a thin
  client of the town server can register as an observer that never resizes
  agents.
- The app's title badge (a meta packet from `ui.title_badge.publish`) is passed
  on to the page as a `["gastown_badge", {...}]` text message, which the page
  turns into its title and favicon.
"""
from __future__ import annotations

import asyncio
import json

from textual_serve.app_service import AppService

BADGE = "gastown_badge"


class TabAppService(AppService):
    def _build_environment(self, width: int = 80, height: int = 24) -> dict[str, str]:
        env = super()._build_environment(width=width, height=height)
        env["GASTOWN_CLIENT"] = "web"
        return env

    async def on_meta(self, data: bytes) -> None:
        try:
            meta = json.loads(data)
        except ValueError:
            return
        if isinstance(meta, dict) and meta.get("type") == BADGE:
            await self.remote_write_str(json.dumps([BADGE, badge_fields(meta)]))
            return
        await super().on_meta(data)

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    async def stop(self) -> None:
        """Quits the app (textual-serve's stop) and then waits for its process to end, so none is left behind."""
        await super().stop()
        process = self._process
        if process is None or process.returncode is not None:
            return
        drain = asyncio.create_task(_drain(process.stdout))  # the app may still write while it quits
        try:
            await asyncio.wait_for(process.wait(), 30)
        except asyncio.TimeoutError:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 5)
            except asyncio.TimeoutError:
                process.kill()
                await process.wait()
        finally:
            drain.cancel()


async def _drain(stream) -> None:
    if stream is None:
        return
    while await stream.read(65536):
        pass


def badge_fields(meta: dict) -> dict:
    """Only a bounded count and a short title reach the page."""
    try:
        count = max(0, min(int(meta.get("count", 0)), 9999))
    except (TypeError, ValueError):
        count = 0
    title = str(meta.get("title", "gastown"))[:120]
    return {"count": count, "title": title}
