"""The keeper: a tiny stdlib-only process that keeps a town's agents alive when its server dies.

    gastown keeper --town T [-- SERVER ARGV...]          (or: python -S keeper.py --town T ...)

It is the server's parent and a child subreaper (PR_SET_CHILD_SUBREAPER), so an agent orphaned by a
dead server is re-parented to the keeper, not to init. It runs the server with one end of a
SOCK_SEQPACKET socket pair (`GASTOWN_KEEPER_FD` in the server's environment) and, over it:

- receives a duplicate of every agent's PTY master when the server spawns an agent (`keep`, the fd
  travels as SCM_RIGHTS). While the keeper holds it, the PTY never hangs up: a server that dies does not
  take the agents with it (the kernel sends SIGHUP only when the last master is closed);
- forgets an agent when the server says it is done with it (`release`: exited, reaped, PTY closed);
- reaps orphaned agents (and whatever else is re-parented to it) and records their exit statuses,
  pushing `exited` to the running server;
- restarts a server that died (a signal or a non-zero exit; with back-off when it keeps dying) and hands
  the new one every kept agent (`adopt` -> `kept`: pids, records, exit statuses, and the fds);
- restarts the server at once when it asks to be replaced (`restart`: an upgrade), and ends when the
  server ends after `stop` (the town was stopped) or exits with status 0 without asking for a restart;
- SIGUSR1 (`gastown down`, also when no server runs): stop the town — the server stops every agent, the
  keeper stops any left and ends;
- SIGUSR2 (`gastown up --upgrade`): asks the server to leave its agents and starts the newly installed one;
- SIGTERM/SIGINT (a service restart): the server leaves its agents and exits, a forked holder keeps their
  PTYs until the next keeper of the town takes them over (`gastown down` is what stops a town).

No import of gastown here (it runs with `python -S`): only the standard library. Messages are one JSON
object per datagram; see "Keeper link" in docs/protocol.md.
"""
from __future__ import annotations

import fcntl
import os
import selectors
import signal
import socket
import subprocess
import sys
import time

if __package__:
    from .keeper_control import (  # noqa: F401  (re-exported: gastown_tui.server.keeper is their address)
        default_server_argv, keeper_argv, request_stop, request_upgrade, running_keeper, server_pid,
    )
    from .keeper_holder import hold_address, stop_holder  # noqa: F401
    from .keeper_wire import (  # noqa: F401
        ENV_FD, FDS_PER_MSG, MAX_MSG, PR_SET_CHILD_SUBREAPER, become_subreaper, log, recv, send, status_of,
    )
else:  # run as `python -S keeper.py`: its folder is on sys.path, so its sibling modules are top-level
    from keeper_control import (  # noqa: F401
        default_server_argv, keeper_argv, request_stop, request_upgrade, running_keeper, server_pid,
    )
    from keeper_holder import hold_address, stop_holder  # noqa: F401
    from keeper_wire import (  # noqa: F401
        ENV_FD, FDS_PER_MSG, MAX_MSG, PR_SET_CHILD_SUBREAPER, become_subreaper, log, recv, send, status_of,
    )

BACKOFF_FIRST = 0.5
BACKOFF_MAX = 30.0
HEALTHY_AFTER = 60.0  # a server up this long resets the back-off
UPGRADE_WAIT = 30.0  # a server asked to make way has this long to exit before it is killed
EXIT_RESTART = 75  # a server exiting with this status is restarted at once (like `restart`)


