"""The operations endpoint: `/healthz`, `/readyz` and `/metrics` over a tiny HTTP/1.1 server.

Built on `asyncio.start_server` to keep dependencies small. Every connection answers one request
and closes; the request head is capped in size, reading it and writing the answer are each
bounded in time, the number of open connections is capped, and /metrics is rendered in a thread,
so a slow or hostile client can neither stall the daemon's loop nor grow its memory.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from monitor.health import Health
from monitor.metrics import REGISTRY

__all__ = ["Health", "parse_listen", "start_http_server"]

MAX_HEAD = 8192  # bytes of request line + headers; ours are probes and scrapers, never browsers
READ_TIMEOUT = 5.0  # seconds for a client to send its request head
# Seconds for a client to take the answer: a scrape with thousands of feeds is megabytes.
WRITE_TIMEOUT = 30.0
MAX_CONNECTIONS = 32

_REASONS = {
    200: "OK",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    431: "Request Header Fields Too Large",
    503: "Service Unavailable",
}


def parse_listen(listen: str) -> tuple[str, int]:
    """'127.0.0.1:8080', '0.0.0.0:8080' or '[::1]:8080' -> (host, port)."""
    host, sep, port = listen.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not sep or not host or not port.isdigit() or not 0 <= int(port) < 65536:
        raise ValueError(f"listen must be host:port such as 127.0.0.1:8080, got {listen!r}")
    return host, int(port)


def _response(status: int, body: bytes, content_type: str, head_only: bool) -> bytes:
    lines = [
        f"HTTP/1.1 {status} {_REASONS[status]}",
        f"Content-Type: {content_type}",
        f"Content-Length: {len(body)}",
        "Cache-Control: no-store",
        "Connection: close",
    ]
    if status == 405:
        lines.append("Allow: GET, HEAD")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("ascii")
    return head if head_only else head + body


async def _route(method: str, path: str, health: Health, now: float) -> tuple[int, bytes, str]:
    text = "text/plain; charset=utf-8"
    if method not in ("GET", "HEAD"):
        return 405, b"only GET and HEAD\n", text
    if path == "/healthz":
        age = health.age(now)
        if health.alive(now):
            return 200, f"ok: loop ticked {age:.1f} s ago\n".encode(), text
        message = f"stalled: loop last ticked {age:.0f} s ago (limit {health.stale_after:.0f} s)\n"
        return 503, message.encode(), text
    if path == "/readyz":
        if health.ready:
            return 200, b"ready\n", text
        return 503, b"not ready: starting, or the state database is unreachable\n", text
    if path == "/metrics":
        # With thousands of feeds rendering takes a second or more; a thread keeps the loop ticking.
        return 200, await asyncio.to_thread(generate_latest, REGISTRY), CONTENT_TYPE_LATEST
    return 404, b"not found: try /healthz, /readyz or /metrics\n", text


async def _read_head(reader: asyncio.StreamReader) -> bytes | None:
    """The request line and headers, or None when they exceed MAX_HEAD."""
    try:
        return await reader.readuntil(b"\r\n\r\n")
    except asyncio.LimitOverrunError:
        return None


async def _answer(head: bytes | None, health: Health, clock: Callable[[], float]) -> bytes:
    if head is None:
        return _response(431, b"request head too large\n", "text/plain; charset=utf-8", False)
    request_line = head.split(b"\r\n", 1)[0].decode("latin-1")
    parts = request_line.split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/"):
        return _response(400, b"malformed request line\n", "text/plain; charset=utf-8", False)
    method, target = parts[0], parts[1]
    path = target.split("?", 1)[0]
    status, body, content_type = await _route(method, path, health, clock())
    return _response(status, body, content_type, method == "HEAD")


async def start_http_server(
    listen: str, health: Health, *, clock: Callable[[], float] = time.time
) -> asyncio.Server:
    """Serve the endpoints on `listen` until the returned server is closed."""
    host, port = parse_listen(listen)
    slots = asyncio.Semaphore(MAX_CONNECTIONS)

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if slots.locked():
            writer.close()
            return
        async with slots:
            try:
                async with asyncio.timeout(READ_TIMEOUT):
                    head = await _read_head(reader)
                answer = await _answer(head, health, clock)
                async with asyncio.timeout(WRITE_TIMEOUT):
                    writer.write(answer)
                    await writer.drain()
            except (TimeoutError, asyncio.IncompleteReadError, ConnectionError):
                pass  # the client was too slow or went away; nothing useful to tell it
            finally:
                writer.close()

    return await asyncio.start_server(serve, host, port, limit=MAX_HEAD)
