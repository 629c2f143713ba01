"""The main text of an article page, without navigation, scripts or boilerplate (pure).

Prefers what the page marks as its content (<article>, <main>, role="main"); otherwise takes the
element whose direct <p> children hold the most text, which is where article bodies live on
pages that mark nothing up.
"""

from __future__ import annotations

from bs4 import BeautifulSoup, Tag

from monitor.feeds.text import soup_to_text

BOILERPLATE_TAGS = ("nav", "aside", "footer", "header", "form", "button", "menu", "dialog")
MAX_TEXT_CHARS = 200_000  # more than any article; bounds what matching has to read


def article_text(html: bytes | str, charset: str | None = None) -> str:
    """The readable main text of an HTML page ("" when there is none)."""
    soup = BeautifulSoup(
        html, "html.parser", from_encoding=charset if isinstance(html, bytes) else None
    )
    for tag in soup.find_all(BOILERPLATE_TAGS):
        tag.decompose()
    main = _marked_content(soup) or _densest_paragraphs(soup) or soup.body or soup
    return soup_to_text(main)[:MAX_TEXT_CHARS]


def _marked_content(soup: BeautifulSoup) -> Tag | None:
    articles = soup.find_all("article")
    if articles:
        return max(articles, key=lambda tag: len(tag.get_text()))
    found = soup.find("main") or soup.find(True, attrs={"role": "main"})
    return found if isinstance(found, Tag) else None


def _densest_paragraphs(soup: BeautifulSoup) -> Tag | None:
    scores: dict[int, tuple[int, Tag]] = {}
    for paragraph in soup.find_all("p"):
        parent = paragraph.parent
        if not isinstance(parent, Tag):
            continue
        length = len(paragraph.get_text(strip=True))
        total, _ = scores.get(id(parent), (0, parent))
        scores[id(parent)] = (total + length, parent)
    if not scores:
        return None
    total, best = max(scores.values(), key=lambda entry: entry[0])
    return best if total > 0 else None
