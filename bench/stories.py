"""Benchmark: the cost of placing a matched item in its story, with many stories active.

`python -m bench.stories --stories 10000 --probes 500` fills a fresh SQLite state (on disk, as
the daemon uses it) with that many active stories made of generated reports, then times the
story step of a poll (candidate lookup, scoring, recording, the alert decision and queueing) for
`probes` new items: a third are new reports of existing stories, a third new occurrences, and a
third reports of existing stories in words no rule matches (they may only confirm a story),
timed apart. The active stories are recorded directly, one report each; only the probes are
timed.
Baseline in the same run: the same probes against an empty state. Prints one BENCH-RESULT line.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.proc import emit
from monitor.config import FeedSettings
from monitor.crunch import matches_for
from monitor.models import Item
from monitor.rules import load_rulebook
from monitor.store import Store, StoryItem
from monitor.stories.features import describe
from monitor.stories.sources import outlet_of, source_of
from monitor.stories.tracker import story_id_for, track

PLACES = ["Caribbean", "Pacific", "Sucre", "Zulia", "Falcón", "Aruba", "Trinidad", "Curaçao"]
WORDS = [
    "boat",
    "vessel",
    "speedboat",
    "skiff",
    "smugglers",
    "crew",
    "cartel",
    "cocaine",
    "trafficking",
    "route",
    "waters",
    "coast",
    "patrol",
    "destroyer",
    "cruiser",
    "frigate",
    "drone",
    "reaper",
    "harbour",
    "port",
    "island",
    "strait",
    "gulf",
    "channel",
    "night",
    "dawn",
    "evening",
    "convoy",
    "fleet",
    "squadron",
    "flotilla",
    "sailors",
    "marines",
    "cutter",
    "helicopter",
]
START = datetime(2025, 9, 1, tzinfo=UTC).timestamp()


# Names no dictionary has: each story draws its own, as real occurrences name their own
# vessels, units and villages.
NAMES = [
    f"{a}{b}{c}"
    for a in ("kar", "mol", "tes", "pun", "gad", "rio")
    for b in ("ab", "en", "ix", "or", "ul")
    for c in ("ta", "mo", "ri", "se", "do", "ne", "ka", "lu")
]


def report(rng: random.Random, story: int, outlet: int) -> Item:
    """A generated report of occurrence `story` by outlet `outlet`: its own words, the story's
    facts (names, a place, a toll)."""
    local = random.Random(story)
    facts = local.sample(NAMES, 3) + local.sample(WORDS, 3)
    own = rng.sample(WORDS, 3)
    place = local.choice(PLACES)
    killed = local.randint(2, 9)
    title = (
        f"US military strike number {story + 1} on a drug boat off Venezuela kills {killed}: "
        f"{facts[0]} {facts[1]} {own[0]}"
    )
    summary = (
        f"It was the {_ordinal(story + 1)} strike, near {place}, on a {facts[2]} {facts[3]}; "
        f"{facts[4]} {facts[5]} {own[1]} {own[2]}."
    )
    at = START + story * 600.0  # one occurrence every ten minutes: all within the window
    return Item(
        feed=f"outlet{outlet}",
        key=f"{story}-{outlet}",
        title=title,
        link=f"https://outlet{outlet}.example/{story}",
        summary=summary,
        published=datetime.fromtimestamp(at, UTC),
    )


def confirming(item: Item) -> Item:
    """The same report in words no shipped rule matches, though some of their terms occur."""
    return replace(
        item,
        key=f"{item.key}-c",
        title=item.title.replace("military strike number", "report on boat number").replace(
            " kills ", " with "
        ),
        summary=item.summary.replace(" strike,", " incident,"),
    )


def fill_stories(store: Store, rng: random.Random, count: int) -> None:
    """`count` stories of one report each, recorded directly (the setup is not what is timed)."""
    with store.transaction():
        for story in range(count):
            item = report(rng, story, 0)
            assert item.published is not None
            at = item.published.timestamp()
            store.add_to_story(
                story_id_for(item),
                StoryItem(
                    feed=item.feed,
                    key=item.key,
                    title=item.title,
                    link=item.link,
                    outlet=outlet_of(item),
                    source=source_of(item),
                    at=at,
                    published=item.published.isoformat(),
                    features=describe(item, at),
                    hits=[{"rule": "lethal-boat-strike", "values": {}, "matched": []}],
                ),
                at + 60,
            )


def measure(stories: int, probes: int, seed: int = 3) -> dict[str, Any]:
    rulebook = load_rulebook([Path(__file__).resolve().parent.parent / "rules"])
    rng = random.Random(seed)

    def one(store: Store, item: Item) -> tuple[float, float, bool]:
        """(wall, CPU) seconds of the story step for one item, and whether a rule matched it;
        negative if it was not worth a story step at all."""
        assert item.published is not None
        now = item.published.timestamp() + 60
        matched = matches_for([item], rulebook, now, None)
        feed = FeedSettings(name=item.feed, url="http://127.0.0.1/", interval=300, timeout=20)
        started, cpu = time.perf_counter(), time.process_time()
        with store.transaction():
            track(store, rulebook, (), feed, matched, now)
        if not matched:
            return -1.0, -1.0, False
        return time.perf_counter() - started, time.process_time() - cpu, bool(matched[0].matches)

    results: dict[str, Any] = {"stories": stories, "probes": probes}
    with tempfile.TemporaryDirectory(prefix="bench-stories-") as tmp:
        for label, active in (("empty", 0), ("full", stories)):
            with Store(Path(tmp) / f"{label}.db") as store:
                fill_started = time.perf_counter()
                fill_stories(store, rng, active)
                fill = time.perf_counter() - fill_started
                walls: list[float] = []
                cpus: list[float] = []
                confirm_cpus: list[float] = []
                for probe in range(probes):
                    # A third join an active story, a third are new occurrences, a third only
                    # confirm an active story.
                    new = probe % 3 == 1
                    story = active + probe if new else rng.randrange(max(active, 1))
                    item = report(rng, story, 1 + probe % 7)
                    wall, cpu, ruled = one(store, confirming(item) if probe % 3 == 2 else item)
                    if wall < 0:
                        continue
                    if ruled:
                        walls.append(wall * 1000)
                        cpus.append(cpu * 1000)
                    else:
                        confirm_cpus.append(cpu * 1000)
                walls.sort()
                cpus.sort()
                confirm_cpus.sort()
                results[label] = {
                    "matched": len(walls),
                    "active": store.db.execute("SELECT count(*) AS n FROM stories").fetchone()["n"],
                    "fill_s": fill,
                    "p50_ms": _pick(walls, 0.5),
                    "p95_ms": _pick(walls, 0.95),
                    "cpu_p50_ms": _pick(cpus, 0.5),
                    "cpu_p95_ms": _pick(cpus, 0.95),
                    "cpu_mean_ms": statistics.fmean(cpus) if cpus else 0.0,
                    "confirming": len(confirm_cpus),
                    "confirm_cpu_p50_ms": _pick(confirm_cpus, 0.5),
                    "confirm_cpu_p95_ms": _pick(confirm_cpus, 0.95),
                }
    return results


def _ordinal(number: int) -> str:
    if 10 <= number % 100 <= 20:
        return f"{number}th"
    return f"{number}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(number % 10, 'th') }"


def _pick(values: list[float], fraction: float) -> float:
    return values[int(fraction * (len(values) - 1))] if values else 0.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--stories", type=int, default=10_000)
    parser.add_argument("--probes", type=int, default=500)
    args = parser.parse_args()
    emit(measure(args.stories, args.probes))


if __name__ == "__main__":
    main()
