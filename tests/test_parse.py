"""parse_feed: every feed flavour to plain-text Items with stable, unique keys (pure, no I/O)."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.errors import FeedParseError
from monitor.feeds.parse import parse_feed
from monitor.models import Item

BASE = "https://news.example.org/world/feed.xml"


def parse(body: bytes | str, content_type: str | None = None) -> list[Item]:
    data = body.encode() if isinstance(body, str) else body
    return parse_feed(data, feed_name="wire", base_url=BASE, content_type=content_type)


def rss(items: str) -> str:
    return (
        f"<?xml version='1.0'?><rss version='2.0'><channel><title>W</title>{items}</channel></rss>"
    )


class TestFlavours:
    def test_rss2(self) -> None:
        """RSS 2.0 items keep guid, title, link, text and a UTC date."""
        [item] = parse(
            rss(
                "<item><guid>g-1</guid><title>Bombers fly</title><link>https://x.org/a</link>"
                "<description>&lt;p&gt;Two &lt;b&gt;B-52&lt;/b&gt; bombers&lt;/p&gt;</description>"
                "<pubDate>Sat, 21 Nov 2026 10:00:00 -0500</pubDate><category>air</category></item>"
            )
        )
        assert item.key == "g-1"
        assert item.title == "Bombers fly"
        assert item.link == "https://x.org/a"
        assert item.summary == "Two B-52 bombers"
        assert item.published == datetime(2026, 11, 21, 15, 0, tzinfo=UTC)
        assert item.categories == ("air",)
        assert item.feed == "wire"

    def test_atom(self) -> None:
        """Atom entries use their id and alternate link, and content as well as summary."""
        body = (
            "<feed xmlns='http://www.w3.org/2005/Atom'><title>A</title>"
            "<entry><id>urn:a:1</id><title type='html'>&lt;em&gt;Navy&lt;/em&gt; moves</title>"
            "<link rel='alternate' href='/story/1'/><updated>2026-11-21T10:00:00Z</updated>"
            "<summary>Short</summary><content type='html'>&lt;p&gt;Long text&lt;/p&gt;</content>"
            "</entry></feed>"
        )
        [item] = parse(body)
        assert (item.key, item.title, item.summary, item.content) == (
            "urn:a:1",
            "Navy moves",
            "Short",
            "Long text",
        )
        assert item.link == "https://news.example.org/story/1"
        assert item.published == datetime(2026, 11, 21, 10, 0, tzinfo=UTC)

    def test_rss1_rdf(self) -> None:
        """RSS 1.0 (RDF) items are read too."""
        body = (
            "<rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#' "
            "xmlns='http://purl.org/rss/1.0/'><channel rdf:about='x'><title>R</title></channel>"
            "<item rdf:about='https://x.org/1'><title>One</title><link>https://x.org/1</link></item>"
            "</rdf:RDF>"
        )
        [item] = parse(body)
        assert (item.key, item.title) == ("https://x.org/1", "One")

    def test_json_feed(self) -> None:
        """JSON Feed 1.1 items, sniffed from the body even without a content type."""
        document = {
            "version": "https://jsonfeed.org/version/1.1",
            "title": "J",
            "items": [
                {
                    "id": "j1",
                    "url": "/j/1",
                    "title": "Strike reported",
                    "content_html": "<p>Ships <script>x()</script>moved</p>",
                    "date_published": "2026-11-21T10:00:00+02:00",
                    "tags": ["sea"],
                },
                {"id": 7, "content_text": "No title here", "date_published": "garbage"},
                "not an item",
            ],
        }
        first, second = parse(json.dumps(document))
        assert (first.key, first.title, first.content, first.link) == (
            "j1",
            "Strike reported",
            "Ships moved",
            "https://news.example.org/j/1",
        )
        assert first.published == datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
        assert first.categories == ("sea",)
        assert (second.key, second.content, second.published) == ("7", "No title here", None)

    def test_gzip_bytes_are_unpacked(self) -> None:
        """A body that is gzip bytes (some servers double-compress) is unpacked first."""
        [item] = parse(gzip.compress(rss("<item><guid>z</guid><title>Z</title></item>").encode()))
        assert item.key == "z"

    def test_an_empty_feed_has_no_items(self) -> None:
        """A valid feed without items is [] and not an error."""
        assert parse(rss("")) == []


class TestKeys:
    def test_link_is_the_key_without_guid(self) -> None:
        """Without a guid the absolute link is the key."""
        [item] = parse(rss("<item><title>T</title><link>/a/1</link></item>"))
        assert item.key == "https://news.example.org/a/1"

    def test_hash_of_title_and_date_without_guid_or_link(self) -> None:
        """With neither guid nor link, the same title and date give the same key every poll."""
        body = rss("<item><title>T</title><pubDate>Sat, 21 Nov 2026 10:00:00 GMT</pubDate></item>")
        [first] = parse(body)
        [again] = parse(body)
        assert first.key.startswith("sha256:")
        assert first.key == again.key

    def test_duplicate_keys_keep_the_first_item(self) -> None:
        """A feed that repeats a guid yields it once, the first occurrence."""
        items = parse(
            rss(
                "<item><guid>d</guid><title>First</title></item>"
                "<item><guid>d</guid><title>Second</title></item>"
                "<item><guid>e</guid><title>Third</title></item>"
            )
        )
        assert [(i.key, i.title) for i in items] == [("d", "First"), ("e", "Third")]

    def test_a_huge_guid_is_hashed(self) -> None:
        """A guid of 100 kB does not become a 100 kB database key."""
        [item] = parse(rss(f"<item><guid>{'g' * 100_000}</guid><title>T</title></item>"))
        assert item.key.startswith("sha256:")
        assert len(item.key) < 100

    @settings(max_examples=50, deadline=None)
    @given(st.lists(st.text(min_size=0, max_size=20), min_size=1, max_size=8))
    def test_keys_are_never_empty_or_repeated(self, titles: list[str]) -> None:
        """Whatever the titles, keys are non-empty and unique within one result."""
        escaped = [t.replace("&", "&amp;").replace("<", "&lt;") for t in titles]
        body = rss("".join(f"<item><title>{t}</title></item>" for t in escaped))
        items = parse(body.encode("utf-8", "surrogatepass"))
        keys = [i.key for i in items]
        assert all(keys)
        assert len(keys) == len(set(keys))


class TestHostileText:
    def test_titles_lose_control_characters_and_newlines(self) -> None:
        """CR/LF and other controls never survive into a title (no email header injection)."""
        [item] = parse(
            rss("<item><guid>1</guid><title>Hi&#13;&#10;Bcc: evil@example.org\u202e</title></item>")
        )
        assert item.title == "Hi Bcc: evil@example.org"

    def test_script_links_are_dropped(self) -> None:
        """javascript: and data: links become "" so no alert can carry them."""
        items = parse(
            rss(
                "<item><guid>1</guid><title>A</title><link>javascript:alert(1)</link></item>"
                "<item><guid>2</guid><title>B</title><link>data:text/html,x</link></item>"
                "<item><guid>3</guid><title>C</title><link> JaVaScRiPt:alert(1)</link></item>"
            )
        )
        assert [i.link for i in items] == ["", "", ""]

    def test_html_in_text_becomes_plain_text(self) -> None:
        """Scripts and styles vanish; paragraphs stay apart so words do not run together."""
        [item] = parse(
            rss(
                "<item><guid>1</guid><title>T</title><description><![CDATA["
                "<style>p{}</style><p>Carrier</p><p>group <a href='x'>moves</a></p>"
                "<script>alert(1)</script>]]></description></item>"
            )
        )
        assert item.summary == "Carrier\ngroup moves"

    def test_a_path_as_body_is_not_opened(self, tmp_path: Path) -> None:
        """Bytes that name a file are parsed as bytes: feedparser never opens the file."""
        feed = tmp_path / "secret.xml"
        feed.write_text(rss("<item><guid>secret</guid><title>S</title></item>"))
        with pytest.raises(FeedParseError):
            parse(str(feed))


class TestNotAFeed:
    @pytest.mark.parametrize(
        "body",
        [
            b"<!DOCTYPE html><html><head><title>Hi</title></head><body><p>Page</p></body></html>",
            b"\x00\x01\x02garbage\xff",
            b"",
            b"{not json",
            b'{"version": "https://jsonfeed.org/version/1.1"}',
            b"[1, 2, 3]",
            b"\x1f\x8b\x08\x00garbage",
        ],
    )
    def test_it_raises_feed_parse_error(self, body: bytes) -> None:
        """HTML pages, garbage, broken JSON and broken gzip raise FeedParseError."""
        with pytest.raises(FeedParseError):
            parse(body)

    def test_json_content_type_with_xml_body_is_read_as_xml(self) -> None:
        """A wrong Content-Type does not stop an RSS body from parsing."""
        [item] = parse(rss("<item><guid>1</guid></item>"), content_type="application/json")
        assert item.key == "1"
