"""The terminal pane (widgets/terminal_pane.py) driven by Pilot against real programs in real PTYs."""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest
from textual import events
from textual.app import App, ComposeResult

from gastown_tui.sessions.session import Session, SessionSpec
from widgets.terminal_pane import TerminalPane


@pytest.fixture(autouse=True)
def _session_tmp(tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))  # transcripts of town-less sessions go under TMPDIR


class PaneApp(App):
    def __init__(self, argv, env=None, cwd=None, engine=None):
        super().__init__()
        self.engine = engine
        self.argv = argv
        self.env = env or {}
        self.cwd = cwd
        self.prefix_keys: list[str] = []
        self.titles: list[str] = []

    def compose(self) -> ComposeResult:
        yield TerminalPane(id="pane")

    async def on_mount(self):
        pane = self.query_one(TerminalPane)
        spec = SessionSpec(agent="testrig/crew/pane", preset="shell", cwd=Path(self.cwd or os.getcwd()),
                           argv=self.argv, env=self.env, cols=60, rows=12, engine=self.engine)
        self.program = Session(spec)
        await self.program.start()
        pane.session = self.program
        pane.focus()

    def on_terminal_pane_prefix_key(self, message: TerminalPane.PrefixKey):
        self.prefix_keys.append(message.key)

    def on_terminal_pane_title_changed(self, message: TerminalPane.TitleChanged):
        self.titles.append(message.title)

    async def on_unmount(self):
        await self.program.stop(grace=0.5)


def pane_text(pane: TerminalPane) -> list[str]:
    return [pane.render_line(y).text.rstrip() for y in range(pane.size.height)]


