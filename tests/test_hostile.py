"""Hostile feeds against real local servers: each bounded in time and in memory (< 64 MB extra).

Every case runs fetch + parse the way a poll does. Parsing runs in a worker thread under the
case's deadline, so a parser that hangs fails the test instead of hanging the suite.
"""

from __future__ import annotations

import asyncio
import json
import tracemalloc
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from monitor.errors import FeedParseError, FetchError
from monitor.feeds.fetch import Fetcher, make_client
from monitor.feeds.parse import parse_feed
from monitor.models import Item
from tests.hostile_servers import ScriptedServer, drip, endless, silent
from tests.servers import FeedServer

MEMORY_LIMIT = 64 * 1024 * 1024
DEADLINE = 10.0  # per case: fetch (its own timeout is shorter) plus parse
FETCH_TIMEOUT = 2.0
HEALTHY = (
    b"<rss version='2.0'><channel><title>ok</title><item><guid>h1</guid>"
    b"<title>US bombers fly near Venezuela</title></item></channel></rss>"
)


def rss_with_prolog(prolog: str, title: str) -> bytes:
    return (
        f"<?xml version='1.0'?>\n{prolog}\n<rss version='2.0'><channel><title>t</title>"
        f"<item><guid>1</guid><title>{title}</title></item></channel></rss>"
    ).encode()


@dataclass
class Outcome:
    items: list[Item] | None
    error: Exception | None
    peak: int  # bytes allocated beyond what was in use when the case started

    @property
    def text(self) -> str:
        return " ".join(f"{i.title} {i.summary} {i.content}" for i in self.items or ())


async def ingest(url: str, *, timeout: float = FETCH_TIMEOUT) -> list[Item]:
    async with make_client() as client:
        result = await Fetcher(client).fetch(url, timeout=timeout)
    return await asyncio.to_thread(
        parse_feed,
        result.body,
        feed_name="hostile",
        base_url=result.url,
        content_type=result.content_type,
    )


def run_case(url: str) -> Outcome:
    """fetch + parse `url` under DEADLINE, measuring peak Python memory with tracemalloc."""
    tracemalloc.start()
    try:
        try:
            items = asyncio.run(asyncio.wait_for(ingest(url), DEADLINE))
            error: Exception | None = None
        except (FetchError, FeedParseError) as exc:
            items, error = None, exc
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return Outcome(items, error, peak)


@pytest.fixture
def scripted() -> Iterator[list[ScriptedServer]]:
    servers: list[ScriptedServer] = []
    yield servers
    for server in servers:
        server.stop()


def start(servers: list[ScriptedServer], server: ScriptedServer) -> ScriptedServer:
    servers.append(server.start())
    return server


@pytest.fixture(scope="module")
def deflate_bomb() -> bytes:
    """128 MiB of zeros as a zlib stream of about 128 kB."""
    packer = zlib.compressobj(9)
    zeros = bytes(1 << 20)
    return b"".join(packer.compress(zeros) for _ in range(128)) + packer.flush()


