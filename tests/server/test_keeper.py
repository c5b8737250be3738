"""The keeper keeps agents alive through `kill -9` of their server: same pids, no gap in their output,
the restarted server adopts them (screens rebuilt, exit statuses known). Real processes throughout: the
keeper (python -S), a server (tests/server/programs/kept_server.py: a SessionManager under the keeper),
agents in real PTYs."""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from gastown_tui.server import keeper as keeper_mod
from tests.processes import gone

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the keeper needs Linux (subreaper, pidfd)")

PROGRAMS = Path(__file__).parent / "programs"
COUNTER = [sys.executable, str(PROGRAMS / "counter.py")]


def wait_for(cond, timeout=30.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = cond()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def read_status(town: Path) -> dict | None:
    try:
        return json.loads((town / "status.json").read_text())
    except (FileNotFoundError, ValueError):
        return None


class Town:
    def __init__(self, root: Path, agents: dict[str, list[str]], log_name: str = "keeper.log"):
        self.root = root
        self.log_path = root / log_name
        self.log = open(self.log_path, "wb")
        server = [sys.executable, str(PROGRAMS / "kept_server.py"), str(root)]
        server += [f"{a}={json.dumps(argv)}" for a, argv in agents.items()]
        env = dict(os.environ, PYTHONPATH=str(Path(__file__).parents[2]))
        self.keeper = subprocess.Popen([sys.executable, "-S", keeper_mod.__file__, "--town", str(root), "--", *server],
                                       stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True, env=env)

    def status(self, cond=lambda s: True, what="status", timeout=30.0) -> dict:
        return wait_for(lambda: (lambda s: s if s and cond(s) else None)(read_status(self.root)), timeout, what)

    def stop_town(self) -> None:
        """Stops the town as `gastown down` does: the server stops its agents and tells the keeper to end."""
        if self.keeper.poll() is None:
            status = read_status(self.root)
            if status:
                try:
                    os.kill(status["server_pid"], signal.SIGTERM)
                except ProcessLookupError:
                    pass
            try:
                self.keeper.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.keeper.pid, signal.SIGKILL)
                self.keeper.wait(5)

    def close(self) -> None:
        self.stop_town()
        self.log.close()

    def logtext(self) -> str:
        return self.log_path.read_text(errors="replace")


@pytest.fixture
def town(tmp_path):
    towns = []

    def make(agents):
        t = Town(tmp_path, agents, f"keeper{len(towns)}.log")
        towns.append(t)
        return t
    yield make
    for t in towns:
        t.close()


def seqs(raw: bytes) -> list[int]:
    return [int(n) for n in re.findall(rb"seq (\d+)\r*\n", raw)]


def transcript(town: Path, agent_key: str, session_id: str) -> bytes:
    return (town / ".runtime" / "sessions" / agent_key / session_id / "transcript.raw").read_bytes()


