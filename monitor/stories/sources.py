"""Who actually reported an item, so syndicated copies count once. Pure.

An item's independent source is, in order: the wire agency its credit line or dateline names
("WASHINGTON (AP) —", "(Reuters) -", "..., Reuters reported", "Reuters: ..." in the title), an
outlet credited the same way ("(CNN) —"), the agency in its author field (`author` /
`dc:creator`: "Associated Press"), the outlet in its RSS `<source>`, and otherwise the outlet
that published it (the link's site, so two feeds of one site are one outlet; an agency's own
site counts as the agency). A credited name and a site are one source when their names agree
(`source_key`: "The Hill" and thehill.com). Copies whose credit line was cut are caught later,
by their text (see cluster.py).
"""

from __future__ import annotations

import re
import unicodedata
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
    "anadolu agency": "Anadolu",
    "aa": "Anadolu",
    "prensa latina": "Prensa Latina",
    "tass": "TASS",
    "kyodo": "Kyodo",
    "yonhap": "Yonhap",
    "pti": "PTI",
    "aap": "AAP",
}
# The agencies' own sites: their items count for the agency their copies credit.
AGENCY_SITES = {
    "apnews.com": "AP",
    "ap.org": "AP",
    "reuters.com": "Reuters",
    "afp.com": "AFP",
    "efe.com": "EFE",
    "europapress.es": "Europa Press",
    "dpa.com": "dpa",
    "bloomberg.com": "Bloomberg",
    "xinhuanet.com": "Xinhua",
    "news.cn": "Xinhua",
    "ansa.it": "ANSA",
    "upi.com": "UPI",
    "aa.com.tr": "Anadolu",
    "prensa-latina.cu": "Prensa Latina",
}
_NAMES = "|".join(sorted((re.escape(k) for k in AGENCIES), key=len, reverse=True))
# "(AP)", "(Reuters)", "(EFE)", "(ANSA/El Universal)", "/TASS/" near the start: a dateline
# credit.
_DATELINE = re.compile(r"\((" + _NAMES + r")(?:/[^()]{1,40})?\)|/(" + _NAMES + r")/", re.IGNORECASE)
# "..., Reuters reported", "according to the Associated Press", "citing Xinhua"
_REPORTED = re.compile(
    r"(?:,|\bas)\s+(" + _NAMES + r")\s+(?:reported|reports|said|informó|informa|reportó)\b"
    r"|\baccording to\s+(" + _NAMES + r")\b|\bsegún\s+(?:la agencia\s+)?(" + _NAMES + r")\b"
    r"|\btold\s+(?:the\s+)?(" + _NAMES + r")\b"
    r"|\bciting\s+(?:the\s+)?("
    + _NAMES
    + r")\b|\bcitando a\s+(?:la agencia\s+)?("
    + _NAMES
    + r")\b",
    re.IGNORECASE,
)
# "AFP — ...", "Reuters: ...": the agency opening the text. Apart from _REPORTED, so that one is
# not tried at every position of the text (it is the leftmost match when it holds: none of
# _REPORTED's openings is an agency's name).
_REPORTED_OPENING = re.compile(r"\s*(" + _NAMES + r")\s*[-\u2013\u2014:]", re.IGNORECASE)
# "Reuters: US deploys ...": a headline that names the agency it retells.
_TITLE_CREDIT = re.compile(r"^\s*(" + _NAMES + r")\s*:\s", re.IGNORECASE)
# "(CNN) —", "WASHINGTON (The Hill) -": a dateline credit naming any outlet, which only a copy
# of that outlet's story carries at the very start of its text.
_OUTLET_DATELINE = re.compile(
    r"^\s*(?:[A-ZÁÉÍÓÚÑ][A-ZÁÉÍÓÚÑ .,'-]{1,40}\s)?\(([A-Z][\w&' .-]{1,38})\)\s*[-\u2013\u2014]"
)
# Sites that host many outlets under their own subdomains (abcnews.go.com is ABC News).
_SHARED_PARENTS = frozenset(
    {
        "go.com",
        "blogspot.com",
        "substack.com",
        "wordpress.com",
        "cloudfront.net",
        "azurewebsites.net",
        "pages.dev",
        "github.io",
        "netlify.app",
        "vercel.app",
        "appspot.com",
        "herokuapp.com",
    }
)
_IP_HOST = re.compile(r"^[\d.]+$|:")
# Names whose site is spelt otherwise ("New York Times" is nytimes.com).
_KEY_ALIASES = {"newyorktimes": "nytimes", "wallstreetjournal": "wsj", "cnnenespanol": "cnnespanol"}
_BYLINE = re.compile(r"^(?:by\s+|por\s+)?(" + _NAMES + r")(?:\s+staff|\s+reporters?)?\.?$", re.I)
# "Kit Maher, CNN", "Andrea Shalal/Reuters", "Darren Bahaw and Stephon Nicholas, Newsday": the
# last part of a byline, when it names an organisation rather than a person.
_BYLINE_TAIL = re.compile(r"(?:^|[,/])\s*([^,/]{2,40}?)\s*$")
_OUTLET_NAME = re.compile(
    r"^[A-Z]{2,5}\b|\b(?:News|Newsday|Herald|Times|Post|Journal|Press|Tribune|Telegraph|Guardian|"
    r"Gazette|Chronicle|Daily|Radio|TV|Televisi[oó]n|Noticias|Diario|Prensa)\b"
)
# Newsrooms whose scoops others retell ("según The Wall Street Journal", "CNN reported"):
# canonical name <- the ways a citation spells it. Matched with their capitals, so that
# "según el político" is not Politico.
CITED_OUTLETS = {
    "CNN": "CNN",
    "CNN en Español": "CNN",
    "The New York Times": "The New York Times",
    "New York Times": "The New York Times",
    "NYT": "The New York Times",
    "The Washington Post": "The Washington Post",
    "Washington Post": "The Washington Post",
    "The Wall Street Journal": "The Wall Street Journal",
    "Wall Street Journal": "The Wall Street Journal",
    "WSJ": "The Wall Street Journal",
    "NBC News": "NBC News",
    "NBC": "NBC News",
    "CBS News": "CBS News",
    "CBS": "CBS News",
    "ABC News": "ABC News",
    "Fox News": "Fox News",
    "Axios": "Axios",
    "Politico": "Politico",
    "POLITICO": "Politico",
    "Semafor": "Semafor",
    "The Atlantic": "The Atlantic",
    "The Intercept": "The Intercept",
    "NPR": "NPR",
    "The Guardian": "The Guardian",
    "BBC": "BBC",
    "BBC Mundo": "BBC",
    "Financial Times": "Financial Times",
    "The Financial Times": "Financial Times",
    "Miami Herald": "Miami Herald",
    "The Miami Herald": "Miami Herald",
    "El Nuevo Herald": "El Nuevo Herald",
    "El País": "El País",
    "Infobae": "Infobae",
    "The War Zone": "The War Zone",
    "Newsweek": "Newsweek",
    "The Hill": "The Hill",
    "Al Jazeera": "Al Jazeera",
    "Telemundo": "Telemundo",
    "Univision": "Univision",
    "Univisión": "Univision",
}
_CITED = "|".join(sorted((re.escape(k) for k in CITED_OUTLETS), key=len, reverse=True))
# "..., CNN reported", "according to The New York Times", "según el diario The Washington
# Post", "reported by Axios", "citing NBC News", "informó CNN", "— WSJ": a retelling names the
# newsroom it retells, in its headline or its lead.
_CITATION = re.compile(
    r"(?:^|[,;(\u2013\u2014-]\s*|\bas\s+)(?:first\s+)?(" + _CITED + r")\s+(?:reported|reports|"
    r"revealed|said|informó|informa|reveló|reportó|publicó)\b"
    r"|\b(?:[Aa]ccording to|[Rr]eported by|first reported by|[Cc]iting|[Tt]old|[Ss]egún|"
    r"[Dd]e acuerdo con|[Cc]itando a|[Ii]nformó|[Ii]nforma|[Rr]eveló|[Rr]eportó|[Pp]ublicó)\s+"
    r"(?:(?:el|la)\s+(?:diario|periódico|cadena|medio|canal|revista)\s+(?:estadounidense\s+)?)?"
    r"(?:the\s+)?(" + _CITED + r")\b"
    r"|[\u2013\u2014-]\s*(" + _CITED + r")\s*$"
)
_CITATION_WINDOW = 400  # characters of the lead where a retelling names whom it retells
_CREDIT_WINDOW = 160  # characters at the start of a text where a dateline credit stands

