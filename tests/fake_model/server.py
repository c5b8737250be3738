"""A fake model API server for the agent tests (stdlib only).

Binds to 127.0.0.1 on a free port, answers the four wire protocols the agent
CLIs speak (Anthropic Messages, OpenAI Responses, OpenAI Chat Completions, the
Gemini API) from one scripted `Brain`, logs every request (credentials
redacted), and stops itself after `max_seconds` whatever happens.

    with FakeModel(brain, max_seconds=120) as fm:
        env["ANTHROPIC_BASE_URL"] = fm.url
        ...
        fm.wait_for(lambda r: r["protocol"] == "anthropic", timeout=10)
"""
from __future__ import annotations

import gzip
import hashlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

from . import anthropic, chat, gemini, responses
from .brain import Brain, Conversation, Reply
from .usage import DEFAULT as DEFAULT_USAGE

REDACT = {"authorization", "x-api-key", "x-goog-api-key", "api-key", "cookie"}


class Stream:
    """Writes one HTTP response: plain JSON, or server-sent events in chunked encoding."""

    def __init__(self, handler: BaseHTTPRequestHandler, stop: threading.Event):
        self.h = handler
        self.stop = stop
        self.started = False
        self.usage = DEFAULT_USAGE   # the token counts this response reports (fake_model/usage.py)

    def json(self, status: int, obj) -> None:
        data = json.dumps(obj).encode()
        self.h.send_response(status)
        self.h.send_header("Content-Type", "application/json")
        self.h.send_header("Content-Length", str(len(data)))
        self.h.end_headers()
        self.h.wfile.write(data)
        self.h.wfile.flush()

    def sse_start(self) -> None:
        self.h.send_response(200)
        self.h.send_header("Content-Type", "text/event-stream")
        self.h.send_header("Cache-Control", "no-cache")
        self.h.send_header("Transfer-Encoding", "chunked")
        self.h.end_headers()
        self.started = True

    def _chunk(self, data: bytes) -> None:
        self.h.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.h.wfile.flush()

    def event(self, name: str | None, data) -> None:
        text = data if isinstance(data, str) else json.dumps(data)
        head = f"event: {name}\n" if name else ""
        self._chunk(f"{head}data: {text}\n\n".encode())

    def end(self) -> None:
        self._chunk(b"")  # zero-length chunk: end of body

    def sleep(self, seconds: float) -> bool:
        """Waits; returns False (and the connection will close) when the server is stopping."""
        if self.stop.wait(seconds):
            self.h.close_connection = True
            return False
        return True


class FakeModel:
    """The server. `requests` holds one record per request, in arrival order."""

    def __init__(self, brain: Brain | None = None, max_seconds: float = 600.0,
                 log_path: Path | None = None, chunk_delay: float = 0.01, usage=None):
        self.brain = brain or Brain()
        self.usage = usage   # None, or FN(conversation) -> Usage: the token counts each response reports
        self.max_seconds = max_seconds
        self.log_path = Path(log_path) if log_path else None
        self.chunk_delay = chunk_delay
        self.requests: list[dict] = []
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._threads: list[threading.Thread] = []

    # lifecycle
    def start(self) -> "FakeModel":
        fake = self

        class Handler(_Handler):
            model = fake

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        serve = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.1},
                                 name="fake-model", daemon=True)
        limit = threading.Thread(target=self._limit, name="fake-model-limit", daemon=True)
        self._threads = [serve, limit]
        serve.start()
        limit.start()
        return self

    def _limit(self) -> None:
        if not self._stop.wait(self.max_seconds):
            self.stop()

    def stop(self) -> None:
        if self._stop.is_set() and self._httpd is None:
            return
        self._stop.set()
        httpd, self._httpd = self._httpd, None
        if httpd is not None:
            httpd.shutdown()
            httpd.server_close()

    def __enter__(self) -> "FakeModel":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    def wait_closed(self, timeout: float = 10.0) -> bool:
        """True once the server has stopped and its listening socket is closed (the time limit does that on
        its own thread)."""
        for thread in self._threads:
            thread.join(timeout)
        return self._stop.is_set() and self._httpd is None

    @property
    def port(self) -> int:
        assert self._httpd is not None, "fake model server is not running"
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # records
    def record(self, rec: dict) -> None:
        with self._cond:
            self.requests.append(rec)
            self._cond.notify_all()
        if self.log_path:
            with self.log_path.open("a") as f:
                f.write(json.dumps(rec, default=str) + "\n")

    def wait_for(self, pred, timeout: float = 30.0, what: str = "a matching request") -> dict:
        """Blocks until a logged request satisfies `pred`; AssertionError naming `what` otherwise."""
        deadline = time.monotonic() + timeout
        seen = 0
        with self._cond:
            while True:
                for rec in self.requests[seen:]:
                    if pred(rec):
                        return rec
                seen = len(self.requests)
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"fake model: no {what} within {timeout}s; got {self.summary()}")
                self._cond.wait(left)

    def prompts(self, protocol: str | None = None) -> list[str]:
        """The distinct main-turn prompts seen, in order (turn 0 only)."""
        out = []
        for r in self.requests:
            c = r.get("conv") or {}
            if c.get("has_tools") and c.get("turn") == 0 and (protocol is None or r["protocol"] == protocol):
                out.append(c.get("prompt", ""))
        return out

    def summary(self) -> str:
        rows = []
        for r in self.requests[-12:]:
            c = r.get("conv") or {}
            rows.append(f"{r['method']} {r['path']} turn={c.get('turn')} prompt={c.get('prompt', '')[:60]!r} -> {r.get('decision')}")
        return f"{len(self.requests)} requests; last: " + "; ".join(rows)


