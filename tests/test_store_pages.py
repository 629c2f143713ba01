"""The outbox as the page reads it, on either backend: a page at a time per status, counts, and
retrying one delivery."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.store import Store
from tests.test_store import item, queued


@pytest.fixture
def store(state: Path | str) -> Iterator[Store]:
    with Store(state) as opened:
        yield opened


def fill(store: Store, count: int) -> list[str]:
    """`count` alerts owed to `ops`, recorded at 1000 s; their message ids in order."""
    feed = store.feed_state("wire", "https://wire.example.org/rss")
    batch = [queued(f"k{n:03d}", ("ops",)) for n in range(count)]
    store.record_poll(feed, [item(f"k{n:03d}") for n in range(count)], batch, now=1000.0)
    return [q.alert.message_id for q in batch]


def test_failed_deliveries_come_newest_first_a_page_at_a_time(store: Store) -> None:
    ids = fill(store, 7)
    for n, alert_id in enumerate(ids):
        store.mark_failed([alert_id], "ops", f"HTTP 400 #{n}", now=2000.0 + n)
    first = store.delivery_page("failed", limit=3)
    second = store.delivery_page("failed", limit=3, offset=3)
    assert [d.last_error for d in first] == ["HTTP 400 #6", "HTTP 400 #5", "HTTP 400 #4"]
    assert [d.last_error for d in second] == ["HTTP 400 #3", "HTTP 400 #2", "HTTP 400 #1"]
    assert first[0].updated_at == 2006.0
    assert store.delivery_counts() == {"pending": 0, "failed": 7, "silenced": 0, "cooldown": 0}


def test_pending_deliveries_come_by_release_time(store: Store) -> None:
    ids = fill(store, 3)
    store.mark_retry([ids[0]], "ops", "503", next_attempt_at=9000.0, now=1500.0)
    assert [d.message_id for d in store.delivery_page("pending", limit=10)] == [
        ids[1],
        ids[2],
        ids[0],
    ]


def test_retrying_one_delivery_skips_its_backoff_or_revives_it(store: Store) -> None:
    """A pending delivery in backoff becomes due now; a failed one goes back to pending;
    a sent one, or one that does not exist, is left alone."""
    waiting, dead, sent = fill(store, 3)
    store.mark_retry([waiting], "ops", "503", next_attempt_at=9000.0, now=1500.0)
    store.mark_failed([dead], "ops", "400", now=1500.0)
    store.mark_sent([sent], "ops", now=1500.0)
    assert store.retry_delivery(waiting, "ops", now=1600.0)
    assert store.retry_delivery(dead, "ops", now=1600.0)
    assert not store.retry_delivery(sent, "ops", now=1600.0)
    assert not store.retry_delivery(waiting, "desk", now=1600.0)
    due = {d.message_id: d for d in store.due_deliveries(now=1600.0)}
    assert set(due) == {waiting, dead}
    assert due[waiting].attempts == 1 and due[dead].attempts == 0