_SECOND_LEVEL = frozenset({"co", "com", "org", "net", "gov", "ac", "edu", "gob", "gouv", "ne"})


def outlet_of(item: Item) -> str:
    """The site that published `item`: its link's registrable domain, else the feed's name."""
    try:
        host = (urlsplit(item.link).hostname or "").lower()
    except ValueError:
        host = ""
    if _IP_HOST.search(host):
        return host  # an address has no registrable part: the whole of it is the site
    labels = [label for label in host.split(".") if label]
    if len(labels) < 2:
        return item.feed
    if len(labels) >= 3 and labels[-2] in _SECOND_LEVEL and len(labels[-1]) == 2:
        return ".".join(labels[-3:])
    if len(labels) >= 3 and ".".join(labels[-2:]) in _SHARED_PARENTS:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


def agency_credited(item: Item) -> str | None:
    """The wire agency the item's credit line, dateline, headline or author names, if any."""
    for text in (item.summary[:_CREDIT_WINDOW], item.content[:_CREDIT_WINDOW]):
        found = _DATELINE.search(text)
        if found:
            return AGENCIES[(found.group(1) or found.group(2)).lower()]
    found = _TITLE_CREDIT.match(item.title)
    if found:
        return AGENCIES[found.group(1).lower()]
    for text in (item.summary, item.content[:2000]):
        found = _REPORTED_OPENING.match(text) or _REPORTED.search(text)
        if found:
            name = next(group for group in found.groups() if group)
            return AGENCIES[name.lower()]
    byline = _BYLINE.match(item.author.strip())
    if byline:
        return AGENCIES[byline.group(1).lower()]
    return None


