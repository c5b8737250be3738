"""The demo town's console in a real chromium: what a person does in a browser tab, end to end.

`gastown web` serves every tab from the town's server (`gastown up`), so two tabs
and the terminal app share one copy of the agents; the tests that need the server
fail, not skip, if `up` is not a command (a broken registration). Without it each
tab's `gastown app` would run the town itself, one tab at a time.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from gastown_tui.web.town_server import town_server_command_exists
from web.browser import (DESKTOP, PHONE, click_text, new_page, screen_text, screenshot, wait_for, wait_for_text)
from web.serving import WebRun, stop_town_server

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from gastown_tui.demo.build import build_demo_town

    # the Refinery stays off, so the first merge request waits in the queue for the Overseer's approval
    return build_demo_town(tmp_path_factory.mktemp("webdemo") / "demo", polecats=2, pace=2.0,
                           patrols={"disabled": ["refinery"]})


@pytest.fixture(scope="module")
def served(demo):
    try:
        with WebRun(demo.town.root) as run:
            yield run
    finally:
        stop_town_server(demo.town.root)


def polecats(demo) -> list[str]:
    folder = Path(demo.town.root) / demo.rig.name / "polecats"
    return sorted(p.name for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []


def open_mrs(demo):
    from gastown_tui.town.mq import list_mrs

    return list_mrs(demo.town, demo.rig.name)


def live_polecats(screen: str, demo) -> list[str]:
    """Polecats the agent tree shows working (●)."""
    return [name for name in polecats(demo) if re.search(rf"● {name} ", screen)]


def session_polecats(screen: str, demo) -> list[str]:
    """Polecats the agent tree shows with a session (working, idle, needing approval or just finished)."""
    return [name for name in polecats(demo) if re.search(rf"[●○◆★] {name} ", screen)]


def pane_title(screen: str) -> str:
    found = re.search(r"[─━] \d+ \S (\S+) [─━]", screen)
    return found.group(1) if found else ""


def test_a_tab_shows_the_town_drives_an_agent_and_approves_a_merge(served, demo, browser):
    page = new_page(browser, DESKTOP)
    page.goto(served.url)
    wait_for_text(page, "rig textkit", timeout=90)
    # the centre opens on the Mayor (the town's front door); a click on a polecat's row shows its pane
    screen = wait_for(page, lambda s: "SIMULATED" in s and pane_title(s) == "mayor/", "the Mayor's live pane",
                      timeout=120)
    screen = wait_for(page, lambda s: session_polecats(s, demo), "a polecat with a session", timeout=120)
    name = session_polecats(screen, demo)[0]
    click_text(page, f" {name} ")
    screen = wait_for(page, lambda s: "SIMULATED" in s and pane_title(s).endswith("/polecats/" + name),
                      "a polecat's live pane", timeout=60)
    first = pane_title(screen)
    # the tab's title carries the town and the Needs-you count, from the app itself
    page.wait_for_function("document.title.includes('gastown · demo')", timeout=60_000)
    shot = screenshot(page, "desktop-town")
    assert shot.stat().st_size > 10_000

    # click another working polecat's row in the agent tree: its pane takes the centre
    screen = wait_for(page, lambda s: len(live_polecats(s, demo)) >= 2, "two working polecats", timeout=120)
    other = next(name for name in live_polecats(screen, demo) if not first.endswith("/" + name))
    click_text(page, f" {other} ")
    wait_for(page, lambda s: pane_title(s).endswith("/" + other), f"{other}'s pane after the click", timeout=30)

    # type into the agent's pane (enter gives it the keyboard) and see the agent echo it
    page.keyboard.press("Enter")
    page.keyboard.type("hello-from-the-browser")
    wait_for_text(page, "hello-from-the-browser", timeout=30)
    wait_for(page, lambda s: "┏━" in s, "the pane holding the keyboard (heavy border)", timeout=10)
    page.keyboard.press("Enter")
    page.keyboard.press("Control+b")
    page.keyboard.press("d")  # prefix d: the keyboard back to the app
    wait_for(page, lambda s: "┏━" not in s, "the pane letting the keyboard go", timeout=30)

    # a polecat finishes, its merge request waits; approve it in the merge queue and see the ledger change
    deadline = time.monotonic() + 240
    while not open_mrs(demo) and time.monotonic() < deadline:
        page.wait_for_timeout(500)
    mrs = open_mrs(demo)
    assert mrs, "no polecat submitted a merge request:\n" + screen_text(page)
    mr = mrs[0]
    page.keyboard.press("m")
    wait_for(page, lambda s: "Merge queue (" in s and mr.id in s and "Files (" in s, "the merge queue and its diff",
             timeout=60)
    screenshot(page, "desktop-merge-queue")
    page.keyboard.press("a")
    from gastown_tui.patrols.refinery import approved
    from gastown_tui.town.ledgers import ledger_for_id

    def approved_on_disk() -> bool:
        return approved(ledger_for_id(demo.town, mr.id).get(mr.id))

    deadline = time.monotonic() + 60
    while not approved_on_disk() and time.monotonic() < deadline:
        page.wait_for_timeout(200)
    assert approved_on_disk(), "the approval never reached the ledger:\n" + screen_text(page)
    wait_for_text(page, "approved", timeout=30)  # the app's toast
    # the tab's title and favicon carry the Needs-you count the header shows
    page.wait_for_function("""() => {
        const t = window.__xterms[0], b = t.buffer.active;
        const found = b.getLine(b.viewportY).translateToString(true).match(/needs you (\\d+)/);
        return found !== null && document.title.startsWith("(" + found[1] + ") gastown · ");
    }""", timeout=120_000)
    assert page.evaluate("document.getElementById('badge-icon').href").startswith("data:image/png")
    page.keyboard.press("t")

    # reload the tab: the town comes back with its agents and the approval
    before = {p.pid for p in served.app_processes()}
    page.reload()
    wait_for_text(page, "rig textkit", timeout=90)
    wait_for(page, lambda s: "●" in s or "SIMULATED" in s, "live agents after the reload", timeout=120)
    deadline = time.monotonic() + 60  # the old tab's app quits (stopping its agents takes a moment)
    while time.monotonic() < deadline and {p.pid for p in served.app_processes()} & before:
        page.wait_for_timeout(200)
    after = {p.pid for p in served.app_processes()}
    assert len(after) == 1 and not after & before  # the old tab's app quit; one app serves the new tab
    page.focus("textarea.xterm-helper-textarea")  # the keyboard to the terminal, as a tap on it would
    page.keyboard.press("m")
    wait_for(page, lambda s: "Merge queue (" in s and mr.id in s, "the approved MR after the reload", timeout=60)
    page.context.close()


def test_a_phone_gets_one_pane_and_big_buttons(served, demo, browser):
    page = new_page(browser, PHONE, has_touch=True)
    page.goto(served.url)
    screen = wait_for_text(page, "Agents", timeout=120)
    cols = max(len(line) for line in screen.split("\n"))
    assert cols < 100
    wait_for(page, lambda s: "polecats/" in pane_title(s) or "mayor/" in s, "one agent pane", timeout=120)
    screen = screen_text(page)
    assert "Activity" not in screen and "Convoys" not in screen  # no side panels: the pane has the width
    screenshot(page, "phone-town")

    click_text(page, "Agents", line_with="Nudge")  # one tap: the agent list in place of the pane
    screen = wait_for_text(page, "rig textkit", timeout=30)
    screenshot(page, "phone-agents")
    # the Mayor slings the first beads shortly after the town starts: wait for a polecat row
    screen = wait_for(page, lambda s: any(f" {n} " in s for n in polecats(demo)), "a polecat in the list",
                      timeout=120)
    name = (live_polecats(screen, demo) or [n for n in polecats(demo) if f" {n} " in screen])[0]
    click_text(page, f" {name} ")
    wait_for(page, lambda s: pane_title(s).endswith("/" + name), f"{name}'s pane after the tap", timeout=30)
    screenshot(page, "phone-pane")
    rows = page.evaluate("window.__xterms[0].rows")
    assert rows > 40, f"the phone's terminal has {rows} rows"

    click_text(page, "MQ", line_with="Nudge")
    screen = wait_for_text(page, "Approve", timeout=30)
    assert "Send back" in screen
    screenshot(page, "phone-merge-queue")
    page.context.close()


@pytest.mark.skipif(town_server_command_exists(), reason="with a town server, tabs share it and never take over")
def test_without_a_town_server_a_new_tab_takes_over_from_the_last(served, browser):
    first = new_page(browser, DESKTOP)
    first.goto(served.url)
    wait_for_text(first, "rig textkit", timeout=90)
    second = new_page(browser, DESKTOP)
    second.goto(served.url)
    wait_for_text(second, "rig textkit", timeout=90)
    first.wait_for_function("document.body.classList.contains('-closed')", timeout=60_000)
    assert len(served.app_processes()) == 1  # never two copies of the town's agents
    assert "ended" in first.inner_text("#ended")
    first.context.close()
    second.context.close()


def needs_the_town_server() -> None:
    """`gastown up` is a command (else `gastown web` falls back to one app, and one copy of the agents, per tab)."""
    assert town_server_command_exists(), "`gastown up` is not a registered command: tabs cannot share a town server"


def app_env() -> dict[str, str]:
    """The environment for an app in a PTY: COLUMNS/LINES (set by some CI shells) would override the PTY's size."""
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    return {**env, "TERM": "xterm-256color"}