async def wait_for(pilot, predicate, timeout=30.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        await pilot.pause(0.02)
        if predicate():
            return True
    return False


async def test_typing_into_a_focused_pane_running_cat_shows_the_echo():
    app = PaneApp(["cat"])
    async with app.run_test(size=(60, 12)) as pilot:
        pane = app.query_one(TerminalPane)
        await pilot.press(*"hello", "space", *"pane", "enter")
        assert await wait_for(pilot, lambda: pane_text(pane)[:2] == ["hello pane", "hello pane"]), pane_text(pane)


BASH = ["bash", "--norc", "--noprofile", "-i"]
BASH_ENV = {"PS1": "$ ", "HOME": "/tmp", "LANG": "C.UTF-8"}


async def test_keys_textual_would_take_go_to_the_program():
    """tab, ctrl+c and escape reach the program instead of moving focus or quitting."""
    app = PaneApp(["cat", "-vT"])
    async with app.run_test(size=(60, 12)) as pilot:
        pane = app.query_one(TerminalPane)
        await pilot.press("a", "tab", "b", "escape", "c", "enter")
        assert await wait_for(pilot, lambda: "a^Ib^[c" in "\n".join(pane_text(pane))), pane_text(pane)
        assert app.focused is pane
        await pilot.press("ctrl+c")
        assert await wait_for(pilot, lambda: not app.program.alive), "ctrl+c did not reach cat"
        assert app.is_running


async def test_prefix_key_hands_the_next_key_to_the_app_and_twice_sends_it():
    app = PaneApp(["cat", "-v"])
    async with app.run_test(size=(60, 12)) as pilot:
        pane = app.query_one(TerminalPane)
        await pilot.press("ctrl+b", "n")
        await pilot.pause(0.05)
        assert app.prefix_keys == ["n"]
        await pilot.press("x", "ctrl+b", "ctrl+b", "y", "enter")
        assert await wait_for(pilot, lambda: "x^By" in "\n".join(pane_text(pane))), pane_text(pane)
        assert "n" not in "".join(pane_text(pane))  # the key after the prefix never reached the program


async def test_prefix_key_is_configurable():
    app = PaneApp(["cat", "-v"])
    async with app.run_test(size=(60, 12)) as pilot:
        pane = app.query_one(TerminalPane)
        pane.prefix_key = "ctrl+a"
        await pilot.press("ctrl+b", "ctrl+a", "w", "enter")
        assert await wait_for(pilot, lambda: "^B" in "\n".join(pane_text(pane)))
        assert app.prefix_keys == ["w"]


async def test_only_changed_rows_are_converted():
    app = PaneApp(BASH, env=BASH_ENV)
    async with app.run_test(size=(60, 12)) as pilot:
        pane = app.query_one(TerminalPane)
        await pilot.press(*"seq 1 8", "enter")
        assert await wait_for(pilot, lambda: "8" in pane_text(pane))
        await pilot.pause(0.3)
        before = pane.lines_refreshed
        await pilot.press("z")
        assert await wait_for(pilot, lambda: pane_text(pane)[9] == "$ z"), pane_text(pane)
        await pilot.pause(0.2)
        assert 1 <= pane.lines_refreshed - before <= 2, "a one-character echo redrew more than its row"


async def test_a_flood_of_output_is_drawn_at_most_once_per_frame():
    writer = ("import sys, time\ntime.sleep(0.3)\nfor i in range(1500):\n"
              "    sys.stdout.write(f'line {i}\\n'); sys.stdout.flush(); time.sleep(0.001)\ntime.sleep(30)\n")
    app = PaneApp([sys.executable, "-c", writer])
    async with app.run_test(size=(60, 12)) as pilot:
        pane = app.query_one(TerminalPane)
        start = time.monotonic()
        assert await wait_for(pilot, lambda: "line 1499" in "\n".join(pane_text(pane)), timeout=15)
        elapsed = time.monotonic() - start
        assert app.program.output_seq > pane.frames_drawn, (app.program.output_seq, pane.frames_drawn)
        assert pane.frames_drawn <= elapsed * 60 + 3


@pytest.mark.parametrize("engine", ["ghostty", "pyte"])
async def test_colours_and_attributes_reach_the_strips(engine):
    if engine == "pyte":
        pytest.importorskip("pyte", reason="pyte (the fallback engine) is not installed here")
    script = r"printf '\033[1;31mRED\033[0m \033[38;5;208mORANGE\033[0m \033[38;2;1;2;3;48;2;4;5;6mTRUE\033[0m \033[3;4;7mIUR\033[0m 中文'; sleep 5"
    app = PaneApp(["sh", "-c", script], engine=engine)
    async with app.run_test(size=(60, 12)) as pilot:
        pane = app.query_one(TerminalPane)
        assert await wait_for(pilot, lambda: pane_text(pane)[0].startswith("RED ORANGE TRUE IUR 中文"))
        segs = {seg.text.strip(): seg.style for seg in pane.render_line(0) if seg.text.strip()}
        assert segs["RED"].bold and segs["RED"].color.number == 1
        orange = segs["ORANGE"].color  # palette 208 (pyte hands out its RGB value, the same colour)
        assert orange.number == 208 or orange.triplet == (255, 135, 0), orange
        assert segs["TRUE"].color.triplet == (1, 2, 3) and segs["TRUE"].bgcolor.triplet == (4, 5, 6)
        assert segs["IUR"].italic and segs["IUR"].underline and segs["IUR"].reverse
        assert pane.render_line(0).cell_length == 60  # the wide characters take two cells each


async def test_scrollback_with_keys_and_wheel_and_search_with_n_and_N():
    script = "for i in $(seq 1 300); do echo row-$i; done; echo needle-A; for i in $(seq 301 400); do echo row-$i; done; echo needle-B; seq 1 30; sleep 30"
    app = PaneApp(["sh", "-c", script])
    async with app.run_test(size=(60, 12)) as pilot:
        pane = app.query_one(TerminalPane)
        assert await wait_for(pilot, lambda: "30" in pane_text(pane))
        live = pane_text(pane)
        # the wheel enters scrollback mode and shows older rows
        await pilot._post_mouse_events([events.MouseScrollUp], pane, offset=(5, 5))  # Pilot has no wheel helper
        await pilot.pause(0.05)
        assert pane.mode == "scrollback"
        assert pane_text(pane)[:-1] != live[:-1]
        assert "SCROLLBACK" in pane_text(pane)[-1]
        await pilot.press("q")
        await pilot.pause(0.05)
        assert pane.mode == "live" and pane_text(pane) == live
        # prefix + [ enters scrollback; / searches upward; n goes older, N newer
        await pilot.press("ctrl+b", "left_square_bracket")
        assert pane.mode == "scrollback"
        await pilot.press("slash", *"needle", "enter")
        await pilot.pause(0.05)
        text = "\n".join(pane_text(pane))
        assert "needle-B" in text and "row-400" in text
        await pilot.press("n")
        await pilot.pause(0.05)
        text = "\n".join(pane_text(pane))
        assert "needle-A" in text and "row-300" in text and "needle-B" not in text
        await pilot.press("N")
        await pilot.pause(0.05)
        assert "needle-B" in "\n".join(pane_text(pane))
        # matches are highlighted
        y = next(i for i, line in enumerate(pane_text(pane)) if "needle-B" in line)
        seg = next(s for s in pane.render_line(y) if "needle" in s.text)
        assert seg.style.bgcolor is not None
        # keyboard scrolling: g goes to the oldest row, G back to live
        await pilot.press("g")
        await pilot.pause(0.05)
        assert pane_text(pane)[0] == "row-1"
        await pilot.press("G")
        await pilot.pause(0.05)
        assert pane.mode == "live" and pane_text(pane) == live


async def test_drag_selects_and_copies_to_the_host_clipboard():
    app = PaneApp(["sh", "-c", "echo first line here; echo second line; sleep 30"])
    async with app.run_test(size=(60, 12)) as pilot:
        pane = app.query_one(TerminalPane)
        assert await wait_for(pilot, lambda: pane_text(pane)[1] == "second line")
        copied = []
        app.copy_to_clipboard = lambda text: copied.append(text)  # records what Textual would send as OSC 52
        await pilot.mouse_down(pane, offset=(6, 0))
        await pilot.hover(pane, offset=(5, 1))
        await pilot.mouse_up(pane, offset=(5, 1))
        await pilot.pause(0.05)
        assert copied == ["line here\nsecond"]
        # keyboard only: scrollback mode, y copies every row shown
        await pilot.press("ctrl+b", "left_square_bracket", "y")
        await pilot.pause(0.05)
        assert copied[-1].startswith("first line here\nsecond line")


async def test_agent_output_cannot_reach_the_host_terminal_or_clipboard():
    """OSC 52 (set clipboard), a title full of escapes and raw C1 controls stay inside the engine."""
    import base64

    evil = base64.b64encode(b"pwned").decode()
    script = (
        rf"printf '\033]52;c;{evil}\007\033]0;ti\033[31mtle\007\233 31m\033P+q\033\\safe text'; sleep 30"
    )
    app = PaneApp(["sh", "-c", script])
    async with app.run_test(size=(60, 12)) as pilot:
        pane = app.query_one(TerminalPane)
        assert await wait_for(pilot, lambda: "safe text" in pane_text(pane)[0]), pane_text(pane)
        assert app.clipboard == ""
        for y in range(pane.size.height):
            for seg in pane.render_line(y):
                assert not any(ord(c) < 32 or 0x7F <= ord(c) <= 0x9F for c in seg.text), repr(seg.text)
        assert all("\x1b" not in t and "\x07" not in t for t in app.titles)


async def test_mouse_and_bracketed_paste_go_to_a_program_that_asked_for_them():
    app = PaneApp(["sh", "-c", r"printf '\033[?1000h\033[?1006h\033[?2004hready\n'; stty -echo; exec cat -v"])
    async with app.run_test(size=(60, 12)) as pilot:
        pane = app.query_one(TerminalPane)
        assert await wait_for(pilot, lambda: pane_text(pane)[0] == "ready")
        await pilot.click(pane, offset=(4, 2))
        pane.post_message(events.Paste("pasted text"))
        await pilot.press("enter")
        want = "^[[<0;5;3M^[[<0;5;3m^[[200~pasted text^[[201~"
        assert await wait_for(pilot, lambda: want in "".join(pane_text(pane))), pane_text(pane)
        assert pane.mode == "live"  # a program that wants the mouse gets it: no selection, no scrollback


async def test_the_pty_follows_the_pane_size_and_the_cursor_is_drawn():
    app = PaneApp(BASH, env=BASH_ENV)
    async with app.run_test(size=(70, 15)) as pilot:
        pane = app.query_one(TerminalPane)
        await pilot.press(*"stty size", "enter")
        assert await wait_for(pilot, lambda: "15 70" in pane_text(pane)), pane_text(pane)
        assert (app.program.screen.cols, app.program.screen.rows) == (70, 15)
        await pilot.resize_terminal(50, 10)
        await pilot.press(*"stty size", "enter")
        assert await wait_for(pilot, lambda: "10 50" in pane_text(pane)), pane_text(pane)
        cursor = app.program.screen.cursor
        cell = pane.render_line(cursor.y).divide([cursor.x, cursor.x + 1])[1]
        assert all(seg.style.reverse for seg in cell if seg.text)
        app.set_focus(None)
        await pilot.pause(0.05)
        cell = pane.render_line(cursor.y).divide([cursor.x, cursor.x + 1])[1]
        assert not any(seg.style and seg.style.reverse for seg in cell if seg.text)  # no cursor when unfocused


async def test_a_hidden_pane_does_not_render():
    app = PaneApp(["sh", "-c", "sleep 0.5; while :; do echo tick; sleep 0.05; done"])
    async with app.run_test(size=(60, 12)) as pilot:
        pane = app.query_one(TerminalPane)
        assert await wait_for(pilot, lambda: "tick" in pane_text(pane))
        pane.display = False
        await pilot.pause(0.1)
        before, seq = pane.lines_refreshed, app.program.output_seq
        await pilot.pause(0.6)
        assert app.program.output_seq > seq  # the program kept writing (and the session kept parsing)...
        assert pane.lines_refreshed == before  # ...but nothing was converted for a pane nobody sees
        pane.display = True
        assert await wait_for(pilot, lambda: pane.lines_refreshed > before)


async def test_a_theme_change_redraws_with_the_new_default_colours():
    app = PaneApp(["sh", "-c", "echo plain text; sleep 30"])
    async with app.run_test(size=(60, 12)) as pilot:
        pane = app.query_one(TerminalPane)
        assert await wait_for(pilot, lambda: pane_text(pane)[0] == "plain text")
        before = pane.render_line(0)._segments[0].style.bgcolor
        app.theme = "textual-light" if app.theme != "textual-light" else "textual-dark"
        await pilot.pause(0.2)
        after = pane.render_line(0)._segments[0].style.bgcolor
        assert before != after


async def test_exit_is_shown_and_focus_reports_go_to_programs_that_ask():
    app = PaneApp(["sh", "-c", r"printf '\033[?1004h'; stty -echo -icanon; head -c 6 | od -c | head -1; exit 3"])
    async with app.run_test(size=(60, 12)) as pilot:
        pane = app.query_one(TerminalPane)
        await pilot.pause(0.3)
        app.set_focus(None)
        await pilot.pause(0.05)
        pane.focus()  # blur then focus: ESC [ O, ESC [ I
        assert await wait_for(pilot, lambda: "the program exited (status 3)" in pane_text(pane)[-1]), pane_text(pane)
        assert "033   [   O 033   [   I" in "\n".join(pane_text(pane))
