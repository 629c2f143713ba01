"""A response body -> Items: RSS 0.9x/1.0/2.0 and Atom via feedparser, JSON Feed 1.x itself (pure).

Every item comes out as plain text with a stable, non-empty key that is unique within the result,
an http(s) link or "", and a timezone-aware UTC date or None.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any
from urllib.parse import urlsplit

import feedparser

from monitor.errors import FeedParseError
from monitor.feeds import xmlsafe
from monitor.feeds.decompress import GZIP_MAGIC, TooLarge, gunzip
from monitor.feeds.text import clean_text, html_to_text, safe_link, single_line
from monitor.models import Item

MAX_BODY_BYTES = 16 * 1024 * 1024  # after gunzip; the fetcher caps what arrives at 10 MiB
MAX_KEY_CHARS = 512  # longer ids (hostile or not) are stored as their hash
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_JSON_TYPES = ("application/feed+json", "application/json", "text/json")


@dataclass(frozen=True)
class Entry:
    """One entry of a parsed feed: its key now, its plain text (the costly part) on demand.

    Polling asks the store which keys are new before calling `item()`, so the HTML of entries
    already seen is never turned into text again. `item` is a partial of a module function over
    plain data, so an Entry pickles: a worker process can turn it into text (monitor/crunch.py).
    """

    key: str
    item: Callable[[], Item]


def parse_feed(
    body: bytes, *, feed_name: str, base_url: str, content_type: str | None = None
) -> list[Item]:
    """The items of a feed body, in feed order, without duplicate keys (the first one wins).

    Raises FeedParseError when `body` is not a feed at all (an HTML page, garbage, a broken
    JSON document); an empty feed gives [].
    """
    entries = read_entries(body, feed_name=feed_name, base_url=base_url, content_type=content_type)
    return [entry.item() for entry in entries]


def read_entries(
    body: bytes, *, feed_name: str, base_url: str, content_type: str | None = None
) -> list[Entry]:
    """The entries of a feed body with their keys, like `parse_feed` but text extracted lazily."""
    if body.startswith(GZIP_MAGIC):
        try:
            body = gunzip(body, MAX_BODY_BYTES)
        except (TooLarge, zlib.error) as exc:
            raise FeedParseError(f"gzip body could not be unpacked: {exc}") from exc
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    start = body.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if start == b"{" or (media_type in _JSON_TYPES and start != b"<"):
        entries = _json_feed_items(body, feed_name, base_url)
    else:
        entries = _xml_feed_items(body, feed_name, base_url, content_type)
    return list(_unique(entries))


def _unique(entries: Iterable[Entry]) -> Iterator[Entry]:
    seen: set[str] = set()
    for entry in entries:
        if entry.key not in seen:
            seen.add(entry.key)
            yield entry


def _xml_feed_items(
    body: bytes, feed_name: str, base_url: str, content_type: str | None
) -> list[Entry]:
    body = xmlsafe.safe_xml(body, content_type)
    # No content-location: feedparser would then resolve guids against it too, and a key must
    # not change when the feed's URL does. Links are made absolute by safe_link instead.
    headers = {"content-type": xmlsafe.UTF8_XML}
    # Always a stream: given bytes or str, feedparser may treat them as a path or URL and read it.
    # Neither sanitising nor URI rewriting inside HTML matters: only its text is kept.
    result = feedparser.parse(
        io.BytesIO(body),
        response_headers=headers,
        sanitize_html=False,
        resolve_relative_uris=False,
    )
    if not result.get("version") and not result.entries:
        reason = result.get("bozo_exception") or "no RSS, Atom or RDF root element"
        raise FeedParseError(f"not a feed: {reason}")
    return [_from_feedparser(entry, feed_name, base_url) for entry in result.entries]


def _from_feedparser(entry: dict[str, Any], feed_name: str, base_url: str) -> Entry:
    # dict.get, not entry.get: feedparser's own lookup of "updated"/"updated_parsed" falls back
    # to "published" with a DeprecationWarning.
    get = dict.get
    title = _detail_text(get(entry, "title", ""), get(entry, "title_detail"))
    raw_link = get(entry, "link") or ""
    date_text = str(get(entry, "published") or get(entry, "updated") or "")
    key = _key(
        str(get(entry, "id") or ""), raw_link, base_url, title, date_text, partial(_summary, entry)
    )
    return Entry(key, partial(_feedparser_item, entry, feed_name, base_url, key, title, raw_link))


def _summary(entry: dict[str, Any]) -> str:
    return _detail_text(dict.get(entry, "summary", ""), dict.get(entry, "summary_detail"))


def _feedparser_item(
    entry: dict[str, Any], feed_name: str, base_url: str, key: str, title: str, raw_link: str
) -> Item:
    get = dict.get
    summary_text = _summary(entry)
    contents = [_detail_text(c.get("value", ""), c) for c in get(entry, "content", [])]
    content = "\n\n".join(c for c in contents if c and c != summary_text)
    parsed_date = get(entry, "published_parsed") or get(entry, "updated_parsed")
    tags = get(entry, "tags", [])
    categories = tuple(single_line(str(tag.get("term") or "")) for tag in tags)
    return Item(
        feed=feed_name,
        key=key,
        title=single_line(title),
        link=safe_link(raw_link, base_url),
        summary=summary_text,
        content=content,
        published=_from_struct_time(parsed_date),
        categories=tuple(c for c in categories if c),
        author=single_line(str(get(entry, "author") or ""))[:200],
        source=_source_name(get(entry, "source")),
    )


def _source_name(source: Any) -> str:
    """RSS `<source>` (the outlet an aggregator took the item from): its name, else its site."""
    if not isinstance(source, Mapping):
        return ""
    name = single_line(str(source.get("title") or ""))
    if not name and source.get("href"):
        name = urlsplit(str(source["href"])).hostname or ""
    return name[:200]


def _json_author(entry: Mapping[str, Any]) -> str:
    authors = entry.get("authors")
    first = authors[0] if isinstance(authors, list) and authors else entry.get("author")
    name = first.get("name") if isinstance(first, dict) else None
    return single_line(name)[:200] if isinstance(name, str) else ""


def _detail_text(value: str, detail: Mapping[str, Any] | None) -> str:
    """Plain text of a feedparser text construct; HTML ones lose their markup."""
    kind = str((detail or {}).get("type", "text/html"))
    if kind in ("text/plain", "text"):
        # Many feeds put markup in text they label plain.
        return html_to_text(value) if "</" in value else clean_text(value)
    return html_to_text(value)


def _from_struct_time(value: Any) -> datetime | None:
    """feedparser's parsed dates are UTC struct_time; a nonsensical one gives None."""
    if value is None:
        return None
    try:
        return datetime(*value[:6]).replace(tzinfo=UTC)
    except (TypeError, ValueError, OverflowError):
        return None


