"""Full-article fetching: an item's link -> the article's main text, politely and through the guard.

Article URLs are chosen by feed authors, so by default every connection (redirect hops included)
goes through the SSRF guard in netguard.py; `allow_private=True` (a feed's `allow_private: true`,
for intranet sources) uses the shared feed client instead. Texts are cached by URL in a bounded
LRU, and each host gets at most `per_host` concurrent requests started at least `min_delay`
seconds apart.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from email.message import Message
from urllib.parse import urlsplit

import httpx

from monitor.feeds.fetch import Fetcher, FetchResult
from monitor.feeds.netguard import AddressPolicy, guarded_transport, is_public_address
from monitor.httpclient import USER_AGENT, make_client

HTML_TYPES = ("text/html", "application/xhtml+xml")
MAX_IDLE_HOSTS = 1024  # past this many hosts, the state of idle ones is dropped


@dataclass
class _HostGate:
    slots: asyncio.Semaphore
    pacing: asyncio.Lock = field(default_factory=asyncio.Lock)
    next_start: float = 0.0
    users: int = 0


class ArticleFetcher:
    """Fetches article pages and returns their main text; see `fetch_text`."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        policy: AddressPolicy = is_public_address,
        timeout: float = 20.0,
        max_bytes: int = 5 * 1024 * 1024,
        per_host: int = 2,
        min_delay: float = 1.0,
        cache_size: int = 512,
    ) -> None:
        if timeout <= 0:
            raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
        if per_host < 1:
            raise ValueError(f"per_host must be at least 1, got {per_host!r}")
        if min_delay < 0:
            raise ValueError(f"min_delay must be 0 or more seconds, got {min_delay!r}")
        if cache_size < 0:
            raise ValueError(f"cache_size must be 0 or more, got {cache_size!r}")
        self.timeout = timeout
        self.per_host = per_host
        self.min_delay = min_delay
        self.cache_size = cache_size
        self._private = Fetcher(client, max_bytes=max_bytes)
        self._guarded_client = make_client(
            user_agent=client.headers.get("User-Agent", USER_AGENT),
            transport=guarded_transport(policy),
        )
        self._public = Fetcher(self._guarded_client, max_bytes=max_bytes)
        self._cache: OrderedDict[str, str] = OrderedDict()
        self._gates: dict[str, _HostGate] = {}

    async def fetch_text(self, url: str, allow_private: bool = False) -> str:
        """The main text of the page at `url` ("" for a page that is not HTML).

        Raises FetchError for anything that stops the fetch, including BlockedAddressError when
        the URL (or a redirect) leads to a non-public address and `allow_private` is False.
        """
        cached = self._cached(url)
        if cached is not None:
            return cached
        host = (urlsplit(url).hostname or "").lower()
        gate = self._gate(host)
        gate.users += 1
        try:
            async with gate.slots:
                await self._pace(gate)
                cached = self._cached(url)  # another task may have fetched it while we waited
                if cached is not None:
                    return cached
                fetcher = self._private if allow_private else self._public
                result = await fetcher.fetch(url, timeout=self.timeout)
        finally:
            gate.users -= 1
        text = _page_text(result)
        self._remember(url, text)
        return text

    async def aclose(self) -> None:
        """Close the guarded client (the shared one belongs to its owner)."""
        await self._guarded_client.aclose()

    async def _pace(self, gate: _HostGate) -> None:
        async with gate.pacing:
            wait = gate.next_start - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            gate.next_start = time.monotonic() + self.min_delay

    def _gate(self, host: str) -> _HostGate:
        gate = self._gates.get(host)
        if gate is None:
            if len(self._gates) >= MAX_IDLE_HOSTS:
                self._gates = {h: g for h, g in self._gates.items() if g.users > 0}
            gate = _HostGate(asyncio.Semaphore(self.per_host))
            self._gates[host] = gate
        return gate

    def _cached(self, url: str) -> str | None:
        text = self._cache.get(url)
        if text is not None:
            self._cache.move_to_end(url)
        return text

    def _remember(self, url: str, text: str) -> None:
        if self.cache_size == 0:
            return
        self._cache[url] = text
        self._cache.move_to_end(url)
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)


def _page_text(result: FetchResult) -> str:
    header = Message()
    header["content-type"] = result.content_type or "text/html"
    if header.get_content_type() not in HTML_TYPES:
        return ""
    charset = header.get_param("charset")
    from monitor.feeds.extract import article_text  # BeautifulSoup: only full-text feeds need it

    return article_text(result.body, charset if isinstance(charset, str) else None)
