"""Full-article fetching: the SSRF guard, main-text extraction, the cache and per-host politeness."""

from __future__ import annotations

import asyncio
import ipaddress
import itertools
import socket
import threading
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import pytest

from monitor.errors import FetchError
from monitor.feeds.article import ArticleFetcher
from monitor.feeds.extract import article_text
from monitor.feeds.fetch import make_client
from monitor.feeds.netguard import AddressPolicy, BlockedAddressError, IPAddress, is_public_address
from tests.hostile_servers import ScriptedServer, head, read_request
from tests.servers import FeedServer

T = TypeVar("T")
GUARD = 15.0

PAGE = b"""<!doctype html><html><head><title>Site</title><style>body{}</style></head><body>
<nav><a href="/">Home</a> <a href="/world">World</a></nav>
<header>Breaking news site</header>
<article><h1>Carrier group moves</h1><p>The USS Gerald R. Ford entered the Caribbean.</p>
<script>track()</script><p>Two destroyers followed.</p></article>
<aside>Most read: celebrity gossip</aside><footer>Copyright</footer></body></html>"""


def run_with(
    work: Callable[[ArticleFetcher], Awaitable[T]],
    policy: AddressPolicy = is_public_address,
    **options: float,
) -> T:
    """Run `work` with a fresh ArticleFetcher (and shared client), bounded by GUARD."""

    async def main() -> T:
        async with make_client() as client:
            articles = ArticleFetcher(client, policy=policy, **options)  # type: ignore[arg-type]
            try:
                return await asyncio.wait_for(work(articles), GUARD)
            finally:
                await articles.aclose()

    return asyncio.run(main())


def text_of(
    url: str, allow_private: bool = False, policy: AddressPolicy = is_public_address
) -> str:
    return run_with(lambda a: a.fetch_text(url, allow_private=allow_private), policy)


class TestAddressPolicy:
    @pytest.mark.parametrize(
        "address",
        [
            "127.0.0.1",
            "127.255.255.254",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "224.0.0.1",
            "240.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fe80::1",
            "fc00::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "2002:7f00:1::",
            "64:ff9b::a00:1",
        ],
    )
    def test_inside_addresses_are_refused(self, address: str) -> None:
        """Loopback, private, link-local, metadata, multicast, reserved and wrapped forms."""
        assert not is_public_address(ipaddress.ip_address(address))

    @pytest.mark.parametrize("address", ["93.184.215.14", "1.1.1.1", "2606:4700:4700::1111"])
    def test_public_addresses_are_allowed(self, address: str) -> None:
        """Ordinary internet addresses pass."""
        assert is_public_address(ipaddress.ip_address(address))


class TestSsrfGuard:
    @pytest.mark.parametrize(
        "host", ["127.0.0.1", "127.1", "2130706433", "0x7f.1", "[::ffff:127.0.0.1]", "localhost"]
    )
    def test_every_loopback_spelling_is_refused(self, feed_server: FeedServer, host: str) -> None:
        """However loopback is spelled, no request reaches the server."""
        feed_server.serve("/story", PAGE, content_type="text/html")
        url = f"http://{host}:{feed_server.port}/story"
        with pytest.raises(BlockedAddressError):
            text_of(url)
        assert feed_server.hits("/story") == 0

    def test_allow_private_reaches_intranet_pages(self, feed_server: FeedServer) -> None:
        """With allow_private (a feed's intranet opt-in) the same URL is fetched."""
        feed_server.serve("/story", PAGE, content_type="text/html")
        url = f"http://127.1:{feed_server.port}/story"
        assert "Two destroyers followed." in text_of(url, allow_private=True)

    @pytest.mark.parametrize(
        "url", ["file:///etc/passwd", "ftp://example.org/x", "gopher://x/", "javascript:alert(1)"]
    )
    def test_other_schemes_are_refused(self, url: str) -> None:
        """Only http and https are ever fetched."""
        with pytest.raises(FetchError, match="only http and https"):
            text_of(url)

    def test_a_redirect_to_loopback_is_refused(self, feed_server: FeedServer) -> None:
        """An allowed first hop that redirects inside is stopped at the second connection.

        Tests can only serve on loopback, so the policy plays "public internet" for exactly one
        connection (the first hop) and is the real policy for every later one.
        """
        inside = FeedServer().start()
        try:
            inside.serve("/secret", b"<p>internal</p>", content_type="text/html")
            feed_server.serve(
                "/story", b"", status=302, headers={"Location": inside.url("/secret")}
            )
            asked: list[IPAddress] = []

            def first_connection_only(address: IPAddress) -> bool:
                asked.append(address)
                return len(asked) == 1 or is_public_address(address)

            with pytest.raises(BlockedAddressError):
                text_of(feed_server.url("/story"), policy=first_connection_only)
            assert feed_server.hits("/story") == 1
            assert inside.hits("/secret") == 0
            assert asked == [ipaddress.ip_address("127.0.0.1")] * 2
        finally:
            inside.stop()