def byline_credited(item: Item) -> str | None:
    """The organisation the end of the item's byline names ("Jack Guy, CNN" -> CNN, "Paul
    Godfrey, UPI" -> UPI), if any: a copy carries its original's byline."""
    tail = _BYLINE_TAIL.search(item.author.strip())
    if tail is None:
        return None
    name = tail.group(1)
    agency = AGENCIES.get(name.lower())
    if agency is not None:
        return agency
    return name if _OUTLET_NAME.search(name) else None


def outlet_credited(item: Item) -> str | None:
    """The outlet a dateline credit at the start of the item's text names ("(CNN) —"), if any."""
    for text in (item.summary, item.content[:_CREDIT_WINDOW]):
        found = _OUTLET_DATELINE.match(text)
        if found:
            name = found.group(1).strip()
            return AGENCIES.get(name.lower(), name)
    return None


def outlet_cited(item: Item) -> str | None:
    """The newsroom whose report the item's headline or lead retells ("..., según The Wall
    Street Journal"), if any: the rewrite counts for the newsroom, as a wire copy counts for
    the agency."""
    for text in (item.title, item.summary[:_CITATION_WINDOW]):
        found = _CITATION.search(text)
        if found:
            name = next(group for group in found.groups() if group)
            return CITED_OUTLETS[name]
    return None


def credited_source(item: Item) -> str | None:
    """The source a credit names (agency or outlet, then RSS `<source>`), if any: it stands
    whatever the text looks like."""
    agency = agency_credited(item) or outlet_credited(item) or byline_credited(item)
    if agency is not None:
        return agency
    cited = outlet_cited(item)
    if cited is not None:
        return cited
    named = item.source.strip()
    # A <source> that is a note, not a name ("(With inputs from agencies.)"), names no one.
    if named and not named.startswith("(") and len(named) <= 60 and len(named.split()) <= 6:
        return AGENCIES.get(named.lower(), named)
    return None


def source_of(item: Item) -> str:
    """The independent source `item` counts for."""
    return credit(item)[0]


def credit(item: Item) -> tuple[str, bool]:
    """The independent source `item` counts for, and whether a credit names it (True) rather
    than its site: both from one reading of its credit lines, the costly part."""
    credited = credited_source(item)
    if credited is not None:
        return credited, True
    outlet = outlet_of(item)
    return AGENCY_SITES.get(outlet, outlet), False


def source_key(source: str) -> str:
    """What two spellings of one source share: "The Hill", "thehill.com" -> "thehill"."""
    name = source.casefold()
    if "." in name and " " not in name:
        name = name.split(".")[0]
    decomposed = unicodedata.normalize("NFKD", name)
    squashed = "".join(c for c in decomposed if c.isalnum())
    if squashed.startswith("the") and len(squashed) > 6:
        squashed = squashed[3:]
    return _KEY_ALIASES.get(squashed, squashed)
