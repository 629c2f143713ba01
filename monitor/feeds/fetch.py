"""Conditional GET of one URL with a total deadline, a size cap and a redirect limit (I/O).

Every failure becomes a FetchError (with `retry_after` when the server asked for a pause), so the
poll loop has exactly one exception to handle. Bodies are read raw and decompressed here with a
ceiling, because httpx would decompress them without one. The client comes from
monitor/httpclient.py, the one HTTP seam.

An answer whose body is not wanted (304, redirects, errors) is still read to its end when it is
small: the transport closes a connection whose response was closed unread, and a 304 would then
cost every steady poll a new TCP (and TLS) handshake.
"""

from __future__ import annotations

import asyncio
import time
import zlib
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import httpx

from monitor.errors import FetchError
from monitor.feeds.decompress import BoundedDecoder, TooLarge
from monitor.httpclient import CLIENT_LIMITS, USER_AGENT, make_client, parse_retry_after

__all__ = ["CLIENT_LIMITS", "USER_AGENT", "FetchResult", "Fetcher", "make_client"]

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
DRAIN_BYTES = 64 * 1024  # an unwanted body up to this size is read so the connection is reused
DRAIN_SECONDS = 1.0  # ... if it arrives this fast
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
RETRY_AFTER_STATUSES = frozenset({429, 503})
ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/rdf+xml, "
    "application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, */*;q=0.5"
)


@dataclass(frozen=True)
class FetchResult:
    """A successful answer: 2xx with the (decompressed) body, or 304 with an empty body."""

    status: int
    body: bytes
    etag: str | None
    last_modified: str | None
    url: str  # the final URL, after redirects: the base for relative links
    content_type: str | None


class Fetcher:
    """Fetches feed URLs through one shared client; see `fetch`."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        max_bytes: int = DEFAULT_MAX_BYTES,
        max_redirects: int = 5,
    ) -> None:
        if max_bytes < 1:
            raise ValueError(f"max_bytes must be a positive number of bytes, got {max_bytes!r}")
        if max_redirects < 0:
            raise ValueError(f"max_redirects must be 0 or more, got {max_redirects!r}")
        self.client = client
        self.max_bytes = max_bytes
        self.max_redirects = max_redirects

    async def fetch(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        timeout: float,
    ) -> FetchResult:
        """GET `url`, conditionally when validators are given; all of it within `timeout` seconds.

        Raises FetchError on anything but a 2xx or 304 answer that arrived complete and in time.
        """
        if timeout <= 0:
            raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
        # Only what BoundedDecoder can decode with a ceiling.
        headers = {"Accept": ACCEPT, "Accept-Encoding": "gzip, deflate"}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        try:
            async with asyncio.timeout(timeout):
                return await self._follow(url, headers)
        except TimeoutError:
            raise FetchError(f"{url}: no complete answer within {timeout:g}s") from None
        except httpx.HTTPError as exc:
            raise FetchError(f"{url}: {_describe(exc)}") from exc
        except httpx.InvalidURL as exc:
            raise FetchError(f"{url}: invalid URL: {exc}") from exc

    async def _follow(self, url: str, headers: dict[str, str]) -> FetchResult:
        visited = {url}
        current = url
        for _ in range(self.max_redirects + 1):
            _check_scheme(current)
            request = self.client.build_request("GET", current, headers=headers)
            response = await self.client.send(request, stream=True)
            try:
                if response.status_code not in REDIRECT_STATUSES:
                    return await self._result(current, response, headers)
                location = response.headers.get("Location")
                if not location:
                    raise FetchError(f"{current}: HTTP {response.status_code} without Location")
            finally:
                if not response.is_stream_consumed:
                    await _drain(response)
                await response.aclose()
            current = urljoin(current, location.strip())
            if current in visited:
                raise FetchError(f"{url}: redirect loop at {current}")
            visited.add(current)
        raise FetchError(f"{url}: more than {self.max_redirects} redirects")

    async def _result(
        self, url: str, response: httpx.Response, sent: dict[str, str]
    ) -> FetchResult:
        status = response.status_code
        headers = response.headers
        if status == 304:
            # A 304 may omit the validators; the ones we sent are still the current ones.
            etag = headers.get("ETag") or sent.get("If-None-Match")
            modified = headers.get("Last-Modified") or sent.get("If-Modified-Since")
            return FetchResult(304, b"", etag, modified, url, None)
        if not 200 <= status < 300:
            retry_after = None
            if status in RETRY_AFTER_STATUSES:
                retry_after = parse_retry_after(headers.get("Retry-After"), time.time())
            raise FetchError(f"{url}: HTTP {status}", retry_after=retry_after)
        body = await self._read_body(url, response)
        return FetchResult(
            status,
            body,
            headers.get("ETag"),
            headers.get("Last-Modified"),
            url,
            headers.get("Content-Type"),
        )

    async def _read_body(self, url: str, response: httpx.Response) -> bytes:
        declared = response.headers.get("Content-Length", "")
        if declared.strip().isdigit() and int(declared) > self.max_bytes:
            raise FetchError(f"{url}: body of {declared} bytes exceeds {self.max_bytes}")
        encoding = response.headers.get("Content-Encoding", "identity") or "identity"
        try:
            decoder = BoundedDecoder(encoding, self.max_bytes)
        except ValueError as exc:
            raise FetchError(f"{url}: {exc}") from None
        chunks: list[bytes] = []
        received = 0
        try:
            async for raw in response.aiter_raw():
                received += len(raw)
                if received > self.max_bytes:
                    raise FetchError(f"{url}: body exceeds {self.max_bytes} bytes")
                chunks.append(decoder.feed(raw))
            chunks.append(decoder.flush())
        except TooLarge as exc:
            raise FetchError(f"{url}: {exc}") from None
        except zlib.error as exc:
            raise FetchError(f"{url}: corrupt {encoding} body: {exc}") from None
        return b"".join(chunks)


async def _drain(response: httpx.Response) -> None:
    """Read a small unwanted body to its end, so the transport keeps the connection for the next
    request; a larger (or endless) one is left unread and the connection closed instead."""
    declared = response.headers.get("Content-Length", "").strip()
    if declared.isdigit() and int(declared) > DRAIN_BYTES:
        return
    received = 0
    try:
        async with asyncio.timeout(DRAIN_SECONDS):
            async for raw in response.aiter_raw():
                received += len(raw)
                if received > DRAIN_BYTES:
                    return
    except (TimeoutError, httpx.HTTPError):
        return  # a dripping or broken body is not worth its connection


def _check_scheme(url: str) -> None:
    scheme = urlsplit(url).scheme.lower()
    if scheme not in ("http", "https"):
        raise FetchError(f"{url}: only http and https URLs can be fetched, got {scheme!r}")


def _describe(exc: httpx.HTTPError) -> str:
    """httpx messages are sometimes empty (timeouts); name the exception type then."""
    text = str(exc)
    name = type(exc).__name__
    return f"{name}: {text}" if text else name