class TestExtraction:
    def test_the_article_element_is_preferred(self) -> None:
        """Navigation, header, aside, footer and scripts are not part of the text."""
        text = article_text(PAGE)
        assert text.startswith("Carrier group moves")
        assert "Two destroyers followed." in text
        for noise in ("Home", "Breaking news site", "celebrity", "Copyright", "track()"):
            assert noise not in text

    def test_without_markup_the_densest_paragraphs_win(self) -> None:
        """A page without <article>/<main> gives the block holding most paragraph text."""
        page = (
            "<html><body><div id='menu'><p>Login</p></div><div id='story'>"
            "<p>Bombers flew near the coast on Monday.</p><p>Officials confirmed the flight.</p>"
            "</div><div><p>Subscribe</p></div></body></html>"
        )
        text = article_text(page)
        assert text == "Bombers flew near the coast on Monday.\nOfficials confirmed the flight."

    def test_the_declared_charset_is_used(self) -> None:
        """A latin-1 page declared in the HTTP header decodes correctly."""
        page = "<main><p>Caracas, Venezuela: Padrino L\u00f3pez habl\u00f3.</p></main>"
        assert article_text(page.encode("latin-1"), "iso-8859-1") == (
            "Caracas, Venezuela: Padrino L\u00f3pez habl\u00f3."
        )

    def test_a_page_that_is_not_html_gives_no_text(self, feed_server: FeedServer) -> None:
        """A PDF or image link yields "" instead of binary noise."""
        url = feed_server.serve("/doc.pdf", b"%PDF-1.7 ...", content_type="application/pdf")
        assert text_of(url, allow_private=True) == ""


class TestPoliteness:
    def test_pages_are_cached_by_url(self, feed_server: FeedServer) -> None:
        """The same article asked for twice is fetched once."""
        url = feed_server.serve("/story", PAGE, content_type="text/html")

        async def twice(articles: ArticleFetcher) -> tuple[str, str]:
            first = await articles.fetch_text(url, allow_private=True)
            return first, await articles.fetch_text(url, allow_private=True)

        first, second = run_with(twice)
        assert first == second
        assert feed_server.hits("/story") == 1

    def test_the_cache_is_bounded(self, feed_server: FeedServer) -> None:
        """Past cache_size the least recently used page is fetched again."""
        for n in range(3):
            feed_server.serve(f"/s{n}", PAGE, content_type="text/html")

        async def sweep(articles: ArticleFetcher) -> None:
            for path in ("/s0", "/s1", "/s2", "/s0"):
                await articles.fetch_text(feed_server.url(path), allow_private=True)

        run_with(sweep, cache_size=2, min_delay=0)
        assert feed_server.hits("/s0") == 2
        assert feed_server.hits("/s1") == 1

    def test_one_host_gets_limited_concurrency_and_spacing(self) -> None:
        """Four pages from one host with per_host=1 are requested one at a time, spaced apart."""
        lock = threading.Lock()
        arrivals: list[float] = []
        state = {"in_flight": 0, "peak": 0}

        def slow_page(connection: socket.socket, server: ScriptedServer) -> None:
            read_request(connection)
            with lock:
                arrivals.append(time.monotonic())
                state["in_flight"] += 1
                state["peak"] = max(state["peak"], state["in_flight"])
            server.stopping.wait(0.1)
            with lock:
                state["in_flight"] -= 1
            headers = [("Content-Type", "text/html"), ("Content-Length", str(len(PAGE)))]
            connection.sendall(head(200, [*headers, ("Connection", "close")]) + PAGE)

        server = ScriptedServer(slow_page).start()
        try:

            async def burst(articles: ArticleFetcher) -> None:
                urls = [server.url(f"/p{n}") for n in range(4)]
                await asyncio.gather(*(articles.fetch_text(u, allow_private=True) for u in urls))

            run_with(burst, per_host=1, min_delay=0.5)
        finally:
            server.stop()
        assert state["peak"] == 1
        gaps = [later - earlier for earlier, later in itertools.pairwise(arrivals)]
        assert len(gaps) == 3
        # Starts are paced on the client; arrivals at the server carry some connect jitter.
        assert all(gap >= 0.25 for gap in gaps)
        assert arrivals[-1] - arrivals[0] >= 1.2

    def test_bad_settings_are_rejected_with_the_value(self) -> None:
        """Nonsense politeness settings fail at construction, quoting the value."""

        async def build() -> None:
            async with make_client() as client:
                with pytest.raises(ValueError, match="0"):
                    ArticleFetcher(client, per_host=0)
                with pytest.raises(ValueError, match="-1"):
                    ArticleFetcher(client, min_delay=-1)

        asyncio.run(build())
