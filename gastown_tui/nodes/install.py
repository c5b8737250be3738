"""`gastown node install NAME`: the gastown package on a node, from the town's own wheel, offline.

The town builds a wheelhouse once per version of its code (`<town>/.runtime/nodes/wheelhouse/`): the
gastown wheel (`pip wheel --no-deps` of the checkout the town runs from), the wheels of every dependency
pinned to the versions the town itself runs, and pip's own wheel. The wheels the node does not have yet
are copied over the node's ssh connection (one tar stream) into `<node dir>/wheels/`; a virtual
environment `<node dir>/venv` is made with the node's python (`--without-pip`: Debian's python3 has no
ensurepip) and pip, run from its own wheel, installs with `--no-index` from that folder only: the node
needs no internet and no package index. The node's registry entry then names that venv's python, and
`node check` must say ready.

Binary wheels (pydantic-core, orjson, pyghostty...) are built for the town's python and machine, so the
node's python must be the same minor version on the same machine type; otherwise the error says so
(install a matching python on the node and pass it with `node add --python`).
GASTOWN_WHEELHOUSE=DIR (or `--wheelhouse DIR`) uses a wheelhouse built before, as is (the tests build one
per session)."""
from __future__ import annotations

import dataclasses
import hashlib
import importlib.metadata
import io
import os
import platform
import shlex
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Callable

from gastown_tui import __version__
from gastown_tui.errors import UserError
from gastown_tui.nodes.registry import Node, load_nodes, save_nodes
from gastown_tui.nodes.ssh import NodeError, run
from gastown_tui.nodes.check import probe, rig_agent_programs
from gastown_tui.nodes.git import node_root
from gastown_tui.nodes.health import of_facts, record

PACKAGE = "gastown_tui"
DIST = "gastown-tui"


def source_checkout() -> Path | None:
    """The checkout the town's gastown runs from (an editable install), or None for an installed wheel."""
    root = Path(__file__).resolve().parent.parent.parent
    return root if (root / "pyproject.toml").is_file() and (root / PACKAGE).is_dir() else None


def code_digest(root: Path) -> str:
    """What the gastown wheel is built from, in 12 hex digits (a changed source makes a new wheelhouse)."""
    h = hashlib.sha256()
    for base in (root / PACKAGE, root / "widgets", root / "themes", root / "formulas"):
        for path in sorted(base.rglob("*")) if base.is_dir() else ():
            if path.is_file() and "__pycache__" not in path.parts:
                h.update(str(path.relative_to(root)).encode())
                h.update(path.read_bytes())
    for name in ("pyproject.toml", "setup.py"):
        if (root / name).is_file():
            h.update((root / name).read_bytes())
    return h.hexdigest()[:12]


def town_pins() -> str:
    """`name==version` of every distribution the town's python runs (pip's constraints file)."""
    seen, lines = set(), []
    for dist in importlib.metadata.distributions():
        name = dist.metadata["Name"]
        if not name or name.lower() in seen or name.lower().replace("_", "-") == DIST:
            continue
        seen.add(name.lower())
        lines.append(f"{name}=={dist.version}")
    return "\n".join(sorted(lines)) + "\n"


def _pip(*args: str, timeout: float = 600) -> None:
    res = subprocess.run([sys.executable, "-m", "pip", *args], capture_output=True, text=True, timeout=timeout,
                         stdin=subprocess.DEVNULL)
    if res.returncode != 0:
        last = (res.stderr.strip() or res.stdout.strip()).splitlines()[-3:]
        raise UserError(f"building the town's wheelhouse: pip {args[0]} failed: {' | '.join(last)}")


def build_wheelhouse(dest: Path, source: Path | None = None) -> Path:
    """The gastown wheel of SOURCE (the town's checkout), its dependencies at the town's versions and pip,
    in DEST. Written to a temporary folder and renamed, so a half-built wheelhouse is never used."""
    source = source or source_checkout()
    if source is None:
        raise UserError("the town's gastown is not installed from a checkout, so its wheel cannot be built here; "
                        "pass --wheelhouse DIR (a folder with the gastown wheel and its dependencies)")
    dest = Path(dest)
    tmp = dest.with_name(dest.name + f".tmp{os.getpid()}")
    tmp.mkdir(parents=True, exist_ok=True)
    try:
        _pip("wheel", "-q", "--no-deps", "-w", str(tmp), str(source))
        wheel = gastown_wheel(tmp)
        pins = tmp / "pins.txt"
        pins.write_text(town_pins())
        _pip("wheel", "-q", "-w", str(tmp), "-c", str(pins), str(wheel), "pip")
        if dest.exists():
            import shutil

            shutil.rmtree(dest)
        tmp.replace(dest)
    except BaseException:
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return dest


def gastown_wheel(wheelhouse: Path) -> Path:
    found = sorted(Path(wheelhouse).glob(f"{PACKAGE}-{__version__}-*.whl"))
    if not found:
        raise UserError(f"{wheelhouse}: no {PACKAGE}-{__version__} wheel (the town runs gastown {__version__})")
    return found[-1]


