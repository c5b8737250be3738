"""The town's proof of identity to its nodes: what lets a restarted town server claim the programs an
earlier server of the same town started on a node (docs/nodes.md, "A restarted town re-adopts").

Each town holds one secret, `.runtime/nodes/town.key` (32 random bytes, hex, 0600, made once, never sent
anywhere). A link's hello carries a proof derived from it for that node only (HMAC-SHA256 of the node's
name and folder), so a node learns nothing it could use with another node, and a different town (or
anything that only guesses) cannot take over a node's programs: its proof differs, and the node daemon
hangs up the other town's programs instead (no twins)."""
from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path


def key_path(town_root: Path) -> Path:
    return Path(town_root) / ".runtime" / "nodes" / "town.key"


def town_key(town_root: Path) -> bytes:
    """The town's secret, made on first use (O_EXCL: two processes making it at once agree on one)."""
    path = key_path(town_root)
    try:
        text = path.read_text().strip()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            text = path.read_text().strip()
        else:
            text = secrets.token_hex(32)
            with os.fdopen(fd, "w") as fh:
                fh.write(text + "\n")
                fh.flush()
                os.fsync(fh.fileno())
    if len(text) < 32:
        raise OSError(f"{path}: not a town key (too short); remove it to make a new one (the nodes' running "
                      f"programs are then hung up when the town next connects)")
    return text.encode()


def town_proof(town_root: Path, node_name: str, node_dir: str) -> str:
    """What the town says to node NODE_NAME (folder NODE_DIR) to prove it is this town."""
    return hmac.new(town_key(town_root), f"gastown-node\0{node_name}\0{node_dir}".encode(),
                    hashlib.sha256).hexdigest()
