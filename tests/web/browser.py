"""Driving Debian's chromium with Playwright, and reading what xterm.js drew.

textual-serve's page draws the app with xterm.js into a canvas, so there is no
DOM text to read. An init script (test-only, added to the page before its own
scripts run) keeps a reference to each xterm Terminal the page creates; its
buffer holds exactly the cells xterm renders, which `screen_text` reads.
Clicks go to a cell: the pixel position comes from the terminal's element size
divided by its rows and columns.
"""
from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

CHROMIUM = os.environ.get("GASTOWN_CHROMIUM", "/usr/bin/chromium")
# This machine's network is closed: no background connections, no QUIC, no GPU.
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parents[2] / ".ci" / "artifacts" / "web"

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}

KEEP_TERMINALS = """
(() => {
  window.__xterms = [];
  Object.defineProperty(Object.prototype, "_core", {
    configurable: true,
    set(value) {
      Object.defineProperty(this, "_core", {value, writable: true, configurable: true});
      if (typeof this.onData === "function" && "buffer" in this) window.__xterms.push(this);
    },
  });
})();
"""

SCREEN_JS = """() => {
  const t = window.__xterms && window.__xterms[0];
  if (!t) return "";
  const b = t.buffer.active, out = [];
  for (let y = 0; y < t.rows; y++) { const line = b.getLine(b.viewportY + y); out.push(line ? line.translateToString(true) : ""); }
  return out.join("\\n");
}"""


def missing() -> str | None:
    """Why browser tests cannot run here, or None."""
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        return f"no chromium at {CHROMIUM} (.ci/run installs Debian's chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -e '.[test]')"
    return None


def launch(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)


def new_page(browser, viewport=DESKTOP, **context_args):
    context = browser.new_context(viewport=viewport, **context_args)
    context.add_init_script(KEEP_TERMINALS)
    page = context.new_page()
    return page


def screen_text(page) -> str:
    return page.evaluate(SCREEN_JS)


def wait_for_text(page, text: str, timeout: float = 60.0) -> str:
    """The screen once it shows `text` (AssertionError with the last screen if it never does)."""
    deadline = time.monotonic() + timeout
    screen = ""
    while time.monotonic() < deadline:
        screen = screen_text(page)
        if text in screen:
            return screen
        page.wait_for_timeout(50)
    raise AssertionError(f"{text!r} never appeared in the browser; last screen:\n{screen}")


def wait_for(page, predicate, what: str, timeout: float = 60.0) -> str:
    deadline = time.monotonic() + timeout
    screen = ""
    while time.monotonic() < deadline:
        screen = screen_text(page)
        if predicate(screen):
            return screen
        page.wait_for_timeout(50)
    raise AssertionError(f"the browser never showed {what}; last screen:\n{screen}")


def find_cell(page, text: str, line_with: str = "") -> tuple[int, int]:
    """(column, row) of the first place `text` is drawn (on a line that also shows `line_with`)."""
    for row, line in enumerate(screen_text(page).split("\n")):
        col = line.find(text)
        if col >= 0 and line_with in line:
            return col, row
    raise AssertionError(f"{text!r} is not on the screen:\n{screen_text(page)}")


def click_text(page, text: str, line_with: str = "") -> None:
    """Clicks the middle of the first cell of `text` as drawn in the browser."""
    col, row = find_cell(page, text, line_with)
    box = page.evaluate("""() => { const t = window.__xterms[0]; const r = t.element.querySelector('.xterm-screen')
        .getBoundingClientRect(); return {x: r.x, y: r.y, w: r.width, h: r.height, cols: t.cols, rows: t.rows}; }""")
    x = box["x"] + (col + 0.5) * box["w"] / box["cols"]
    y = box["y"] + (row + 0.5) * box["h"] / box["rows"]
    page.mouse.click(x, y)


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path
