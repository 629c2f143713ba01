"""Replay items through the matching and story tracking a poll runs, in time order, into a
store: the messages the daemon would have sent for them, once per story.

`backtest` replays the stored items this way on a throwaway state, and the story evaluation
replays a labelled set, so both count alerts the way live polling does.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from monitor.config import FeedSettings
from monitor.crunch import matches_for
from monitor.models import Alert, Item
from monitor.rules import Rulebook
from monitor.store import Store
from monitor.stories.tracker import track


@dataclass(frozen=True)
class Seen:
    """An item and when it was first seen (unix time): the `now` of the poll that found it."""

    item: Item
    at: float


def replay_items(store: Store, rulebook: Rulebook, seen: Iterable[Seen]) -> list[Alert]:
    """Match and place each item, oldest first, as the poll that first saw it would have; the
    alert messages (created and updated) that would have been sent, in order."""
    sent: list[Alert] = []
    for entry in sorted(seen, key=lambda s: s.at):
        matched = matches_for([entry.item], rulebook, entry.at, None)
        if not matched:
            continue
        feed = FeedSettings(name=entry.item.feed, url="http://127.0.0.1/", interval=300, timeout=20)
        with store.transaction():
            sent.extend(q.alert for q in track(store, rulebook, (), feed, matched, entry.at))
    return sent
