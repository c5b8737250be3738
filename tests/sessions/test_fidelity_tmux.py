"""Fidelity against tmux: the same keystrokes into our session and a tmux pane (120x40) give the same screen.

vim, less, `git log --graph --color` through less, and bash are driven live in both, key for key.
top (or htop) redraws the clock and the process list on its own, so two live runs never agree:
for it, the bytes our session received are replayed into tmux (`stty raw; cat`) and the screens compared.
"""
from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from gastown_tui.sessions.presets import load_presets
from gastown_tui.sessions.session import Session, SessionSpec

from sessions_tmux import TmuxPane, have_tmux

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not have_tmux(), reason="tmux is not installed (.ci/run installs it)")]


def _env(home: Path) -> list[str]:
    return ["env", "-i", f"HOME={home}", "TERM=xterm-256color", "LC_ALL=C.UTF-8", "LANG=C.UTF-8",
            "PATH=/usr/local/bin:/usr/bin:/bin", "HISTFILE=/dev/null", "LESSHISTFILE=-",
            "PS1=\\[\\e[1;32m\\]gt\\[\\e[0m\\]:\\W\\$ "]


async def _ours_stable(s: Session, quiet: float = 0.4, limit: float = 8.0) -> list[str]:
    """Our screen once nothing has arrived or changed for `quiet` seconds."""
    deadline = time.monotonic() + limit
    last, since = None, time.monotonic()
    while time.monotonic() < deadline:
        cur = (s.screen.lines(), s.screen.cursor)
        now = time.monotonic()
        if cur != last:
            last, since = cur, now
        elif now - since >= quiet and now - s.last_output_at >= quiet and s.output_seq > 0:
            break
        await asyncio.sleep(0.05)
    return last[0]


def _diff(ours: list[str], theirs: list[str]) -> list[tuple[int, str, str]]:
    return [(y, theirs[y], ours[y]) for y in range(40) if ours[y] != theirs[y]]


async def _drive(tmp_path: Path, argv: list[str], steps: list[bytes], cwd: Path | None = None) -> None:
    cwd = cwd or tmp_path
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    # The program runs under `sh -c '"$@"; sleep'` in both, so an exit leaves the same screen behind
    # (tmux would otherwise print "Pane is dead" over it).
    full = _env(home) + ["sh", "-c", '"$@"; exec sleep 120', "sh"] + argv
    pane = TmuxPane(full, cwd)
    s = Session(SessionSpec("mayor/", load_presets()["shell"], cwd=cwd, town=tmp_path, argv=full))
    await s.start()
    try:
        checkpoints = 0
        for step in [b""] + steps:
            s.write(step)
            pane.send(step)
            ours = await _ours_stable(s)
            theirs = await asyncio.to_thread(pane.wait_stable)
            ours = await _ours_stable(s, quiet=0.2)
            diff = _diff(ours, theirs)
            assert not diff, f"after {step!r}: rows differing (row, tmux, ours): {diff[:4]}"
            c = s.screen.cursor
            assert (c.x, c.y) == pane.cursor(), f"after {step!r}: cursor ours {(c.x, c.y)} tmux {pane.cursor()}"
            checkpoints += 1
        assert checkpoints == len(steps) + 1
    finally:
        pane.kill()
        await s.stop(grace=0.5)


def _source_file(folder: Path) -> Path:
    path = folder / "sample.py"
    lines = []
    for i in range(200):
        lines.append(f"def function_{i}(value):  # ünïcode ✓ 日本 {i}")
        lines.append(f"    return value * {i} + len('{'x' * (i % 50)}')")
    path.write_text("\n".join(lines) + "\n")
    return path


async def test_vim_matches_tmux(tmp_path):
    if not shutil.which("vim"):
        pytest.skip("vim is not installed")
    src = _source_file(tmp_path)
    await _drive(tmp_path, ["vim", "-u", "NONE", "-i", "NONE", "-N", "-n", "-c", "syntax on", "-c", "set number hlsearch",
                            str(src)], [
        b"\x06",  # page down
        b"10j",
        b"/return value \\* 4\r",
        b"n",
        b":set ttimeout ttimeoutlen=20\r",  # a lone Escape is not held back for a second
        b":split\r",
        b":vsplit\r",
        b"\x05\x05\x05",  # scroll a line at a time in a split
        b"ccchanged line \xe2\x9c\x93\x1b",
        b":qa!\r",
    ])