class _Handler(BaseHTTPRequestHandler):
    model: FakeModel
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:  # quiet
        pass

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = b""
            while True:
                size = int(self.rfile.readline().strip().split(b";")[0], 16)
                if size == 0:
                    self.rfile.readline()
                    break
                data += self.rfile.read(size)
                self.rfile.readline()
        else:
            data = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        enc = self.headers.get("Content-Encoding", "").lower()
        if enc == "gzip":
            data = gzip.decompress(data)
        elif enc not in ("", "identity"):
            raise ValueError(f"unsupported Content-Encoding {enc!r}")
        return data

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def _serve(self, method: str) -> None:
        fm = self.model
        url = urlsplit(self.path)
        rec = {"t": time.time(), "method": method, "path": self.path,
               "headers": {k: ("<redacted>" if k.lower() in REDACT else v) for k, v in self.headers.items()},
               "protocol": route(url.path), "body": None, "conv": None, "decision": None,
               # credentials are never logged: only a short digest, so a test can tell which key came
               "auth_sha": {k.lower(): auth_digest(v) for k, v in self.headers.items() if k.lower() in REDACT}}
        out = Stream(self, fm._stop)
        try:
            body = json.loads(self._body() or b"{}") if method == "POST" else {}
            rec["body"] = body
            proto = rec["protocol"]
            if proto is None or method != "POST":
                rec["decision"] = "404"
                fm.record(rec)
                out.json(404, {"error": {"message": f"fake model: no route for {method} {url.path}"}})
                return
            module = {"anthropic": anthropic, "responses": responses, "chat": chat, "gemini": gemini}[proto]
            special = module.special(url.path, body)
            if special is not None:
                rec["decision"] = "special"
                fm.record(rec)
                out.json(200, special)
                return
            conv: Conversation = module.parse(body, url.path)
            reply: Reply = fm.brain.decide(conv)
            rec["conv"] = {k: v for k, v in conv.__dict__.items() if k not in ("system", "user_texts")}
            rec["conv"]["user_texts"] = conv.user_texts
            rec["decision"] = {"actions": [repr(a) for a in reply.actions], "delay": reply.delay,
                               "stall": reply.stall, "fail": reply.fail_status}
            if fm.usage is not None and not reply.fail_status:
                out.usage = fm.usage(conv)
            rec["usage"] = None if reply.fail_status else out.usage.to_dict()
            fm.record(rec)
            if reply.delay and not out.sleep(reply.delay):
                return
            if reply.fail_status:
                out.json(reply.fail_status, module.error_body(reply.fail_status, reply.fail_message))
                return
            module.render(reply, conv, body, url, out, fm.chunk_delay)
        except (BrokenPipeError, ConnectionResetError):
            pass
        except Exception as exc:  # answer clearly rather than hang the client
            rec["decision"] = f"error: {type(exc).__name__}: {exc}"
            fm.record(rec)
            if not out.started:
                try:
                    out.json(500, {"error": {"message": f"fake model error: {exc}"}})
                except OSError:
                    pass
            raise


def auth_digest(value: str) -> str:
    """sha256 of the secret in an auth header ("Bearer " stripped), first 16 hex digits."""
    secret = value[7:] if value.lower().startswith("bearer ") else value
    return hashlib.sha256(secret.encode()).hexdigest()[:16]


def route(path: str) -> str | None:
    if "/v1/messages" in path:
        return "anthropic"
    if path.rstrip("/").endswith("/responses"):
        return "responses"
    if path.rstrip("/").endswith("/chat/completions"):
        return "chat"
    if "/models/" in path and ":" in path.rsplit("/", 1)[-1]:
        return "gemini"
    return None
