"""Agent sessions: parse cost vs tmux, 30 busy sessions on one core, memory, keystroke echo.

    .venv/bin/python benchmarks/sessions.py [--sessions 30] [--rate 20000] [--seconds 10]
                                            [--only parse,load,memory,stop]

Prints (targets from issue 5):
  parse_ms_per_mb / tmux_ms_per_mb / ratio   our VT engine and tmux consuming the same bytes
                                             (the four real captures, repeated), CPU per MB; ratio <= 1
  load_cpu_pct                               30 real sessions (PTYs) each replaying a capture at 20 KB/s,
                                             4 visible panes rendered (dirty rows -> the pane's Textual
                                             strips, 20 fps, the focused one at once), 26 hidden (parse only),
                                             state detection on all: % of one core (<= 20), and the share
                                             of the produced bytes consumed (kept up)
  echo_p50_ms / echo_p95_ms                  keystroke -> echo rendered in the focused pane, under that
                                             load (p95 <= 20)
  mb_per_session                             RSS per session holding 10,000 lines of coloured
                                             scrollback (<= 16)
  stop 30 sim/shell sessions                 SessionManager.close() (the app's quit) with 30 live idle
                                             `sim` agents, then 30 `shell`s, against one session alone
                                             (ratio ~1: stopped at once, not one after the other)
  transcript writes                          the same 30 replaying sessions (no panes), the raw transcript
                                             written as before (one unbuffered write per PTY read, on the
                                             loop) and now (buffered, 64 KiB / 0.25 s, a writer thread):
                                             write(2) calls per second for transcripts, and the event loop's
                                             time inside Transcript.append (ms per s and the longest call)
Needs ../shared/captures (or GASTOWN_SHARED) and tmux for the parse ratio (not for `--only stop`).
"""
from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gastown_tui.sessions.presets import Preset  # noqa: E402
from gastown_tui.sessions.session import Session, SessionSpec  # noqa: E402
from gastown_tui.sessions.vt import new_screen  # noqa: E402

SHARED = Path(os.environ.get("GASTOWN_SHARED", ROOT.parent / "shared"))
CAPTURES = ["claude", "codex", "gemini", "aider"]

REPLAYER = textwrap.dedent("""
    import os, select, sys, time
    data = open(sys.argv[1], 'rb').read()
    rate = int(sys.argv[2]); tick = 0.05; step = max(1, int(rate * tick))
    fd_in, out = sys.stdin.fileno(), sys.stdout.buffer
    os.set_blocking(fd_in, False)
    pos, t = 0, time.monotonic()
    while True:
        chunk = data[pos:pos + step]
        if len(chunk) < step:
            pos = step - len(chunk); chunk += data[:pos]
        else:
            pos += step
        out.write(chunk); out.flush()
        t += tick
        while True:  # swallow the terminal's replies to the capture's queries
            r, _, _ = select.select([fd_in], [], [], max(0.0, t - time.monotonic()))
            if not r:
                break
            try:
                os.read(fd_in, 65536)
            except BlockingIOError:
                pass
""")


