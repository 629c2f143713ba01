"""Who actually reported an item, so syndicated copies count once. Pure.

An item's independent source is, in order: the wire agency its credit line or dateline names
("WASHINGTON (AP) —", "(Reuters) -", "..., Reuters reported"), the agency in its author field
(`author` / `dc:creator`: "Associated Press"), the outlet in its RSS `<source>`, and otherwise
the outlet that published it (the link's site, so two feeds of one site are one outlet).
Copies whose credit line was cut are caught later, by their text (see cluster.py).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from monitor.models import Item

# Canonical agency name <- the ways credits spell it.
AGENCIES = {
    "ap": "AP",
    "associated press": "AP",
    "the associated press": "AP",
    "reuters": "Reuters",
    "thomson reuters": "Reuters",
    "afp": "AFP",
    "agence france-presse": "AFP",
    "agence france presse": "AFP",
    "efe": "EFE",
    "agencia efe": "EFE",
    "europa press": "Europa Press",
    "dpa": "dpa",
    "bloomberg": "Bloomberg",
    "xinhua": "Xinhua",
    "ansa": "ANSA",
    "upi": "UPI",
    "anadolu": "Anadolu",
    "prensa latina": "Prensa Latina",
}
_NAMES = "|".join(sorted((re.escape(k) for k in AGENCIES), key=len, reverse=True))
# "(AP)", "(Reuters)", "(EFE)" near the start: a dateline credit.
_DATELINE = re.compile(r"\((" + _NAMES + r")\)", re.IGNORECASE)
# "..., Reuters reported", "according to the Associated Press", "(AFP) —"
_REPORTED = re.compile(
    r"(?:,|\bas)\s+(" + _NAMES + r")\s+(?:reported|reports|said|informó|informa|reportó)\b"
    r"|\baccording to\s+(" + _NAMES + r")\b|\bsegún\s+(?:la agencia\s+)?(" + _NAMES + r")\b"
    r"|^\s*(" + _NAMES + r")\s*[-\u2013\u2014:]",
    re.IGNORECASE,
)
_BYLINE = re.compile(r"^(?:by\s+|por\s+)?(" + _NAMES + r")(?:\s+staff|\s+reporters?)?\.?$", re.I)
_CREDIT_WINDOW = 160  # characters at the start of a text where a dateline credit stands

_SECOND_LEVEL = frozenset({"co", "com", "org", "net", "gov", "ac", "edu", "gob", "gouv", "ne"})


def outlet_of(item: Item) -> str:
    """The site that published `item`: its link's registrable domain, else the feed's name."""
    try:
        host = (urlsplit(item.link).hostname or "").lower()
    except ValueError:
        host = ""
    labels = [label for label in host.split(".") if label]
    if len(labels) < 2:
        return item.feed
    if len(labels) >= 3 and labels[-2] in _SECOND_LEVEL and len(labels[-1]) == 2:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


def agency_credited(item: Item) -> str | None:
    """The wire agency the item's credit line, dateline or author names, if any."""
    for text in (item.summary[:_CREDIT_WINDOW], item.content[:_CREDIT_WINDOW]):
        found = _DATELINE.search(text)
        if found:
            return AGENCIES[found.group(1).lower()]
    for text in (item.summary, item.content[:2000]):
        found = _REPORTED.search(text)
        if found:
            name = next(group for group in found.groups() if group)
            return AGENCIES[name.lower()]
    byline = _BYLINE.match(item.author.strip())
    if byline:
        return AGENCIES[byline.group(1).lower()]
    return None


def source_of(item: Item) -> str:
    """The independent source `item` counts for."""
    agency = agency_credited(item)
    if agency is not None:
        return agency
    if item.source.strip():
        named = AGENCIES.get(item.source.strip().lower())
        return named or item.source.strip()
    return outlet_of(item)
