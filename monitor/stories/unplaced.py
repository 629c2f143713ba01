"""Recent reports that matched no rule and joined no story, kept in memory for a while.

The first outlet to report an occurrence may word it so that no rule matches; when a later
report that a rule matches starts the story, the earlier one is still one more outlet. The
tracker remembers such reports here and, when it starts a story, recalls those that share
enough terms with it to be worth comparing. Memory only, bounded, per process: after a restart
(or on another replica) an earlier report is simply not counted, as before.
"""

from __future__ import annotations

from collections import Counter, OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass

from monitor.models import Item
from monitor.stories.features import Features

LIMIT = 5000  # reports remembered; the oldest go first
MAX_POSTING = 200  # a term in more remembered reports than this is too common to recall by
RECALLED = 20  # at most this many are compared with a new story


@dataclass(frozen=True)
class Unplaced:
    item: Item
    features: Features
    at: float


class UnplacedReports:
    """The last LIMIT reports that matched no rule and joined no story, by their terms."""

    def __init__(self, limit: int = LIMIT) -> None:
        self._limit = limit
        self._entries: OrderedDict[tuple[str, str], Unplaced] = OrderedDict()
        self._postings: dict[str, set[tuple[str, str]]] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def remember(self, item: Item, features: Features, at: float) -> None:
        key = (item.feed, item.key)
        if key in self._entries:
            return
        self._entries[key] = Unplaced(item, features, at)
        for term in features.terms:
            self._postings.setdefault(term, set()).add(key)
        while len(self._entries) > self._limit:
            self.forget(next(iter(self._entries)))

    def forget(self, key: tuple[str, str]) -> None:
        entry = self._entries.pop(key, None)
        if entry is None:
            return
        for term in entry.features.terms:
            keys = self._postings.get(term)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._postings[term]

    def recall(
        self, terms: Mapping[str, float], since: float, until: float, min_shared: int
    ) -> list[Unplaced]:
        """Reports dated between `since` and `until` that share at least `min_shared` of
        `terms` (common terms aside), oldest first."""
        shared: Counter[tuple[str, str]] = Counter()
        for term in terms:
            keys = self._postings.get(term)
            if keys and len(keys) <= MAX_POSTING:
                shared.update(keys)
        # Ties in the count go to the latest report, then by key: the postings are sets, whose
        # order (and so Counter.most_common's among equals) changes with PYTHONHASHSEED.
        ranked = sorted(
            (
                (count, self._entries[key].at, key)
                for key, count in shared.items()
                if count >= min_shared and since <= self._entries[key].at <= until
            ),
            key=lambda entry: (-entry[0], -entry[1], entry[2]),
        )
        found = [self._entries[key] for _, _, key in ranked[:RECALLED]]
        return sorted(found, key=lambda entry: (entry.at, entry.item.key))
