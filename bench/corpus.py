"""A deterministic, news-like corpus for the benchmarks: stories, feeds (RSS 2.0, Atom, JSON Feed)
and rulebooks of any size in the project's rule language.

Everything is derived from a seed, so two runs (and two processes: the feed server and the
client that primes its state) build the same bytes. About a quarter of the stories carry
conflict/military vocabulary, so generated rules match a realistic fraction of items.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

COUNTRIES = (
    "Venezuela", "Colombia", "Brazil", "Guyana", "Cuba", "Mexico", "Panama", "Ukraine",
    "Russia", "Poland", "Taiwan", "China", "Japan", "Korea", "Iran", "Israel", "Syria",
    "Lebanon", "Yemen", "Sudan", "Niger", "Mali", "Libya", "Turkey", "Armenia", "Georgia",
    "Serbia", "Kosovo", "Somalia", "Ethiopia", "Eritrea", "Myanmar", "Pakistan", "India",
    "Nigeria", "Chad", "Haiti", "Ecuador", "Peru", "Bolivia", "Nicaragua", "Honduras",
)  # fmt: skip
CITIES = (
    "Caracas", "Maracaibo", "Bogota", "Havana", "Kyiv", "Kharkiv", "Moscow", "Warsaw",
    "Taipei", "Beijing", "Tokyo", "Seoul", "Tehran", "Damascus", "Beirut", "Sanaa",
    "Khartoum", "Tripoli", "Ankara", "Yerevan", "Tbilisi", "Belgrade", "Mogadishu",
    "Addis Ababa", "Naypyidaw", "Islamabad", "New Delhi", "Abuja", "Port-au-Prince",
    "Quito", "Lima", "La Paz", "Managua", "Tegucigalpa", "Georgetown", "Panama City",
)  # fmt: skip
ACTORS = (
    "the Pentagon", "the defence ministry", "the foreign minister", "the president",
    "the prime minister", "a military spokesman", "the navy", "the air force",
    "the coast guard", "rebel commanders", "the opposition", "the United Nations",
    "NATO officials", "the White House", "the State Department", "the central bank",
    "a senior diplomat", "the national guard", "border police", "the interior ministry",
)  # fmt: skip
MILITARY = (
    "bombers", "B-52", "B-1B", "Stratofortress", "fighter jets", "F-35", "warships",
    "destroyer", "aircraft carrier", "amphibious assault ship", "submarine", "frigate",
    "marines", "special forces", "paratroopers", "drones", "Reaper drone", "missile strike",
    "airstrike", "air strikes", "artillery", "ground operations", "naval blockade",
    "troop deployment", "mobilisation", "reservists", "militia", "air defence",
    "cruise missiles", "ballistic missile", "military exercise", "show of force",
    "covert action", "CIA", "no-fly zone", "evacuation", "embassy", "sanctions",
    "ceasefire", "invasion", "incursion", "surveillance flights", "patrol boats",
)  # fmt: skip
CIVIL = (
    "inflation", "elections", "a trade deal", "oil exports", "the harvest", "a new stadium",
    "the budget", "pension reform", "a railway line", "tourism", "a music festival",
    "the stock market", "vaccination", "a teachers' strike", "housing prices", "flooding",
    "a heatwave", "the football league", "a film premiere", "fishing quotas", "the metro",
    "a concert tour", "a fashion week", "coffee prices", "a bridge collapse", "wildfires",
)  # fmt: skip
VERBS = (
    "announced", "denied", "confirmed", "warned of", "condemned", "welcomed", "ruled out",
    "reported", "prepared", "postponed", "expanded", "suspended", "approved", "rejected",
)  # fmt: skip
NUMBERS = ("two", "three", "four", "six", "eight", "a dozen", "12", "37", "150", "2,000")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
FILLER = (
    "Analysts said the move was unlikely to change the balance of power in the short term.",
    "The announcement followed weeks of speculation in local media.",
    "Officials did not respond to requests for comment on Friday evening.",
    "Residents described long queues at petrol stations and supermarkets.",
    "The figures could not be independently verified.",
    "Markets in the region opened slightly lower after the news.",
    "Critics called the decision rushed and poorly explained.",
    "A spokesperson said further details would be released in due course.",
    "The measure still needs the approval of parliament.",
    "Diplomats from several countries met behind closed doors to discuss the situation.",
)  # fmt: skip

CONFLICT_SHARE = 0.25  # share of stories written around military vocabulary


@dataclass(frozen=True)
class Story:
    """A headline and an HTML body (1-3 KB), reused by many feed items."""

    title: str
    html: str
    categories: tuple[str, ...]


@dataclass(frozen=True)
class CorpusItem:
    """One item of one feed, as the server renders it."""

    guid: str
    link: str
    title: str
    html: str
    published: datetime
    categories: tuple[str, ...]


@dataclass(frozen=True)
class _Theme:
    """What one story is about: a story repeats its few places and weapons, as news does."""

    places: tuple[str, ...]
    weapons: tuple[str, ...]
    topics: tuple[str, ...]
    entities: tuple[str, ...]


def entity_names(seed: int, count: int = 3000) -> list[str]:
    """Rare proper names (units, operations, officials) shared by stories and rules."""
    rng = random.Random(seed * 7 + 3)
    syllables = ("ka", "ro", "vel", "tan", "mir", "zo", "der", "lin", "quo", "sab", "ter", "ux")
    names: set[str] = set()
    while len(names) < count:
        word = "".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))).capitalize()
        names.add(word if rng.random() < 0.7 else f"Operation {word}")
    return sorted(names)


def _sentence(rng: random.Random, theme: _Theme, conflict: bool) -> str:
    place = rng.choice(theme.places)
    actor = rng.choice(ACTORS)
    if conflict:
        weapon = rng.choice(theme.weapons)
        forms = (
            f"{actor.capitalize()} {rng.choice(VERBS)} the {weapon} near {place} on {rng.choice(WEEKDAYS)}.",
            f'{rng.choice(NUMBERS).capitalize()} {weapon} were seen off the coast of {place}, according to <a href="https://example.org/{rng.randrange(10**6)}">satellite images</a>.',
            f"At least {rng.choice(NUMBERS)} people were killed after {weapon} hit targets outside {place}, {actor} said.",
            f"<strong>{place}</strong> {rng.choice(VERBS)} the {weapon} linked to {rng.choice(theme.entities)}.",
        )
    else:
        topic = rng.choice(theme.topics)
        forms = (
            f"{actor.capitalize()} {rng.choice(VERBS)} plans for {topic} in {place} on {rng.choice(WEEKDAYS)}.",
            f"In {place}, {topic} dominated the news as {actor} {rng.choice(VERBS)} new measures.",
            f"Figures published on {rng.choice(WEEKDAYS)} showed {topic} rising for the {rng.choice(NUMBERS)} month in a row.",
            f"Organisers of {topic} in {place} said tickets &amp; passes sold out within hours.",
        )
    return rng.choice(forms)


def make_story(rng: random.Random, entities: list[str]) -> Story:
    conflict = rng.random() < CONFLICT_SHARE
    theme = _Theme(
        places=tuple(rng.sample(COUNTRIES, 1) + rng.sample(CITIES, rng.randint(0, 1))),
        weapons=tuple(rng.sample(MILITARY, rng.randint(1, 2))),
        topics=tuple(rng.sample(CIVIL, 2)),
        entities=tuple(rng.sample(entities, 2)),
    )
    if conflict:
        title = f"{theme.places[0]} {rng.choice(VERBS)} {theme.weapons[0]} near {theme.places[-1]}"
    else:
        title = f"{rng.choice(ACTORS).capitalize()} {rng.choice(VERBS)} {theme.topics[0]} in {theme.places[0]}"
    target = rng.randrange(1000, 3000)
    paragraphs: list[str] = []
    size = 0
    while size < target:
        sentences = [
            _sentence(rng, theme, conflict and rng.random() < 0.6) for _ in range(rng.randint(2, 4))
        ]
        sentences.append(rng.choice(FILLER))
        paragraph = "<p>" + " ".join(sentences) + "</p>"
        paragraphs.append(paragraph)
        size += len(paragraph)
    tags = ("world", "conflict") if conflict else ("world",)
    return Story(title=title, html="\n".join(paragraphs), categories=tags)


def story_pool(seed: int, size: int) -> list[Story]:
    """`size` distinct stories; feeds draw from this pool so memory stays flat at any feed count."""
    rng = random.Random(seed)
    entities = entity_names(seed)
    return [make_story(rng, entities) for _ in range(size)]


class FeedModel:
    """Feed `n` of the corpus: its format, its base size, and the items visible at a sequence.

    A feed publishes items numbered 0, 1, 2...; at any moment it shows the newest `window`
    of them (20-50). Item content is drawn from the story pool, so bodies are cheap to render.
    """

    FORMATS = ("rss",) * 6 + ("atom",) * 3 + ("json",)

    def __init__(self, n: int, pool: list[Story], epoch: datetime) -> None:
        self.n = n
        self.pool = pool
        self.epoch = epoch
        self.window = 20 + (n * 7919) % 31
        self.format = self.FORMATS[(n // 10) % 10]
        # Items published on demand (latency probes): sequence -> (story, publication time).
        self.extra: dict[int, tuple[Story, datetime]] = {}

    def item(self, seq: int) -> CorpusItem:
        story = self.pool[(self.n * 1009 + seq * 31) % len(self.pool)]
        published = self.epoch + timedelta(minutes=seq * 5)
        if seq in self.extra:
            story, published = self.extra[seq]
        return CorpusItem(
            guid=f"https://feed{self.n}.bench.example/news/{seq}",
            link=f"https://feed{self.n}.bench.example/news/{seq}.html",
            title=f"{story.title} ({seq})",
            html=story.html,
            published=published,
            categories=story.categories,
        )

    def items(self, published: int) -> list[CorpusItem]:
        """The items visible once `published` items exist, newest first."""
        first = max(0, published - self.window)
        return [self.item(seq) for seq in range(published - 1, first - 1, -1)]

    def render(self, published: int) -> tuple[bytes, str]:
        """The feed document and its Content-Type."""
        items = self.items(published)
        if self.format == "atom":
            return render_atom(self.n, items), "application/atom+xml; charset=utf-8"
        if self.format == "json":
            return render_json_feed(self.n, items), "application/feed+json"
        return render_rss(self.n, items), "application/rss+xml; charset=utf-8"


def render_rss(n: int, items: list[CorpusItem]) -> bytes:
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
        f"<title>Bench Wire {n}</title><link>https://feed{n}.bench.example/</link>"
        "<description>Generated news for benchmarks</description>"
    ]
    for item in items:
        cats = "".join(f"<category>{c}</category>" for c in item.categories)
        parts.append(
            f"<item><title>{escape(item.title)}</title><link>{item.link}</link>"
            f'<guid isPermaLink="true">{item.guid}</guid>'
            f"<pubDate>{format_datetime(item.published)}</pubDate>{cats}"
            f"<description>{escape(item.html)}</description></item>"
        )
    parts.append("</channel></rss>\n")
    return "\n".join(parts).encode()


def render_atom(n: int, items: list[CorpusItem]) -> bytes:
    updated = items[0].published.isoformat() if items else "2025-01-01T00:00:00+00:00"
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>Bench Wire {n}</title><id>urn:bench:feed:{n}</id><updated>{updated}</updated>"
        f'<link href="https://feed{n}.bench.example/"/>'
    ]
    for item in items:
        cats = "".join(f'<category term="{c}"/>' for c in item.categories)
        parts.append(
            f"<entry><title>{escape(item.title)}</title><id>{item.guid}</id>"
            f'<link href="{item.link}"/><updated>{item.published.isoformat()}</updated>'
            f"<published>{item.published.isoformat()}</published>{cats}"
            f'<summary type="html">{escape(item.html)}</summary></entry>'
        )
    parts.append("</feed>\n")
    return "\n".join(parts).encode()


def render_json_feed(n: int, items: list[CorpusItem]) -> bytes:
    doc = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": f"Bench Wire {n}",
        "home_page_url": f"https://feed{n}.bench.example/",
        "items": [
            {
                "id": item.guid,
                "url": item.link,
                "title": item.title,
                "content_html": item.html,
                "date_published": item.published.isoformat(),
                "tags": list(item.categories),
            }
            for item in items
        ],
    }
    return json.dumps(doc).encode()


def default_epoch() -> datetime:
    """Items start six hours ago, so they are all inside the daemon's default max_age."""
    return datetime.now(UTC).replace(microsecond=0) - timedelta(hours=6)


