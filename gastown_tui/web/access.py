"""Access control for `gastown web`: nobody without this run's token gets anything.

textual-serve has no authentication, so every request passes through `guard`
(an aiohttp middleware) first:

- `/?token=T` with the right T sets an HttpOnly, SameSite=Strict cookie and
  redirects to the same page without the token, so it does not stay in the
  address bar, the history or a Referer.
- Any other request (pages, static files, the WebSocket upgrade) needs that
  cookie (or the token in its query); without it the answer is HTTP 403, which
  for a WebSocket means the upgrade is refused.
- A WebSocket whose Origin is not this server is refused even with the cookie
  (another page on the same host, another port, would otherwise reach it).
"""
from __future__ import annotations

import hmac
import ipaddress
import secrets
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from aiohttp import web

REFUSED = "gastown web: open the address that `gastown web` printed (it carries this run's token)\n"


def new_token() -> str:
    """A fresh random token for one `gastown web` run."""
    return secrets.token_urlsafe(32)


def is_loopback(host: str) -> bool:
    """True for names and addresses that only this machine can reach."""
    if host in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass
class Access:
    """The token of one run and the cookie that carries it (named per port: cookies ignore ports)."""

    token: str = field(default_factory=new_token)
    port: int = 8765

    @property
    def cookie_name(self) -> str:
        return f"gastown_web_{self.port}"

    def valid(self, candidate: str | None) -> bool:
        return bool(candidate) and hmac.compare_digest(candidate.encode(), self.token.encode())

    def allowed(self, request: web.Request) -> bool:
        return self.valid(request.cookies.get(self.cookie_name)) or self.valid(request.query.get("token"))

    def middleware(self):
        access = self

        @web.middleware
        async def guard(request: web.Request, handler):
            websocket = request.headers.get("Upgrade", "").lower() == "websocket"
            if not access.allowed(request):
                return web.Response(status=403, text=REFUSED, headers=_private())
            if websocket and not _same_origin(request):
                return web.Response(status=403, text="gastown web: WebSocket from another origin refused\n",
                                    headers=_private())
            if not websocket and access.valid(request.query.get("token")):
                # first visit: trade the token for the cookie, then load the clean address
                query = {k: v for k, v in request.query.items() if k != "token"}
                clean = request.rel_url.with_query(query)
                response = web.Response(status=303, headers={**_private(), "Location": str(clean)})
                response.set_cookie(access.cookie_name, access.token, httponly=True, samesite="Strict",
                                    path="/", secure=request.secure)
                return response
            response = await handler(request)
            if not websocket:
                for key, value in _private().items():
                    response.headers.setdefault(key, value)
            return response

        return guard


def _private() -> dict[str, str]:
    return {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY"}


def _same_origin(request: web.Request) -> bool:
    origin = request.headers.get("Origin")
    if origin is None:
        return True  # not a browser: the token or cookie was enough
    return urlsplit(origin).netloc.lower() == request.host.lower()