def test_kill_9_of_the_server_keeps_the_agent_and_loses_no_output(town, tmp_path):
    t = town({"rig/polecats/count": COUNTER})
    agent = "rig/polecats/count"
    first = t.status(lambda s: agent in s["agents"] and any("seq 5" in l for l in s["agents"][agent]["screen"]),
                     "the counter on screen")
    assert first["keeper"], t.logtext()
    pid, sid, server = first["agents"][agent]["pid"], first["agents"][agent]["session_id"], first["server_pid"]
    assert psutil.Process(pid).ppid() == server

    os.kill(server, signal.SIGKILL)
    wait_for(lambda: gone(server), what="the server gone")
    at_kill = max(seqs(transcript(tmp_path, "rig--polecats--count", sid)))

    second = t.status(lambda s: s["server_pid"] != server and s["agents"].get(agent, {}).get("adopted"),
                      "a new server adopting the agent")
    info = second["agents"][agent]
    assert info["pid"] == pid and info["session_id"] == sid and info["alive"]
    assert psutil.Process(pid).is_running() and psutil.Process(pid).ppid() == t.keeper.pid  # re-parented to the keeper
    # The screen was rebuilt from the transcript and keeps following the counter.
    t.status(lambda s: any(re.search(r"seq \d+", l) for l in s["agents"][agent]["screen"]), "a rebuilt screen")
    raw = wait_for(lambda: (lambda r: r if max(seqs(r)) > at_kill + 100 else None)(
        transcript(tmp_path, "rig--polecats--count", sid)), what="output after the restart")
    numbers = seqs(raw)
    assert numbers[0] == 0
    assert numbers == list(range(numbers[0], numbers[-1] + 1)), "a gap or a repeat in the counter's transcript"
    later = t.status(lambda s: s["server_pid"] != server and int(re.findall(
        r"seq (\d+)", " ".join(s["agents"][agent]["screen"]))[-1]) > at_kill + 100, "the live screen")
    assert later["agents"][agent]["pid"] == pid

    # Stopping the town (the server's own stop, as `gastown down`): the agent, the server and the keeper end.
    t.stop_town()
    assert t.keeper.returncode == 0, t.logtext()
    wait_for(lambda: gone(pid), what="the agent stopped with the town")
    wait_for(lambda: gone(second["server_pid"]), what="the server gone")


def test_stopping_the_keeper_leaves_the_agents_to_the_next_keeper(town, tmp_path):
    """What a service restart does (systemd KillMode=process signals the keeper only): the keeper and its
    server go, the agents keep running (a holder keeps their PTYs), the next keeper takes them over."""
    agent = "rig/polecats/count"
    t = town({agent: COUNTER})
    first = t.status(lambda s: agent in s["agents"] and any("seq 3" in l for l in s["agents"][agent]["screen"]),
                     "the counter on screen")
    pid, sid, server = first["agents"][agent]["pid"], first["agents"][agent]["session_id"], first["server_pid"]
    t.keeper.send_signal(signal.SIGTERM)
    assert t.keeper.wait(30) == 0, t.logtext()
    wait_for(lambda: gone(server), what="the server gone with its keeper")
    assert not gone(pid), "the agent must outlive its keeper"
    assert "left running with a holder" in t.logtext()

    t2 = town({agent: COUNTER})  # the service starting again
    second = t2.status(lambda s: s["server_pid"] != server and s["agents"].get(agent, {}).get("adopted"),
                       "the next keeper's server adopting the agent")
    assert second["agents"][agent]["pid"] == pid and second["agents"][agent]["session_id"] == sid
    assert "took over 1 agent(s)" in t2.logtext()
    at = max(seqs(transcript(tmp_path, "rig--polecats--count", sid)))
    raw = wait_for(lambda: (lambda r: r if max(seqs(r)) > at + 50 else None)(
        transcript(tmp_path, "rig--polecats--count", sid)), what="output after the take-over")
    numbers = seqs(raw)
    assert numbers == list(range(0, numbers[-1] + 1)), "a gap or a repeat in the counter's transcript"
    # Stopped again, and then `gastown down` with no keeper: the holder stops the agent.
    t2.keeper.send_signal(signal.SIGTERM)
    assert t2.keeper.wait(30) == 0, t2.logtext()
    assert not gone(pid)
    assert keeper_mod.request_stop(str(tmp_path)) is None  # no keeper runs: the holder is told to stop
    wait_for(lambda: gone(pid), what="the agent stopped by the holder")