def _key(
    guid: str, link: str, base_url: str, title: str, date_text: str, summary: Callable[[], str]
) -> str:
    """guid, else the absolute link, else a hash of title and date (and summary if both are
    empty), so the same item keeps its key from poll to poll."""
    key = guid.strip()
    if not key and link.strip():
        key = safe_link(link, base_url) or link.strip()
    if not key:
        basis = f"{title}\x00{date_text}"
        if not title and not date_text:
            basis += f"\x00{summary()}"
        key = "sha256:" + hashlib.sha256(basis.encode("utf-8", "surrogatepass")).hexdigest()
    if len(key) > MAX_KEY_CHARS or _UNSTORABLE.search(key):
        # Neither database takes a lone surrogate, and PostgreSQL no NUL: keep a hash instead.
        key = "sha256:" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
    return key


def _json_feed_items(body: bytes, feed_name: str, base_url: str) -> list[Entry]:
    try:
        document = json.loads(body.decode("utf-8-sig", errors="replace"))
    except (ValueError, RecursionError) as exc:
        raise FeedParseError(f"not a JSON Feed: {exc}") from exc
    if not isinstance(document, dict) or not isinstance(document.get("items"), list):
        raise FeedParseError("not a JSON Feed: no 'items' list")
    return [
        _from_json_item(entry, feed_name, base_url)
        for entry in document["items"]
        if isinstance(entry, dict)
    ]


def _from_json_item(entry: Mapping[str, Any], feed_name: str, base_url: str) -> Entry:
    title = clean_text(_string(entry.get("title")))
    summary = clean_text(_string(entry.get("summary")))
    raw_link = _string(entry.get("url")) or _string(entry.get("external_url"))
    date_text = _string(entry.get("date_published")) or _string(entry.get("date_modified"))
    guid = entry.get("id")
    guid_text = str(guid) if isinstance(guid, (str, int)) and not isinstance(guid, bool) else ""
    key = _key(
        guid_text, raw_link, base_url, title, date_text, lambda: summary or _json_content(entry)
    )
    return Entry(
        key,
        partial(_json_item, entry, feed_name, base_url, key, title, summary, raw_link, date_text),
    )


def _json_content(entry: Mapping[str, Any], summary: str = "") -> str:
    html = _string(entry.get("content_html"))
    text = html_to_text(html) if html else clean_text(_string(entry.get("content_text")))
    return "" if text == summary else text


def _json_item(
    entry: Mapping[str, Any],
    feed_name: str,
    base_url: str,
    key: str,
    title: str,
    summary: str,
    raw_link: str,
    date_text: str,
) -> Item:
    tags = entry.get("tags")
    categories = (
        tuple(single_line(t) for t in tags if isinstance(t, str)) if isinstance(tags, list) else ()
    )
    return Item(
        feed=feed_name,
        key=key,
        title=single_line(title),
        link=safe_link(raw_link, base_url),
        summary=summary,
        content=_json_content(entry, summary),
        published=_from_rfc3339(date_text),
        categories=tuple(c for c in categories if c),
        author=_json_author(entry),
    )


def _string(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _from_rfc3339(text: str) -> datetime | None:
    """JSON Feed dates are RFC 3339; one without an offset is taken as UTC."""
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)
