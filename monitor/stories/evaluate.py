"""Score story clustering on a labelled set: B-cubed precision, recall and F1, exact source
counts, and created alerts per event.

Each line of the set is {"title", "summary", "link", "feed", "published", "event" (null for
opinion), optionally "author", "source", "independent_source"}. The items are replayed in
published order through the same matching and story tracking a poll runs, on a throwaway state
file, so the figures are those the daemon would give.
"""

from __future__ import annotations

import json
import math
import tempfile
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from monitor.errors import MonitorError
from monitor.models import CREATED, Item
from monitor.rules import Rulebook
from monitor.store import Store
from monitor.stories.replay import Seen, replay_items


@dataclass(frozen=True)
class LabelledItem:
    line: int
    item: Item
    event: str | None
    independent_source: str | None


@dataclass
class StoryScore:
    """What the replay gave, against the labels."""

    items: int = 0
    placed: int = 0  # event items that got a story (a rule matched them, or they confirm one)
    precision: float = 0.0
    recall: float = 0.0
    placed_precision: float = 0.0  # the same, among the items placed in stories
    placed_recall: float = 0.0
    events: int = 0
    sources_exact: int = 0
    created: Counter[str] = field(default_factory=Counter)  # per scope
    events_per_scope: Counter[str] = field(default_factory=Counter)
    opinion_placed: int = 0
    opinion: int = 0
    # A `min_sources: 3` rule: right for an event when it fires once if the event's items name at
    # least three independent sources, and never otherwise.
    confirmed_right: int = 0
    confirmed_events: int = 0
    wrong_confirmed: list[str] = field(default_factory=list)
    wrong_sources: list[str] = field(default_factory=list)
    split_events: list[str] = field(default_factory=list)
    merged_stories: list[str] = field(default_factory=list)

    @property
    def confirmed_judged(self) -> int:
        """Events a rule alerts on, for which the `min_sources: 3` figure is judged."""
        return self.confirmed_right + len(self.wrong_confirmed)

    @property
    def f1(self) -> float:
        return _f1(self.precision, self.recall)

    def report(self, *, details: bool = False) -> str:
        lines = [
            f"items: {self.items} ({self.placed} event items placed in a story)",
            f"B-cubed precision {self.precision:.3f}  recall {self.recall:.3f}  F1 {self.f1:.3f}"
            " (an item in no story counts as a story of its own)",
            f"B-cubed among items placed in stories: precision {self.placed_precision:.3f}"
            f"  recall {self.placed_recall:.3f}  F1 {_f1(self.placed_precision, self.placed_recall):.3f}",
            f"independent sources exact (of the reports placed in stories): "
            f"{self.sources_exact}/{self.events} events"
            f" ({self.sources_exact / max(self.events, 1):.0%})",
            f"opinion pieces placed in a story: {self.opinion_placed}/{self.opinion}",
        ]
        for scope in sorted(self.created):
            per_event = self.created[scope] / max(self.events_per_scope[scope], 1)
            lines.append(
                f"created alerts per event, {scope}: {per_event:.2f}"
                f" ({self.created[scope]} for {self.events_per_scope[scope]} events)"
            )
        lines.append(
            f"min_sources: 3 right for {self.confirmed_right}/{self.confirmed_judged}"
            f" events ({self.confirmed_events} events have at least three sources)"
        )
        if details:
            lines += [f"  split: {e}" for e in self.split_events]
            lines += [f"  merged: {m}" for m in self.merged_stories]
            lines += [f"  sources: {w}" for w in self.wrong_sources]
            lines += [f"  min_sources 3: {w}" for w in self.wrong_confirmed]
        return "\n".join(lines)


def _f1(precision: float, recall: float) -> float:
    total = precision + recall
    return 2 * precision * recall / total if total else 0.0


def _bcubed(keys: list[str], cluster: dict[str, str], event: dict[str, str]) -> tuple[float, float]:
    by_cluster: dict[str, set[str]] = defaultdict(set)
    by_event: dict[str, set[str]] = defaultdict(set)
    for k in keys:
        by_cluster[cluster[k]].add(k)
        by_event[event[k]].add(k)
    precision = recall = 0.0
    for k in keys:
        correct = len(by_cluster[cluster[k]] & by_event[event[k]])
        precision += correct / len(by_cluster[cluster[k]])
        recall += correct / len(by_event[event[k]])
    return precision / max(len(keys), 1), recall / max(len(keys), 1)