def _captures_stream(total: int) -> bytes:
    raws = [(SHARED / "captures" / f"{n}_session.raw").read_bytes() for n in CAPTURES]
    one = b"".join(b"\x1bc" + r for r in raws)  # RIS between captures, as a fresh terminal would be
    return (one * (total // len(one) + 1))[:total]


# -- 1. parse cost vs tmux -------------------------------------------------------------------------
def bench_parse(mb: float = 8.0) -> tuple[float, float | None]:
    data = _captures_stream(int(mb * 1e6))
    best = float("inf")
    for _ in range(3):
        screen = new_screen(120, 40)
        screen.on_reply = lambda b: None
        t0 = time.process_time()
        for i in range(0, len(data), 4096):
            screen.feed(data[i:i + 4096])
        best = min(best, time.process_time() - t0)
        screen.close()
    ours = best / (len(data) / 1e6) * 1000
    return ours, bench_tmux(data)


def _proc_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bench_tmux(data: bytes) -> float | None:
    if not shutil.which("tmux") or not Path("/proc").is_dir():
        return None
    sock = f"gastown-bench-{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory() as tmp:
        conf = Path(tmp) / "tmux.conf"
        conf.write_text("set -g status off\nset -g history-limit 10000\nset -g default-terminal xterm-256color\n")
        big, empty = Path(tmp) / "big.raw", Path(tmp) / "empty.raw"
        big.write_bytes(data)
        empty.write_bytes(b"")
        tmux = ["tmux", "-L", sock, "-f", str(conf)]
        subprocess.run(tmux + ["new-session", "-d", "-x", "120", "-y", "40", "-s", "keep", "sleep 600"], check=True)
        try:
            pid = int(subprocess.run(tmux + ["display", "-p", "#{pid}"], capture_output=True, text=True).stdout)

            def run(path: Path) -> float:
                best = float("inf")
                for i in range(3):
                    chan = f"done{uuid.uuid4().hex[:6]}"
                    before = _proc_cpu(pid)
                    subprocess.run(tmux + ["new-window", "-d", f"stty raw -echo; cat {path}; tmux -L {sock} wait-for -S {chan}"],
                                   check=True)
                    subprocess.run(tmux + ["wait-for", chan], check=True, timeout=120)
                    best = min(best, _proc_cpu(pid) - before)
                return best

            base = run(empty)
            cost = run(big) - base
        finally:
            subprocess.run(tmux + ["kill-server"], capture_output=True)
    return max(cost, 1e-9) / (len(data) / 1e6) * 1000


# -- 2. 30 sessions under load, 4 visible panes, keystroke echo -------------------------------------
class StripRenderer:
    """What a pane does per frame: dirty rows -> Textual strips through the pane's own converter
    (widgets/terminal_render.row_strip); rich Segments with a style cache if that is not importable."""

    def __init__(self) -> None:
        from rich.style import Style

        try:
            from widgets.terminal_render import row_strip
        except ImportError:
            row_strip = None
        self.row_strip, self.base = row_strip, Style()
        self.cache: dict = {}
        self.rows: dict[int, object] = {}
        self.frames = 0

    def _segments(self, row):
        from rich.color import Color
        from rich.segment import Segment
        from rich.style import Style

        def col(c):
            return None if c is None else Color.from_ansi(c) if isinstance(c, int) else Color.from_rgb(*c)

        out = []
        for r in row.runs:
            rs = self.cache.get(r.style)
            if rs is None:
                st = r.style
                rs = self.cache[st] = Style(color=col(st.fg), bgcolor=col(st.bg), bold=st.bold, italic=st.italic,
                                            underline=bool(st.underline), reverse=st.reverse, strike=st.strike)
            out.append(Segment(r.text, rs))
        return out

    def render(self, screen) -> int:
        frame = screen.render()
        for y, row in frame.rows.items():
            self.rows[y] = self.row_strip(row, screen.cols, self.base) if self.row_strip else self._segments(row)
        self.frames += 1
        return len(frame.rows)

    @property
    def kind(self) -> str:
        return "Textual strips (widgets.terminal_render)" if self.row_strip else "rich Segments"


async def bench_load(n: int, rate: int, seconds: float, tmp: Path) -> dict:
    captures = [SHARED / "captures" / f"{c}_session.raw" for c in CAPTURES]
    replayer = tmp / "replay.py"
    replayer.write_text(REPLAYER)
    preset = Preset.from_dict("replay", {"argv": ["true"], "quit_keys": ["ctrl+c"], "rules": [
        {"name": "r.working", "state": "working", "region": "bottom:8", "pattern": "esc to (interrupt|cancel)"},
        {"name": "r.idle", "state": "idle", "quiet_for": 1.0}]})
    sessions = []
    for i in range(n):
        s = Session(SessionSpec(f"bench/polecats/p{i}", preset, cwd=tmp, town=tmp, cols=120, rows=40,
                                argv=[sys.executable, str(replayer), str(captures[i % 4]), str(rate)]))
        await s.start()
        sessions.append(s)
    echo = Session(SessionSpec("bench/crew/focus", preset, cwd=tmp, town=tmp, cols=120, rows=40,
                               argv=["sh", "-c", "stty -icanon; cat > /dev/null"]))
    await echo.start()
    visible = sessions[:3] + [echo]
    renderers = {id(s): StripRenderer() for s in visible}
    loop = asyncio.get_running_loop()

    # The focused pane renders as soon as its output arrives (coalesced); the others on one 20 fps timer.
    pending = {"h": None}

    def render_focused():
        pending["h"] = None
        renderers[id(echo)].render(echo.screen)

    def on_focus_output(_s):
        if pending["h"] is None:
            pending["h"] = loop.call_soon(render_focused)

    echo.add_output_listener(on_focus_output)

    async def frame_timer(stop: asyncio.Event):
        while not stop.is_set():
            await asyncio.sleep(0.05)
            for s in visible[:3]:
                if s.screen.changed:
                    renderers[id(s)].render(s.screen)

    await asyncio.sleep(1.0)  # warm up: every program started, first screens drawn
    bytes0 = sum(s.transcript.bytes_written for s in sessions)
    stop = asyncio.Event()
    timer = loop.create_task(frame_timer(stop))
    cpu0, t0 = time.process_time(), time.monotonic()
    lat = []
    col = 0
    while time.monotonic() - t0 < seconds:
        await asyncio.sleep(0.05)
        ch = "abcdefghijklmnopqrstuvwxyz"[len(lat) % 26]
        sent = time.perf_counter()
        echo.write(ch.encode())
        x = col
        col = (col + 1) % 100
        if col == 0:
            echo.write(b"\r")  # start a new line now and then (echoed as the row scrolls)
        while time.perf_counter() - sent < 1.0:
            row = renderers[id(echo)].rows.get(echo.screen.cursor.y)
            cur = echo.screen.lines()[echo.screen.cursor.y] if row is not None else ""
            if len(cur) > x and cur[x] == ch and pending["h"] is None:
                break
            await asyncio.sleep(0.0005)
        lat.append((time.perf_counter() - sent) * 1000)
    cpu = time.process_time() - cpu0
    wall = time.monotonic() - t0
    stop.set()
    await timer
    consumed = sum(s.transcript.bytes_written for s in sessions) - bytes0
    produced = n * rate * wall
    for s in sessions + [echo]:
        await s.stop(grace=0.2)
    lat.sort()
    return {
        "cpu_pct": 100 * cpu / wall,
        "kept_up_pct": 100 * consumed / produced,
        "echo_p50": statistics.median(lat),
        "echo_p95": lat[int(len(lat) * 0.95)],
        "frames": sum(r.frames for r in renderers.values()),
        "render_kind": next(iter(renderers.values())).kind,
    }


# -- 3. memory per session with 10,000 lines of scrollback ---------------------------------------------
MEMORY_CHILD = textwrap.dedent("""
    import asyncio, sys, resource, gc
    sys.path.insert(0, sys.argv[1])
    from pathlib import Path
    from gastown_tui.sessions.presets import Preset
    from gastown_tui.sessions.session import Session, SessionSpec
    def rss():
        return int(open('/proc/self/statm').read().split()[1]) * 4096
    async def main():
        tmp, n = Path(sys.argv[2]), int(sys.argv[3])
        preset = Preset.from_dict('p', {'argv': ['true'], 'rules': [{'name': 'i', 'state': 'idle', 'quiet_for': 1}]})
        gen = ("import sys\\nfor i in range(10100):\\n"
               "    sys.stdout.write(''.join('\\\\x1b[38;5;%dm%s ' % ((i + j) % 256, 'word%d' % j) for j in range(14)) + '\\\\x1b[0m\\\\n')\\n")
        (tmp / 'gen.py').write_text(gen)
        warm = Session(SessionSpec('bench/polecats/warm', preset, cwd=tmp, town=tmp, argv=[sys.executable, str(tmp / 'gen.py')]))
        await warm.start(); await warm.wait_exit(60)
        gc.collect(); before = rss()
        sessions = []
        for i in range(n):
            s = Session(SessionSpec(f'bench/polecats/m{i}', preset, cwd=tmp, town=tmp,
                                    argv=[sys.executable, str(tmp / 'gen.py')]))
            await s.start(); sessions.append(s)
        for s in sessions:
            await s.wait_exit(60)
        gc.collect()
        rows = min(s.screen.scrollback_rows for s in sessions)
        print((rss() - before) / n / 1e6, rows)
    asyncio.run(main())
""")


def bench_memory(tmp: Path, n: int = 8) -> tuple[float, int]:
    out = subprocess.run([sys.executable, "-c", MEMORY_CHILD, str(ROOT), str(tmp), str(n)],
                         capture_output=True, text=True, timeout=300)
    if out.returncode != 0:
        raise RuntimeError(out.stderr)
    mb, rows = out.stdout.split()
    return float(mb), int(rows)


# -- 4. quitting: stopping every session at once ---------------------------------------------------------
async def _stop_many(preset: str, n: int, tmp: Path) -> float:
    """Seconds SessionManager.close() takes with n live, idle sessions of `preset`."""
    from gastown_tui.sessions.manager import SessionManager
    from gastown_tui.sessions.states import SessionState

    mgr = SessionManager(tmp)
    sessions = await asyncio.gather(*(mgr.spawn(SessionSpec(f"bench/polecats/{preset}{i}", preset, cwd=tmp))
                                      for i in range(n)))
    for s in sessions:
        if not await s.wait_state({SessionState.IDLE}, timeout=60):
            raise RuntimeError(f"{s.agent} never idle:\n{s.screen.text()}")
    await asyncio.sleep(0.5)
    t0 = time.monotonic()
    await mgr.close()
    took = time.monotonic() - t0
    left = [s.agent for s in sessions if not s.exited]
    if left:
        raise RuntimeError(f"still running after close(): {left}")
    return took


def bench_stop(preset: str, n: int) -> tuple[float, float]:
    """(n sessions, one session) stop times; each the best of two runs (a stray hiccup is not the figure)."""
    times = {}
    for count in (1, n):
        best = float("inf")
        for _ in range(2):
            with tempfile.TemporaryDirectory() as tmp:
                best = min(best, asyncio.run(_stop_many(preset, count, Path(tmp))))
        times[count] = best
    return times[n], times[1]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sessions", type=int, default=30)
    ap.add_argument("--rate", type=int, default=20_000, help="bytes per second per session")
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--only", default="parse,load,transcript,memory,stop", help="comma-separated parts to run")
    args = ap.parse_args()
    only = set(args.only.split(","))
    if only & {"parse", "load", "transcript"} and not (SHARED / "captures").is_dir():
        print(f"captures not found at {SHARED}/captures (set GASTOWN_SHARED)", file=sys.stderr)
        return 2
    if "parse" in only:
        bench_parse_print()
    if "load" in only:
        bench_load_print(args)
    if "transcript" in only:
        bench_transcript_print(args)
    if "memory" in only:
        with tempfile.TemporaryDirectory() as tmp:
            mb, rows = bench_memory(Path(tmp))
        print(f"mb_per_session         {mb:8.2f}   (session with {rows} lines of coloured scrollback; target <= 16)")
    if "stop" in only:
        for preset in ("sim", "shell"):
            many, one = bench_stop(preset, args.sessions)
            print(f"stop {args.sessions} {preset} sessions: {many:.2f} s (one session: {one:.2f} s, "
                  f"ratio {many / one:.1f})")
    return 0


# -- 5. raw transcript writes: before (one write per read, on the loop) and now (buffered) ---------------
def _unbuffered_transcript():
    """The raw transcript as it was before buffering (commit 8053e00): one unbuffered write(2) per PTY
    read, on the event loop. The reference for the figures (text and meta as now)."""
    from gastown_tui.sessions.transcript import Transcript

    class UnbufferedTranscript(Transcript):
        def __init__(self, folder: Path) -> None:
            super().__init__(folder)
            self._raw = open(self.raw_path, "ab", buffering=0)

        def append(self, data: bytes) -> None:
            if self._raw is not None and data:
                self._raw.write(data)
                self.writes += 1
                self.bytes_written += len(data)

        def close(self) -> None:
            super().close()
            self._raw.close()
            self._raw = None
    return UnbufferedTranscript


def _timed(cls, clock: dict):
    """`cls` whose append() adds its duration (on the calling thread: the loop) to `clock`."""
    class Timed(cls):
        def append(self, data: bytes) -> None:
            t0 = time.perf_counter()
            super().append(data)
            took = time.perf_counter() - t0
            clock["total"] += took
            clock["max"] = max(clock["max"], took)
            clock["calls"] += 1
    return Timed


def _syscw() -> int | None:
    try:
        for line in Path("/proc/self/io").read_text().splitlines():
            if line.startswith("syscw:"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


async def bench_transcript_mode(buffered: bool, n: int, rate: int, seconds: float, tmp: Path) -> dict:
    import gastown_tui.sessions.session as session_mod
    from gastown_tui.sessions.transcript import Transcript

    clock = {"total": 0.0, "max": 0.0, "calls": 0}
    original = session_mod.Transcript
    session_mod.Transcript = _timed(Transcript if buffered else _unbuffered_transcript(), clock)
    replayer = tmp / "replay.py"
    replayer.write_text(REPLAYER)
    captures = [SHARED / "captures" / f"{c}_session.raw" for c in CAPTURES]
    preset = Preset.from_dict("replay", {"argv": ["true"], "quit_keys": ["ctrl+c"], "rules": [
        {"name": "r.idle", "state": "idle", "quiet_for": 1.0}]})
    sessions = []
    try:
        for i in range(n):
            s = Session(SessionSpec(f"bench/polecats/t{i}", preset, cwd=tmp, town=tmp, cols=120, rows=40,
                                    argv=[sys.executable, str(replayer), str(captures[i % 4]), str(rate)]))
            await s.start()
            sessions.append(s)
        await asyncio.sleep(1.0)  # warm up
        writes0 = sum(s.transcript.writes for s in sessions)
        bytes0 = sum(s.transcript.bytes_written for s in sessions)
        sys0, cpu0 = _syscw(), time.process_time()
        clock.update(total=0.0, max=0.0, calls=0)
        t0 = time.monotonic()
        await asyncio.sleep(seconds)
        wall = time.monotonic() - t0
        cpu = time.process_time() - cpu0
        sys1 = _syscw()
        writes = sum(s.transcript.writes for s in sessions) - writes0
        appended = sum(s.transcript.bytes_written for s in sessions) - bytes0
        reads = clock["calls"]
        took = dict(clock)
        for s in sessions:
            await s.stop(grace=0.2)
        complete = all(s.transcript.raw_path.stat().st_size == s.transcript.bytes_written for s in sessions)
    finally:
        session_mod.Transcript = original
    return {
        "writes_per_s": writes / wall, "reads_per_s": reads / wall, "kb_per_s": appended / wall / 1000,
        "loop_ms_per_s": took["total"] * 1000 / wall, "max_append_ms": took["max"] * 1000,
        "syscw_per_s": None if sys0 is None or sys1 is None else (sys1 - sys0) / wall,
        "cpu_pct": 100 * cpu / wall, "complete": complete,
    }


def bench_transcript_print(args) -> None:
    res = {}
    for label, buffered in (("before", False), ("after", True)):
        with tempfile.TemporaryDirectory() as tmp:
            res[label] = asyncio.run(bench_transcript_mode(buffered, args.sessions, args.rate, args.seconds,
                                                           Path(tmp)))
    b, a = res["before"], res["after"]
    print(f"transcript: {args.sessions} busy sessions x {args.rate // 1000} KB/s (replayed captures), "
          f"{b['reads_per_s']:.0f} PTY reads/s")
    for label, r in res.items():
        sysw = "n/a" if r["syscw_per_s"] is None else f"{r['syscw_per_s']:.0f}"
        print(f"  {label:<7} transcript_writes_per_s {r['writes_per_s']:7.0f}   loop_ms_per_s_in_transcript "
              f"{r['loop_ms_per_s']:6.2f}   longest append {r['max_append_ms']:6.3f} ms   "
              f"process write(2)/s {sysw}   cpu {r['cpu_pct']:.1f}%   on disk at exit: "
              f"{'all bytes' if r['complete'] else 'INCOMPLETE'}")
    print(f"  ratio   writes {a['writes_per_s'] / max(b['writes_per_s'], 1e-9):.3f}   "
          f"loop time {a['loop_ms_per_s'] / max(b['loop_ms_per_s'], 1e-9):.3f}   (after / before)")


def bench_parse_print() -> None:
    ours, tmux = bench_parse()
    print(f"parse_ms_per_mb        {ours:8.2f}   (pyghostty, the 4 captures repeated to 8 MB, 120x40)")
    if tmux is not None:
        print(f"tmux_ms_per_mb         {tmux:8.2f}   (tmux server CPU on the same bytes)")
        print(f"parse_ratio_vs_tmux    {ours / tmux:8.3f}   (target <= 1)")
    else:
        print("tmux_ms_per_mb              n/a   (tmux not installed)")


def bench_load_print(args) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        res = asyncio.run(bench_load(args.sessions, args.rate, args.seconds, Path(tmp)))
    print(f"load_cpu_pct           {res['cpu_pct']:8.1f}   ({args.sessions} sessions x {args.rate // 1000} KB/s, "
          f"4 visible panes rendered to {res['render_kind']}; target <= 20)")
    print(f"load_kept_up_pct       {res['kept_up_pct']:8.1f}   (bytes consumed / bytes produced)")
    print(f"echo_p50_ms            {res['echo_p50']:8.2f}")
    print(f"echo_p95_ms            {res['echo_p95']:8.2f}   (keystroke -> echo rendered, under load; target <= 20)")


if __name__ == "__main__":
    sys.exit(main())