def test_an_agent_that_exits_while_its_server_is_dead_has_its_status_recorded(town, tmp_path):
    flag = tmp_path / "exit-now"
    prog = ["python3", "-c", f"import os,time\nprint('ready', flush=True)\n"
            f"while not os.path.exists({str(flag)!r}): time.sleep(0.01)\nraise SystemExit(7)"]
    t = town({"rig/polecats/quitter": prog})
    agent = "rig/polecats/quitter"
    first = t.status(lambda s: agent in s["agents"] and any("ready" in l for l in s["agents"][agent]["screen"]),
                     "the agent ready")
    pid, server = first["agents"][agent]["pid"], first["server_pid"]
    os.kill(server, signal.SIGKILL)
    flag.touch()  # it exits while no server (or a just-started one) holds it
    wait_for(lambda: gone(pid), what="the agent's exit")
    done = t.status(lambda s: s["server_pid"] != server and s["agents"].get(agent, {}).get("exit_status") is not None,
                    "the new server knowing the exit")
    assert done["agents"][agent]["exit_status"] == 7
    assert done["agents"][agent]["pid"] == pid
    wait_for(lambda: not psutil.pid_exists(pid) or gone(pid), what="no zombie left")


def test_a_second_keeper_for_the_same_town_names_the_first(town, tmp_path):
    t = town({"rig/polecats/count": COUNTER})
    t.status(lambda s: "rig/polecats/count" in s["agents"], "the town up")
    second = subprocess.run([sys.executable, "-S", keeper_mod.__file__, "--town", str(tmp_path), "--", "true"],
                            capture_output=True, text=True, timeout=30)
    assert second.returncode == 1
    assert f"already has a keeper (pid {t.keeper.pid})" in second.stderr


def test_the_new_server_rebuilds_a_silent_agents_screen_and_asks_it_to_repaint(town, tmp_path):
    """An agent that prints nothing after the crash: its screen can only come from the transcript's tail;
    the resize nudge (one column narrower, then back) makes it repaint at its own size."""
    prog = ["python3", "-c", "import os,signal,time\nprint('drawn-before-the-crash', flush=True)\n"
            "signal.signal(signal.SIGWINCH, lambda *_: print('repaint at %dx%d' % tuple(os.get_terminal_size()), flush=True))\n"
            "while True: time.sleep(1)"]
    agent = "rig/polecats/silent"
    t = town({agent: prog})
    first = t.status(lambda s: agent in s["agents"] and any("drawn-before" in l for l in s["agents"][agent]["screen"]),
                     "the agent's first words")
    pid, server = first["agents"][agent]["pid"], first["server_pid"]
    assert os.getsid(pid) == pid and os.getpgid(pid) == pid  # its own session and group: the server's signals miss it
    assert os.getsid(pid) != os.getsid(server)
    os.kill(server, signal.SIGKILL)
    second = t.status(lambda s: s["server_pid"] != server and s["agents"].get(agent, {}).get("adopted")
                      and any("repaint at 60x12" in l for l in s["agents"][agent]["screen"]), "the repaint")
    screen = second["agents"][agent]["screen"]
    assert any("drawn-before-the-crash" in l for l in screen), screen  # replayed from transcript.raw
    assert (second["agents"][agent]["cols"], second["agents"][agent]["rows"]) == (60, 12)
    assert second["agents"][agent]["pid"] == pid


def test_stopping_the_town_through_its_keeper_while_the_server_is_dead_leaves_nothing(town, tmp_path):
    """`gastown down` when the server has just died (the keeper is about to restart it): the keeper stops
    the agents and ends, and no server comes back."""
    agent = "rig/polecats/count"
    t = town({agent: COUNTER})
    first = t.status(lambda s: agent in s["agents"] and s["agents"][agent]["alive"], "the agent running")
    pid, server = first["agents"][agent]["pid"], first["server_pid"]
    os.kill(server, signal.SIGKILL)
    wait_for(lambda: gone(server), what="the server gone")
    assert keeper_mod.request_stop(str(tmp_path), timeout=60) == t.keeper.pid
    assert t.keeper.wait(30) == 0
    wait_for(lambda: gone(pid), what="the agent stopped")
    assert keeper_mod.running_keeper(str(tmp_path)) is None
    assert "stopping the town" in t.logtext()