# --- rules -------------------------------------------------------------------------------

SEVERITIES = ("info", "low", "medium", "high", "critical")


def _yaml_str(term: str) -> str:
    return json.dumps(term)  # a JSON string is a valid YAML flow scalar


# The first rules of any rulebook are broad (a weapon near a place), the rest specific: a bigger
# rulebook watches more specific things, so alerts per item stay near what a user can read.
BROAD_RULES = 20


def rule_blocks(count: int, seed: int = 7, corpus_seed: int = 1) -> list[str]:
    """`count` rules (YAML list entries) shaped like issue 2's: `all` of `any` groups, `none`,
    phrases, a few `re:` terms. A few rules are broad (a weapon near a place); most are specific
    (also naming a unit, operation or official), as large real rulebooks are."""
    rng = random.Random(seed)
    entities = entity_names(corpus_seed)
    places = COUNTRIES + CITIES
    blocks = []
    for index in range(count):
        broad = index < BROAD_RULES
        groups = [rng.sample(MILITARY, rng.randint(2, 5)), rng.sample(places, rng.randint(2, 5))]
        if not broad:
            groups.append(rng.sample(entities, rng.randint(1, 3)))
        rendered = [", ".join(_yaml_str(t) for t in group) for group in groups]
        if rng.random() < 0.03:
            rendered[0] += ', {re: "B-?52s?"}'
        lines = [
            f"  - id: bench-{index:05d}",
            f"    title: Bench rule {index}",
            f"    severity: {rng.choice(SEVERITIES)}",
            "    tags: [bench]",
            "    match:",
            "      all:",
            *(f"        - any: [{terms}]" for terms in rendered),
        ]
        if rng.random() < 0.4:
            lines.append(f"      none: [{_yaml_str(rng.choice(CIVIL))}]")
        blocks.append("\n".join(lines) + "\n")
    return blocks


def generate_rules(count: int, seed: int = 7) -> str:
    """One rule file's text with `count` generated rules."""
    return "rules:\n" + "".join(rule_blocks(count, seed))


RULES_PER_FILE = 1000  # large rulebooks live in many files (and one YAML file has a node limit)


def write_rulebook(directory: Path, count: int, seed: int = 7) -> list[Path]:
    """Write `count` generated rules into `directory` as files of at most RULES_PER_FILE rules."""
    directory.mkdir(parents=True, exist_ok=True)
    blocks = rule_blocks(count, seed)
    paths = []
    for start in range(0, len(blocks), RULES_PER_FILE):
        path = directory / f"bench-{start // RULES_PER_FILE:03d}.yaml"
        path.write_text("rules:\n" + "".join(blocks[start : start + RULES_PER_FILE]))
        paths.append(path)
    return paths
