"""httpx requests carried by aiohttp (through httpx-aiohttp): the transport behind the one HTTP
seam (monitor/httpclient.py), and where the SSRF guard (monitor/feeds/netguard.py) checks
addresses.

A steady poll (a 304, or an unchanged 200) spent most of its CPU in httpcore, h11 and anyio;
aiohttp parses in C (bench/polls.py, `--transport` compares the two). The session reads no
environment (no netrc credentials sent to feed hosts; proxies are httpx's business, see
make_client) and keeps no cookies (httpx's client keeps them, as before). Imported only by
commands that fetch.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import socket
from collections.abc import AsyncIterator

import aiohttp
import httpx
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.connector import AddrInfoType, SocketFactoryType
from httpx_aiohttp.transport import AiohttpResponseStream, AiohttpTransport

from monitor.feeds.netguard import AddressPolicy, BlockedAddressError
from monitor.httpclient import CLIENT_LIMITS


class _GuardedResolver(AbstractResolver):
    """Looks a host up and refuses it when any of its addresses is refused: a name that also
    points inside is not trusted."""

    def __init__(self, policy: AddressPolicy) -> None:
        self.policy = policy

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        loop = asyncio.get_running_loop()
        answers = await loop.getaddrinfo(host, port, family=family, type=socket.SOCK_STREAM)
        results: list[ResolveResult] = []
        refused: list[str] = []
        for answer_family, _, proto, _, sockaddr in answers:
            text = str(sockaddr[0])
            if not self.policy(ipaddress.ip_address(text.split("%", 1)[0])):
                refused.append(text)
            results.append(
                ResolveResult(
                    hostname=host,
                    host=text,
                    port=port,
                    family=answer_family,
                    proto=proto,
                    flags=socket.AI_NUMERICHOST,
                )
            )
        if refused:
            raise BlockedAddressError(
                f"refusing to connect to {host} ({', '.join(refused)}): not a public address"
            )
        return results

    async def close(self) -> None:
        pass


def _socket_factory(policy: AddressPolicy) -> SocketFactoryType:
    def open_socket(info: AddrInfoType) -> socket.socket:
        family, kind, proto, _, sockaddr = info
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if not policy(address):
            raise BlockedAddressError(f"refusing to connect to {address}: not a public address")
        return socket.socket(family, kind, proto)

    return open_socket


class _Stream(httpx.AsyncByteStream):
    """A response body whose aiohttp errors arrive as httpx ones."""

    def __init__(self, inner: httpx.AsyncByteStream) -> None:
        self._inner = inner

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._inner:
                yield chunk
        except aiohttp.ClientError as exc:
            raise _httpx_error(exc) from exc

    async def aclose(self) -> None:
        try:
            await self._inner.aclose()
        except aiohttp.ClientError as exc:
            raise _httpx_error(exc) from exc


def _canonical_host(url: httpx.URL) -> httpx.URL:
    """`127.1`, `2130706433` or `0x7f.1` as the dotted quad the socket layer reads them as:
    aiohttp refuses such spellings outright, httpcore (and every browser) connects to them, and
    the guard must see the address, not refuse the spelling."""
    host = url.host
    if not host or ":" in host:
        return url
    try:
        canonical = str(ipaddress.IPv4Address(socket.inet_aton(host)))
    except (OSError, ValueError):
        return url
    return url if canonical == host else url.copy_with(host=canonical)


def _httpx_error(exc: aiohttp.ClientError) -> httpx.TransportError:
    """The httpx error that says what happened (httpx-aiohttp's own map reports a refused
    connection as a connect timeout), with a message that ends in the cause."""
    if isinstance(exc, aiohttp.ClientConnectorError):
        error = exc.os_error
        # asyncio words a refused connect "Connect call failed (address)": say what errno says.
        number = error.errno or 0
        cause = os.strerror(number) if number > 0 else error.strerror or str(error)
        return httpx.ConnectError(f"cannot connect to {exc.host}:{exc.port}: {cause}")
    if isinstance(exc, aiohttp.ServerTimeoutError):
        return httpx.ReadTimeout(str(exc) or "no answer in time")
    if isinstance(exc, aiohttp.ClientPayloadError | aiohttp.ServerDisconnectedError):
        return httpx.ReadError(str(exc) or type(exc).__name__)
    return httpx.RemoteProtocolError(str(exc) or type(exc).__name__)


class _Transport(AiohttpTransport):
    """httpx-aiohttp, sending each header as the caller spelled it (the library passes httpx's
    lower-cased names) and mapping every aiohttp error to an httpx one (the library maps only
    some, lets the rest, such as a response head aiohttp refuses, escape, and calls a refused
    connection a timeout)."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if not isinstance(self.client, aiohttp.ClientSession):
            self.client = self.get_client()
        timeout = request.extensions.get("timeout", {})
        url = _canonical_host(request.url)  # the Host header keeps the URL's own spelling
        if url.userinfo:
            # httpx already sent the URL's credentials as Authorization; aiohttp refuses both.
            url = url.copy_with(userinfo=b"")
        try:
            response = await self.client.request(
                request.method,
                str(url),
                headers=[
                    (k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw
                ],
                data=request.content or None,
                allow_redirects=False,
                auto_decompress=False,
                compress=False,
                timeout=aiohttp.ClientTimeout(
                    sock_connect=timeout.get("connect"),
                    sock_read=timeout.get("read"),
                    connect=timeout.get("pool"),
                ),
            ).__aenter__()
        except aiohttp.ClientError as exc:
            raise _httpx_error(exc) from exc
        return httpx.Response(
            status_code=response.status,
            headers=response.raw_headers,
            stream=_Stream(AiohttpResponseStream(response)),
            request=request,
            extensions={"http_version": b"HTTP/1.1"},
        )


def aiohttp_transport(guard: AddressPolicy | None = None) -> httpx.AsyncBaseTransport:
    """The transport clients use: aiohttp's, with CLIENT_LIMITS. With `guard` (the SSRF guard's
    policy), every host looked up and every address connected to is checked. The session is
    made at the first request, inside the event loop aiohttp needs."""
    resolver = _GuardedResolver(guard) if guard else None
    socket_factory = _socket_factory(guard) if guard else None
    transport = _Transport(limits=CLIENT_LIMITS)

    def session() -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(
            limit=CLIENT_LIMITS.max_connections or 0,
            keepalive_timeout=CLIENT_LIMITS.keepalive_expiry or 0,
            ssl=transport.ssl_context,  # httpx's: certifi, or SSL_CERT_FILE / SSL_CERT_DIR
            resolver=resolver,
            socket_factory=socket_factory,
            # Addresses tried one after another: a refused one stops the attempt at once.
            happy_eyeballs_delay=None if socket_factory else 0.25,
        )
        return aiohttp.ClientSession(
            connector=connector, cookie_jar=aiohttp.DummyCookieJar(), trust_env=False
        )

    transport.client = session
    return transport
