"""The daemon's HTTP listener: uvicorn serving the Starlette app of monitor.web, with limits
that keep a slow or hostile client from stalling the daemon or exhausting its file descriptors.

uvicorn caps idle keep-alive connections (`timeout_keep_alive`) and concurrent requests
(`limit_concurrency`, answered 503); h11 caps only a head still incomplete
(`h11_max_incomplete_event_size`), so a 200 kB head arriving in one read passes. uvicorn has no
deadline for a client that sends its head byte by byte, nor for one that stops reading the
answer, and it accepts connections without bound, so `_GuardedH11` adds an exact head cap (431),
those two deadlines and a connection cap.
Imported only by the daemon, so `once`, `check` and `status` never load the web stack.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
from collections.abc import Callable, Iterator

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from monitor.app import App
from monitor.errors import ConfigError
from monitor.health import Health
from monitor.web import build_web_app

__all__ = ["HttpServer", "parse_listen", "start_http_server"]

MAX_HEAD = 8192  # bytes of request line + headers; a browser's head with cookies is ~2 kB
READ_TIMEOUT = 5.0  # seconds for a client to send a whole request head
# Seconds a client may leave a full send buffer unread: a scrape with thousands of feeds is
# megabytes, and a phone on a bad link reads slowly.
WRITE_TIMEOUT = 30.0
MAX_CONNECTIONS = 32  # open connections; more are closed at once, keeping fds for the feeds
KEEP_ALIVE = 5  # seconds an idle keep-alive connection stays open


def parse_listen(listen: str) -> tuple[str, int]:
    """'127.0.0.1:8080', '0.0.0.0:8080' or '[::1]:8080' -> (host, port)."""
    host, sep, port = listen.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not sep or not host or not port.isdigit() or not 0 <= int(port) < 65536:
        raise ValueError(f"listen must be host:port such as 127.0.0.1:8080, got {listen!r}")
    return host, int(port)


_TOO_LARGE_BODY = f"request head too large (limit {MAX_HEAD} bytes)\n".encode()
_TOO_LARGE = (
    b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\nConnection: close\r\n"
    + f"Content-Length: {len(_TOO_LARGE_BODY)}\r\n\r\n".encode()
    + _TOO_LARGE_BODY
)


class _GuardedH11(H11Protocol):
    """uvicorn's HTTP/1.1 protocol plus a head deadline, a write deadline and a connection cap."""

    _head_timer: asyncio.TimerHandle | None = None
    _write_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > MAX_CONNECTIONS:
            transport.abort()
            return
        self._arm_head_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        for timer in (self._head_timer, self._write_timer):
            if timer is not None:
                timer.cancel()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self.conn.their_state is h11.IDLE:
            head = self.conn.trailing_data[0] + data
            if len(head) > MAX_HEAD and head.find(b"\r\n\r\n", 0, MAX_HEAD + 4) == -1:
                self.transport.write(_TOO_LARGE)
                self.transport.close()
                return
        super().data_received(data)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._arm_head_deadline()  # the next request on this connection gets its own deadline

    def _arm_head_deadline(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
        self._head_timer = self.loop.call_later(READ_TIMEOUT, self._head_overdue)

    def _head_overdue(self) -> None:
        # IDLE on the client's side means h11 is still waiting for (the rest of) a request head.
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.transport.abort()

    def pause_writing(self) -> None:
        super().pause_writing()
        if self._write_timer is None:
            self._write_timer = self.loop.call_later(WRITE_TIMEOUT, self.transport.abort)

    def resume_writing(self) -> None:
        super().resume_writing()
        if self._write_timer is not None:
            self._write_timer.cancel()
            self._write_timer = None


class _Server(uvicorn.Server):
    """A uvicorn server that leaves SIGTERM and SIGINT to the daemon, which owns shutdown."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class HttpServer:
    """A running listener; `close()` stops it, letting requests under way finish."""

    def __init__(self, server: uvicorn.Server, task: asyncio.Task[None], port: int) -> None:
        self._server = server
        self._task = task
        self.port = port

    async def close(self) -> None:
        self._server.should_exit = True
        await self._task


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.setblocking(False)
    return sock


async def start_http_server(
    listen: str,
    health: Health,
    app: App,
    *,
    on_change: Callable[[], None] = lambda: None,
    clock: Callable[[], float] = time.time,
) -> HttpServer:
    """Serve /healthz, /readyz, /metrics and the page at / on `listen` until closed.

    `on_change` is called after an action changed the outbox, so the daemon delivers at once;
    `clock` is the clock `health` is ticked with.
    """
    host, port = parse_listen(listen)
    try:
        sock = _bind(host, port)
    except OSError as exc:
        raise ConfigError(
            f"http: cannot listen on {listen}: {exc.strerror}; pick another address or port"
        ) from None
    config = uvicorn.Config(
        build_web_app(health, app, on_change=on_change, clock=clock),
        http=_GuardedH11,
        lifespan="off",
        log_config=None,
        access_log=False,
        server_header=False,
        h11_max_incomplete_event_size=MAX_HEAD,
        timeout_keep_alive=KEEP_ALIVE,
        limit_concurrency=MAX_CONNECTIONS,
        timeout_graceful_shutdown=5,
    )
    logging.getLogger("uvicorn.error").setLevel(logging.WARNING)  # no start/stop banners
    server = _Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started and not task.done():
        await asyncio.sleep(0.01)
    if task.done():
        task.result()  # startup failed: raise what uvicorn raised
    return HttpServer(server, task, sock.getsockname()[1])
