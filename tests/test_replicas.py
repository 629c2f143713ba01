"""Replicas sharing one state: each due feed and each outbox message is claimed by one of them,
a dead replica's lease runs out and another takes over, and every replica says it is alive."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.health import STALE_AFTER, RunInfo
from monitor.models import Alert, Item, RuleInfo, Severity
from monitor.noise import DeliveryPlan
from monitor.store import FORGET_REPLICAS, FeedState, QueuedAlert, Replica, Store, mixed_setups

INTERVAL, LEASE = 60.0, 35.0


@pytest.fixture
def store(state: Path | str) -> Iterator[Store]:
    with Store(state) as opened:
        opened.add_feeds([("wire", "https://wire.example.org/rss")], 900.0)
        yield opened


def claim_state(store: Store, replica: str, now: float) -> FeedState | None:
    return store.claim_feed(
        "wire", "https://wire.example.org/rss", replica, interval=INTERVAL, lease=LEASE, now=now
    )


def claim(store: Store, replica: str, now: float) -> bool:
    return claim_state(store, replica, now) is not None


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


def test_a_feed_waiting_out_its_backoff_is_claimed_by_nobody(store: Store) -> None:
    """A claim that only finds the feed in backoff would poll nothing and record nothing, and
    its lease would keep every replica off the feed for the whole lease: no replica takes it
    until the backoff ends, then the first to ask does; a changed URL is not held back."""
    url = "https://wire.example.org/rss"
    state = claim_state(store, "a", 1000.0)
    assert state is not None
    store.record_failure(state, "HTTP 503", retry_at=1090.0, now=1001.0)
    assert not claim(store, "b", 1061.0)  # due by its interval, still in backoff
    assert not claim(store, "a", 1089.0)
    assert claim(store, "b", 1090.0)
    store.record_failure(store.feed_state("wire", url), "HTTP 503", retry_at=1500.0, now=1091.0)
    moved = store.claim_feed(
        "wire", "https://mirror.example.org/rss", "a", interval=INTERVAL, lease=LEASE, now=1160.0
    )
    assert moved is not None
    assert (moved.url, moved.retry_at, moved.consecutive_failures) == (
        "https://mirror.example.org/rss",
        None,
        0,
    )


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


def test_each_replica_says_what_it_runs_and_long_silent_ones_are_forgotten(store: Store) -> None:
    """What a replica loaded travels with its heartbeat, so any host's `status` can tell that
    two replicas run different rules; one killed an hour ago drops out of the table."""
    loaded = RunInfo(11, 900.0, 950.0, "/etc/nm/config.yaml", 12, ("rules/a.yaml",), 50, 2)
    other = dataclasses.replace(loaded, pid=22, rules=13, rule_files=("rules/a.yaml", "b.yaml"))
    store.beat(Replica("a", "node-1", 11, 900.0, run=loaded), 1000.0)
    store.beat(Replica("b", "node-2", 22, 900.0, run=loaded), 1000.0)
    assert [r.run for r in store.replicas(1001.0)] == [loaded, loaded]
    assert not mixed_setups(store.replicas(1001.0), 1001.0)
    store.beat(Replica("b", "node-2", 22, 900.0, run=other), 1002.0)  # b reloaded other rules
    assert [r.run for r in store.replicas(1003.0)] == [loaded, other]
    assert mixed_setups(store.replicas(1003.0), 1003.0)
    # a is killed: silent, no longer counted among the alive, then forgotten.
    store.beat(Replica("b", "node-2", 22, 900.0, run=other), 1000.0 + STALE_AFTER + 1)
    assert not mixed_setups(store.replicas(1000.0 + STALE_AFTER + 1), 1000.0 + STALE_AFTER + 1)
    assert [r.id for r in store.replicas(1100.0)] == ["a", "b"]
    store.beat(Replica("b", "node-2", 22, 900.0, run=other), 1001.0 + FORGET_REPLICAS)
    assert [r.id for r in store.replicas(1001.0 + FORGET_REPLICAS)] == ["b"]


def test_replicas_asking_at_the_same_instant_get_the_feed_once(postgres_url: str) -> None:
    """Eight replicas, each with its own connections, claim one due feed together: one wins."""
    with Store(postgres_url) as first:
        first.add_feeds([("wire", "https://wire.example.org/rss")], 900.0)
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


def queue(store: Store, keys: list[str], group: str | None = None) -> list[str]:
    """Alerts for `keys`, each owed to notifier `ops` (in one group when `group` is given)."""
    alerts = [
        Alert(
            id=f"alert_{key}",
            rule=RuleInfo("bombers", "Bombers", Severity.HIGH),
            item=Item(feed="wire", key=key, title=key, link="https://x/"),
            matched=("bomber",),
            detected_at=datetime(2026, 11, 20, tzinfo=UTC),
        )
        for key in keys
    ]
    store.record_poll(
        store.feed_state("wire", "u"),
        [a.item for a in alerts],
        [QueuedAlert(a, (DeliveryPlan("ops", 1000.0, group),)) for a in alerts],
        1000.0,
    )
    return [a.message_id for a in alerts]


def test_a_message_is_sent_by_the_replica_that_claimed_it(store: Store) -> None:
    """B cannot take what A is sending; once A's lease ran out (A died) B takes the same
    message, whose id is still the alert's: the receiver sees a retry, not a new alert."""
    [alert] = queue(store, ["a"])
    assert store.claim([alert], "ops", "a", until=1120.0, now=1000.0)
    assert not store.claim([alert], "ops", "b", until=1121.0, now=1001.0)
    assert store.due_deliveries(1001.0) == []
    [due] = store.due_deliveries(1120.0)
    assert due.message_id == alert
    assert store.claim([alert], "ops", "b", until=1240.0, now=1120.0)
    store.mark_sent([alert], "ops", 1121.0)
    assert not store.claim([alert], "ops", "a", until=1300.0, now=1250.0)


def test_a_group_is_claimed_whole_or_not_at_all(store: Store) -> None:
    """A digest half held by another replica is left to it: no replica sends a partial digest."""
    ids = queue(store, ["a", "b", "c"], group="digest-1")
    assert store.claim(ids[:1], "ops", "a", until=1120.0, now=1000.0)
    assert not store.claim(ids, "ops", "b", until=1120.0, now=1000.0)
    assert store.claim(ids[1:], "ops", "c", until=1120.0, now=1000.0)  # b gave back what it took


def test_replicas_claiming_one_message_together_send_it_once(postgres_url: str) -> None:
    """Eight replicas claim one due message at the same instant: one gets it."""
    with Store(postgres_url) as first:
        [alert] = queue(first, ["a"])
    start = threading.Barrier(8)
    wins: list[str] = []

    def replica(name: str) -> None:
        with Store(postgres_url) as store:
            start.wait()
            if store.claim([alert], "ops", name, until=1120.0, now=1000.0):
                wins.append(name)

    threads = [threading.Thread(target=replica, args=(f"r{n}",)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(wins) == 1
