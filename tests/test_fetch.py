"""Fetcher against real servers on 127.0.0.1: validators, errors, deadlines, caps, redirects."""

from __future__ import annotations

import asyncio
import gzip
import socket
import threading
import zlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from monitor.errors import FetchError
from monitor.feeds.fetch import (
    DEFAULT_MAX_BYTES,
    USER_AGENT,
    Fetcher,
    FetchResult,
    make_client,
)
from monitor.httpclient import parse_retry_after
from tests.hostile_servers import ScriptedServer, drip, endless, fixed, silent
from tests.servers import FeedServer, free_port

RSS = b"<rss version='2.0'><channel><item><guid>1</guid><title>One</title></item></channel></rss>"
GUARD = 15.0  # seconds; only reached if the fetcher has no deadline of its own


def fetch(
    url: str,
    *,
    timeout: float = 5.0,
    etag: str | None = None,
    last_modified: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_redirects: int = 5,
) -> FetchResult:
    """One fetch through a fresh client, bounded by GUARD whatever the fetcher does."""

    async def run() -> FetchResult:
        async with make_client() as client:
            fetcher = Fetcher(client, max_bytes=max_bytes, max_redirects=max_redirects)
            request = fetcher.fetch(url, etag=etag, last_modified=last_modified, timeout=timeout)
            return await asyncio.wait_for(request, GUARD)

    return asyncio.run(run())


@pytest.fixture
def scripted() -> Iterator[list[ScriptedServer]]:
    """Start scripted servers with `scripted.append(ScriptedServer(...).start())`; all stopped."""
    servers: list[ScriptedServer] = []
    yield servers
    for server in servers:
        server.stop()


class TestConditionalGet:
    def test_it_returns_body_and_validators(self, feed_server: FeedServer) -> None:
        """A first fetch gets the body, the ETag and the content type."""
        url = feed_server.serve("/feed", RSS)
        result = fetch(url)
        assert result.status == 200
        assert result.body == RSS
        assert result.etag is not None
        assert result.content_type == "application/rss+xml; charset=utf-8"
        assert result.url == url

    def test_an_unchanged_feed_answers_304_with_no_body(self, feed_server: FeedServer) -> None:
        """Sending the stored ETag back gets a 304 and an empty body, validators kept."""
        url = feed_server.serve("/feed", RSS)
        first = fetch(url)
        second = fetch(url, etag=first.etag)
        assert (second.status, second.body, second.etag) == (304, b"", first.etag)

    def test_it_sends_if_modified_since(self, feed_server: FeedServer) -> None:
        """A stored Last-Modified goes back as If-Modified-Since and comes back in the result."""
        stamp = "Sat, 21 Nov 2026 10:00:00 GMT"
        url = feed_server.serve("/feed", RSS, etag=False, last_modified=stamp)
        result = fetch(url, last_modified=stamp)
        assert result.last_modified == stamp
        _, headers = feed_server.requests[-1]
        assert headers["If-Modified-Since"] == stamp

    def test_it_identifies_itself(self, feed_server: FeedServer) -> None:
        """Requests carry the project's User-Agent, so publishers can see who polls them."""
        fetch(feed_server.serve("/feed", RSS))
        _, headers = feed_server.requests[-1]
        assert headers["User-Agent"] == USER_AGENT
        assert USER_AGENT.startswith("news-monitor/")


class TestFailures:
    def test_a_server_error_is_a_fetch_error(self, feed_server: FeedServer) -> None:
        """A 500 raises FetchError naming the status, with no retry hint."""
        url = feed_server.serve("/feed", b"oops", status=500)
        with pytest.raises(FetchError, match="HTTP 500") as caught:
            fetch(url)
        assert caught.value.retry_after is None

    def test_429_carries_retry_after_seconds(self, feed_server: FeedServer) -> None:
        """Retry-After in seconds on a 429 reaches the caller as retry_after."""
        url = feed_server.serve("/feed", b"", status=429, headers={"Retry-After": "120"})
        with pytest.raises(FetchError) as caught:
            fetch(url)
        assert caught.value.retry_after == 120.0

    def test_503_carries_retry_after_date(self, feed_server: FeedServer) -> None:
        """Retry-After as an HTTP date on a 503 becomes seconds from now."""
        date = "Fri, 01 Jan 2100 00:00:00 GMT"
        url = feed_server.serve("/feed", b"", status=503, headers={"Retry-After": date})
        with pytest.raises(FetchError) as caught:
            fetch(url)
        assert caught.value.retry_after is not None
        assert caught.value.retry_after > 365 * 86400

    def test_retry_after_forms(self) -> None:
        """Seconds, dates in the past, and garbage are all understood or ignored."""
        now = 1_000_000_000.0
        assert parse_retry_after("30", now) == 30.0
        assert parse_retry_after("Sun, 09 Sep 2001 01:47:00 GMT", now) == 20.0
        assert parse_retry_after("Sat, 01 Jan 2000 00:00:00 GMT", now) == 0.0
        assert parse_retry_after("soon", now) is None
        assert parse_retry_after(None, now) is None

    def test_a_refused_connection_is_a_fetch_error(self) -> None:
        """Nobody listening is a FetchError, not an httpx exception."""
        with pytest.raises(FetchError):
            fetch(f"http://127.0.0.1:{free_port()}/feed")

    def test_only_http_urls_are_fetched(self) -> None:
        """file: and other schemes are refused before any I/O."""
        with pytest.raises(FetchError, match="only http and https"):
            fetch("file:///etc/passwd")


