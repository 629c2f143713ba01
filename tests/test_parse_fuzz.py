"""Open-ended input for the parser: whatever the bytes, only FeedParseError or sane items."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.errors import FeedParseError
from monitor.feeds.parse import parse_feed
from monitor.feeds.xmlsafe import strip_prolog

PROLOG_PARTS = [
    "<?xml version='1.0'?>",
    "<!DOCTYPE rss [",
    "<!DOCTYPE rss>",
    "<!ENTITY a 'xxxxxxxx'>",
    '<!ENTITY b "&a;&a;&a;">',
    "<!ENTITY % p SYSTEM 'http://127.0.0.1:9/x'>",
    "%p;",
    "]>",
    "<!--",
    "-->",
    "<?pi ",
    "?>",
    "'",
    '"',
    "[",
    "]",
    ">",
    "<",
    "<!",
    "\n",
    "   ",
    "DOCTYPE",
    "ENTITY",
]
ITEM = (
    "<rss version='2.0'><channel><item><guid>g</guid><title>&a;&b;</title></item></channel></rss>"
)
ROOT = re.compile(r"<\w")  # where both expat and feedparser see the prolog end
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def check(body: bytes) -> None:
    try:
        items = parse_feed(body, feed_name="f", base_url="https://example.org/feed")
    except FeedParseError:
        return
    keys = [item.key for item in items]
    assert all(keys) and len(set(keys)) == len(keys)
    for item in items:
        assert not _CONTROL.search(item.title)
        assert item.link == "" or item.link.startswith(("http://", "https://"))
        assert "xxxxxxxx" not in item.title  # no declared entity was expanded


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_never_raise_anything_else(body: bytes) -> None:
    """Random bytes are a FeedParseError or a list of sane items, never another exception."""
    check(body)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(PROLOG_PARTS), max_size=30))
def test_no_declaration_survives_any_prolog(parts: list[str]) -> None:
    """However declarations, comments and quotes are jumbled, none is left before the root."""
    prolog = "".join(parts)
    cleaned = strip_prolog(prolog + ITEM)
    root = ROOT.search(cleaned)
    head = cleaned[: root.start() if root else len(cleaned)].upper()
    assert "<!DOCTYPE" not in head
    assert "<!ENTITY" not in head
    check((prolog + ITEM).encode())
