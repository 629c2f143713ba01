"""A raw TCP server on 127.0.0.1 that misbehaves on purpose: drips, stalls, streams without end.

FeedServer (tests/servers.py) answers like a well-behaved HTTP server; the hostile cases need
control over every byte and over when (or whether) they are sent. Each connection is handed to a
`script` in its own thread; scripts end when the server stops.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable, Iterable

Script = Callable[[socket.socket, "ScriptedServer"], None]


class ScriptedServer:
    """Runs `script(connection, server)` for every accepted connection."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.stopping = threading.Event()
        self.connections = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)
        self.port = int(self._listener.getsockname()[1])
        self._threads: list[threading.Thread] = []

    def url(self, path: str = "/feed") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def start(self) -> ScriptedServer:
        thread = threading.Thread(target=self._accept, daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def stop(self) -> None:
        self.stopping.set()
        for thread in self._threads:
            thread.join(timeout=5)
        self._listener.close()

    def _accept(self) -> None:
        while not self.stopping.is_set():
            try:
                connection, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            thread = threading.Thread(target=self._run, args=(connection,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _run(self, connection: socket.socket) -> None:
        # OSError: the client gave up, which is what most of these tests expect.
        with connection, contextlib.suppress(OSError):
            self.script(connection, self)


def read_request(connection: socket.socket) -> bytes:
    """The request head (bounded), so the client is not left writing into a closed socket."""
    connection.settimeout(5)
    head = b""
    while b"\r\n\r\n" not in head and len(head) < 65536:
        chunk = connection.recv(4096)
        if not chunk:
            break
        head += chunk
    return head


def head(status: int = 200, headers: Iterable[tuple[str, str]] = ()) -> bytes:
    lines = [f"HTTP/1.1 {status} X"] + [f"{name}: {value}" for name, value in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def drip(interval: float = 1.0, content_type: str = "application/rss+xml") -> Script:
    """Headers at once, then one byte of body every `interval` seconds, forever."""

    def script(connection: socket.socket, server: ScriptedServer) -> None:
        read_request(connection)
        connection.sendall(head(200, [("Content-Type", content_type)]))
        while not server.stopping.wait(interval):
            connection.sendall(b"<")

    return script


def silent(connection: socket.socket, server: ScriptedServer) -> None:
    """Accepts, reads the request, and never answers."""
    read_request(connection)
    server.stopping.wait(60)


def endless(chunk: bytes = b"<item>" * 10_000, headers: Iterable[tuple[str, str]] = ()) -> Script:
    """A 200 without Content-Length whose body never ends (until the client hangs up)."""
    headers = [("Content-Type", "application/rss+xml"), ("Connection", "close"), *headers]

    def script(connection: socket.socket, server: ScriptedServer) -> None:
        read_request(connection)
        connection.sendall(head(200, headers))
        while not server.stopping.is_set():
            connection.sendall(chunk)

    return script


def fixed(body: bytes, headers: Iterable[tuple[str, str]] = (), status: int = 200) -> Script:
    """One response with exactly these headers and body, no Content-Length added, then close."""
    all_headers = [*headers, ("Connection", "close")]

    def script(connection: socket.socket, server: ScriptedServer) -> None:
        read_request(connection)
        connection.sendall(head(status, all_headers) + body)

    return script


def drip_headers(interval: float = 0.5) -> Script:
    """A status line, then one byte of an endless header every `interval` seconds."""

    def script(connection: socket.socket, server: ScriptedServer) -> None:
        read_request(connection)
        connection.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
        while not server.stopping.wait(interval):
            connection.sendall(b"x")

    return script


def smtp_drip(interval: float = 0.5) -> Script:
    """An SMTP server that greets, then answers EHLO with one `250-x` line every `interval`
    seconds, never the final `250 ` line."""

    def script(connection: socket.socket, server: ScriptedServer) -> None:
        connection.settimeout(5)
        connection.sendall(b"220 drip.example ESMTP\r\n")
        connection.recv(1024)  # EHLO
        while not server.stopping.wait(interval):
            connection.sendall(b"250-x\r\n")

    return script