class TestDeadline:
    def test_a_slow_server_times_out(self, feed_server: FeedServer) -> None:
        """A server slower than the feed's timeout fails the fetch at the timeout."""
        url = feed_server.serve("/feed", RSS, delay=3.0)
        with pytest.raises(FetchError, match=r"within 0\.5s"):
            fetch(url, timeout=0.5)

    def test_a_drip_feed_hits_the_total_deadline(self, scripted: list[ScriptedServer]) -> None:
        """One byte a second never trips a per-read timeout; the total deadline still ends it."""
        server = ScriptedServer(drip(interval=0.2)).start()
        scripted.append(server)
        with pytest.raises(FetchError, match="within 1s"):
            fetch(server.url(), timeout=1.0)

    def test_a_server_that_never_answers_times_out(self, scripted: list[ScriptedServer]) -> None:
        """Accepting the connection and saying nothing ends at the deadline."""
        server = ScriptedServer(silent).start()
        scripted.append(server)
        with pytest.raises(FetchError, match="within 1s"):
            fetch(server.url(), timeout=1.0)


class TestSizeCap:
    def test_a_declared_oversized_body_is_refused(self, feed_server: FeedServer) -> None:
        """A Content-Length above the cap fails before the body is read."""
        url = feed_server.serve("/feed", b"x" * 200_000)
        with pytest.raises(FetchError, match="exceeds 100000"):
            fetch(url, max_bytes=100_000)

    def test_an_undeclared_endless_body_is_cut_off(self, scripted: list[ScriptedServer]) -> None:
        """Without Content-Length the cap is enforced on the bytes that arrive."""
        server = ScriptedServer(endless()).start()
        scripted.append(server)
        with pytest.raises(FetchError, match="exceeds 100000"):
            fetch(server.url(), max_bytes=100_000)

    def test_a_gzip_body_is_decompressed(self, feed_server: FeedServer) -> None:
        """Content-Encoding: gzip is undone by the fetcher."""
        url = feed_server.serve("/feed", gzip.compress(RSS), headers={"Content-Encoding": "gzip"})
        assert fetch(url).body == RSS

    def test_raw_deflate_is_decompressed(self, scripted: list[ScriptedServer]) -> None:
        """Servers that send raw deflate instead of zlib-wrapped deflate still work."""
        packer = zlib.compressobj(wbits=-zlib.MAX_WBITS)
        body = packer.compress(RSS) + packer.flush()
        server = ScriptedServer(fixed(body, [("Content-Encoding", "deflate")])).start()
        scripted.append(server)
        assert fetch(server.url()).body == RSS

    def test_an_unknown_encoding_is_refused(self, scripted: list[ScriptedServer]) -> None:
        """A coding the fetcher cannot bound (br, zstd) is an error, not undecoded bytes."""
        server = ScriptedServer(fixed(b"\x00\x01", [("Content-Encoding", "br")])).start()
        scripted.append(server)
        with pytest.raises(FetchError, match="unsupported content-encoding 'br'"):
            fetch(server.url())