def town_wheelhouse(town, log: Callable[[str], None] = lambda s: None) -> Path:
    """The wheelhouse for the code the town runs now: GASTOWN_WHEELHOUSE, or built (once per code digest)
    under `<town>/.runtime/nodes/wheelhouse/`."""
    given = os.environ.get("GASTOWN_WHEELHOUSE")
    if given:
        return Path(given)
    source = source_checkout()
    if source is None:
        raise UserError("the town's gastown is not installed from a checkout, so its wheel cannot be built here; "
                        "pass --wheelhouse DIR (a folder with the gastown wheel and its dependencies)")
    dest = Path(town.root) / ".runtime" / "nodes" / "wheelhouse" / f"{__version__}-{code_digest(source)}"
    if not dest.is_dir():
        log(f"building the town's wheelhouse in {dest} (once for this code)")
        build_wheelhouse(dest, source)
    return dest


def _check_python(node: Node) -> tuple[str, str]:
    """(the node's python minor version, its machine); NodeError naming the node when it cannot be used."""
    py = shlex.quote(node.python)
    res = run(node, f"{py} -c 'import sys, platform; print(\"%d.%d\" % sys.version_info[:2], platform.machine())'")
    if res.returncode != 0:
        raise NodeError(f"node {node.name}: its python {node.python!r} does not run (install python "
                        f"{sys.version_info[0]}.{sys.version_info[1]} there, or pass node add --python); nothing was installed")
    version, machine = res.stdout.decode(errors="replace").split()[:2]
    town = (f"{sys.version_info[0]}.{sys.version_info[1]}", platform.machine())
    if (version, machine) != town:
        raise NodeError(f"node {node.name}: its python is {version} on {machine}, the town's wheels are for "
                        f"python {town[0]} on {town[1]}; install python {town[0]} there (node add --python); "
                        f"nothing was installed")
    return version, machine


def _send_wheels(node: Node, wheelhouse: Path, remote: str) -> list[str]:
    """Copies the wheels the node lacks (by name and size) in one tar stream; the names sent."""
    q = shlex.quote(remote)
    res = run(node, f"mkdir -p {q} && cd {q} && for f in *.whl; do [ -f \"$f\" ] && "
                    f"echo \"$(wc -c < \"$f\") $f\"; done; true")
    have = {}
    for line in res.stdout.decode(errors="replace").splitlines():
        size, _, name = line.strip().partition(" ")
        if size.isdigit():
            have[name] = int(size)
    wheels = sorted(Path(wheelhouse).glob("*.whl"))
    missing = [w for w in wheels if have.get(w.name) != w.stat().st_size]
    if not missing:
        return []
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for w in missing:
            tar.add(w, arcname=w.name)
    res = run(node, f"cd {q} && tar -xf -", input=buf.getvalue(), timeout=600)
    if res.returncode != 0:
        raise NodeError(f"node {node.name}: copying the wheels failed: {res.stderr.decode(errors='replace').strip()}")
    return [w.name for w in missing]


REPLACE_DAEMON = ("import sys; from gastown_tui.nodes.serve import replace_idle_daemon; "
                  "print(replace_idle_daemon(sys.argv[1]))")


def install(town, node: Node, wheelhouse: Path | None = None, log: Callable[[str], None] = lambda s: None):
    """Installs the town's gastown on NODE (see the module's text). The node's facts after, ready."""

    _check_python(node)
    wheelhouse = Path(wheelhouse) if wheelhouse else town_wheelhouse(town, log)
    wheel = gastown_wheel(wheelhouse)
    root = node_root(node)
    wheels, venv = f"{root}/wheels", f"{root}/venv"
    sent = _send_wheels(node, wheelhouse, wheels)
    log(f"node {node.name}: sent {len(sent)} wheels to {wheels}" if sent else
        f"node {node.name}: it already has every wheel")
    pips = sorted(Path(wheelhouse).glob("pip-*.whl"))
    if not pips:
        raise UserError(f"{wheelhouse}: no pip wheel (build the wheelhouse again)")
    vpy = f"{venv}/bin/python"
    pip = (f"env PIP_CONFIG_FILE=/dev/null PIP_DISABLE_PIP_VERSION_CHECK=1 {shlex.quote(vpy)} "
           f"{shlex.quote(wheels + '/' + pips[-1].name)}/pip install -q --no-index --find-links {shlex.quote(wheels)}")
    target = shlex.quote(f"{wheels}/{wheel.name}")
    script = (f"set -e; test -x {shlex.quote(vpy)} || {shlex.quote(node.python)} -m venv --without-pip {shlex.quote(venv)}; "
              f"{pip} {target}; {pip} --no-deps --force-reinstall {target}")
    res = run(node, script, timeout=900)
    if res.returncode != 0:
        err = res.stderr.decode(errors="replace").strip().splitlines()
        raise NodeError(f"node {node.name}: installing gastown failed: {' | '.join(err[-3:]) or res.returncode}")
    # A node daemon of another version that runs nothing makes way now (one that runs programs: when they end).
    replace = run(node, f"{shlex.quote(vpy)} -c {shlex.quote(REPLACE_DAEMON)} {shlex.quote(root)}", timeout=60)
    said = (replace.stdout or replace.stderr).decode(errors="replace").strip().splitlines()
    log(f"node {node.name}: {said[-1] if said else 'the node daemon was not asked'}")
    nodes = load_nodes(town)
    updated = dataclasses.replace(nodes.get(node.name, node), python=vpy)
    nodes[node.name] = updated
    save_nodes(town, nodes)
    facts = probe(updated, rig_agent_programs(town))
    record(town, of_facts(facts))
    return updated, facts
