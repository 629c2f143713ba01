"""Build small RSS documents for tests, in our own words."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from xml.sax.saxutils import escape


@dataclass(frozen=True)
class Story:
    guid: str
    title: str
    summary: str = ""
    age: timedelta = timedelta(minutes=10)  # published this long before now
    author: str = ""


def rss(stories: list[Story], *, title: str = "Test Wire", site: str = "news.example.org") -> str:
    """An RSS document; `site` is the host of every item's link (the outlet that published it)."""
    now = datetime.now(UTC)
    items = "".join(
        f"""
    <item>
      <title>{escape(s.title)}</title>
      <link>https://{escape(site)}/{escape(s.guid)}</link>{
            f"<author>{escape(s.author)}</author>" if s.author else ""
        }
      <guid isPermaLink="false">{escape(s.guid)}</guid>
      <pubDate>{format_datetime(now - s.age)}</pubDate>
      <description>{escape("<p>" + s.summary + "</p>")}</description>
    </item>"""
        for s in stories
    )
    return f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>{escape(title)}</title>
<link>https://news.example.org/</link><description>test</description>{items}
</channel></rss>
"""


BOMBERS = Story(
    "bombers-1",
    "US B-52 bombers fly show of force near Venezuela",
    "Two Stratofortress bombers flew along the Venezuelan coast in international airspace.",
)
BOAT_STRIKE = Story(
    "boat-strike-1",
    "US military strike on a boat off Venezuela kills four",
    "The Pentagon said the vessel was carrying drugs; the toll of the maritime campaign rose to 31.",
)
BAND = Story(
    "band-1",
    "The B-52s announce a concert in Caracas",
    "The band will play its hits at the city's largest arena in March.",
)
JACKET = Story(
    "jacket-1",
    "Why the bomber jacket never goes out of style",
    "A short history of the flight jacket, from airfields to catwalks.",
)