class TerminalApp:
    """`gastown app` in a real PTY (160x48), its output fed to a VT screen."""

    def __init__(self, town: Path) -> None:
        import threading

        import pexpect

        from gastown_tui.sessions.vt import new_screen

        self.screen = new_screen(cols=160, rows=48, scrollback_lines=0)
        self.lock = threading.Lock()
        self.child = pexpect.spawn(sys.executable, ["-m", "gastown_tui.cli", "app", "--town", str(town)],
                                   dimensions=(48, 160), env=app_env())
        self.screen.on_reply = lambda data: self.child.send(data)
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        import pexpect

        while True:
            try:
                data = self.child.read_nonblocking(65536, timeout=0.1)
            except pexpect.TIMEOUT:
                continue
            except (pexpect.EOF, OSError):
                return
            with self.lock:
                self.screen.feed(data)

    def text(self) -> str:
        with self.lock:
            return "\n".join(self.screen.lines())

    def wait_for_text(self, text: str, timeout: float) -> str:
        """The screen once it shows `text` (AssertionError with the last screen if it never does)."""
        deadline = time.monotonic() + timeout
        while text not in (screen := self.text()):
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} never appeared in the terminal app; last screen:\n{screen}")
            time.sleep(0.1)
        return screen

    def close(self) -> None:
        self.child.sendcontrol("q")  # with a town server, ctrl+q detaches: the agents go on
        self.child.expect(__import__("pexpect").EOF, timeout=30)
        self.child.close(force=True)


