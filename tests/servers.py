"""Real servers on 127.0.0.1 for tests: a feed server, a webhook receiver, an SMTP sink.

Each runs in a background thread, binds an ephemeral port, and stops when its context ends.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller
from standardwebhooks import Webhook, WebhookVerificationError


@dataclass
class Resource:
    """What the feed server answers on one path."""

    body: bytes = b""
    status: int = 200
    content_type: str = "application/rss+xml; charset=utf-8"
    etag: bool = True  # answer with an ETag and honour If-None-Match
    last_modified: str | None = None
    delay: float = 0.0  # seconds before answering
    headers: dict[str, str] = field(default_factory=dict)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128  # the default of 5 refuses connections under concurrent polls


class FeedServer:
    """Serves `resources[path]`; unknown paths get 404. Records every request."""

    def __init__(self) -> None:
        self.resources: dict[str, Resource] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.times: list[tuple[str, float]] = []  # (path, time.monotonic()) of each request
        self._lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                with outer._lock:
                    outer.requests.append((self.path, dict(self.headers.items())))
                    outer.times.append((self.path, time.monotonic()))
                    resource = outer.resources.get(self.path)
                if resource is None:
                    self.send_error(404)
                    return
                if resource.delay:
                    time.sleep(resource.delay)
                etag = '"' + hashlib.sha1(resource.body).hexdigest() + '"'
                if resource.etag and self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.end_headers()
                    return
                try:
                    self.send_response(resource.status)
                    self.send_header("Content-Type", resource.content_type)
                    self.send_header("Content-Length", str(len(resource.body)))
                    if resource.etag:
                        self.send_header("ETag", etag)
                    if resource.last_modified:
                        self.send_header("Last-Modified", resource.last_modified)
                    for name, value in resource.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(resource.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self._server = _Server(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def serve(self, path: str, body: bytes | str, **options: Any) -> str:
        data = body.encode() if isinstance(body, str) else body
        with self._lock:
            self.resources[path] = Resource(body=data, **options)
        return self.url(path)

    def hits(self, path: str) -> int:
        with self._lock:
            return sum(1 for p, _ in self.requests if p == path)

    def start(self) -> FeedServer:
        # A short poll interval lets stop() return in 50 ms instead of the default 0.5 s.
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@dataclass
class ReceivedWebhook:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class WebhookReceiver:
    """Records POSTs. `fail_next` answers that many requests with `fail_status` first."""

    def __init__(self) -> None:
        self.received: list[ReceivedWebhook] = []
        self.rejected: list[ReceivedWebhook] = []
        self.attempts = 0
        self.fail_next = 0
        self.fail_status = 503
        self.fail_headers: dict[str, str] = {}
        # Seconds to wait after recording a POST before answering it (a slow receiver); a
        # callable is asked per request.
        self.delay: float | Callable[[], float] = 0.0
        # Standard Webhooks secrets ("whsec_..." text, or bytes for a raw key); when set, a POST
        # must verify against every one of them, else it is answered 401 and kept in `unverified`.
        self.verify_secrets: list[str | bytes] = []
        self.unverified: list[ReceivedWebhook] = []
        # Requests being answered now, and the most there ever were at once.
        self.in_flight = 0
        self.most_in_flight = 0
        self._lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                if len(body) < length:
                    return  # the sender died mid-request (a crash test): nothing was delivered
                hook = ReceivedWebhook(self.path, dict(self.headers.items()), body)
                if not outer._verified(hook):
                    with outer._lock:
                        outer.attempts += 1
                        outer.unverified.append(hook)
                    self.send_response(401)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                with outer._lock:
                    outer.attempts += 1
                    failing = outer.fail_next > 0
                    if failing:
                        outer.fail_next -= 1
                        outer.rejected.append(hook)
                    else:
                        outer.received.append(hook)
                    outer.in_flight += 1
                    outer.most_in_flight = max(outer.most_in_flight, outer.in_flight)
                try:
                    time.sleep(outer.delay() if callable(outer.delay) else outer.delay)
                finally:
                    with outer._lock:
                        outer.in_flight -= 1
                status = outer.fail_status if failing else 200
                try:
                    self.send_response(status)
                    if failing:
                        for name, value in outer.fail_headers.items():
                            self.send_header(name, value)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the sender went away (a crash test killed it): nothing to answer

        self._server = _Server(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]

    def _verified(self, hook: ReceivedWebhook) -> bool:
        try:
            for secret in self.verify_secrets:
                Webhook(secret).verify(hook.body, hook.headers)
        except WebhookVerificationError:
            return False
        return True

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def payloads(self) -> list[Any]:
        with self._lock:
            return [hook.json() for hook in self.received]

    def start(self) -> WebhookReceiver:
        # A short poll interval lets stop() return in 50 ms instead of the default 0.5 s.
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class _Collect:
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        with self.sink.lock:
            self.sink.messages.append(message)
            self.sink.recipients.append(list(envelope.rcpt_tos))
        return "250 OK"


class SmtpSink:
    """A real SMTP server (aiosmtpd) that keeps every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.recipients: list[list[str]] = []
        self.lock = threading.Lock()
        self.port = free_port()
        self._controller = Controller(_Collect(self), hostname="127.0.0.1", port=self.port)

    def start(self) -> SmtpSink:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()


def free_port() -> int:
    """A port nobody listens on right now (aiosmtpd needs one before it starts)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def running(server: Any) -> Iterator[Any]:
    server.start()
    try:
        yield server
    finally:
        server.stop()


def wait_until(predicate: Any, timeout: float = 10.0, interval: float = 0.05) -> bool:
    """Poll `predicate` until true or `timeout`; returns the last result (bounded, never hangs)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())
