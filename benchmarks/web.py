"""`gastown web` speed and memory, measured in Debian's chromium (Playwright), against the terminal app.

1. Page load: open the page (token already traded for the cookie) and time until
   the town is drawn in the browser (its name in the header, the Agents and
   Activity panels). Reference in the same run: the terminal app's start on the
   same town in a real PTY (benchmarks/app.py's Terminal), until the same things
   are drawn. Both with agents off. Target: browser <= 2x the terminal app.
2. Keystroke -> echo: a town of N busy agents (each prints ~20 lines a second),
   served with its agents on; in the tab, Enter gives a polecat's pane the
   keyboard, then each typed letter is timed inside the page, from the keydown
   event on xterm's textarea to the xterm render that shows the letter's echo
   in the pane. Target: p95 <= 50 ms on loopback. Reference in the same run: the
   terminal app's echo on the same town (benchmarks/app.py's echo_reaction).
3. Memory: the RSS (and USS) of each tab's app process on the server machine,
   with the terminal app's RSS on the same town as reference. Target: <= 60 MB
   per tab. Each tab's app is a thin client of the town server, which holds the
   sessions, VT screens and patrols once for every tab.

Run: .venv/bin/python benchmarks/web.py [--agents 30] [--echoes 40] [--loads 3] [--tabs 2]
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

_spec = importlib.util.spec_from_file_location("bench_app", ROOT / "benchmarks" / "app.py")
bench_app = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_app)

from web.browser import DESKTOP, launch, missing, new_page, screen_text, wait_for  # noqa: E402
from web.serving import WebRun  # noqa: E402

ECHO_JS = """([letter, timeout]) => new Promise((resolve) => {
  const t = window.__xterms[0];
  const pane = () => {
    const b = t.buffer.active, lines = [];
    for (let y = 0; y < t.rows; y++) { const l = b.getLine(b.viewportY + y); lines.push(l ? l.translateToString(true) : ""); }
    const left = lines[1].indexOf("┏"), right = lines[1].indexOf("┓");
    if (left < 0 || right < 0) return "";
    const rows = [];
    for (const line of lines.slice(2)) { if (line.slice(left, left + 1) === "┗") break; rows.push(line.slice(left + 1, right)); }
    return rows.join("\\n");
  };
  const count = () => pane().split(letter).length - 1;
  const before = count();
  let t0 = null;
  const onKey = (e) => { if (t0 === null && e.key === letter) t0 = performance.now(); };
  t.textarea.addEventListener("keydown", onKey, true);
  const done = (value) => { sub.dispose(); t.textarea.removeEventListener("keydown", onKey, true); resolve(value); };
  const sub = t.onRender(() => { if (t0 !== null && count() > before) done(performance.now() - t0); });
  setTimeout(() => done(null), timeout);
})"""


def town_drawn(name: str):
    return lambda s: name in s.split("\n")[0] and "Agents" in s and "Activity" in s


def page_load(town, loads: int, browser) -> None:
    name = "busytown"
    runs = []
    for _ in range(loads):
        t = bench_app.Terminal([str(bench_app.GASTOWN), "--no-agents"], town.root, bench_app.env_for())
        drawn = t.wait(lambda ls: name in ls[0] and any("Agents" in l for l in ls) and any("Activity" in l for l in ls),
                       60, "the town in the terminal app")
        runs.append(drawn - t.started)
        t.close()
    terminal = statistics.median(runs)
    loads_ms = []
    with WebRun(town.root, "--no-agents") as run:
        warm = new_page(browser, DESKTOP)
        warm.goto(run.url)  # trades the token for the cookie (and warms the page cache like a returning visitor)
        wait_for(warm, town_drawn(name), "the town", timeout=60)
        cookies = warm.context.cookies()
        warm.context.close()
        for _ in range(loads):
            page = new_page(browser, DESKTOP)
            page.context.add_cookies(cookies)
            t0 = time.perf_counter()
            page.goto(run.base + "/")
            wait_for(page, town_drawn(name), "the town in the browser", timeout=60)
            loads_ms.append(time.perf_counter() - t0)
            page.context.close()
    browser_s = statistics.median(loads_ms)
    print(f"page load: first drawn town in the browser {browser_s * 1000:.0f} ms (median of {loads}); terminal app "
          f"start on the same town {terminal * 1000:.0f} ms; ratio {browser_s / terminal:.2f}x (target <= 2x)")


def echo_and_memory(town, agents: int, echoes: int, tabs: int, browser) -> None:
    import psutil

    with WebRun(town.root) as run:
        page = new_page(browser, DESKTOP)
        page.goto(run.url)
        wait_for(page, town_drawn("busytown"), "the town", timeout=90)
        end = time.monotonic() + 180
        while len(bench_app.agent_processes(town.root)) < agents and time.monotonic() < end:
            time.sleep(0.5)
        busy = len(bench_app.agent_processes(town.root))
        page.focus("textarea.xterm-helper-textarea")
        for _ in range(60):  # on to a polecat's pane (town roles may have no session)
            screen = screen_text(page)
            if "polecats/" in screen.split("\n")[1]:
                break
            title = screen.split("\n")[1]
            page.keyboard.press("n")
            wait_for(page, lambda s: s.split("\n")[1] != title, "the next agent", timeout=10)
        page.keyboard.press("Enter")
        wait_for(page, lambda s: "┏" in s.split("\n")[1], "the pane to take the keyboard", timeout=10)
        samples, lost = [], 0
        for i in range(echoes):
            letter = bench_app.ECHO_LETTERS[i % len(bench_app.ECHO_LETTERS)]
            page.evaluate(f"(args) => {{ window.__pending = ({ECHO_JS})(args); }}", [letter, 5000])
            page.keyboard.press(f"Shift+{letter}")
            value = page.evaluate("() => window.__pending")
            if value is None:
                lost += 1
            else:
                samples.append(float(value))
            time.sleep(0.1)
        page.keyboard.press("Control+b")
        page.keyboard.press("d")
        others = []
        for _ in range(tabs - 1):
            other = new_page(browser, DESKTOP)
            other.goto(run.url)
            wait_for(other, town_drawn("busytown"), "the town in another tab", timeout=90)
            others.append(other)
        time.sleep(3)
        procs = run.app_processes()
        rss = []
        for proc in procs:
            try:
                info = proc.memory_full_info()
                rss.append((info.rss / 2**20, info.uss / 2**20))
            except psutil.Error:
                pass
        for other in others:
            other.context.close()
        page.context.close()
    t = bench_app.Terminal([str(bench_app.GASTOWN)], town.root, bench_app.env_for())
    t.wait(lambda ls: "busytown" in ls[0], 60, "the terminal app")
    end = time.monotonic() + 180
    while len(bench_app.agent_processes(town.root)) < agents and time.monotonic() < end:
        time.sleep(0.5)
    time.sleep(2)
    term = psutil.Process(t.child.pid).memory_full_info()
    reference = bench_app.echo_reaction(t, echoes)
    t.close()
    extra = f" ({lost} showed no echo within 5 s, not counted)" if lost else ""
    if not samples:
        raise SystemExit("benchmark: no typed letter showed its echo in the browser")
    print(f"keystroke -> echo drawn in the browser: {busy} busy agents, {len(samples)} letters{extra}: "
          f"{bench_app.percentiles(samples)}")
    if reference:
        print(f"  reference, the terminal app in a PTY on the same town: {bench_app.percentiles(reference)}")
    per_tab = ", ".join(f"{r:.0f} MB RSS / {u:.0f} MB USS" for r, u in rss)
    print(f"memory per browser tab (its app process): {per_tab}; the terminal app on the same town "
          f"{term.rss / 2**20:.0f} MB RSS / {term.uss / 2**20:.0f} MB USS. Target <= 60 MB per tab (each tab "
          f"is a thin client of the town server)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=30)
    parser.add_argument("--echoes", type=int, default=40)
    parser.add_argument("--loads", type=int, default=3)
    parser.add_argument("--tabs", type=int, default=1,
                        help="tabs open when memory is measured (each is a thin client of the same town server)")
    parser.add_argument("--only", choices=("page-load", "echo"))
    args = parser.parse_args()
    why = missing()
    if why:
        print(f"benchmark skipped: {why}")
        return 0
    for key, value in (("GIT_AUTHOR_NAME", "bench"), ("GIT_AUTHOR_EMAIL", "bench@example.invalid"),
                       ("GIT_COMMITTER_NAME", "bench"), ("GIT_COMMITTER_EMAIL", "bench@example.invalid")):
        os.environ.setdefault(key, value)
    from playwright.sync_api import sync_playwright

    work = Path(tempfile.mkdtemp(prefix="gastown-bench-web-"))
    try:
        town = bench_app.busy_town(args.agents, work)
        with sync_playwright() as playwright:
            browser = launch(playwright)
            try:
                if args.only in (None, "page-load"):
                    page_load(town, args.loads, browser)
                if args.only in (None, "echo"):
                    echo_and_memory(town, args.agents, args.echoes, args.tabs, browser)
            finally:
                browser.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