def test_a_second_tab_and_the_terminal_app_both_see_live_output(demo, browser):
    needs_the_town_server()
    try:
        with WebRun(demo.town.root) as run:
            tabs = [new_page(browser, DESKTOP) for _ in range(2)]
            for tab in tabs:
                tab.goto(run.url)
                wait_for(tab, lambda s: "SIMULATED" in s and pane_title(s) != "", "an agent's live pane", 120)
            # a polecat the Mayor has slung (the Mayor itself is busy filing, and queues typed text)
            screen = wait_for(tabs[0], lambda s: session_polecats(s, demo), "a polecat with a session", 120)
            name = session_polecats(screen, demo)[0]
            click_text(tabs[0], f" {name} ")
            wait_for(tabs[0], lambda s: pane_title(s).endswith("/polecats/" + name), f"{name}'s pane", 60)
            terminal = TerminalApp(demo.town.root)
            try:
                agent = pane_title(screen_text(tabs[0]))
                for tab in tabs[1:]:
                    click_text(tab, " " + agent.rsplit("/", 1)[-1] + " ")
                    wait_for(tab, lambda s: pane_title(s) == agent, f"{agent}'s pane in the second tab", 30)
                number = re.search(rf"[─━] (\d+) \S {re.escape(agent)} ", screen_text(tabs[0])).group(1)
                terminal.wait_for_text("rig textkit", timeout=90)  # the town shown before its keys are typed
                terminal.child.send(number)  # the terminal app shows the same agent (by its number)
                marker = f"live-{os.getpid()}"
                subprocess.run([sys.executable, "-m", "gastown_tui.cli", "nudge", "--urgent", agent, marker],
                               cwd=demo.town.root, env={**os.environ, "GT_TOWN": str(demo.town.root)},
                               check=True, capture_output=True, timeout=60)
                for tab in tabs:
                    wait_for_text(tab, marker, timeout=60)
                terminal.wait_for_text(marker, timeout=60)
            finally:
                terminal.close()
            for tab in tabs:
                tab.context.close()
    finally:
        stop_town_server(demo.town.root)


def test_closing_every_tab_and_stopping_web_leaves_every_agent_running(demo, browser):
    needs_the_town_server()

    def agents() -> set[int]:
        out = set()
        for p in psutil.process_iter(["pid", "cmdline"]):
            try:
                cmd = " ".join(p.info["cmdline"] or [])
                if "agent sim" in cmd and p.environ().get("GT_TOWN") == str(demo.town.root):
                    out.add(p.pid)
            except (psutil.Error, OSError):
                continue
        return out

    with WebRun(demo.town.root) as run:
        tabs = [new_page(browser, DESKTOP) for _ in range(2)]
        for tab in tabs:
            tab.goto(run.url)
            wait_for(tab, lambda s: "SIMULATED" in s and pane_title(s) != "", "an agent's live pane", 120)
        running = agents()
        assert running
        for tab in tabs:
            tab.context.close()
    try:
        assert running <= agents()  # every agent that ran is still running
    finally:
        stop_town_server(demo.town.root)