async def test_less_matches_tmux(tmp_path):
    src = _source_file(tmp_path)
    await _drive(tmp_path, ["less", "-R", str(src)], [b" ", b"jjj", b"kk", b"/function_77\r", b"G", b"g", b"q"])


async def test_git_log_graph_through_a_pager_matches_tmux(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()

    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True,
                       env={**os.environ, "GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z",
                            "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z"})

    git("init", "-q", "-b", "main")
    (repo / "README").write_text("start\n")
    git("add", ".")
    git("commit", "-q", "-m", "start")
    for b in range(6):
        branch = f"feature-{b}"
        git("checkout", "-q", "-b", branch, "main")
        for i in range(4):
            (repo / f"{branch}-{i}.txt").write_text(f"{i}\n")
            git("add", ".")
            git("commit", "-q", "-m", f"change {b}.{i}: ✓ work on {branch}")
        git("checkout", "-q", "main")
        (repo / f"main-{b}.txt").write_text(f"{b}\n")
        git("add", ".")
        git("commit", "-q", "-m", f"main moves on ({b})")
        if b % 2 == 0:
            git("merge", "-q", "--no-ff", "-m", f"merge {branch}", branch)
    await _drive(tmp_path, ["git", "-c", "core.pager=less -R", "-c", "color.ui=always", "log", "--graph",
                            "--color", "--all", "--decorate", "--oneline"],
                 [b" ", b"j", b"/merge\r", b"q"], cwd=repo)


async def test_bash_matches_tmux(tmp_path):
    (tmp_path / "日本語ファイル.txt").write_text("x")
    (tmp_path / "emoji-⚠️.txt").write_text("x")
    await _drive(tmp_path, ["bash", "--norc", "--noprofile", "-i"], [
        b"ls --color=always\r",
        b"echo " + b"wrapped-" * 20 + b"\r",
        b"echo helo\x1b[D\x1b[Dl\x01\x1b[Cx\x05!\r",  # cursor edits: left, insert, home, right, end
        b"for i in $(seq 0 15); do printf '\\e[48;5;%dm  ' $((i*16)); done; printf '\\e[0m\\n'\r",
        b"printf '\\e[1;31mred\\e[0m \\e[4munder\\e[0m \\e[7mrev\\e[0m \\u2713 \\u26a0\\ufe0f done\\n'\r",
        b"seq 1 60\r",
        b"clear\r",
        b"exit\r",
    ])


async def test_top_matches_tmux_on_the_same_bytes(tmp_path):
    prog = "htop" if shutil.which("htop") else "top"
    home = tmp_path / "home"
    home.mkdir()
    argv = _env(home) + ([prog, "-d", "5"] if prog == "htop" else [prog, "-d", "0.3"])
    s = Session(SessionSpec("mayor/", load_presets()["shell"], cwd=tmp_path, town=tmp_path, argv=argv))
    await s.start()
    snaps = []
    try:
        for key in [b"", b"c", b"M", b"q"]:
            s.write(key)
            await asyncio.sleep(1.0)
            await _ours_stable(s, quiet=0.15, limit=3)
            # Our screen and the bytes it came from, at the same instant (the raw file is written in
            # pieces: flush what is pending first).
            s.transcript.flush()
            snaps.append((key, s.screen.lines(), s.screen.cursor, s.transcript.raw_path.read_bytes()))
        await s.wait_exit(5)
    finally:
        await s.stop(grace=0.5)
    for key, ours, cursor, raw in snaps:
        stream = tmp_path / f"stream-{len(raw)}.raw"
        stream.write_bytes(raw)
        pane = TmuxPane(["sh", "-c", f"stty raw -echo; cat {stream}; sleep 30"], tmp_path)
        try:
            theirs = await asyncio.to_thread(pane.wait_stable)
            diff = _diff(ours, theirs)
            assert not diff, f"{prog} after {key!r}: rows differing (row, tmux, ours): {diff[:4]}"
            assert (cursor.x, cursor.y) == pane.cursor(), f"{prog} after {key!r}: cursor"
        finally:
            pane.kill()
