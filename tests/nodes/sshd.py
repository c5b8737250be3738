"""Real OpenSSH servers for the nodes tests: one `sshd` per "machine", each with its own host key, its
own authorized key and its own node directory. Where network namespaces are allowed (root, `ip netns`),
each machine is a namespace with its own address on a veth pair (10.A.B.2, A.B from its port), so a link
can be cut (`Machine.cut()`: `ip link set … down`); elsewhere, or with GASTOWN_NODES_TOPOLOGY=loopback,
each is an sshd on its own port on 127.0.0.1. `Lab.topology` says which ran; and a per-test ssh client folder (config, known_hosts, key)
handed to gastown through GASTOWN_SSH_CONFIG, so the user's own ~/.ssh is never read or touched."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

SSHD = "/usr/sbin/sshd"
LOOPBACK = "loopback: one sshd per port on 127.0.0.1"
NETNS = "netns: one sshd per network namespace, each with its own address on a veth pair"


def _ip(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["ip", *args], capture_output=True, text=True, timeout=30)


def netns_usable() -> bool:
    if os.environ.get("GASTOWN_NODES_TOPOLOGY") == "loopback" or os.getuid() != 0 or not shutil.which("ip"):
        return False
    probe = f"gtprobe{os.getpid()}"
    ok = _ip("netns", "add", probe).returncode == 0
    if ok:
        _ip("netns", "del", probe)
    return ok


def sshd_missing() -> str | None:
    """Why real sshd tests cannot run here, or None."""
    if not os.path.exists(SSHD):
        return f"{SSHD} is not installed (apt-get install openssh-server; .ci/run does it)"
    if not shutil.which("ssh") or not shutil.which("ssh-keygen"):
        return "the OpenSSH client (ssh, ssh-keygen) is not installed"
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def keygen(path: Path) -> Path:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", path.name, "-f", str(path)],
                   check=True, stdin=subprocess.DEVNULL)
    return path


@dataclass
class Machine:
    """One sshd: a pretend machine reachable at 127.0.0.1:port, its node directory in `home`."""
    name: str
    root: Path
    port: int
    host_key: Path
    authorized: Path
    proc: subprocess.Popen | None = None
    netns: str | None = None  # the namespace this machine lives in (None: loopback)
    address: str = "127.0.0.1"
    log: Path = field(init=False)

    def __post_init__(self) -> None:
        self.log = self.root / "sshd.log"
        self.home = self.root / "node"
        self.home.mkdir(parents=True, exist_ok=True)

    @property
    def user(self) -> str:
        import pwd

        return pwd.getpwuid(os.getuid()).pw_name

    def host_line(self) -> str:
        """This machine's known_hosts line."""
        pub = (self.host_key.parent / (self.host_key.name + ".pub")).read_text().split()
        return f"[{self.address}]:{self.port} {pub[0]} {pub[1]}\n"

    @property
    def veth(self) -> str:
        return f"gth{self.port}"

    def make_netns(self) -> None:
        """Its own namespace and address: 10.A.B.2 inside, 10.A.B.1 on the host side of the veth pair."""
        a, b = self.port >> 8, self.port & 255
        ns, host_if, ns_if = f"gtnode{self.port}", self.veth, f"gtn{self.port}"
        steps = [("netns", "add", ns), ("link", "add", host_if, "type", "veth", "peer", "name", ns_if),
                 ("link", "set", ns_if, "netns", ns),
                 ("addr", "add", f"10.{a}.{b}.1/24", "dev", host_if), ("link", "set", host_if, "up"),
                 ("-n", ns, "addr", "add", f"10.{a}.{b}.2/24", "dev", ns_if), ("-n", ns, "link", "set", ns_if, "up"),
                 ("-n", ns, "link", "set", "lo", "up")]
        self.netns = ns
        for step in steps:
            res = _ip(*step)
            if res.returncode != 0:
                self.drop_netns()
                raise RuntimeError(f"ip {' '.join(step)}: {res.stderr.strip()}")
        self.address = f"10.{a}.{b}.2"

    def drop_netns(self) -> None:
        if self.netns:
            _ip("link", "del", self.veth)
            _ip("netns", "del", self.netns)
            self.netns = None

    def cut(self) -> None:
        """The link goes down (the machine and its programs keep running)."""
        _ip("link", "set", self.veth, "down")

    def heal(self) -> None:
        _ip("link", "set", self.veth, "up")

    def start(self, timeout: float = 15.0) -> None:
        cfg = self.root / "sshd_config"
        cfg.write_text("\n".join([
            f"Port {self.port}", f"ListenAddress {self.address}", f"HostKey {self.host_key}",
            f"AuthorizedKeysFile {self.authorized}", "StrictModes no", "UsePAM no",
            "PasswordAuthentication no", "KbdInteractiveAuthentication no", "PubkeyAuthentication yes",
            "PermitRootLogin prohibit-password", f"PidFile {self.root / 'sshd.pid'}",
            "AllowTcpForwarding yes", "AllowStreamLocalForwarding yes", "StreamLocalBindUnlink yes",
            "LogLevel ERROR", "MaxSessions 50", "MaxStartups 50:30:100", "",
        ]))
        if os.getuid() == 0:
            Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege-separation folder
        prefix = ["ip", "netns", "exec", self.netns] if self.netns else []
        self.proc = subprocess.Popen([*prefix, SSHD, "-D", "-e", "-f", str(cfg)], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=open(self.log, "ab"))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"sshd {self.name} exited at start: {self.log.read_text()[-500:]}")
            try:
                with socket.create_connection((self.address, self.port), timeout=0.5) as s:
                    if s.recv(4).startswith(b"SSH-"):
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"sshd {self.name} did not listen on port {self.port} within {timeout}s")

    def sshd_pids(self) -> list[int]:
        """This machine's sshd processes: the listener and one per connection (its descendants named sshd)."""
        if self.proc is None:
            return []
        children: dict[int, list[int]] = {}
        names: dict[int, str] = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            name = stat[stat.index("(") + 1:stat.rindex(")")]
            ppid = int(stat[stat.rindex(")") + 2:].split()[1])
            children.setdefault(ppid, []).append(int(entry))
            names[int(entry)] = name
        found, todo = [], [self.proc.pid]
        while todo:
            pid = todo.pop()
            if names.get(pid, "").startswith("sshd") or pid == self.proc.pid:
                found.append(pid)
                todo.extend(children.get(pid, []))
        return found

    def kill_sshd(self) -> None:
        """The node's sshd dies, with every connection it serves (SIGKILL); what they ran is not sshd and
        is not signalled (the ssh sessions' own programs see their pipes close)."""
        import signal

        for pid in self.sshd_pids():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self.proc is not None:
            self.proc.wait(10)
        self.proc = None

    def daemon_pid(self) -> int | None:
        try:
            return int((self.home / "daemon" / "daemon.pid").read_text().strip())
        except (OSError, ValueError):
            return None

    def stop_daemon(self) -> None:
        """The node daemon (nodes/node_daemon.py) ends, hanging up its programs (SIGKILL after 5 s)."""
        import signal

        pid = self.daemon_pid()
        if pid is None:
            return
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None

    def leftover_sshd(self) -> list[int]:
        """Every sshd process this machine ever started that still runs, its listener's children or not: a
        connection served by a listener killed earlier (the chaos's sshd kill) has init as its parent and,
        its client gone behind a cut link, would wait forever. Each holds this machine's log as stderr."""
        log, found = str(self.log), []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                if not Path(f"/proc/{entry}/comm").read_text().startswith("sshd"):
                    continue
                if any(os.readlink(f"/proc/{entry}/fd/{fd}") == log for fd in ("1", "2")):
                    found.append(int(entry))
            except OSError:
                continue
        return found

    def close(self) -> None:
        import signal

        self.stop()
        self.stop_daemon()
        for pid in self.leftover_sshd():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.drop_netns()


