"""The one HTTP seam: every outgoing request (feeds, articles, webhooks, `news-monitor test`) goes
through a client made here, and every Retry-After header is read by `parse_retry_after`.

Clients never follow redirects themselves (the Fetcher follows them hop by hop, each hop through
the same guard; webhooks refuse them) and never decompress (the Fetcher decodes with a ceiling).
With `policy`, every connection, redirect hops included, opens only to addresses the policy
allows (the SSRF guard, monitor/feeds/netguard.py). Total deadlines and size caps belong to the
callers, which know them: `Fetcher.fetch` and the webhook's `_post`.

Requests are carried by aiohttp (monitor/aiotransport.py) rather than httpcore. Only when the
environment names a proxy (HTTP_PROXY, HTTPS_PROXY, ALL_PROXY) does a client keep httpx's own
transport, which honours it.
"""

from __future__ import annotations

import email.utils
import urllib.request
from collections.abc import Mapping
from datetime import UTC

import httpx

from monitor import __version__

USER_AGENT = f"news-monitor/{__version__} (+https://github.com/news-monitor/news-monitor)"
CLIENT_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=50)
# Per phase; callers add the total deadline that also covers a slow drip.
PHASE_TIMEOUT = httpx.Timeout(30.0, connect=10.0)


def _environment_proxy() -> bool:
    return any(scheme in ("http", "https", "all") for scheme in urllib.request.getproxies())


def make_client(
    *,
    user_agent: str = USER_AGENT,
    headers: Mapping[str, str] | None = None,
    timeout: httpx.Timeout | float = PHASE_TIMEOUT,
    transport: httpx.AsyncBaseTransport | None = None,
) -> httpx.AsyncClient:
    """An async client with the project's defaults; `transport` replaces the default one (the
    SSRF guard's, `netguard.guarded_transport`)."""
    if transport is None and not _environment_proxy():
        from monitor.aiotransport import aiohttp_transport  # only commands that fetch load aiohttp

        transport = aiohttp_transport()
    return httpx.AsyncClient(
        headers={"User-Agent": user_agent, **(headers or {})},
        follow_redirects=False,
        timeout=timeout,
        limits=CLIENT_LIMITS,
        transport=transport,
    )


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds a Retry-After header asks for (delta-seconds or an HTTP date); None if unusable.

    A date without a zone is read as GMT, which is what HTTP dates are.
    """
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - now)
