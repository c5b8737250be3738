"""`gastown web` lets in only the holder of this run's token: pages, static files and the WebSocket."""
from __future__ import annotations

import base64
import http.client
import os
import subprocess
import sys
from urllib.parse import urlsplit

import pytest

from gastown_tui.web.access import is_loopback
from web.browser import new_page, wait_for_text
from web.serving import WebRun


def request(base: str, path: str, headers: dict | None = None) -> http.client.HTTPResponse:
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    conn.request("GET", path, headers=headers or {})
    response = conn.getresponse()
    response.read() if response.status != 101 else None
    conn.close()
    return response


def upgrade(base: str, **headers) -> int:
    """Status of a WebSocket upgrade request for the app's socket (101 = accepted)."""
    key = base64.b64encode(os.urandom(16)).decode()
    response = request(base, "/ws?width=80&height=24", {"Connection": "Upgrade", "Upgrade": "websocket",
                                                         "Sec-WebSocket-Key": key, "Sec-WebSocket-Version": "13",
                                                         **headers})
    return response.status


@pytest.fixture(scope="module")
def served(bare_town):
    with WebRun(bare_town, "--no-agents") as run:
        yield run


def test_without_the_token_every_request_is_refused(served):
    assert request(served.base, "/").status == 403
    assert request(served.base, "/static/js/textual.js").status == 403
    assert request(served.base, "/?token=not-the-token").status == 403
    assert request(served.base, "/", {"Cookie": f"gastown_web_{urlsplit(served.base).port}=guess"}).status == 403
    assert upgrade(served.base) == 403
    assert served.app_processes() == []  # a refused socket never started an app


def test_the_token_becomes_an_httponly_strict_cookie_and_leaves_the_address(served):
    first = request(served.base, f"/?token={served.token}")
    assert first.status == 303 and first.getheader("Location") == "/"
    cookie = first.getheader("Set-Cookie")
    assert f"={served.token}" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    name = cookie.split("=", 1)[0]
    page = request(served.base, "/", {"Cookie": f"{name}={served.token}"})
    assert page.status == 200 and page.getheader("Cache-Control") == "no-store"
    # another site's page cannot use the cookie for the socket
    assert upgrade(served.base, Cookie=f"{name}={served.token}", Origin="http://evil.example") == 403


def test_a_browser_with_the_token_gets_the_town_and_one_without_gets_403(served, browser):
    page = new_page(browser)
    page.goto(served.url)
    assert page.url == served.base + "/"  # the token is gone from the address bar
    cookies = {c["name"]: c for c in page.context.cookies()}
    cookie = cookies[f"gastown_web_{urlsplit(served.base).port}"]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    wait_for_text(page, "webtown", timeout=90)
    page.context.close()

    stranger = new_page(browser)
    response = stranger.goto(served.base + "/")
    assert response.status == 403
    outcome = stranger.evaluate("""(url) => new Promise((resolve) => {
        const ws = new WebSocket(url);
        ws.onopen = () => resolve("open");
        ws.onerror = () => resolve("refused");
    })""", served.base.replace("http:", "ws:") + "/ws")
    assert outcome == "refused"
    stranger.context.close()


def test_a_remote_host_needs_allow_remote_and_is_told_about_tls(bare_town):
    refused = subprocess.run([sys.executable, "-m", "gastown_tui.cli", "web", "--town", str(bare_town),
                              "--host", "0.0.0.0", "--port", "0"], capture_output=True, text=True, timeout=60)
    assert refused.returncode == 1
    assert "--allow-remote" in refused.stderr and refused.stderr.count("\n") == 1
    with WebRun(bare_town, "--no-agents", "--host", "0.0.0.0", "--allow-remote") as run:
        pass
    text = "\n".join(run.lines)
    assert "TLS" in text and "ssh -L" in text and "127.0.0.1" in text


def test_loopback_names():
    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("::1")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.4") and not is_loopback("example.com")
