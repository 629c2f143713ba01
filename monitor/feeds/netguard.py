"""The SSRF guard: article URLs come from feed authors, so they may only reach public addresses.

The check sits where the socket is opened, not where the URL is read (monitor/aiotransport.py):
every address a connection is about to open to is checked (aiohttp's socket factory), and a host
name is refused when any address it resolves to is refused (aiohttp's resolver). So spellings such as 127.1, 2130706433,
0x7f.1, [::ffff:127.0.0.1] or a DNS name that points inside (including one that changes its
answer between check and use) all meet the same test, and every redirect hop opens its
connection through it too. The guarded transport never uses a proxy from the environment: a
proxy would connect on our behalf to addresses this guard never sees.

`policy` is injectable: tests can only run servers on loopback, so they pass a policy that lets
the first connection through and refuses the rest, to show that a redirect to loopback is caught.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

import httpx

from monitor.errors import FetchError

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


def guarded_transport(policy: AddressPolicy = is_public_address) -> httpx.AsyncBaseTransport:
    """A transport whose every connection opens only to addresses `policy` allows."""
    from monitor.aiotransport import aiohttp_transport  # only commands that fetch load aiohttp

    return aiohttp_transport(guard=policy)
