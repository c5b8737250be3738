"""The town's nodes: machines polecats may run on, reached over SSH, kept in `settings/nodes.json`.

A node is a name, an SSH target (`ssh://[user@]host[:port]`, or a bare `host` that the user's
~/.ssh/config resolves), the folder on the node that holds its worktrees, how many polecats it may run
and the python the node side runs with. The file is replaced atomically; a bad file is an error naming
the file and line."""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlsplit

from gastown_tui.errors import UserError, not_found
from gastown_tui.town.jsonfile import read_json, write_json

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
DEFAULT_DIR = "~/gastown-node"
DEFAULT_MAX = 4


@dataclass(frozen=True)
class Node:
    name: str
    host: str
    user: str | None = None
    port: int | None = None
    dir: str = DEFAULT_DIR
    max_polecats: int = DEFAULT_MAX
    python: str = "python3"

    @property
    def url(self) -> str:
        user = f"{self.user}@" if self.user else ""
        port = f":{self.port}" if self.port else ""
        return f"ssh://{user}{self.host}{port}"

    @property
    def where(self) -> str:
        """How errors name the node's address: user@host:port (only the parts given)."""
        user = f"{self.user}@" if self.user else ""
        port = f":{self.port}" if self.port else ""
        return f"{user}{self.host}{port}"

    def to_dict(self) -> dict:
        return {**asdict(self), "url": self.url}


def parse_target(target: str) -> tuple[str, str | None, int | None]:
    """(host, user, port) from `ssh://[user@]host[:port]` or `[user@]host` (a ~/.ssh/config Host)."""
    if "://" in target:
        parts = urlsplit(target)
        if parts.scheme != "ssh":
            raise UserError(f"node address {target!r}: only ssh:// is supported")
        if parts.path not in ("", "/") or parts.query or parts.fragment:
            raise UserError(f"node address {target!r}: expected ssh://[user@]host[:port] with no path "
                            f"(the node's folder is --dir)")
        try:
            port = parts.port
        except ValueError:
            raise UserError(f"node address {target!r}: the port is not a number from 1 to 65535") from None
        if not parts.hostname:
            raise UserError(f"node address {target!r}: no host")
        return parts.hostname, parts.username, port
    user, sep, host = target.rpartition("@")
    if not host or any(c in host for c in " /:"):
        raise UserError(f"node address {target!r}: expected ssh://[user@]host[:port] or a Host from ~/.ssh/config")
    return host, (user if sep else None), None


def nodes_path(town) -> Path:
    return Path(town.root) / "settings" / "nodes.json"


def _from_record(path: Path, i: int, rec) -> Node:
    if not isinstance(rec, dict) or not isinstance(rec.get("name"), str) or not isinstance(rec.get("host"), str):
        raise UserError(f"{path}: node #{i + 1} needs a string 'name' and 'host'")
    try:
        return Node(name=rec["name"], host=rec["host"], user=rec.get("user"),
                    port=int(rec["port"]) if rec.get("port") else None, dir=str(rec.get("dir") or DEFAULT_DIR),
                    max_polecats=int(rec.get("max_polecats", DEFAULT_MAX)), python=str(rec.get("python") or "python3"))
    except (TypeError, ValueError) as exc:
        raise UserError(f"{path}: node {rec.get('name')!r}: {exc}") from None


def load_nodes(town) -> dict[str, Node]:
    path = nodes_path(town)
    data = read_json(path, default={"nodes": []})
    if not isinstance(data, dict) or not isinstance(data.get("nodes"), list):
        raise UserError(f"{path}: expected an object with a 'nodes' list")
    return {n.name: n for n in (_from_record(path, i, r) for i, r in enumerate(data["nodes"]))}


def save_nodes(town, nodes: dict[str, Node]) -> None:
    write_json(nodes_path(town), {"nodes": [
        {k: v for k, v in asdict(n).items() if v is not None} for n in sorted(nodes.values(), key=lambda n: n.name)]})


def get_node(town, name: str) -> Node:
    nodes = load_nodes(town)
    if name not in nodes:
        raise not_found("node", name, nodes)
    return nodes[name]


def add_node(town, name: str, target: str, *, dir: str | None = None, max_polecats: int | None = None,
             python: str | None = None) -> Node:
    if not NAME_RE.match(name) or name == "local":
        raise UserError(f"node name {name!r}: use lowercase letters, digits, - and _ (not 'local'), up to 32")
    if max_polecats is not None and max_polecats < 1:
        raise UserError(f"--max-polecats {max_polecats}: must be at least 1")
    host, user, port = parse_target(target)
    nodes = load_nodes(town)
    if name in nodes:
        raise UserError(f"node {name!r} already exists ({nodes[name].url}); remove it first")
    node = Node(name=name, host=host, user=user, port=port, dir=dir or DEFAULT_DIR,
                max_polecats=max_polecats or DEFAULT_MAX, python=python or "python3")
    nodes[name] = node
    save_nodes(town, nodes)
    return node