class Keeper:
    def __init__(self, town: str, server_argv: list[str], lock_path: str | None = None) -> None:
        self.town = town
        self.server_argv = server_argv
        self.lock_path = lock_path or os.path.join(town, ".runtime", "keeper.lock")
        self.kept: dict[int, dict] = {}  # agent pid -> {"record": {...}, "fd": int, "status": int|None}
        self.server: subprocess.Popen | None = None
        self.link: socket.socket | None = None
        self.server_started = 0.0
        self.backoff = BACKOFF_FIRST
        self.restart_now = False
        self.stopping = False  # the server said the town stops: end with it
        self.terminated = False  # SIGTERM/SIGINT to the keeper
        self.next_start = 0.0
        self.upgrade_sent = 0.0
        self.stop_asked = False  # SIGUSR1 (`gastown down`): stop the town, whatever state the server is in
        self.upgrade_asked = False  # SIGUSR2 (`gastown keeper --upgrade`): replace the server, keep the agents
        self.sel = selectors.DefaultSelector()
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        self._lock_fd: int | None = None

    # -- set-up --------------------------------------------------------------------------------
    def lock(self) -> None:
        os.makedirs(os.path.dirname(self.lock_path), exist_ok=True)
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            other = os.read(fd, 32).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise SystemExit(f"gastown keeper: the town {self.town} already has a keeper (pid {other})")
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._lock_fd = fd

    def install_signals(self) -> None:
        signal.set_wakeup_fd(self._wake_w)
        for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2):
            signal.signal(sig, self._on_signal)
        self.sel.register(self._wake_r, selectors.EVENT_READ, "wake")

    def _on_signal(self, sig, _frame) -> None:
        if sig in (signal.SIGTERM, signal.SIGINT):
            self.terminated = True
        elif sig == signal.SIGUSR2:
            self.upgrade_asked = True
        elif sig == signal.SIGUSR1:
            self.stop_asked = True
        # SIGHUP (the terminal that started us went away) is ignored: agents outlive it.

    # -- the server ----------------------------------------------------------------------------
    def start_server(self) -> None:
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        mine.setblocking(False)
        env = dict(os.environ)
        env[ENV_FD] = str(theirs.fileno())
        self.server = subprocess.Popen(self.server_argv, env=env, pass_fds=(theirs.fileno(),), cwd=self.town)
        theirs.close()
        self.link = mine
        self.sel.register(mine, selectors.EVENT_READ, "link")
        self.server_started = time.monotonic()
        self.restart_now = False
        log(f"server started (pid {self.server.pid}): {' '.join(self.server_argv)}")

    def _drop_link(self) -> None:
        if self.link is not None:
            try:
                self.sel.unregister(self.link)
            except (KeyError, ValueError):
                pass
            self.link.close()
            self.link = None

    def _server_ended(self, status: int) -> None:
        pid = self.server.pid if self.server else "?"
        self.server = None
        self._drop_link()
        if self.stopping or self.terminated:
            log(f"server (pid {pid}) ended with {status}; the town is stopped")
            return
        if status == 0 and not self.restart_now:
            self.stopping = True
            log(f"server (pid {pid}) ended with 0; the keeper ends too")
            return
        now = time.monotonic()
        if self.restart_now or status == EXIT_RESTART:
            self.next_start = now
            log(f"server (pid {pid}) ended to be replaced; starting the new one")
        else:
            if now - self.server_started >= HEALTHY_AFTER:
                self.backoff = BACKOFF_FIRST
            self.next_start = now + self.backoff
            log(f"server (pid {pid}) died ({status}); restarting in {self.backoff:.1f}s "
                f"with {len(self.kept)} agent(s) kept")
            self.backoff = min(self.backoff * 2, BACKOFF_MAX)
        self.restart_now = True

    # -- messages ------------------------------------------------------------------------------
    def on_link(self) -> None:
        while self.link is not None:
            try:
                msg, fds = recv(self.link)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                msg, fds = None, []
            if msg is None:  # the server closed its end (it is exiting or dead)
                self._drop_link()
                return
            self.handle(msg, fds)

    def handle(self, msg: dict, fds: list[int]) -> None:
        op = msg.get("op")
        if op == "keep" and fds and isinstance(msg.get("pid"), int):
            pid = msg["pid"]
            old = self.kept.pop(pid, None)
            if old is not None:
                os.close(old["fd"])
            self.kept[pid] = {"record": msg.get("record") or {}, "fd": fds[0], "status": None}
            for fd in fds[1:]:
                os.close(fd)
            return
        for fd in fds:
            os.close(fd)
        if op == "release":
            entry = self.kept.pop(msg.get("pid"), None)
            if entry is not None:
                os.close(entry["fd"])
        elif op == "update" and msg.get("pid") in self.kept:
            self.kept[msg["pid"]]["record"].update(msg.get("record") or {})
        elif op == "adopt":
            self.hand_over()
        elif op == "restart":
            self.restart_now = True
        elif op == "stop":
            self.stopping = True
        elif op == "ping":
            self._send({"op": "pong", "pid": os.getpid(), "kept": sorted(self.kept)})
        else:
            log(f"unknown message from the server: {msg!r:.200}")

    def _send(self, msg: dict, fds: list[int] = ()) -> bool:
        if self.link is None:
            return False
        try:
            self.link.setblocking(True)
            send(self.link, msg, fds)
            return True
        except OSError as exc:
            log(f"cannot write to the server: {exc}")
            return False
        finally:
            if self.link is not None:
                self.link.setblocking(False)

    def hand_over(self) -> None:
        """Every kept agent to the (new) server: records, statuses and fds, FDS_PER_MSG at a time."""
        entries = sorted(self.kept.items())
        for start in range(0, max(len(entries), 1), FDS_PER_MSG):
            part = entries[start:start + FDS_PER_MSG]
            agents = [{"pid": pid, "status": e["status"], "record": e["record"]} for pid, e in part]
            more = start + FDS_PER_MSG < len(entries)
            if not self._send({"op": "kept", "agents": agents, "more": more}, [e["fd"] for _, e in part]):
                return

    def upgrade(self) -> None:
        """Replaces the server with a newly started one (the version installed now), keeping every agent:
        the server is asked to leave them (`upgrade`: it stops its patrols and clients, flushes the
        transcripts and exits), the new one adopts them."""
        if self.server is None:
            self.restart_now, self.next_start = True, time.monotonic()
            log("upgrade: no server running; starting one")
            return
        self.restart_now = True
        self.upgrade_sent = time.monotonic()
        if not self._send({"op": "upgrade"}):
            log("upgrade: the server does not listen to the keeper; stopping it the hard way")
            self.server.kill()
            return
        log(f"upgrade: server (pid {self.server.pid}) asked to make way for a new one")

    # -- children ------------------------------------------------------------------------------
    def reap(self) -> None:
        while True:
            try:
                pid, wait_status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            except InterruptedError:
                continue
            if pid == 0:
                return
            status = status_of(wait_status)
            if self.server is not None and pid == self.server.pid:
                self.server.returncode = status
                self._server_ended(status)
            elif pid in self.kept:
                self.kept[pid]["status"] = status
                log(f"agent {self.kept[pid]['record'].get('agent', '?')} (pid {pid}) exited ({status})")
                self._send({"op": "exited", "pid": pid, "status": status})

    def drain_wake(self) -> None:
        try:
            while os.read(self._wake_r, 512):
                pass
        except (BlockingIOError, InterruptedError):
            pass

    # -- main loop -----------------------------------------------------------------------------
    def run(self) -> int:
        self.lock()
        if not become_subreaper():
            log("cannot become a child subreaper here; agents orphaned by a dead server will not be reaped "
                "by the keeper (their PTYs are still held)")
        self.install_signals()
        self.take_over()
        self.start_server()
        term_sent = 0.0
        while True:
            self.reap()
            if self.upgrade_asked:
                self.upgrade_asked = False
                self.upgrade()
            if self.stop_asked and not self.stopping:
                self.stopping = True  # no restart; the agents are stopped with the town
                self.restart_now = False
                if self.server is not None:
                    self.server.send_signal(signal.SIGTERM)  # the server stops every agent, then itself
                    term_sent = time.monotonic()
                log("stopping the town")
            if self.stopping and self.server is not None and term_sent and time.monotonic() - term_sent > UPGRADE_WAIT:
                self.server.kill()
                term_sent = 0.0
            if self.upgrade_sent and self.server is not None and time.monotonic() - self.upgrade_sent > UPGRADE_WAIT:
                log(f"upgrade: the server did not exit within {UPGRADE_WAIT:g}s; killing it (the agents stay)")
                self.server.kill()
                self.upgrade_sent = 0.0
            if self.server is None:
                self.upgrade_sent = 0.0
            if self.terminated and self.server is not None and not term_sent:
                term_sent = time.monotonic()
                # The keeper is being stopped (a service restart, `kill`): the server goes, the agents stay
                # (held by a holder until the next keeper takes them over). `gastown down` stops a town.
                if not self._send({"op": "leave"}):
                    self.server.kill()  # it cannot hear us: as after a crash, the agents are safe with us
            if self.terminated and self.server is not None and term_sent and time.monotonic() - term_sent > UPGRADE_WAIT:
                self.server.kill()
            if self.server is None:
                if self.stopping or self.terminated:
                    break
                if self.restart_now and time.monotonic() >= self.next_start:
                    self.start_server()
                    continue
            timeout = 1.0
            if self.server is None and self.restart_now:
                timeout = max(0.0, min(timeout, self.next_start - time.monotonic()))
            for key, _ in self.sel.select(timeout):
                if key.data == "wake":
                    self.drain_wake()
                elif key.data == "link":
                    self.on_link()
        if self.stopping or not self.terminated:
            self.end_agents()
        elif any(e["status"] is None for e in self.kept.values()):
            self.hand_off()
        else:
            self.end_agents()
        return 0

    # -- between two keepers -------------------------------------------------------------------
    def hold_address(self) -> bytes:
        return hold_address(self.town)

    def hand_off(self) -> None:
        """The keeper was stopped while agents run: a forked holder keeps their PTYs (no hang-up) until
        the next keeper of the town takes them over (`take_over`), and this process ends. (A service
        restart with KillMode=process: the agents live on.)"""
        live = {pid: e for pid, e in self.kept.items() if e["status"] is None}
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            listener.bind(self.hold_address())
        except OSError as exc:
            log(f"cannot leave the agents to a holder ({exc}); stopping them")
            listener.close()
            self.end_agents()
            return
        listener.listen(4)
        if os.fork() != 0:  # the keeper: done (its lock goes with it)
            listener.close()
            for entry in self.kept.values():
                os.close(entry["fd"])
            log(f"stopped; {len(live)} agent(s) left running with a holder for the next keeper: {sorted(live)}")
            return
        try:  # the holder
            os.setsid()
            if self._lock_fd is not None:
                os.close(self._lock_fd)  # the next keeper must be able to lock the town
            for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGCHLD, signal.SIGUSR2):
                signal.signal(sig, signal.SIG_DFL)
            signal.set_wakeup_fd(-1)
            while True:
                conn, _ = listener.accept()
                try:
                    creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12)
                    uid = int.from_bytes(creds[4:8], sys.byteorder)
                    if uid != os.getuid():
                        conn.close()
                        continue
                    self.link = conn
                    msg, fds = recv(conn)
                    for fd in fds:
                        os.close(fd)
                    if msg and msg.get("op") == "takeover":
                        self.kept = live
                        self.hand_over()
                        os._exit(0)
                    if msg and msg.get("op") == "stop":
                        self.kept = live
                        self.end_agents()
                        os._exit(0)
                finally:
                    self.link = None
                    conn.close()
        except BaseException:
            os._exit(1)

    def take_over(self) -> None:
        """Agents a stopped keeper left with a holder become this keeper's (their records and PTYs)."""
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            conn.connect(self.hold_address())
        except OSError:
            conn.close()
            return
        taken = 0
        try:
            conn.settimeout(10)
            send(conn, {"op": "takeover"})
            while True:
                msg, fds = recv(conn)
                if msg is None or msg.get("op") != "kept":
                    for fd in fds:
                        os.close(fd)
                    break
                agents = msg.get("agents") or []
                for entry, fd in zip(agents, fds):
                    self.kept[int(entry["pid"])] = {"record": entry.get("record") or {}, "fd": fd, "status": entry.get("status")}
                    taken += 1
                for fd in fds[len(agents):]:
                    os.close(fd)
                if not msg.get("more"):
                    break
        except OSError as exc:
            log(f"taking over from the holder failed part-way ({exc})")
        finally:
            conn.close()
        log(f"took over {taken} agent(s) a stopped keeper left running")

    def end_agents(self) -> None:
        """The keeper ends (the town was stopped, or the keeper was told to stop with no server running):
        agents the server did not stop get their PTY hung up (SIGHUP), then SIGTERM, then SIGKILL, and are
        reaped; nothing of the town is left behind."""
        for entry in self.kept.values():
            os.close(entry["fd"])
        left = [pid for pid, e in self.kept.items() if e["status"] is None]
        self.kept.clear()
        if not left:
            return
        log(f"stopping {len(left)} agent(s) still running: {left}")
        for sig, wait in ((signal.SIGTERM, 2.0), (signal.SIGKILL, 2.0)):
            for pid in left:
                try:
                    os.killpg(pid, sig)  # agents lead their own session and group
                except OSError:
                    try:
                        os.kill(pid, sig)
                    except OSError:
                        pass
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline:
                try:
                    reaped, _ = os.waitpid(-1, os.WNOHANG)
                except ChildProcessError:  # not our children (a holder): wait for them to be gone
                    reaped = 0
                if all(not os.path.exists(f"/proc/{p}") or _zombie(p) for p in left):
                    return
                if reaped == 0:
                    time.sleep(0.02)


