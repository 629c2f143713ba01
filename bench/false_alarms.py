"""What the shipped rulebook fires on in real-world news nobody here wrote: a precision check.

    python -m bench.false_alarms [--rules rules/] [--corpora ../shared/corpora] [--show 50]

Reads (never copies) the shared corpora: ABC News headlines of 2003, the Wikipedia Current
Events Portal of September 2015, the news feeds among fastfeedparser's benchmark files, and the
Wikipedia Current Events snapshots of 2025-26 (which do report the US-Venezuela escalation).
Prints, per corpus, how many items were read and every item that fired with its rules, so a
person can judge each one: almost all of them must be genuine US-Venezuela escalation.
"""

from __future__ import annotations

import argparse
import csv
import json
from collections.abc import Iterator
from pathlib import Path

from monitor.errors import FeedParseError
from monitor.feeds.parse import parse_feed
from monitor.models import Item
from monitor.rules import load_rulebook

DEFAULT_CORPORA = Path(__file__).resolve().parents[2] / "shared" / "corpora"


def _item(feed: str, key: str, title: str, summary: str = "", content: str = "") -> Item:
    return Item(feed=feed, key=key, title=title, link="", summary=summary, content=content)


def abc_headlines(root: Path) -> Iterator[Item]:
    path = root / "headlines" / "abc-million-headlines-2003" / "abcnews-date1-text.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        for number, row in enumerate(csv.DictReader(handle)):
            yield _item("abc-2003", str(number), row["headline_text"])


def wikitimes(root: Path) -> Iterator[Item]:
    path = root / "headlines" / "wikitimes-cep-2015-09" / "wikitimes_CEP.json"
    for number, event in enumerate(json.loads(path.read_text(encoding="utf-8"))):
        yield _item("wikitimes-2015", str(number), event.get("description") or "")


def _feeds(paths: list[Path], name: str) -> Iterator[Item]:
    seen: set[tuple[str, str]] = set()
    for path in paths:
        try:
            items = parse_feed(path.read_bytes(), feed_name=name, base_url="http://localhost/")
        except FeedParseError:
            continue
        for item in items:
            # Snapshots of one feed repeat items: judge each once.
            if (item.title, item.summary) not in seen:
                seen.add((item.title, item.summary))
                yield item


def news_feeds(root: Path) -> Iterator[Item]:
    folder = root / "fastfeedparser"
    manifest = (folder / "MANIFEST.tsv").read_text(encoding="utf-8").splitlines()
    paths = [
        folder / line.split("\t")[0]
        for line in manifest[1:]
        if line.split("\t")[-1].startswith("news")
    ]
    yield from _feeds(paths, "fastfeedparser-news")


def current_events(root: Path) -> Iterator[Item]:
    folder = root / "wp-current-events-snapshots"
    yield from _feeds(sorted(folder.glob("*.rss")), "wp-current-events")


CORPORA = {
    "abc-2003": abc_headlines,
    "wikitimes-2015": wikitimes,
    "fastfeedparser-news": news_feeds,
    "wp-current-events": current_events,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rules", type=Path, default=Path("rules"))
    parser.add_argument("--corpora", type=Path, default=DEFAULT_CORPORA)
    parser.add_argument("--show", type=int, default=200, help="firing items shown per corpus")
    args = parser.parse_args()
    if not args.corpora.is_dir():
        raise SystemExit(f"no corpora at {args.corpora}: pass --corpora PATH")
    rulebook = load_rulebook([args.rules])
    for name, read in CORPORA.items():
        total = 0
        fired: list[tuple[Item, list[str]]] = []
        for item in read(args.corpora):
            total += 1
            matches = rulebook.match(item)
            if matches:
                fired.append((item, [m.rule.id for m in matches]))
        print(f"== {name}: {len(fired)} of {total} items fired")
        for item, rules in fired[: args.show]:
            text = " / ".join(t for t in (item.title, item.summary[:300]) if t)
            print(f"  [{', '.join(rules)}] {' '.join(text.split())}")


if __name__ == "__main__":
    main()
