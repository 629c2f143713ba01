"""SQLite state: feed health and validators, items seen, alerts, and the delivery outbox.

Record first, send later: `record_poll` marks items seen and queues one outbox row per
(alert, notifier) in a single transaction, so a crash neither loses nor doubles an alert.
Deliveries leave the outbox only when a notifier confirms them (`mark_sent`) or fails for good.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from monitor.models import Alert, Item

SCHEMA = """
CREATE TABLE IF NOT EXISTS feeds (
    name TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    etag TEXT,
    last_modified TEXT,
    body_hash TEXT,
    last_polled_at REAL,
    last_success_at REAL,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    retry_at REAL,
    items_seen INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS items (
    feed TEXT NOT NULL,
    key TEXT NOT NULL,
    title TEXT NOT NULL,
    link TEXT NOT NULL,
    summary TEXT NOT NULL,
    content TEXT NOT NULL,
    published TEXT,
    first_seen_at REAL NOT NULL,
    PRIMARY KEY (feed, key)
);
CREATE INDEX IF NOT EXISTS items_first_seen ON items (first_seen_at);
CREATE TABLE IF NOT EXISTS alerts (
    id TEXT PRIMARY KEY,
    rule_id TEXT NOT NULL,
    severity INTEGER NOT NULL,
    feed TEXT NOT NULL,
    item_key TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS alerts_created ON alerts (created_at);
CREATE TABLE IF NOT EXISTS deliveries (
    alert_id TEXT NOT NULL REFERENCES alerts (id),
    notifier TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL,
    last_error TEXT,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    PRIMARY KEY (alert_id, notifier)
);
CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries (status, next_attempt_at);
CREATE TABLE IF NOT EXISTS disabled_notifiers (
    name TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    reason TEXT NOT NULL,
    disabled_at REAL NOT NULL
);
"""

_IN_CHUNK = 500  # stays under SQLite's bound-parameter limit


@dataclass(frozen=True)
class FeedState:
    """What the store remembers about a feed between polls."""

    name: str
    url: str
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    last_polled_at: float | None = None
    last_success_at: float | None = None
    consecutive_failures: int = 0
    last_error: str | None = None
    retry_at: float | None = None
    items_seen: int = 0


@dataclass(frozen=True)
class QueuedAlert:
    """An alert and the notifiers it must reach."""

    alert: Alert
    notifiers: tuple[str, ...]


@dataclass(frozen=True)
class Delivery:
    """One outbox row: an alert still owed to one notifier (or given up on)."""

    alert: Alert
    notifier: str
    status: str
    attempts: int
    next_attempt_at: float
    last_error: str | None
    created_at: float


class Store:
    """All state in one SQLite file (WAL mode). Single-process: the daemon holds a lock file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.conn.row_factory = sqlite3.Row
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.execute("PRAGMA busy_timeout=10000")
        self.conn.executescript(SCHEMA)

    def close(self) -> None:
        self.conn.close()

    def _transaction(self) -> _Transaction:
        return _Transaction(self.conn)

    # -- feeds ---------------------------------------------------------------

    def feed_state(self, name: str, url: str) -> FeedState:
        row = self.conn.execute("SELECT * FROM feeds WHERE name = ?", (name,)).fetchone()
        if row is None:
            return FeedState(name=name, url=url)
        state = FeedState(**dict(row))
        if state.url != url:
            # A new URL is a new resource: its validators and backoff do not carry over.
            return FeedState(name=name, url=url, items_seen=state.items_seen)
        return state

    def feed_states(self) -> list[FeedState]:
        rows = self.conn.execute("SELECT * FROM feeds ORDER BY name").fetchall()
        return [FeedState(**dict(row)) for row in rows]

    def _upsert_feed(self, state: FeedState) -> None:
        self.conn.execute(
            """INSERT INTO feeds (name, url, etag, last_modified, body_hash, last_polled_at,
                   last_success_at, consecutive_failures, last_error, retry_at, items_seen)
               VALUES (:name, :url, :etag, :last_modified, :body_hash, :last_polled_at,
                   :last_success_at, :consecutive_failures, :last_error, :retry_at, :items_seen)
               ON CONFLICT (name) DO UPDATE SET url = excluded.url, etag = excluded.etag,
                   last_modified = excluded.last_modified, body_hash = excluded.body_hash,
                   last_polled_at = excluded.last_polled_at,
                   last_success_at = excluded.last_success_at,
                   consecutive_failures = excluded.consecutive_failures,
                   last_error = excluded.last_error, retry_at = excluded.retry_at,
                   items_seen = excluded.items_seen""",
            state.__dict__,
        )

    def record_failure(
        self, state: FeedState, error: str, retry_at: float, now: float
    ) -> FeedState:
        failed = FeedState(
            **{
                **state.__dict__,
                "last_polled_at": now,
                "consecutive_failures": state.consecutive_failures + 1,
                "last_error": error,
                "retry_at": retry_at,
            }
        )
        with self._transaction():
            self._upsert_feed(failed)
        return failed

    def record_unchanged(self, state: FeedState, now: float) -> FeedState:
        """A 304 or an identical body: the feed is healthy and there is nothing new."""
        healthy = FeedState(
            **{
                **state.__dict__,
                "last_polled_at": now,
                "last_success_at": now,
                "consecutive_failures": 0,
                "last_error": None,
                "retry_at": None,
            }
        )
        with self._transaction():
            self._upsert_feed(healthy)
        return healthy

    # -- items and alerts ----------------------------------------------------

    def unseen(self, feed: str, items: Sequence[Item]) -> list[Item]:
        """The items of `feed` not recorded before, in their original order."""
        keys = [item.key for item in items]
        seen: set[str] = set()
        for start in range(0, len(keys), _IN_CHUNK):
            chunk = keys[start : start + _IN_CHUNK]
            marks = ",".join("?" * len(chunk))
            rows = self.conn.execute(
                f"SELECT key FROM items WHERE feed = ? AND key IN ({marks})", (feed, *chunk)
            )
            seen.update(row[0] for row in rows)
        return [item for item in items if item.key not in seen]

    def record_poll(
        self,
        state: FeedState,
        new_items: Iterable[Item],
        alerts: Iterable[QueuedAlert],
        now: float,
    ) -> FeedState:
        """Mark items seen, queue their alerts and store the feed's validators: all or nothing."""
        items = list(new_items)
        updated = FeedState(
            **{
                **state.__dict__,
                "last_polled_at": now,
                "last_success_at": now,
                "consecutive_failures": 0,
                "last_error": None,
                "retry_at": None,
                "items_seen": state.items_seen + len(items),
            }
        )
        with self._transaction():
            self.conn.executemany(
                """INSERT OR IGNORE INTO items
                   (feed, key, title, link, summary, content, published, first_seen_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
                [
                    (
                        item.feed,
                        item.key,
                        item.title,
                        item.link,
                        item.summary,
                        item.content,
                        item.published.isoformat() if item.published else None,
                        now,
                    )
                    for item in items
                ],
            )
            for queued in alerts:
                self._queue(queued, now)
            self._upsert_feed(updated)
        return updated

    def _queue(self, queued: QueuedAlert, now: float) -> None:
        alert = queued.alert
        self.conn.execute(
            """INSERT OR IGNORE INTO alerts (id, rule_id, severity, feed, item_key, payload, created_at)
               VALUES (?, ?, ?, ?, ?, ?, ?)""",
            (
                alert.id,
                alert.rule.id,
                int(alert.rule.severity),
                alert.item.feed,
                alert.item.key,
                json.dumps(alert.payload()),
                now,
            ),
        )
        self.conn.executemany(
            """INSERT OR IGNORE INTO deliveries
               (alert_id, notifier, status, attempts, next_attempt_at, created_at, updated_at)
               VALUES (?, ?, 'pending', 0, ?, ?, ?)""",
            [(alert.id, name, now, now, now) for name in queued.notifiers],
        )

    def iter_items(self, since: float | None = None) -> Iterator[Item]:
        """Stored items first seen at or after `since` (unix time), oldest first."""
        query = "SELECT * FROM items"
        params: tuple[float, ...] = ()
        if since is not None:
            query += " WHERE first_seen_at >= ?"
            params = (since,)
        for row in self.conn.execute(query + " ORDER BY first_seen_at", params):
            published = row["published"]
            yield Item(
                feed=row["feed"],
                key=row["key"],
                title=row["title"],
                link=row["link"],
                summary=row["summary"],
                content=row["content"],
                published=datetime.fromisoformat(published) if published else None,
            )

    def count_items(self, since: float | None = None) -> int:
        if since is None:
            row = self.conn.execute("SELECT count(*) FROM items").fetchone()
        else:
            row = self.conn.execute(
                "SELECT count(*) FROM items WHERE first_seen_at >= ?", (since,)
            ).fetchone()
        return int(row[0])

    def matches_by_rule(self, since: float) -> dict[str, int]:
        rows = self.conn.execute(
            "SELECT rule_id, count(*) FROM alerts WHERE created_at >= ? GROUP BY rule_id", (since,)
        )
        return {row[0]: int(row[1]) for row in rows}

    # -- outbox --------------------------------------------------------------

    def _deliveries(self, where: str, params: Sequence[object], limit: int = -1) -> list[Delivery]:
        rows = self.conn.execute(
            f"""SELECT d.*, a.payload FROM deliveries d JOIN alerts a ON a.id = d.alert_id
                WHERE {where} ORDER BY d.created_at, d.alert_id, d.notifier LIMIT ?""",
            (*params, limit),
        ).fetchall()
        return [
            Delivery(
                alert=Alert.from_payload(json.loads(row["payload"])),
                notifier=row["notifier"],
                status=row["status"],
                attempts=row["attempts"],
                next_attempt_at=row["next_attempt_at"],
                last_error=row["last_error"],
                created_at=row["created_at"],
            )
            for row in rows
        ]

    def due_deliveries(self, now: float | None, limit: int = 500) -> list[Delivery]:
        """Pending deliveries whose next attempt is due (all pending ones when `now` is None)."""
        if now is None:
            return self._deliveries("d.status = 'pending'", (), limit)
        return self._deliveries("d.status = 'pending' AND d.next_attempt_at <= ?", (now,), limit)

    def deliveries(self, status: str | None = None) -> list[Delivery]:
        if status is None:
            return self._deliveries("1 = 1", ())
        return self._deliveries("d.status = ?", (status,))

    def mark_sent(self, alert_id: str, notifier: str, now: float) -> None:
        with self._transaction():
            self.conn.execute(
                """UPDATE deliveries SET status = 'sent', attempts = attempts + 1,
                       last_error = NULL, updated_at = ?
                   WHERE alert_id = ? AND notifier = ?""",
                (now, alert_id, notifier),
            )

    def mark_retry(
        self, alert_id: str, notifier: str, error: str, next_attempt_at: float, now: float
    ) -> None:
        with self._transaction():
            self.conn.execute(
                """UPDATE deliveries SET attempts = attempts + 1, last_error = ?,
                       next_attempt_at = ?, updated_at = ?
                   WHERE alert_id = ? AND notifier = ? AND status = 'pending'""",
                (error, next_attempt_at, now, alert_id, notifier),
            )

    def mark_failed(self, alert_id: str, notifier: str, error: str, now: float) -> None:
        with self._transaction():
            self.conn.execute(
                """UPDATE deliveries SET status = 'failed', attempts = attempts + 1,
                       last_error = ?, updated_at = ?
                   WHERE alert_id = ? AND notifier = ? AND status = 'pending'""",
                (error, now, alert_id, notifier),
            )

    def requeue(self, alert_id: str | None, now: float) -> int:
        """Put failed deliveries back in the outbox (one alert's, or all when `alert_id` is None)."""
        with self._transaction():
            if alert_id is None:
                cursor = self.conn.execute(
                    """UPDATE deliveries SET status = 'pending', attempts = 0,
                           next_attempt_at = ?, updated_at = ? WHERE status = 'failed'""",
                    (now, now),
                )
            else:
                cursor = self.conn.execute(
                    """UPDATE deliveries SET status = 'pending', attempts = 0,
                           next_attempt_at = ?, updated_at = ?
                       WHERE status = 'failed' AND alert_id = ?""",
                    (now, now, alert_id),
                )
        return cursor.rowcount

    def outbox_summary(self) -> tuple[int, int, float | None]:
        """(pending, failed, created_at of the oldest pending delivery)."""
        row = self.conn.execute(
            """SELECT sum(status = 'pending'), sum(status = 'failed'),
                      min(CASE WHEN status = 'pending' THEN created_at END)
               FROM deliveries"""
        ).fetchone()
        return int(row[0] or 0), int(row[1] or 0), row[2]

    # -- notifiers disabled by a 410 ----------------------------------------

    def disable_notifier(self, name: str, fingerprint: str, reason: str, now: float) -> None:
        with self._transaction():
            self.conn.execute(
                """INSERT INTO disabled_notifiers (name, fingerprint, reason, disabled_at)
                   VALUES (?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET
                   fingerprint = excluded.fingerprint, reason = excluded.reason,
                   disabled_at = excluded.disabled_at""",
                (name, fingerprint, reason, now),
            )

    def disabled_reason(self, name: str, fingerprint: str) -> str | None:
        """Why the notifier is disabled, or None; a changed config (fingerprint) re-enables it."""
        row = self.conn.execute(
            "SELECT fingerprint, reason FROM disabled_notifiers WHERE name = ?", (name,)
        ).fetchone()
        if row is None:
            return None
        if row["fingerprint"] != fingerprint:
            with self._transaction():
                self.conn.execute("DELETE FROM disabled_notifiers WHERE name = ?", (name,))
            return None
        return str(row["reason"])


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT, rolled back on any exception."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> None:
        self.conn.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            self.conn.execute("COMMIT")
        else:
            self.conn.execute("ROLLBACK")


def utc_from_timestamp(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)
