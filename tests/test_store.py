"""State on either backend: what is recorded survives a restart, and the outbox tracks every
delivery. Tests taking `store` run once on SQLite and once on PostgreSQL."""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from monitor.feeds.parse import read_entries
from monitor.models import Alert, Item, RuleInfo, Severity
from monitor.noise import DeliveryPlan
from monitor.store import QueuedAlert, Store

RULE = RuleInfo("bombers", "US bombers near Venezuela", Severity.HIGH, ("air",))


def item(key: str) -> Item:
    return Item(
        feed="wire",
        key=key,
        title=f"Story {key}",
        link=f"https://news.example.org/{key}",
        summary="summary",
        published=datetime(2026, 11, 20, 12, 0, tzinfo=UTC),
    )


def queued(key: str, notifiers: tuple[str, ...] = ("ops", "desk")) -> QueuedAlert:
    alert = Alert(
        id=f"alert_{key}",
        rule=RULE,
        item=item(key),
        matched=("bomber",),
        detected_at=datetime(2026, 11, 20, tzinfo=UTC),
        values={"killed": 6.0},
    )
    return QueuedAlert(alert, tuple(DeliveryPlan(name, 1000.0) for name in notifiers))


@pytest.fixture
def store(state: Path | str) -> Iterator[Store]:
    with Store(state) as opened:
        yield opened


def test_the_state_folder_is_created(tmp_path: Path) -> None:
    """The SQLite file and its folder appear on first use."""
    Store(tmp_path / "deep" / "folder" / "state.db").close()
    assert (tmp_path / "deep" / "folder" / "state.db").exists()


def test_recorded_items_are_seen_after_a_restart(state: Path | str, store: Store) -> None:
    """Items recorded in one process are not new to the next one."""
    feed = store.feed_state("wire", "https://wire.example.org/rss")
    store.record_poll(feed, [item("a"), item("b")], [], now=1000.0)
    store.close()
    reopened = Store(state)
    assert reopened.seen_keys("wire", ["a", "c", "b"]) == {"a", "b"}
    assert reopened.feed_state("wire", "https://wire.example.org/rss").items_seen == 2


def test_each_alert_is_queued_once_per_notifier(store: Store) -> None:
    """Recording the same alert twice does not queue it twice."""
    state = store.feed_state("wire", "https://wire.example.org/rss")
    store.record_poll(state, [item("a")], [queued("a")], now=1000.0)
    store.record_poll(state, [item("a")], [queued("a")], now=1001.0)
    due = store.due_deliveries(now=2000.0)
    assert {d.message_id for d in due} == {queued("a").alert.message_id}
    assert sorted(d.notifier for d in due) == ["desk", "ops"]
    assert due[0].alert.values == {"killed": 6.0}
    assert due[0].alert.rule == RULE


def test_a_retry_waits_and_a_failure_becomes_a_dead_letter(store: Store) -> None:
    """mark_retry postpones; mark_failed keeps the delivery visible and replayable."""
    state = store.feed_state("wire", "https://wire.example.org/rss")
    store.record_poll(state, [item("a")], [queued("a", ("ops",))], now=1000.0)
    alert_id = store.due_deliveries(now=1000.0)[0].message_id
    store.mark_retry([alert_id], "ops", "503", next_attempt_at=1300.0, now=1000.0)
    assert store.due_deliveries(now=1200.0) == []
    assert len(store.due_deliveries(now=1300.0)) == 1
    store.mark_failed([alert_id], "ops", "400 bad request", now=1300.0)
    [dead] = store.deliveries("failed")
    assert dead.attempts == 2 and dead.last_error == "400 bad request"
    assert store.outbox_summary()[:2] == (0, 1)
    assert store.requeue(None, None, now=1400.0).moved == {"failed": 1}
    assert len(store.due_deliveries(now=1400.0)) == 1


