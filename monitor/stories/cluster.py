"""Which story a matched item belongs to, and which independent source it counts for. Pure.

An item joins the most similar story active around its time, unless a discriminator vetoes it:
two stories that differ in aircraft type, ordinal, day, sea or actor are two occurrences however
alike their words (a wire template reused for the next strike reads almost the same). Similarity
is a cosine over the items' weighted terms, each term weighted down by how many active stories
share it (every story of one theatre says "Venezuela"); it is taken against each member of the
story (single link), with a bonus when the item matched a rule the story matched.

An item that matched no rule but whose words some rule needs may still confirm a story: it
joins one it is clearly part of (a stricter bar, as no shared rule vouches for it), and never
starts one.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from monitor.stories.features import Features, overlap
from monitor.stories.sources import source_key

WINDOW = 72 * 3600.0  # seconds around an item in which its story may have been reported
JOIN_THRESHOLD = 0.38
# Weekdays resolve against each outlet's publication time, which time zones and "announced on
# Sunday a strike on Friday" blur by a day or two; occurrences further apart are distinct.
MIN_DAYS_APART = 2
COPY_THRESHOLD = 0.5  # shingle overlap from which an item is a copy of another's text
SHARED_RULE_BONUS = 0.1
NO_SHARED_RULE_PENALTY = 0.25
# An unmatched item must be this close to a story to confirm it: about what the join bar asks
# of an item that matched a rule the story did not, the nearest case.
CONFIRM_THRESHOLD = 0.5
SOFT_CONFLICT_PENALTY = 0.25
LATE_PENALTY_PER_DAY = 0.2  # past the first day between the item and the story's nearest report


@dataclass(frozen=True)
class Member:
    """An item already in a story, as the store keeps it."""

    key: str  # feed and item key
    at: float
    outlet: str
    source: str
    features: Features
    rules: frozenset[str]


@dataclass(frozen=True)
class Candidate:
    """A story active around the item's time, with its members."""

    story_id: str
    members: tuple[Member, ...]


@dataclass(frozen=True)
class Assignment:
    """Where an item goes: an existing story (or None: a new one), and the source it counts for."""

    story_id: str | None
    source: str
    score: float = 0.0
    copy_of: str | None = None  # the member whose text this item copies
    vetoed: tuple[str, ...] = ()  # why more similar stories were not joined (for explain)
    # Members that turn out to be uncredited copies of this credited item: they count for its
    # source from now on (a copy that arrived before its original).
    relabel: tuple[str, ...] = ()


def _spelt_as(source: str, members: Sequence[Member]) -> str:
    """The story's spelling of `source` ("thehill.com" for a copy crediting "The Hill"), so one
    outlet counts once however its reports name it."""
    key = source_key(source)
    return next((m.source for m in members if source_key(m.source) == key), source)


def _hard_conflicts(item: Features, members: Sequence[Member]) -> list[str]:
    """Discriminators on which the item disagrees with every member that states one."""
    reports = [m.features for m in members if not m.features.opinion]
    found: list[str] = []

    def disjoint(name: str, mine: set[object], theirs: set[object]) -> None:
        if mine and theirs and not mine & theirs:
            found.append(name)

    disjoint("aircraft", set(item.aircraft), {a for f in reports for a in f.aircraft})
    disjoint("ordinal", _set(item.ordinal), {f.ordinal for f in reports if f.ordinal})
    stated = {day for f in reports for day in f.days}
    if item.days and stated and _days_apart(item.days, stated) >= MIN_DAYS_APART:
        found.append("day")
    disjoint("sea", set(item.seas), {s for f in reports for s in f.seas})
    disjoint("actor", _set(item.actor), {f.actor for f in reports if f.actor})
    return found


def _soft_conflicts(item: Features, members: Sequence[Member]) -> list[str]:
    """Discriminators that may legitimately be revised within one occurrence (a running total)."""
    reports = [m.features for m in members if not m.features.opinion]
    found = []
    totals = {f.total for f in reports if f.total}
    if item.total and totals and item.total not in totals:
        found.append("total")
    tolls = [(f.killed, f.killed_at_least) for f in reports if f.killed]
    if item.killed and tolls and not any(_same_toll(item, *toll) for toll in tolls):
        found.append("toll")  # a revised toll, or another occurrence's
    stated = {day for f in reports for day in f.days}
    if item.days and stated and _days_apart(item.days, stated) == 1:
        found.append("day")  # the next day's occurrence, or one day's report told a day late
    destinations = {f.destination for f in reports if f.destination}
    if item.destination and destinations and item.destination not in destinations:
        found.append("destination")
    return found


def _same_toll(item: Features, killed: int | None, at_least: bool) -> bool:
    """Whether the item's toll agrees with a member's: equal, above a floor ("at least 2", then
    "three killed"), or a floor below it."""
    if item.killed is None or killed is None or item.killed == killed:
        return True
    if item.killed > killed:
        return at_least
    return item.killed_at_least


