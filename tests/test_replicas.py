"""Replicas sharing one state: each due feed is claimed by one of them, a dead replica's lease
runs out and another takes the feed, and every replica says it is alive."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.store import Replica, Store

INTERVAL, LEASE = 60.0, 35.0


@pytest.fixture
def store(state: Path | str) -> Iterator[Store]:
    with Store(state) as opened:
        yield opened


def claim(store: Store, replica: str, now: float) -> bool:
    return store.claim_feed(
        "wire", "https://wire.example.org/rss", replica, interval=INTERVAL, lease=LEASE, now=now
    )


def test_a_due_feed_goes_to_one_replica_per_interval(store: Store) -> None:
    """A claims and polls; B, asking a moment later or once A recorded, gets nothing until the
    feed is due again, and then whoever asks first polls it."""
    assert claim(store, "a", 1000.0)
    assert not claim(store, "b", 1000.5)
    store.record_unchanged(store.feed_state("wire", "https://wire.example.org/rss"), 1002.0)
    assert not claim(store, "b", 1010.0)
    assert not claim(store, "a", 1030.0)
    assert claim(store, "b", 1060.0)
    assert not claim(store, "a", 1060.2)


def test_a_dead_replicas_lease_expires_and_another_takes_the_feed(store: Store) -> None:
    """A short interval: A claims and dies mid-poll; B waits out the lease, not forever."""
    assert store.claim_feed("wire", "u", "a", interval=5.0, lease=LEASE, now=1000.0)
    assert not store.claim_feed("wire", "u", "b", interval=5.0, lease=LEASE, now=1010.0)
    assert store.claim_feed("wire", "u", "b", interval=5.0, lease=LEASE, now=1000.0 + LEASE)


def test_a_replica_leaving_frees_its_leases_at_once(store: Store) -> None:
    """A clean stop hands the feed on without waiting for the lease to run out."""
    store.beat(Replica("a", "host", 1, 900.0), 1000.0)
    assert store.claim_feed("wire", "u", "a", interval=5.0, lease=LEASE, now=1000.0)
    assert [(r.id, r.leases) for r in store.replicas(1001.0)] == [("a", 1)]
    store.leave("a")
    assert store.replicas(1001.0) == []
    assert store.claim_feed("wire", "u", "b", interval=5.0, lease=LEASE, now=1006.0)


def test_replicas_report_their_heartbeat(store: Store) -> None:
    """Each replica's last beat and what it holds is visible to all."""
    a, b = Replica("a", "node-1", 11, 900.0), Replica("b", "node-2", 22, 950.0)
    store.beat(a, 1000.0)
    store.beat(b, 1001.0)
    store.beat(a, 1002.0)
    claim(store, "b", 1003.0)
    assert [(r.id, r.host, r.pid, r.heartbeat_at, r.leases) for r in store.replicas(1004.0)] == [
        ("a", "node-1", 11, 1002.0, 0),
        ("b", "node-2", 22, 1001.0, 1),
    ]


def test_replicas_asking_at_the_same_instant_get_the_feed_once(postgres_url: str) -> None:
    """Eight replicas, each with its own connections, claim one due feed together: one wins."""
    Store(postgres_url).close()
    start = threading.Barrier(8)
    wins: list[str] = []
    errors: list[BaseException] = []

    def replica(name: str) -> None:
        with Store(postgres_url) as store:
            start.wait()
            try:
                if claim(store, name, 1000.0):
                    wins.append(name)
            except BaseException as exc:
                errors.append(exc)

    threads = [threading.Thread(target=replica, args=(f"r{n}",)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert len(wins) == 1