def _zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[-1].split()[:1] == [b"Z"]
    except OSError:
        return True


def main(argv: list[str] | None = None, prog: str = "gastown keeper") -> int:
    import argparse

    argv = list(sys.argv[1:] if argv is None else argv)
    server_argv: list[str] = []
    if "--" in argv:
        i = argv.index("--")
        argv, server_argv = argv[:i], argv[i + 1:]
    p = argparse.ArgumentParser(prog=prog, description="Keep a town's agents alive across server crashes and "
                                                       "upgrades: run its server, hold every agent's PTY, "
                                                       "restart the server when it dies.")
    p.add_argument("--town", required=True, help="the town's folder")
    p.add_argument("--upgrade", action="store_true",
                   help="ask the running keeper to replace the server with the installed version, keeping the agents")
    args = p.parse_args(argv)
    town = os.path.abspath(args.town)
    if not os.path.isdir(town):
        print(f"{prog}: --town {args.town}: no such folder", file=sys.stderr)
        return 2
    if args.upgrade:
        try:
            old, new = request_upgrade(town)
        except RuntimeError as exc:
            print(f"{prog}: {exc}", file=sys.stderr)
            return 1
        print(f"upgraded: server pid {old or '?'} -> {new}; agents kept")
        return 0
    keeper = Keeper(town, server_argv or default_server_argv(town))
    try:
        return keeper.run()
    except SystemExit as exc:
        if isinstance(exc.code, str):
            print(exc.code, file=sys.stderr)
            return 1
        raise


if __name__ == "__main__":
    sys.exit(main())