def test_a_feed_whose_url_changed_forgets_its_validators(store: Store) -> None:
    """An ETag from the old URL is never sent to the new one."""
    state = store.feed_state("wire", "https://old.example.org/rss")
    store.record_poll(type(state)(**{**state.__dict__, "etag": '"abc"'}), [], [], now=1000.0)
    assert store.feed_state("wire", "https://old.example.org/rss").etag == '"abc"'
    assert store.feed_state("wire", "https://new.example.org/rss").etag is None


def test_a_state_file_of_the_first_release_is_upgraded_in_place(tmp_path: Path) -> None:
    """Deliveries waiting in an older state file survive the upgrade and are still due."""
    path = tmp_path / "old.db"
    old = sqlite3.connect(path)
    old.executescript(
        """CREATE TABLE alerts (id TEXT PRIMARY KEY, rule_id TEXT NOT NULL,
               severity INTEGER NOT NULL, feed TEXT NOT NULL, item_key TEXT NOT NULL,
               payload TEXT NOT NULL, created_at REAL NOT NULL);
           CREATE TABLE deliveries (alert_id TEXT NOT NULL REFERENCES alerts (id),
               notifier TEXT NOT NULL,
               status TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
               attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at REAL NOT NULL,
               last_error TEXT, created_at REAL NOT NULL, updated_at REAL NOT NULL,
               PRIMARY KEY (alert_id, notifier));
           CREATE INDEX deliveries_due ON deliveries (status, next_attempt_at);"""
    )
    alert = queued("a").alert
    # The payload as the first release wrote it: no message id, no story.
    first_release = {
        key: value
        for key, value in alert.payload().items()
        if key in ("id", "rule", "item", "matched", "values", "detected_at")
    }
    old.execute(
        "INSERT INTO alerts VALUES (?, ?, ?, ?, ?, ?, ?)",
        (alert.id, "bombers", 3, "wire", "a", json.dumps(first_release), 900.0),
    )
    old.execute(
        "INSERT INTO deliveries VALUES (?, 'ops', 'pending', 1, 950.0, '503', 900.0, 900.0)",
        (alert.id,),
    )
    old.commit()
    old.close()
    store = Store(path)
    [due] = store.due_deliveries(now=1000.0)
    assert (due.alert.id, due.attempts, due.hold_until) == (alert.id, 1, 900.0)
    # Its retry goes out under the webhook-id it had before the upgrade.
    assert due.message_id == alert.id
    store.add_silence("bombers", None, ends_at=2000.0, comment="", now=1000.0)
    assert [d.status for d in store.deliveries()] == ["silenced"]


# Surrogates and NUL included: JSON can carry both, and neither database stores them as such.
TEXT = st.text(
    st.one_of(st.characters(exclude_categories=()), st.sampled_from("\x00\ud800?%:'")), max_size=30
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ids=st.lists(TEXT, min_size=1, max_size=5), title=TEXT)
@example(ids=["a\x00b", "c\ud800", "%s ?"], title="")
def test_whatever_ids_a_feed_sends_its_items_are_stored_and_seen_again(
    store: Store, ids: list[str], title: str
) -> None:
    """NULs, lone surrogates, quotes and placeholders in a JSON Feed's ids and titles: the poll
    is recorded on either backend and the same items are not new the next time."""
    name = f"wire-{uuid.uuid4().hex}"  # one store serves every example: a feed of its own each
    body = json.dumps(
        {
            "version": "https://jsonfeed.org/version/1.1",
            "title": name,
            "items": [{"id": i, "title": f"{title} {n}"} for n, i in enumerate(ids)],
        }
    ).encode()
    entries = read_entries(
        body, feed_name=name, base_url="https://wire.example.org/", content_type="application/json"
    )
    items = [entry.item() for entry in entries]
    keys = [item.key for item in items]
    store.record_poll(store.feed_state(name, "https://wire.example.org/feed.json"), items, [], 1.0)
    assert store.seen_keys(name, keys) == set(keys)
    assert {i.key: i.title for i in store.iter_items() if i.feed == name} == {
        i.key: i.title for i in items
    }