def read_story_set(path: Path) -> list[LabelledItem]:
    """Read a labelled story set; MonitorError names the line of a malformed entry."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise MonitorError(f"{path}: cannot read story set: {exc}") from None
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            published = datetime.fromisoformat(data["published"])
            item = Item(
                feed=str(data.get("feed") or data.get("outlet") or "labelled"),
                key=str(data.get("id") or number),
                title=str(data["title"]),
                link=str(data.get("link") or ""),
                summary=str(data.get("summary") or ""),
                published=published,
                author=str(data.get("author") or ""),
                source=str(data.get("source") or ""),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise MonitorError(
                f"{path}:{number}: need title, published (ISO 8601) and event: {exc}"
            ) from None
        event = data.get("event")
        found.append(
            LabelledItem(
                number, item, str(event) if event else None, data.get("independent_source")
            )
        )
    return found


def replay(rulebook: Rulebook, labelled: list[LabelledItem]) -> dict[str, tuple[str, str]]:
    """Replay in published order; {item key: (story id, counted source)} and created scopes."""
    placed: dict[str, tuple[str, str]] = {}
    with (
        tempfile.TemporaryDirectory(prefix="story-eval-") as tmp,
        Store(Path(tmp) / "s.db") as store,
    ):
        # As if first seen a minute after publication, in a feed polled on time.
        seen = [
            Seen(x.item, x.item.published.timestamp() + 60)
            for x in labelled
            if x.item.published is not None
        ]
        replay_items(store, rulebook, seen)
        rows = store.db.execute("SELECT item_key, story_id, source FROM story_items")
        for row in rows:
            placed[row["item_key"]] = (row["story_id"], row["source"])
        created = store.db.execute(
            "SELECT story_id, alert_key FROM alerts WHERE event = ?", (CREATED,)
        ).fetchall()
        scopes = store.db.execute("SELECT id, scope FROM story_alerts").fetchall()
    scope_of = {row["id"]: row["scope"] for row in scopes}
    for row in created:
        key = row["alert_key"]
        placed[f"created\x00{key}"] = (row["story_id"], scope_of.get(key, "?"))
    return placed


def score(rulebook: Rulebook, labelled: list[LabelledItem]) -> StoryScore:
    placed = replay(rulebook, labelled)
    result = StoryScore(items=len(labelled))
    gold = {x.item.key: x for x in labelled}
    story_of = {key: story for key, (story, _) in placed.items() if "\x00" not in key}
    result.opinion = sum(1 for x in labelled if x.event is None)
    result.opinion_placed = sum(1 for x in labelled if x.event is None and x.item.key in story_of)
    # B-cubed over event items; an item in no story stands alone (it is missed, not merged).
    keys = [x.item.key for x in labelled if x.event is not None]
    cluster = {k: story_of.get(k, f"alone:{k}") for k in keys}
    result.placed = sum(1 for k in keys if k in story_of)
    by_cluster: dict[str, set[str]] = defaultdict(set)
    by_event: dict[str, set[str]] = defaultdict(set)
    for k in keys:
        by_cluster[cluster[k]].add(k)
        by_event[str(gold[k].event)].add(k)
    events = {k: str(gold[k].event) for k in keys}
    result.precision, result.recall = _bcubed(keys, cluster, events)
    placed_keys = [k for k in keys if k in story_of]
    result.placed_precision, result.placed_recall = _bcubed(placed_keys, cluster, events)
    for event, members in sorted(by_event.items()):
        stories = Counter(cluster[k] for k in sorted(members) if k in story_of)
        if not stories:
            continue
        result.events += 1
        main, _ = stories.most_common(1)[0]
        if len(stories) > 1:
            result.split_events.append(f"{event}: {dict(stories)}")
        expected = {
            gold[k].independent_source or gold[k].item.feed for k in members if k in story_of
        }
        counted = {placed[k][1] for k in by_cluster[main] if k in placed}
        if len(counted) == len(expected):
            result.sources_exact += 1
        else:
            result.wrong_sources.append(
                f"{event}: expected {sorted(expected)}, counted {sorted(counted)}"
            )
    for story, members in by_cluster.items():
        named = {str(gold[k].event) for k in members}
        if len(named) > 1 and not story.startswith("alone:"):
            result.merged_stories.append(f"{story}: {sorted(named)}")
    event_of_story = {story: _event_of(members, gold) for story, members in by_cluster.items()}
    _score_confirmation(result, by_event, by_cluster, event_of_story, gold, placed)
    seen_event_scope: set[tuple[str, str]] = set()
    for key, (story, scope) in placed.items():
        if not key.startswith("created\x00"):
            continue
        result.created[scope] += 1
        event = event_of_story.get(story, story)
        seen_event_scope.add((event, scope))
    for _event, scope in seen_event_scope:
        result.events_per_scope[scope] += 1
    return result


def _event_of(members: set[str], gold: dict[str, LabelledItem]) -> str:
    """The event most of a story's items report; on a tie, the one its first item reports."""
    counts = Counter(str(gold[k].event) for k in members)
    first: dict[str, int] = {}
    for k in sorted(members, key=lambda k: (_time(gold[k]), k)):
        first.setdefault(str(gold[k].event), len(first))
    return max(counts, key=lambda event: (counts[event], -first[event]))


def _time(labelled: LabelledItem) -> float:
    published = labelled.item.published
    return published.timestamp() if published else math.inf


def _score_confirmation(
    result: StoryScore,
    by_event: dict[str, set[str]],
    by_cluster: dict[str, set[str]],
    event_of_story: dict[str, str],
    gold: dict[str, LabelledItem],
    placed: dict[str, tuple[str, str]],
) -> None:
    """How a `min_sources: 3` rule would do: it fires once for a story when the story counts three
    independent sources (every item placed in it counts, whatever its label)."""
    sources: dict[str, set[str]] = defaultdict(set)
    for key, (story, source) in placed.items():
        if "\x00" not in key:
            sources[story].add(source)
    fired: Counter[str] = Counter(
        event_of_story[story]
        for story in by_cluster
        if not story.startswith("alone:") and len(sources[story]) >= 3
    )
    for event, members in sorted(by_event.items()):
        if not any(k in placed for k in members):
            continue  # no rule alerts on it: a min_sources rule has nothing to hold
        labelled = {gold[k].independent_source or gold[k].item.feed for k in members}
        confirmed = len(labelled) >= 3
        result.confirmed_events += confirmed
        if fired[event] == (1 if confirmed else 0):
            result.confirmed_right += 1
        else:
            result.wrong_confirmed.append(
                f"{event}: {len(labelled)} sources labelled, fired {fired[event]} times"
            )
