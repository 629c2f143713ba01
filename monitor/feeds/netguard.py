"""The SSRF guard: article URLs come from feed authors, so they may only reach public addresses.

The check sits where the socket is opened, not where the URL is read: the host is resolved once,
every address it resolves to is checked, and the connection goes to that checked address. So
spellings such as 127.1, 2130706433, 0x7f.1, [::ffff:127.0.0.1] or a DNS name that points inside
(including one that changes its answer between check and use) all meet the same test, and every
redirect hop opens its connection through it too.

httpx 0.28 has no public way to supply an httpcore network backend, so `guarded_transport`
replaces the connection pool of an httpx.AsyncHTTPTransport (httpx is pinned below 0.29; the
tests in tests/test_article.py fail loudly if this stops taking effect). A custom transport also
means httpx ignores HTTP(S)_PROXY from the environment for these requests, which is intended:
a proxy would connect on our behalf to addresses this guard never sees.

`policy` is injectable: tests can only run servers on loopback, so they pass a policy that lets
the first connection through and refuses the rest, to show that a redirect to loopback is caught.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable

import anyio
import httpcore
import httpx

from monitor.errors import FetchError
from monitor.httpclient import CLIENT_LIMITS

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
AddressPolicy = Callable[[IPAddress], bool]

_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


class BlockedAddressError(FetchError):
    """A URL led to an address the policy refuses (loopback, private, link-local, ...)."""


def is_public_address(address: IPAddress) -> bool:
    """True only for globally routable unicast addresses.

    Refused: loopback, private (RFC 1918, ULA), link-local (incl. 169.254.169.254, the cloud
    metadata service), shared/CGNAT, multicast, reserved, unspecified, documentation ranges,
    and IPv6 forms that carry such an IPv4 address (mapped, 6to4, Teredo, NAT64).
    """
    embedded = _embedded_ipv4(address)
    if embedded is not None:
        return is_public_address(embedded)
    return address.is_global and not (
        address.is_multicast
        or address.is_reserved
        or address.is_loopback
        or address.is_link_local
        or address.is_unspecified
        or address.is_private
    )


def _embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    if isinstance(address, ipaddress.IPv4Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


async def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address `host` resolves to (an IP literal in any spelling resolves to itself)."""
    try:
        answers = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise httpcore.ConnectError(f"cannot resolve {host!r}: {exc}") from exc
    addresses: list[IPAddress] = []
    for *_, sockaddr in answers:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    return addresses


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """An httpcore network backend that connects only to addresses `policy` allows."""

    def __init__(self, policy: AddressPolicy) -> None:
        self.policy = policy
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await resolve(host, port)
        refused = [str(a) for a in addresses if not self.policy(a)]
        if refused:
            # One bad answer refuses the host: a name that also points inside is not trusted.
            raise BlockedAddressError(
                f"refusing to connect to {host} ({', '.join(refused)}): not a public address"
            )
        error: httpcore.ConnectError | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    str(address), port, timeout, local_address, socket_options
                )
            except httpcore.ConnectError as exc:
                error = exc
        raise error or httpcore.ConnectError(f"{host} resolved to no address")

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise BlockedAddressError(f"refusing to connect to unix socket {path!r}")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def guarded_transport(policy: AddressPolicy = is_public_address) -> httpx.AsyncHTTPTransport:
    """An httpx transport whose every connection goes through GuardedBackend(policy)."""
    transport = httpx.AsyncHTTPTransport(limits=CLIENT_LIMITS)
    transport._pool = httpcore.AsyncConnectionPool(
        ssl_context=httpx.create_ssl_context(),
        max_connections=CLIENT_LIMITS.max_connections,
        max_keepalive_connections=CLIENT_LIMITS.max_keepalive_connections,
        keepalive_expiry=CLIENT_LIMITS.keepalive_expiry,
        network_backend=GuardedBackend(policy),
    )
    return transport