@pytest.fixture(scope="module")
def gzip_bomb() -> bytes:
    """1 GiB of zeros as 16 gzip members of 64 MiB each (about 1 MB on the wire)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = bytes(1 << 20)
    member = b"".join(packer.compress(zeros) for _ in range(64)) + packer.flush()
    return member * 16


class TestEntityExpansion:
    def test_billion_laughs(self, feed_server: FeedServer) -> None:
        """Nested entities are never expanded: the item parses, with no "lol" avalanche."""
        entities = ['<!ENTITY lol "lol">'] + [
            f'<!ENTITY lol{n} "{("&lol" + (str(n - 1) if n > 1 else "") + ";") * 10}">'
            for n in range(1, 10)
        ]
        body = rss_with_prolog(f"<!DOCTYPE lolz [\n{chr(10).join(entities)}\n]>", "&lol9;")
        outcome = run_case(feed_server.serve("/feed", body))
        assert outcome.peak < MEMORY_LIMIT
        assert "lollol" not in outcome.text

    def test_quadratic_blowup(self, feed_server: FeedServer) -> None:
        """One 100 kB entity referenced 50,000 times (5 GB expanded) stays small."""
        big = "x" * 100_000
        body = rss_with_prolog(f'<!DOCTYPE rss [\n<!ENTITY a "{big}">\n]>', "&a;" * 50_000)
        outcome = run_case(feed_server.serve("/feed", body))
        assert outcome.peak < MEMORY_LIMIT
        assert big not in outcome.text

    def test_declarations_hidden_in_a_comment(self, feed_server: FeedServer) -> None:
        """Entity lines inside a prolog comment (which feedparser's regex still reads) are inert."""
        big = "y" * 100_000
        prolog = f'<!--\n<!DOCTYPE rss [\n<!ENTITY a "{big}">\n]>\n-->'
        outcome = run_case(feed_server.serve("/feed", rss_with_prolog(prolog, "&a;" * 50_000)))
        assert outcome.peak < MEMORY_LIMIT
        assert big not in outcome.text

    def test_external_entity_reads_no_file(self, feed_server: FeedServer, tmp_path: Path) -> None:
        """XXE: an entity naming a local file never brings the file's content in."""
        secret = tmp_path / "secret.txt"
        secret.write_text("TOP-SECRET-MARKER")
        prolog = f'<!DOCTYPE rss [\n<!ENTITY xxe SYSTEM "file://{secret}">\n]>'
        outcome = run_case(feed_server.serve("/feed", rss_with_prolog(prolog, "&xxe;")))
        assert "TOP-SECRET-MARKER" not in outcome.text

    def test_external_dtd_is_never_fetched(self, feed_server: FeedServer) -> None:
        """An external DTD or parameter entity URL is never requested."""
        feed_server.serve("/evil.dtd", b'<!ENTITY leak "leaked">', content_type="text/plain")
        feed_server.serve("/pe.dtd", b'<!ENTITY leak2 "leaked">', content_type="text/plain")
        prolog = (
            f'<!DOCTYPE rss SYSTEM "{feed_server.url("/evil.dtd")}" [\n'
            f'<!ENTITY % remote SYSTEM "{feed_server.url("/pe.dtd")}">\n%remote;\n]>'
        )
        outcome = run_case(feed_server.serve("/feed", rss_with_prolog(prolog, "&leak;")))
        assert feed_server.hits("/evil.dtd") == 0
        assert feed_server.hits("/pe.dtd") == 0
        assert "leaked" not in outcome.text


class TestParserBacktracking:
    """Prologs that make feedparser's own regular expressions backtrack for minutes."""

    @pytest.mark.parametrize(
        "prolog",
        [
            "<?xml " + "encoding='x' " * 200_000,  # its encoding sniffer on the first line
            "\n" * 2_000_000,  # its ^\s*<!ENTITY scan over blank lines
            "<!ENTITY\n" * 200_000,  # and over declarations that never close
        ],
        ids=["encoding-sniffer", "blank-lines", "unclosed-entities"],
    )
    def test_hostile_prologs_parse_within_the_deadline(
        self, feed_server: FeedServer, prolog: str
    ) -> None:
        """Each still yields its item, inside the deadline and the memory limit."""
        body = (prolog + "\n<rss version='2.0'><channel><item><guid>g</guid>").encode()
        body += b"<title>T</title></item></channel></rss>"
        outcome = run_case(feed_server.serve("/feed", body))
        assert outcome.peak < MEMORY_LIMIT
        assert [item.key for item in outcome.items or ()] == ["g"]


class TestOversized:
    def test_declared_oversize_is_refused_unread(self, feed_server: FeedServer) -> None:
        """An 11 MiB body with Content-Length fails before it is read."""
        outcome = run_case(feed_server.serve("/feed", b"<" * (11 * 1024 * 1024)))
        assert isinstance(outcome.error, FetchError)
        assert outcome.peak < MEMORY_LIMIT

    def test_undeclared_endless_body_is_cut_at_the_cap(
        self, scripted: list[ScriptedServer]
    ) -> None:
        """A body without Content-Length that never ends stops at the 10 MiB cap."""
        server = start(scripted, ScriptedServer(endless()))
        outcome = run_case(server.url())
        assert isinstance(outcome.error, FetchError)
        assert "exceeds" in str(outcome.error)
        assert outcome.peak < MEMORY_LIMIT

    def test_gzip_bomb(self, feed_server: FeedServer, gzip_bomb: bytes) -> None:
        """Content-Encoding: gzip of 1 GiB stops at the cap, far below the memory limit."""
        url = feed_server.serve("/feed", gzip_bomb, headers={"Content-Encoding": "gzip"})
        outcome = run_case(url)
        assert isinstance(outcome.error, FetchError)
        assert outcome.peak < MEMORY_LIMIT

    def test_deflate_bomb(self, feed_server: FeedServer, deflate_bomb: bytes) -> None:
        """Content-Encoding: deflate of 128 MiB stops at the cap."""
        url = feed_server.serve("/feed", deflate_bomb, headers={"Content-Encoding": "deflate"})
        outcome = run_case(url)
        assert isinstance(outcome.error, FetchError)
        assert outcome.peak < MEMORY_LIMIT

    def test_gzip_bomb_as_plain_body(self, feed_server: FeedServer, gzip_bomb: bytes) -> None:
        """Gzip bytes sent without Content-Encoding are unpacked by the parser, with a bound."""
        outcome = run_case(feed_server.serve("/feed", gzip_bomb[: 1024 * 1024]))
        assert isinstance(outcome.error, FeedParseError)
        assert outcome.peak < MEMORY_LIMIT


class TestSlowAndSilent:
    def test_one_byte_per_second(self, scripted: list[ScriptedServer]) -> None:
        """A drip of one byte a second fails at the fetch timeout."""
        server = start(scripted, ScriptedServer(drip(interval=1.0)))
        outcome = run_case(server.url())
        assert isinstance(outcome.error, FetchError)

    def test_a_server_that_never_answers(self, scripted: list[ScriptedServer]) -> None:
        """An accepted connection with no answer fails at the fetch timeout."""
        server = start(scripted, ScriptedServer(silent))
        outcome = run_case(server.url())
        assert isinstance(outcome.error, FetchError)

    def test_a_redirect_loop(self, feed_server: FeedServer) -> None:
        """A redirect loop fails without following it forever."""
        feed_server.serve("/a", b"", status=302, headers={"Location": "/b"})
        feed_server.serve("/b", b"", status=302, headers={"Location": "/a"})
        outcome = run_case(feed_server.url("/a"))
        assert isinstance(outcome.error, FetchError)


class TestNotWhatItSays:
    def test_an_html_page(self, feed_server: FeedServer) -> None:
        """A web page where the feed used to be is a FeedParseError, not an empty feed."""
        page = b"<!DOCTYPE html><html><head><title>Moved</title></head><body>Hi</body></html>"
        outcome = run_case(feed_server.serve("/feed", page, content_type="text/html"))
        assert isinstance(outcome.error, FeedParseError)

    @pytest.mark.parametrize("content_type", ["text/html", "text/plain", "application/json"])
    def test_rss_with_a_wrong_content_type(
        self, feed_server: FeedServer, content_type: str
    ) -> None:
        """RSS labelled as something else still parses."""
        outcome = run_case(feed_server.serve("/feed", HEALTHY, content_type=content_type))
        assert [i.key for i in outcome.items or ()] == ["h1"]

    def test_json_feed_labelled_as_xml(self, feed_server: FeedServer) -> None:
        """A JSON Feed served as application/xml is still read as JSON."""
        body = json.dumps({"version": "https://jsonfeed.org/version/1", "items": [{"id": "j"}]})
        outcome = run_case(feed_server.serve("/feed", body, content_type="application/xml"))
        assert [i.key for i in outcome.items or ()] == ["j"]

    @pytest.mark.parametrize(
        ("body", "content_type"),
        [
            # latin-1 without any declaration or charset
            (
                "<rss version='2.0'><channel><item><guid>1</guid><title>Caf\u00e9 Caracas</title>",
                None,
            ),
            # latin-1 declared in the HTTP header only
            (
                "<rss version='2.0'><channel><item><guid>1</guid><title>Caf\u00e9 Caracas</title>",
                "text/xml; charset=iso-8859-1",
            ),
            # windows-1252 bytes under an XML declaration that says utf-8
            (
                "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><item>"
                "<guid>1</guid><title>Caf\u00e9 Caracas</title>",
                "application/rss+xml",
            ),
            # a charset nobody knows
            (
                "<rss version='2.0'><channel><item><guid>1</guid><title>Caf\u00e9 Caracas</title>",
                "application/rss+xml; charset=x-klingon",
            ),
        ],
        ids=["no-charset", "http-charset", "wrong-declaration", "unknown-charset"],
    )
    def test_wrong_or_missing_charset(
        self, feed_server: FeedServer, body: str, content_type: str | None
    ) -> None:
        """Mislabelled latin-1 text still decodes to the right characters."""
        data = (body + "</item></channel></rss>").encode("latin-1")
        outcome = run_case(feed_server.serve("/feed", data, content_type=content_type or ""))
        assert [i.title for i in outcome.items or ()] == ["Caf\u00e9 Caracas"]

    def test_encoded_words_stay_literal(self, feed_server: FeedServer) -> None:
        """An RFC 2047 encoded word with CR/LF inside stays inert text in the title."""
        title = "=?utf-8?q?Hi=0D=0ABcc:_victim@example.org?="
        outcome = run_case(feed_server.serve("/feed", rss_with_prolog("", title)))
        [item] = outcome.items or [None]
        assert item is not None
        assert item.title == title
        assert "\r" not in item.title and "\n" not in item.title


def test_a_healthy_feed_is_not_held_up_by_hostile_ones(
    feed_server: FeedServer, scripted: list[ScriptedServer], gzip_bomb: bytes
) -> None:
    """Polled alongside a drip, a silent server, an endless body and a bomb, it still succeeds,
    and it is done before the slow ones have used up their timeouts."""
    dripping = start(scripted, ScriptedServer(drip(interval=0.5))).url()
    mute = start(scripted, ScriptedServer(silent)).url()
    hostile = [
        dripping,
        mute,
        start(scripted, ScriptedServer(endless())).url(),
        feed_server.serve("/bomb", gzip_bomb, headers={"Content-Encoding": "gzip"}),
    ]
    healthy = feed_server.serve("/healthy", HEALTHY)
    finished: list[str] = []
    results: dict[str, list[Item] | Exception] = {}

    async def poll(url: str) -> None:
        try:
            results[url] = await ingest(url)
        except (FetchError, FeedParseError) as exc:
            results[url] = exc
        finished.append(url)

    async def together() -> None:
        await asyncio.wait_for(asyncio.gather(*(poll(u) for u in [*hostile, healthy])), DEADLINE)

    asyncio.run(together())
    healthy_items = results[healthy]
    assert isinstance(healthy_items, list)
    assert [item.key for item in healthy_items] == ["h1"]
    assert all(isinstance(results[url], FetchError) for url in hostile)
    assert finished.index(healthy) < min(finished.index(dripping), finished.index(mute))
