"""The state: feed health and validators, items seen, alerts, the delivery outbox, silences and
rule cooldowns, in SQLite or PostgreSQL (monitor/db.py) with one SQL text for both.

Record first, send later: `record_poll` marks items seen and queues one outbox row per
(alert, notifier) in a single transaction, so a crash neither loses nor doubles an alert.
Deliveries leave the outbox only when a notifier confirms them (`mark_sent`) or fails for good.
An alert that a silence or its rule's cooldown covers is recorded with its delivery rows marked
`silenced` or `cooldown`: visible in `outbox list`, never sent.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass, fields, replace
from datetime import UTC, datetime
from pathlib import Path

from monitor.db import Row, connect
from monitor.migrations import migrate
from monitor.models import Alert, Item, Severity
from monitor.noise import Cooldown, DeliveryPlan, Silence, decide

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


_FEED_COLUMNS = ", ".join(f.name for f in fields(FeedState))
EARLY = 0.25  # a replica may poll a feed this fraction of its interval early (scheduler jitter)


@dataclass(frozen=True)
class Replica:
    """One `news-monitor run` process on the state, as the others see it."""

    id: str
    host: str
    pid: int
    started_at: float
    heartbeat_at: float = 0.0
    leases: int = 0  # feeds it is polling right now

    @classmethod
    def this_process(cls, now: float) -> Replica:
        host = socket.gethostname()
        return cls(f"{host}:{os.getpid()}:{secrets.token_hex(3)}", host, os.getpid(), now, now)


def _healthy(state: FeedState, now: float) -> FeedState:
    """`state` after a successful poll at `now`: failures and backoff cleared."""
    return replace(
        state,
        last_polled_at=now,
        last_success_at=now,
        consecutive_failures=0,
        last_error=None,
        retry_at=None,
    )


@dataclass(frozen=True)
class QueuedAlert:
    """An alert, the notifiers it must reach (and when), and its rule's cooldown in seconds."""

    alert: Alert
    plans: tuple[DeliveryPlan, ...]
    cooldown: float | None = None


@dataclass(frozen=True)
class Delivery:
    """One outbox row: an alert owed to one notifier (or sent, given up on, or suppressed)."""

    alert: Alert
    notifier: str
    status: str  # pending | sent | failed | silenced | cooldown
    attempts: int
    next_attempt_at: float
    last_error: str | None
    created_at: float
    hold_until: float = 0.0
    group: str | None = None
    updated_at: float = 0.0


