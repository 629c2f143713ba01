"""Plain text out of feed- and page-supplied HTML, cleaned so it is safe in any alert (pure).

Feed authors control every byte of a title or summary. What leaves this module has no markup,
no control characters (no CR/LF in titles, so nothing can become an email header), and no
bidi-override characters that could make an alert read differently from what it says.
"""

from __future__ import annotations

import re
import unicodedata
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

from monitor.feeds.plainhtml import plain_html_text

if TYPE_CHECKING:
    from bs4 import Tag

# Text inside these elements is never what a reader sees.
INVISIBLE_TAGS = frozenset(
    ("script", "style", "noscript", "template", "head", "title", "svg", "iframe")
)

# A line break after each of these keeps "<p>one</p><p>two</p>" from reading as "onetwo".
BLOCK_TAGS = frozenset((
    "p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "td", "th",
    "table", "blockquote", "pre", "section", "article", "header", "footer", "aside", "dt", "dd",
    "figcaption", "hr",
))  # fmt: skip

# C0/C1 controls and DEL except tab and newline; the line/paragraph separators; bidi embeddings,
# overrides and isolates (U+202A-U+202E, U+2066-U+2069).
# Lone surrogates too: JSON can carry them, but no database (nor UTF-8) can store them.
_UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
_SPACES = re.compile(r"[ \t\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+")
_BLANK_LINES = re.compile(r"\n\s*\n\s*(?:\n\s*)+")
_ANY_WHITESPACE = re.compile(r"\s+")
_LOOKS_LIKE_MARKUP = re.compile(r"[<&]")

SAFE_LINK_SCHEMES = ("http", "https")


def clean_text(text: str) -> str:
    """Drop control characters, collapse runs of spaces and of blank lines; keep paragraphs."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    if text.replace("\n", "").isprintable():
        # Nothing unsafe and no space but " " (every other one is unprintable): only runs of
        # " " to collapse, which str.replace does many times faster than a pattern that stops
        # at every space.
        while "  " in text:
            text = text.replace("  ", " ")
    else:
        text = _SPACES.sub(" ", _UNSAFE.sub("", text))
    # Whitespace left beside a newline is one space after the collapse: what strip() would take
    # off each line.
    text = text.replace(" \n", "\n").replace("\n ", "\n")
    return _BLANK_LINES.sub("\n\n", text).strip()


def single_line(text: str) -> str:
    """clean_text, then every whitespace run (newlines included) becomes one space: for titles."""
    return _ANY_WHITESPACE.sub(" ", clean_text(text)).strip()


def html_to_text(html: str) -> str:
    """The visible text of an HTML fragment, with block elements on their own lines."""
    if not _LOOKS_LIKE_MARKUP.search(html):
        return clean_text(html)
    # Simple, well-nested markup is read in one pass; BeautifulSoup takes whatever that doubts.
    plain = plain_html_text(html, invisible=INVISIBLE_TAGS, block=BLOCK_TAGS)
    if plain is not None:
        return clean_text(plain)
    # Imported here: BeautifulSoup (with soupsieve) costs a command 0.1-0.2 s to import, and
    # `check`, `status` or a steady `once` never reach this line.
    from bs4 import BeautifulSoup

    return soup_to_text(BeautifulSoup(html, "html.parser"))


def soup_to_text(root: Tag) -> str:
    """The visible text of a parsed document or element.

    One iterative walk (deeply nested hostile markup cannot exhaust the stack), about twice as
    fast as find_all + get_text; comments, doctypes and processing instructions are skipped.
    """
    from bs4 import CData, Tag
    from bs4.element import NavigableString, PageElement

    text_types = (NavigableString, CData)  # not their subclasses Comment, Doctype, Script, ...
    parts: list[str] = []
    stack: list[PageElement | None] = [root]  # None: the end of a block element
    while stack:
        node = stack.pop()
        if node is None:
            parts.append("\n")
        elif isinstance(node, Tag):
            if node.name in INVISIBLE_TAGS:
                continue
            if node.name in BLOCK_TAGS:
                stack.append(None)
            stack.extend(reversed(node.contents))
        elif type(node) in text_types:
            parts.append(str(node))
    return clean_text("".join(parts))


def safe_link(link: str, base_url: str) -> str:
    """`link` made absolute against `base_url`; "" unless the result is an http(s) URL.

    Feed-supplied links end up as clickable links in alerts, so `javascript:` and `data:` (or
    anything else that is not a web page) never pass.
    """
    link = _ANY_WHITESPACE.sub("", _UNSAFE.sub("", link))
    if not link:
        return ""
    try:
        absolute = urljoin(base_url, link) if base_url else link
        parts = urlsplit(absolute)
    except ValueError:  # e.g. an unbalanced "[" in the host part
        return ""
    if parts.scheme.lower() not in SAFE_LINK_SCHEMES or not parts.hostname:
        return ""
    return absolute