class Lab:
    """The ssh client side of one test (its key, known_hosts and config) and the machines it can reach."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.topology = NETNS if netns_usable() else LOOPBACK
        self.ssh_dir = root / "client-ssh"
        self.ssh_dir.mkdir(parents=True)
        self.key = keygen(self.ssh_dir / "id_ed25519")
        self.known_hosts = self.ssh_dir / "known_hosts"
        self.known_hosts.write_text("")
        self.config = self.ssh_dir / "config"
        self.machines: list[Machine] = []
        self.write_config()

    def write_config(self, extra: str = "") -> None:
        self.config.write_text(
            "Host *\n"
            f"  IdentityFile {self.key}\n  IdentitiesOnly yes\n"
            f"  UserKnownHostsFile {self.known_hosts}\n  GlobalKnownHostsFile /dev/null\n"
            "  ServerAliveInterval 5\n  ServerAliveCountMax 3\n" + extra)

    def machine(self, name: str, *, trusted: bool = True, key_allowed: bool = True) -> Machine:
        root = self.root / f"machine-{name}"
        root.mkdir()
        host_key = keygen(root / "ssh_host_ed25519_key")
        authorized = root / "authorized_keys"
        authorized.write_text((self.ssh_dir / "id_ed25519.pub").read_text() if key_allowed else "")
        m = Machine(name, root, free_port(), host_key, authorized)
        try:
            if self.topology == NETNS:
                try:
                    m.make_netns()
                except RuntimeError as exc:  # e.g. an address clash: this machine stays on loopback
                    print(f"nodes lab: {name} on loopback ({exc})")
            m.start()
        except RuntimeError as exc:
            import pytest

            pytest.skip(f"sshd could not be started here: {exc}")
        if trusted:
            with open(self.known_hosts, "a") as fh:
                fh.write(m.host_line())
        self.machines.append(m)
        return m

    def close(self) -> None:
        for m in self.machines:
            m.close()
