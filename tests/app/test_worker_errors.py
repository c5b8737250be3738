"""A worker that dies is reported, once, by the app's one Worker.StateChanged handler (a town watcher that
died used to leave the app silently stale)."""
from __future__ import annotations

from gastown_tui.client.in_process import InProcessLink

from .helpers import make_app, town_loaded, until


class BrokenWatcher(InProcessLink):
    """The real in-process town, whose file watcher fails the way a dying watchfiles task would."""

    async def watch_town(self, on_town_changed) -> None:
        raise OSError("inotify watch limit reached")


async def test_a_dead_town_watcher_is_reported(shared_town):
    app = make_app(shared_town, link=BrokenWatcher(shared_town))
    async with app.run_test(size=(160, 48)) as pilot:
        await town_loaded(pilot)

        def reported():
            return [n for n in app._notifications if "watching the town" in (n.title or "")]

        await until(pilot, reported, what="the watcher's failure shown")
        note = reported()[0]
        assert note.severity == "error" and "inotify watch limit reached" in note.message
        assert len(reported()) == 1