class TestRedirects:
    def test_redirects_are_followed_to_the_final_url(self, feed_server: FeedServer) -> None:
        """Two hops are followed and the result names the final URL (the base for links)."""
        feed_server.serve("/a", b"", status=301, headers={"Location": "/b"})
        feed_server.serve("/b", b"", status=302, headers={"Location": "/feed"})
        final = feed_server.serve("/feed", RSS)
        result = fetch(feed_server.url("/a"))
        assert (result.body, result.url) == (RSS, final)

    def test_too_many_redirects_fail(self, feed_server: FeedServer) -> None:
        """A chain longer than max_redirects is a FetchError, and no hop past the limit is made."""
        for hop in range(6):
            feed_server.serve(f"/r{hop}", b"", status=302, headers={"Location": f"/r{hop + 1}"})
        feed_server.serve("/r6", RSS)
        with pytest.raises(FetchError, match="more than 3 redirects"):
            fetch(feed_server.url("/r0"), max_redirects=3)
        assert feed_server.hits("/r4") == 0

    def test_a_redirect_loop_is_detected(self, feed_server: FeedServer) -> None:
        """A -> B -> A fails as a loop at once instead of using up the limit."""
        feed_server.serve("/a", b"", status=307, headers={"Location": "/b"})
        feed_server.serve("/b", b"", status=308, headers={"Location": "/a"})
        with pytest.raises(FetchError, match="redirect loop"):
            fetch(feed_server.url("/a"))
        assert feed_server.hits("/a") == 1

    def test_a_redirect_to_another_scheme_is_refused(self, feed_server: FeedServer) -> None:
        """A Location of file:// (or any non-web scheme) is never followed."""
        feed_server.serve("/a", b"", status=302, headers={"Location": "file:///etc/passwd"})
        with pytest.raises(FetchError, match="only http and https"):
            fetch(feed_server.url("/a"))


class TestValidation:
    def test_bad_settings_are_rejected_with_the_value(self) -> None:
        """Nonsense limits fail where the Fetcher is built, quoting the value."""

        async def build() -> None:
            async with make_client() as client:
                with pytest.raises(ValueError, match="-1"):
                    Fetcher(client, max_bytes=-1)
                with pytest.raises(ValueError, match="-2"):
                    Fetcher(client, max_redirects=-2)
                with pytest.raises(ValueError, match="0"):
                    await Fetcher(client).fetch("http://127.0.0.1/", timeout=0)

        asyncio.run(build())


class _CountingServer(ThreadingHTTPServer):
    """An HTTP/1.1 keep-alive server that counts the TCP connections it accepts."""

    daemon_threads = True
    connections = 0

    def get_request(self) -> tuple[socket.socket, Any]:
        accepted = super().get_request()
        self.connections += 1
        return accepted


@pytest.fixture
def keepalive_server() -> Iterator[_CountingServer]:
    """/feed answers 200 then 304 to its ETag; /moved redirects to /feed; /error is a small 500
    and /big-error a 500 whose 1 MB body nobody wants."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            if self.path == "/moved":
                self._answer(301, b"moved", {"Location": "/feed"})
            elif self.path == "/error":
                self._answer(500, b"oops", {})
            elif self.path == "/big-error":
                self._answer(500, b"x" * 1_000_000, {})
            elif self.headers.get("If-None-Match") == '"v1"':
                self.send_response(304)
                self.send_header("ETag", '"v1"')
                self.end_headers()
            else:
                self._answer(200, RSS, {"ETag": '"v1"'})

        def _answer(self, status: int, body: bytes, headers: dict[str, str]) -> None:
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

    server = _CountingServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def fetch_paths(server: _CountingServer, paths: list[str]) -> list[int | str]:
    """Fetch each path in turn through one client, conditionally once an ETag is known."""
    base = f"http://127.0.0.1:{server.server_address[1]}"

    async def run() -> list[int | str]:
        outcomes: list[int | str] = []
        etag = None
        async with make_client() as client:
            fetcher = Fetcher(client)
            for path in paths:
                try:
                    result = await asyncio.wait_for(
                        fetcher.fetch(base + path, etag=etag, timeout=5.0), GUARD
                    )
                except FetchError as exc:
                    outcomes.append(str(exc).rsplit(": ", 1)[-1])
                    continue
                etag = result.etag or etag
                outcomes.append(result.status)
        return outcomes

    return asyncio.run(run())


class TestConnectionReuse:
    def test_304s_reuse_one_connection(self, keepalive_server: _CountingServer) -> None:
        """A steady poll costs no TCP handshake: 1 full answer and 20 304s over one connection."""
        assert fetch_paths(keepalive_server, ["/feed"] * 21) == [200] + [304] * 20
        assert keepalive_server.connections == 1

    def test_redirects_and_small_errors_keep_the_connection(
        self, keepalive_server: _CountingServer
    ) -> None:
        outcomes = fetch_paths(keepalive_server, ["/moved", "/error", "/feed", "/error"])
        assert outcomes == [200, "HTTP 500", 304, "HTTP 500"]
        assert keepalive_server.connections == 1

    def test_a_large_unwanted_body_is_not_read_but_the_next_fetch_works(
        self, keepalive_server: _CountingServer
    ) -> None:
        """Reading 1 MB nobody wants would cost more than a new connection."""
        outcomes = fetch_paths(keepalive_server, ["/big-error", "/feed", "/feed"])
        assert outcomes == ["HTTP 500", 200, 304]
        assert keepalive_server.connections == 2
