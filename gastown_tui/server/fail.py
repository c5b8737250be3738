"""`Fail`: how a town-server command refuses a request (one error reply with a code and a message)."""
from __future__ import annotations


class Fail(Exception):
    """A request that cannot be done: one error reply with this code and message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
