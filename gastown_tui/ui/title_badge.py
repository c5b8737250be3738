"""App side of the browser's title badge: how many things need the Overseer, sent to the page.

Textual does not set a terminal title, and textual-serve's page would not show
one, so a tab's app sends a meta packet of its own (`gastown_badge`) through
the web driver; `app_service.TabAppService` passes it to the page, which shows
"(N) gastown · TOWN" as its title and draws N on its favicon. In a terminal
this does nothing. No Textual import: it only calls the running app's driver.
"""
from __future__ import annotations

TYPE = "gastown_badge"


def publish(app, count: int, title: str) -> bool:
    """Sends the count when the app runs in a browser and the count or title changed; True if sent."""
    if not getattr(app, "is_web", False):
        return False
    driver = getattr(app, "_driver", None)
    write_meta = getattr(driver, "write_meta", None)
    if write_meta is None:
        return False
    badge = (int(count), str(title))
    if getattr(app, "_web_badge", None) == badge:
        return False
    app._web_badge = badge
    write_meta({"type": TYPE, "count": badge[0], "title": badge[1]})
    return True