def _days_apart(first: Iterable[str], second: Iterable[str]) -> int:
    """The least distance in days between a date of `first` and one of `second`."""
    return min(
        abs((date.fromisoformat(a) - date.fromisoformat(b)).days) for a in first for b in second
    )


def _set(value: object) -> set[object]:
    return set() if value is None else {value}


def _norm(terms: Mapping[str, float], idf: Mapping[str, float]) -> float:
    return math.sqrt(sum((w * idf.get(t, 1.0)) ** 2 for t, w in terms.items()))


def _cosine(
    first: Mapping[str, float],
    norm_a: float,
    second: Mapping[str, float],
    idf: Mapping[str, float],
) -> float:
    """The cosine of two term weightings, with the norm of `first` (which every comparison of
    one item shares) given."""
    shared = first.keys() & second.keys()
    if not shared:
        return 0.0
    # fsum: a plain sum over a set of strings depends on the set's order, which changes with
    # PYTHONHASHSEED, and the last bit of a score can decide between two close candidates.
    dot = math.fsum(first[t] * second[t] * idf.get(t, 1.0) ** 2 for t in shared)
    norm_b = _norm(second, idf)
    return dot / (norm_a * norm_b) if norm_a and norm_b else 0.0


def idf_weights(document_frequency: Mapping[str, int], stories: int) -> dict[str, float]:
    """Terms that many active stories share count less (smoothed, so one story changes little)."""
    return {
        term: math.log(1.0 + (stories + 2.0) / (count + 1.0))
        for term, count in document_frequency.items()
    }


def _score(
    item: Features,
    rules: frozenset[str],
    at: float,
    candidate: Candidate,
    idf: Mapping[str, float],
    soft_conflicts: int,
    norm: float,
) -> float:
    best = max(_cosine(item.terms, norm, m.features.terms, idf) for m in candidate.members)
    if rules:
        shared_rule = any(rules & m.rules for m in candidate.members)
        best += SHARED_RULE_BONUS if shared_rule else -NO_SHARED_RULE_PENALTY
    best -= SOFT_CONFLICT_PENALTY * soft_conflicts
    gap = min(abs(at - m.at) for m in candidate.members)
    best -= LATE_PENALTY_PER_DAY * max(0.0, gap / 86400.0 - 1.0)
    return best


def assign(
    item: Features,
    rules: frozenset[str],
    at: float,
    source: str,
    credited: bool,
    candidates: Sequence[Candidate],
    idf: Mapping[str, float],
) -> Assignment:
    """The story for an item dated `at` that matched `rules`, among `candidates`.

    `source` is the item's own source; `credited` says whether a credit line or byline named it
    (then it stands), otherwise an item copying a member's text counts for that member's source.
    Opinion never joins a story: it gets a story of its own that is never alerted on. An item
    that matched no rule (empty `rules`) joins a story only if it clears CONFIRM_THRESHOLD, and
    otherwise gets no story (story_id None, as for a new one: the caller records nothing).
    """
    if item.opinion:
        return Assignment(None, source)
    vetoed: list[str] = []
    best: tuple[float, Candidate] | None = None
    norm: float | None = None  # of the item's terms, computed for the first score
    for candidate in candidates:
        conflicts = _hard_conflicts(item, candidate.members)
        soft = _soft_conflicts(item, candidate.members)
        if len(soft) >= 2:
            # One revised figure is a revision; two discriminators at odds are the template of
            # another occurrence (the next day's strike, with its own toll).
            conflicts += soft
        if conflicts:
            vetoed.append(f"{candidate.story_id}: {', '.join(conflicts)} differ")
            continue
        copy = max(
            ((overlap(item.shingles, m.features.shingles), m) for m in candidate.members),
            key=lambda pair: pair[0],
        )
        if copy[0] >= COPY_THRESHOLD:
            if not credited:
                return Assignment(
                    candidate.story_id, copy[1].source, 1.0 + copy[0], copy[1].key, tuple(vetoed)
                )
            relabel = tuple(
                m.key
                for m in candidate.members
                if m.source == m.outlet
                and m.source != source
                and overlap(item.shingles, m.features.shingles) >= COPY_THRESHOLD
            )
            return Assignment(
                candidate.story_id,
                _spelt_as(source, candidate.members),
                1.0 + copy[0],
                copy[1].key,
                tuple(vetoed),
                relabel,
            )
        if norm is None:
            norm = _norm(item.terms, idf)
        score = _score(item, rules, at, candidate, idf, len(soft), norm)
        if best is None or score > best[0]:
            best = (score, candidate)
    threshold = JOIN_THRESHOLD if rules else CONFIRM_THRESHOLD
    if best is not None and best[0] >= threshold:
        return Assignment(
            best[1].story_id, _spelt_as(source, best[1].members), best[0], None, tuple(vetoed)
        )
    return Assignment(None, source, best[0] if best else 0.0, None, tuple(vetoed))
