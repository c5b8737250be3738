"""Real OpenSSH servers for the nodes tests: one `sshd` per "machine", each on its own free port on
127.0.0.1 (network namespaces are not used yet: see docs/nodes.md), with its own host key, its own
authorized key and its own node directory; and a per-test ssh client folder (config, known_hosts, key)
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
TOPOLOGY = "loopback: one sshd per port on 127.0.0.1"


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
        return f"[127.0.0.1]:{self.port} {pub[0]} {pub[1]}\n"

    def start(self, timeout: float = 15.0) -> None:
        cfg = self.root / "sshd_config"
        cfg.write_text("\n".join([
            f"Port {self.port}", "ListenAddress 127.0.0.1", f"HostKey {self.host_key}",
            f"AuthorizedKeysFile {self.authorized}", "StrictModes no", "UsePAM no",
            "PasswordAuthentication no", "KbdInteractiveAuthentication no", "PubkeyAuthentication yes",
            "PermitRootLogin prohibit-password", f"PidFile {self.root / 'sshd.pid'}",
            "AllowTcpForwarding yes", "AllowStreamLocalForwarding yes", "StreamLocalBindUnlink yes",
            "LogLevel ERROR", "MaxSessions 50", "MaxStartups 50:30:100", "",
        ]))
        if os.getuid() == 0:
            Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege-separation folder
        self.proc = subprocess.Popen([SSHD, "-D", "-e", "-f", str(cfg)], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=open(self.log, "ab"))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"sshd {self.name} exited at start: {self.log.read_text()[-500:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                    if s.recv(4).startswith(b"SSH-"):
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"sshd {self.name} did not listen on port {self.port} within {timeout}s")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None


class Lab:
    """The ssh client side of one test (its key, known_hosts and config) and the machines it can reach."""

    def __init__(self, root: Path) -> None:
        self.root = root
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
            m.stop()