class Store:
    """All state in one database: a SQLite file (WAL mode; one process, which the daemon's lock
    file enforces) or PostgreSQL (any number of replicas). Opening applies missing migrations."""

    def __init__(self, state: Path | str) -> None:
        self.db = connect(state)
        try:
            migrate(self.db)
        except BaseException:
            self.db.close()
            raise

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self.close()

    def _transaction(self) -> AbstractContextManager[None]:
        transaction: AbstractContextManager[None] = self.db.transaction()
        return transaction

    # -- feeds ---------------------------------------------------------------

    def feed_state(self, name: str, url: str) -> FeedState:
        row = self.db.execute(
            f"SELECT {_FEED_COLUMNS} FROM feeds WHERE name = ?", (name,)
        ).fetchone()
        if row is None:
            return FeedState(name=name, url=url)
        state = FeedState(**dict(row))
        if state.url != url:
            # A new URL is a new resource: its validators and backoff do not carry over.
            return FeedState(name=name, url=url, items_seen=state.items_seen)
        return state

    def feed_states(self) -> list[FeedState]:
        rows = self.db.execute(f"SELECT {_FEED_COLUMNS} FROM feeds ORDER BY name").fetchall()
        return [FeedState(**dict(row)) for row in rows]

    def _upsert_feed(self, state: FeedState) -> None:
        self.db.execute(
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
                   items_seen = excluded.items_seen, lease_until = NULL""",
            asdict(state),
        )

    def record_failure(
        self, state: FeedState, error: str, retry_at: float, now: float
    ) -> FeedState:
        failed = replace(
            state,
            last_polled_at=now,
            consecutive_failures=state.consecutive_failures + 1,
            last_error=error,
            retry_at=retry_at,
        )
        with self._transaction():
            self._upsert_feed(failed)
        return failed

    def record_unchanged(self, state: FeedState, now: float) -> FeedState:
        """A 304 or an identical body: the feed is healthy and there is nothing new."""
        healthy = _healthy(state, now)
        with self._transaction():
            self._upsert_feed(healthy)
        return healthy

    # -- replicas: which one polls which feed ----------------------------------

    def claim_feed(
        self, name: str, url: str, replica: str, *, interval: float, lease: float, now: float
    ) -> bool:
        """Take feed `name` for one poll, until `now + lease`: True only if it is due (no replica
        claimed it within the last interval, less a margin for jitter) and nobody holds it.

        Recording the poll releases the lease; a replica that dies holding one loses it when
        it expires, and the feed's next due poll goes to whichever replica asks first.
        """
        self.db.execute(
            "INSERT INTO feeds (name, url) VALUES (?, ?) ON CONFLICT DO NOTHING", (name, url)
        )
        claimed = self.db.execute(
            f"""UPDATE feeds SET claimed_by = ?, claimed_at = ?, lease_until = ?
                WHERE name = (SELECT name FROM feeds WHERE name = ?
                    AND (lease_until IS NULL OR lease_until <= ?)
                    AND (claimed_at IS NULL OR claimed_at <= ?){self.db.skip_locked})
                RETURNING name""",
            (replica, now, now + lease, name, now, now - interval * (1 - EARLY)),
        ).fetchone()
        return claimed is not None

    def beat(self, replica: Replica, now: float) -> None:
        """Say that `replica` is alive at `now`."""
        self.db.execute(
            """INSERT INTO replicas (id, host, pid, started_at, heartbeat_at)
               VALUES (?, ?, ?, ?, ?)
               ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at""",
            (replica.id, replica.host, replica.pid, replica.started_at, now),
        )

    def leave(self, replica: str) -> None:
        """A replica stopping cleanly: its leases are free at once, not at their expiry."""
        with self._transaction():
            self.db.execute("UPDATE feeds SET lease_until = NULL WHERE claimed_by = ?", (replica,))
            self.db.execute("DELETE FROM replicas WHERE id = ?", (replica,))

    def replicas(self, now: float) -> list[Replica]:
        """Every replica that has not left, with the feed leases it holds at `now`."""
        rows = self.db.execute(
            """SELECT r.id, r.host, r.pid, r.started_at, r.heartbeat_at,
                      (SELECT count(*) FROM feeds f
                       WHERE f.claimed_by = r.id AND f.lease_until > ?) AS leases
               FROM replicas r ORDER BY r.started_at, r.id""",
            (now,),
        )
        return [Replica(**dict(row)) for row in rows]

    # -- items and alerts ----------------------------------------------------

    def seen_keys(self, feed: str, keys: Sequence[str]) -> set[str]:
        """Which of `keys` were recorded for `feed` before."""
        seen: set[str] = set()
        for start in range(0, len(keys), _IN_CHUNK):
            chunk = keys[start : start + _IN_CHUNK]
            marks = ",".join("?" * len(chunk))
            rows = self.db.execute(
                f"SELECT key FROM items WHERE feed = ? AND key IN ({marks})", (feed, *chunk)
            )
            seen.update(row["key"] for row in rows)
        return seen

    def record_poll(
        self,
        state: FeedState,
        new_items: Iterable[Item],
        alerts: Iterable[QueuedAlert],
        now: float,
    ) -> FeedState:
        """Mark items seen, queue their alerts and store the feed's validators: all or nothing."""
        items = list(new_items)
        updated = replace(_healthy(state, now), items_seen=state.items_seen + len(items))
        with self._transaction():
            # Silences and cooldowns are read, then written: replicas decide one at a time.
            self.db.lock("decide")
            self.db.executemany(
                """INSERT INTO items
                   (feed, key, title, link, summary, content, published, first_seen_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING""",
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
        cursor = self.db.execute(
            """INSERT INTO alerts (id, rule_id, severity, feed, item_key, payload, created_at)
               VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING""",
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
        if cursor.rowcount == 0:
            return  # recorded before: its deliveries exist, and it must not restart a cooldown
        status, why = self._suppression(queued, now)
        self.db.executemany(
            """INSERT INTO deliveries
               (alert_id, notifier, status, attempts, next_attempt_at, last_error, created_at,
                updated_at, hold_until, group_key)
               VALUES (?, ?, ?, 0, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING""",
            [
                (alert.id, p.notifier, status, p.hold_until, why, now, now, p.hold_until, p.group)
                for p in queued.plans
            ],
        )

    def _suppression(self, queued: QueuedAlert, now: float) -> tuple[str, str | None]:
        """Decide from the silences and the rule's cooldown, then record a cooldown it starts."""
        alert = queued.alert
        length = queued.cooldown if queued.plans else None  # nothing to send: nothing to cool
        cooldown = None
        if length:
            row = self.db.execute(
                "SELECT * FROM cooldowns WHERE rule_id = ?", (alert.rule.id,)
            ).fetchone()
            if row is not None:
                cooldown = Cooldown(
                    row["rule_id"], row["started_at"], Severity(row["severity"]), row["alert_id"]
                )
        decision = decide(alert, self.silences(now), cooldown, length, now)
        if decision.starts is not None:
            started = decision.starts
            self.db.execute(
                """INSERT INTO cooldowns (rule_id, started_at, severity, alert_id)
                   VALUES (?, ?, ?, ?)
                   ON CONFLICT (rule_id) DO UPDATE SET started_at = excluded.started_at,
                       severity = excluded.severity, alert_id = excluded.alert_id""",
                (started.rule, started.started_at, int(started.severity), started.alert_id),
            )
        return decision.status, decision.reason

    def iter_items(self, since: float | None = None) -> Iterator[Item]:
        """Stored items first seen at or after `since` (unix time), oldest first."""
        query = "SELECT * FROM items"
        params: tuple[float, ...] = ()
        if since is not None:
            query += " WHERE first_seen_at >= ?"
            params = (since,)
        for row in self.db.execute(query + " ORDER BY first_seen_at", params):
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
            row = self.db.execute("SELECT count(*) AS n FROM items").fetchone()
        else:
            row = self.db.execute(
                "SELECT count(*) AS n FROM items WHERE first_seen_at >= ?", (since,)
            ).fetchone()
        return int(row["n"])

    def matches_by_rule(self, since: float) -> dict[str, int]:
        rows = self.db.execute(
            "SELECT rule_id, count(*) AS n FROM alerts WHERE created_at >= ? GROUP BY rule_id",
            (since,),
        )
        return {row["rule_id"]: int(row["n"]) for row in rows}

    # -- outbox --------------------------------------------------------------

    def _deliveries(
        self, where: str, params: Sequence[object], limit: int | None = None
    ) -> list[Delivery]:
        rows = self.db.execute(
            f"""SELECT d.*, a.payload FROM deliveries d JOIN alerts a ON a.id = d.alert_id
                WHERE {where} ORDER BY d.hold_until, d.created_at, d.alert_id, d.notifier
                {"" if limit is None else "LIMIT ?"}""",
            (*params,) if limit is None else (*params, limit),
        ).fetchall()
        return [self._delivery(row) for row in rows]

    @staticmethod
    def _delivery(row: Row) -> Delivery:
        return Delivery(
            alert=Alert.from_payload(json.loads(row["payload"])),
            notifier=row["notifier"],
            status=row["status"],
            attempts=row["attempts"],
            next_attempt_at=row["next_attempt_at"],
            last_error=row["last_error"],
            created_at=row["created_at"],
            hold_until=row["hold_until"],
            group=row["group_key"],
            updated_at=row["updated_at"],
        )

    def due_deliveries(
        self, now: float, *, force: bool = False, limit: int = 500
    ) -> list[Delivery]:
        """Pending deliveries no longer held whose next attempt is due.

        `force` ignores the retry backoff (the user asked for a delivery now) but never a hold:
        quiet hours, group windows and digests are kept even then.
        """
        if force:
            return self._deliveries("d.status = 'pending' AND d.hold_until <= ?", (now,), limit)
        return self._deliveries(
            "d.status = 'pending' AND d.hold_until <= ? AND d.next_attempt_at <= ?",
            (now, now),
            limit,
        )

    def group_members(self, notifier: str, group: str) -> list[Delivery]:
        """Every pending delivery of one group: they go out as one message."""
        return self._deliveries(
            "d.status = 'pending' AND d.notifier = ? AND d.group_key = ?", (notifier, group)
        )

    def deliveries(self, status: str | None = None) -> list[Delivery]:
        if status is None:
            return self._deliveries("1 = 1", ())
        return self._deliveries("d.status = ?", (status,))

    def delivery_page(self, status: str, limit: int, offset: int = 0) -> list[Delivery]:
        """One page of deliveries in `status`: pending by release time, the others newest first."""
        order = (
            "d.hold_until, d.next_attempt_at"
            if status == "pending"
            else "d.updated_at DESC, d.alert_id DESC, d.notifier DESC"
        )
        rows = self.db.execute(
            f"""SELECT d.*, a.payload FROM deliveries d JOIN alerts a ON a.id = d.alert_id
                WHERE d.status = ? ORDER BY {order} LIMIT ? OFFSET ?""",
            (status, limit, offset),
        ).fetchall()
        return [self._delivery(row) for row in rows]

    def delivery_counts(self) -> dict[str, int]:
        """How many deliveries are in each status but `sent` (which only grows)."""
        return {
            status: int(
                self.db.execute(
                    "SELECT count(*) AS n FROM deliveries WHERE status = ?", (status,)
                ).fetchone()["n"]
            )
            for status in ("pending", "failed", "silenced", "cooldown")
        }

    def retry_delivery(self, alert_id: str, notifier: str, now: float) -> bool:
        """Send one delivery at the next drain: a failed, silenced or cooldown one goes back to
        pending, a pending one skips its retry backoff (a hold such as quiet hours stays)."""
        with self._transaction():
            cursor = self.db.execute(
                """UPDATE deliveries SET attempts = CASE WHEN status = 'pending'
                       THEN attempts ELSE 0 END,
                       status = 'pending', next_attempt_at = ?, updated_at = ?
                   WHERE alert_id = ? AND notifier = ? AND status != 'sent'""",
                (now, now, alert_id, notifier),
            )
        return cursor.rowcount > 0

    def _update(self, sql: str, params: Sequence[object], alert_ids: Iterable[str]) -> None:
        """Run `sql` (ending in "alert_id = ?") for each alert id, in one transaction."""
        with self._transaction():
            self.db.executemany(sql, [(*params, alert_id) for alert_id in alert_ids])

    def mark_sent(self, alert_ids: Iterable[str], notifier: str, now: float) -> None:
        self._update(
            """UPDATE deliveries SET status = 'sent', attempts = attempts + 1,
                   last_error = NULL, updated_at = ?
               WHERE notifier = ? AND alert_id = ?""",
            (now, notifier),
            alert_ids,
        )

    def mark_retry(
        self,
        alert_ids: Iterable[str],
        notifier: str,
        error: str,
        next_attempt_at: float,
        now: float,
    ) -> None:
        self._update(
            """UPDATE deliveries SET attempts = attempts + 1, last_error = ?,
                   next_attempt_at = ?, updated_at = ?
               WHERE status = 'pending' AND notifier = ? AND alert_id = ?""",
            (error, next_attempt_at, now, notifier),
            alert_ids,
        )

    def mark_failed(self, alert_ids: Iterable[str], notifier: str, error: str, now: float) -> None:
        self._update(
            """UPDATE deliveries SET status = 'failed', attempts = attempts + 1,
                   last_error = ?, updated_at = ?
               WHERE status = 'pending' AND notifier = ? AND alert_id = ?""",
            (error, now, notifier),
            alert_ids,
        )

    def requeue(self, alert_id: str | None, now: float) -> int:
        """Put failed deliveries back in the outbox (one alert's, or all when `alert_id` is None).

        Naming one alert also replays it when a silence or cooldown kept it back.
        """
        with self._transaction():
            if alert_id is None:
                cursor = self.db.execute(
                    """UPDATE deliveries SET status = 'pending', attempts = 0,
                           next_attempt_at = ?, updated_at = ? WHERE status = 'failed'""",
                    (now, now),
                )
            else:
                cursor = self.db.execute(
                    """UPDATE deliveries SET status = 'pending', attempts = 0,
                           next_attempt_at = ?, updated_at = ?
                       WHERE status IN ('failed', 'silenced', 'cooldown') AND alert_id = ?""",
                    (now, now, alert_id),
                )
        return cursor.rowcount

    # -- silences ------------------------------------------------------------

    def add_silence(
        self, rule: str, feed: str | None, ends_at: float, comment: str, now: float
    ) -> tuple[Silence, int]:
        """Silence `rule` (on `feed`) until `ends_at`, including deliveries already waiting.

        Returns the silence and how many pending deliveries it took out of the outbox.
        """
        with self._transaction():
            self.db.lock("decide")
            row = self.db.execute(
                """INSERT INTO silences (rule_id, feed, starts_at, ends_at, comment)
                   VALUES (?, ?, ?, ?, ?) RETURNING id""",
                (rule, feed, now, ends_at, comment),
            ).fetchone()
            silence = Silence(row["id"], rule, feed, now, ends_at, comment)
            on_feed = "" if feed is None else " AND feed = ?"
            updated = self.db.execute(
                f"""UPDATE deliveries SET status = 'silenced', last_error = ?, updated_at = ?
                    WHERE status = 'pending' AND alert_id IN (
                        SELECT id FROM alerts WHERE rule_id = ?{on_feed})""",
                (silence.describe(), now, rule, *(() if feed is None else (feed,))),
            )
        return silence, updated.rowcount

    def silences(self, now: float) -> list[Silence]:
        """Silences in force at `now`, oldest first."""
        rows = self.db.execute(
            "SELECT * FROM silences WHERE starts_at <= ? AND ends_at > ? ORDER BY id", (now, now)
        )
        return [
            Silence(
                row["id"],
                row["rule_id"],
                row["feed"],
                row["starts_at"],
                row["ends_at"],
                row["comment"],
            )
            for row in rows
        ]

    def remove_silence(self, silence_id: int) -> bool:
        """End a silence now (alerts it kept back stay unsent); False if there is no such id."""
        with self._transaction():
            cursor = self.db.execute("DELETE FROM silences WHERE id = ?", (silence_id,))
        return cursor.rowcount > 0

    def outbox_summary(self) -> tuple[int, int, float | None]:
        """(pending, failed, since when the longest-waiting pending delivery has been due).

        A delivery held on purpose (quiet hours, a group window, a digest) counts as due only
        from its release time, so a morning digest does not look like a stuck outbox.
        """
        row = self.db.execute(
            """SELECT count(*) FILTER (WHERE status = 'pending') AS pending,
                      count(*) FILTER (WHERE status = 'failed') AS failed,
                      min(CASE WHEN status != 'pending' THEN NULL
                               WHEN created_at > hold_until THEN created_at
                               ELSE hold_until END) AS oldest
               FROM deliveries"""
        ).fetchone()
        return int(row["pending"]), int(row["failed"]), row["oldest"]

    # -- notifiers disabled by a 410 ----------------------------------------

    def disable_notifier(self, name: str, fingerprint: str, reason: str, now: float) -> None:
        with self._transaction():
            self.db.execute(
                """INSERT INTO disabled_notifiers (name, fingerprint, reason, disabled_at)
                   VALUES (?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET
                   fingerprint = excluded.fingerprint, reason = excluded.reason,
                   disabled_at = excluded.disabled_at""",
                (name, fingerprint, reason, now),
            )

    def disabled_reason(self, name: str, fingerprint: str) -> str | None:
        """Why the notifier is disabled, or None; a changed config (fingerprint) re-enables it."""
        row = self.db.execute(
            "SELECT fingerprint, reason FROM disabled_notifiers WHERE name = ?", (name,)
        ).fetchone()
        if row is None:
            return None
        if row["fingerprint"] != fingerprint:
            with self._transaction():
                self.db.execute("DELETE FROM disabled_notifiers WHERE name = ?", (name,))
            return None
        return str(row["reason"])


def utc_from_timestamp(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)
