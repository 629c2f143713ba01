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
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from monitor.db import Row, connect
from monitor.health import STALE_AFTER, RunInfo
from monitor.migrations import migrate
from monitor.models import Alert, Item, Severity
from monitor.noise import Cooldown, DeliveryPlan, Silence, decide, urgency
from monitor.stories.cluster import Candidate, Member
from monitor.stories.features import Features
from monitor.stories.lifecycle import Announced
from monitor.stories.unplaced import UnplacedReports

_IN_CHUNK = 500  # stays under SQLite's bound-parameter limit
MEMBERS_COMPARED = 24  # latest reports of a story an item is compared with: bounds the cost
CANDIDATES = 12  # stories sharing the most terms that an item is compared with
FEATURES_CACHE = 50_000  # parsed report features kept in memory


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
    # When the feed was added to a state that had already polled others (its first poll then
    # baselines); None for a feed that was there from the state's first start.
    added_at: float | None = None


# Read once: dataclasses.asdict (a deep copy) and fields() on every poll cost a steady poll ~5%.
_FEED_FIELDS = tuple(f.name for f in fields(FeedState))
_FEED_COLUMNS = ", ".join(_FEED_FIELDS)
CLOCK_SLACK = 10.0  # seconds a claim may lie in the future (clock skew between replicas)
FORGET_REPLICAS = 3600.0  # seconds of silence after which a replica is dropped from the table
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
    run: RunInfo | None = None  # what it loaded, as it said with its last heartbeat

    @classmethod
    def this_process(cls, now: float) -> Replica:
        host = socket.gethostname()
        return cls(f"{host}:{os.getpid()}:{secrets.token_hex(3)}", host, os.getpid(), now, now)

    def alive(self, now: float) -> bool:
        """Whether it beat recently enough to count as running (not stopped or cut off)."""
        return now - self.heartbeat_at <= STALE_AFTER


def mixed_setups(replicas: Iterable[Replica], now: float) -> bool:
    """Whether the alive replicas run different configs or rules: they share the feeds and the
    outbox, so which of them polled a feed would decide what alerts and where."""
    runs = [r.run for r in replicas if r.alive(now) and r.run is not None]
    return any(not run.same_setup(runs[0]) for run in runs)


def _feed_state(row: Row | None, name: str, url: str) -> FeedState:
    """What a stored feeds row says about feed `name` at `url`."""
    if row is None:
        return FeedState(name=name, url=url)
    state = FeedState(*(row[name] for name in _FEED_FIELDS))
    if state.url != url:
        # A new URL is a new resource: its validators and backoff do not carry over.
        return FeedState(name=name, url=url, items_seen=state.items_seen, added_at=state.added_at)
    return state


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
    message_id: str = ""  # the webhook-id this delivery goes out under

    def __post_init__(self) -> None:
        if not self.message_id:
            object.__setattr__(self, "message_id", self.alert.message_id)


@dataclass(frozen=True)
class StoryItem:
    """A matched report as its story records it."""

    feed: str
    key: str
    title: str
    link: str
    outlet: str
    source: str
    at: float  # when the occurrence was reported: published (if sane), else first seen
    published: str | None
    features: Features
    hits: list[dict[str, object]]  # {"rule", "values", "matched"} per rule the item matched


@dataclass(frozen=True)
class StoryRow:
    id: str
    title: str
    first_at: float
    last_at: float
    sources: int


@dataclass(frozen=True)
class StoryReportRow:
    feed: str
    key: str
    title: str
    link: str
    outlet: str
    source: str
    at: float
    published: str | None
    rules: tuple[str, ...]


@dataclass(frozen=True)
class MessageRow:
    """One message about an alert and one of its deliveries (notifier None: no route took it)."""

    message_id: str
    alert_id: str
    event: str
    rule: str
    created_at: float
    notifier: str | None
    status: str | None
    updated_at: float | None


def _message(payload: str, message_id: str) -> Alert:
    """The alert a stored message carries; one recorded before stories keeps its row id."""
    data = json.loads(payload)
    data.setdefault("message_id", message_id)
    return Alert.from_payload(data)


def _story_row(row: Any) -> StoryRow:
    return StoryRow(row["id"], row["title"], row["first_at"], row["last_at"], row["sources"])


@dataclass(frozen=True)
class Requeued:
    """What `outbox retry` did: deliveries made due now, by the status they had, and those it
    left alone (held on purpose until later; silenced or in a cooldown, unless named by id)."""

    moved: dict[str, int]
    held: int
    kept_back: int


class Store:
    """All state in one database: a SQLite file (WAL mode; one process, which the daemon's lock
    file enforces) or PostgreSQL (any number of replicas). Opening applies missing migrations."""

    def __init__(self, state: Path | str) -> None:
        self._depth = 0
        self._features_cache: dict[tuple[str, str], tuple[Features, frozenset[str]]] = {}
        # Reports no rule matched that joined no story: a story started later may count them.
        self.unplaced = UnplacedReports()
        self._stories_counted: int | None = None
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

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """One database transaction; nested calls join the outermost one."""
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        transaction: AbstractContextManager[None] = self.db.transaction()
        with transaction:
            self._depth = 1
            try:
                yield
            finally:
                self._depth = 0

    def transaction(self) -> AbstractContextManager[None]:
        """Everything inside commits together or not at all (nested calls join it)."""
        return self._transaction()

    # -- feeds ---------------------------------------------------------------

    def feed_state(self, name: str, url: str) -> FeedState:
        row = self.db.execute(
            f"SELECT {_FEED_COLUMNS} FROM feeds WHERE name = ?", (name,)
        ).fetchone()
        return _feed_state(row, name, url)

    def feed_states(self) -> list[FeedState]:
        rows = self.db.execute(f"SELECT {_FEED_COLUMNS} FROM feeds ORDER BY name").fetchall()
        return [FeedState(**dict(row)) for row in rows]

    def _upsert_feed(self, state: FeedState) -> None:
        self.db.execute(*self._feed_upsert(state))

    @staticmethod
    def _feed_upsert(state: FeedState) -> tuple[str, dict[str, Any]]:
        return (
            """INSERT INTO feeds (name, url, etag, last_modified, body_hash, last_polled_at,
                   last_success_at, consecutive_failures, last_error, retry_at, items_seen,
                   added_at)
               VALUES (:name, :url, :etag, :last_modified, :body_hash, :last_polled_at,
                   :last_success_at, :consecutive_failures, :last_error, :retry_at, :items_seen,
                   :added_at)
               ON CONFLICT (name) DO UPDATE SET url = excluded.url, etag = excluded.etag,
                   last_modified = excluded.last_modified, body_hash = excluded.body_hash,
                   last_polled_at = excluded.last_polled_at,
                   last_success_at = excluded.last_success_at,
                   consecutive_failures = excluded.consecutive_failures,
                   last_error = excluded.last_error, retry_at = excluded.retry_at,
                   items_seen = excluded.items_seen, lease_until = NULL""",
            {name: getattr(state, name) for name in _FEED_FIELDS},
        )

    def _record_feed(self, state: FeedState) -> None:
        """Store a poll that brought nothing new. Its commit need not wait for the disk: lost in
        a database crash, it costs one more full fetch, whose items are already seen."""
        if self._depth:
            self._upsert_feed(state)
        else:
            self.db.batch([self._feed_upsert(state)], durable=False)

    def add_feeds(self, feeds: Iterable[tuple[str, str]], now: float) -> None:
        """Make the (name, url) feeds known to the state. One the state did not know is added
        at `now` if the state already polled some feed (its first poll baselines then); on a
        brand-new state the feeds were there from the start. Known feeds are left as they are."""
        with self._transaction():
            added = now if self.has_polled() else None
            self.db.executemany(
                "INSERT INTO feeds (name, url, added_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                [(name, url, added) for name, url in feeds],
            )

    def has_polled(self) -> bool:
        """Whether any feed was ever polled successfully: a feed added now is new to the state."""
        row = self.db.execute(
            "SELECT 1 FROM feeds WHERE last_success_at IS NOT NULL LIMIT 1"
        ).fetchone()
        return row is not None

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
        self._record_feed(failed)
        return failed

    def record_unchanged(self, state: FeedState, now: float) -> FeedState:
        """A 304 or an identical body: the feed is healthy and there is nothing new."""
        healthy = _healthy(state, now)
        self._record_feed(healthy)
        return healthy

    # -- replicas: which one polls which feed ----------------------------------

    def claim_feed(
        self, name: str, url: str, replica: str, *, interval: float, lease: float, now: float
    ) -> FeedState | None:
        """Take feed `name` for one poll, until `now + lease`, if it is due (no replica claimed
        it within the last interval, less a margin for jitter, and it is not waiting out a
        failure's backoff) and nobody holds it: then what the state remembers of it (for the
        poll, which need not read it again), else None.

        Recording the poll releases the lease; a replica that dies holding one loses it when
        it expires, and the feed's next due poll goes to whichever replica asks first. A feed
        in backoff is not claimed at all: a claim that polls nothing records nothing, so its
        lease would lock the feed to every replica long after the backoff ended.

        The feed must be known to the state (`add_feeds`, which opening the app and every
        reload run for the configured feeds): inserting it here, in case, cost every claim a
        statement a third as dear as the claim itself.
        """
        claimed = self.db.batch(
            [
                (
                    f"""UPDATE feeds SET claimed_by = ?, claimed_at = ?, lease_until = ?
                    WHERE name = (SELECT name FROM feeds WHERE name = ?
                        AND (lease_until IS NULL OR lease_until <= ? OR lease_until > ?)
                        AND (claimed_at IS NULL OR claimed_at <= ? OR claimed_at > ?)
                        AND (retry_at IS NULL OR retry_at <= ? OR url <> ?)
                        {self.db.skip_locked})
                    RETURNING {_FEED_COLUMNS}""",
                    (
                        replica,
                        now,
                        now + lease,
                        name,
                        now,
                        now + CLOCK_SLACK + lease,  # a lease from before a clock step back
                        now - interval * (1 - EARLY),
                        now + CLOCK_SLACK,  # a claim from before a clock step back
                        now,
                        url,  # a new URL is a new resource: the old one's backoff is void
                    ),
                ),
            ],
            durable=False,  # a claim lost in a database crash costs one more poll at worst
        ).fetchone()
        return None if claimed is None else _feed_state(claimed, name, url)

    def release_leases(self) -> None:
        """For the one process a SQLite state allows (its lock is held): leases a killed run
        left behind are void, so its messages go out now rather than when their lease ends."""
        with self._transaction():
            self.db.execute(
                "UPDATE deliveries SET lease_until = NULL WHERE lease_until IS NOT NULL"
            )
            self.db.execute("UPDATE feeds SET lease_until = NULL WHERE lease_until IS NOT NULL")

    def beat(self, replica: Replica, now: float) -> None:
        """Say that `replica` is alive at `now`, and what it runs; forget the replicas silent
        for FORGET_REPLICAS (killed ones never leave: `status` would list them for ever)."""
        run = replica.run.encode() if replica.run is not None else None
        self.db.batch(
            [
                (
                    """INSERT INTO replicas (id, host, pid, started_at, heartbeat_at, run_info)
                    VALUES (?, ?, ?, ?, ?, ?)
                    ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at,
                        run_info = excluded.run_info""",
                    (replica.id, replica.host, replica.pid, replica.started_at, now, run),
                ),
                ("DELETE FROM replicas WHERE heartbeat_at < ?", (now - FORGET_REPLICAS,)),
            ],
            durable=False,
        )

    def leave(self, replica: str) -> None:
        """A replica stopping cleanly: its leases are free at once, not at their expiry."""
        with self._transaction():
            self.db.execute("UPDATE feeds SET lease_until = NULL WHERE claimed_by = ?", (replica,))
            self.db.execute("DELETE FROM replicas WHERE id = ?", (replica,))

    def replicas(self, now: float) -> list[Replica]:
        """Every replica that has not left, with the feed leases it holds at `now`."""
        rows = self.db.execute(
            """SELECT r.id, r.host, r.pid, r.started_at, r.heartbeat_at, r.run_info,
                      (SELECT count(*) FROM feeds f
                       WHERE f.claimed_by = r.id AND f.lease_until > ?) AS leases
               FROM replicas r ORDER BY r.started_at, r.id""",
            (now,),
        )
        return [
            Replica(
                row["id"],
                row["host"],
                row["pid"],
                row["started_at"],
                row["heartbeat_at"],
                row["leases"],
                RunInfo.decode(row["run_info"]),
            )
            for row in rows
        ]

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
                """INSERT INTO items (feed, key, title, link, summary, content, published,
                       first_seen_at, author, source)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING""",
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
                        item.author,
                        item.source,
                    )
                    for item in items
                ],
            )
            for queued in alerts:
                self._queue(queued, now)
            self._upsert_feed(updated)
        return updated

    def queue(self, queued: QueuedAlert, now: float) -> None:
        """Record one message and its deliveries (once: a message id is queued only once)."""
        with self._transaction():
            self._queue(queued, now)

    def _queue(self, queued: QueuedAlert, now: float) -> None:
        alert = queued.alert
        cursor = self.db.execute(
            """INSERT INTO alerts (id, rule_id, severity, feed, item_key, payload, created_at,
                   alert_key, story_id, event, urgency)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING""",
            (
                alert.message_id,
                alert.rule.id,
                int(alert.rule.severity),
                alert.item.feed,
                alert.item.key,
                json.dumps(alert.payload()),
                now,
                alert.id,
                alert.story.id if alert.story else None,
                alert.event,
                urgency(alert),
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
                (
                    alert.message_id,
                    p.notifier,
                    status,
                    p.hold_until,
                    why,
                    now,
                    now,
                    p.hold_until,
                    p.group,
                )
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
        return (item for item, _seen in self.iter_seen(since))

    def iter_seen(self, since: float | None = None) -> Iterator[tuple[Item, float]]:
        """Stored items first seen at or after `since`, oldest first, with when they were."""
        query = "SELECT * FROM items"
        params: tuple[float, ...] = ()
        if since is not None:
            query += " WHERE first_seen_at >= ?"
            params = (since,)
        for row in self.db.execute(query + " ORDER BY first_seen_at", params):
            published = row["published"]
            item = Item(
                feed=row["feed"],
                key=row["key"],
                title=row["title"],
                link=row["link"],
                summary=row["summary"],
                content=row["content"],
                published=datetime.fromisoformat(published) if published else None,
                author=row["author"],
                source=row["source"],
            )
            yield item, float(row["first_seen_at"])

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

    # -- stories -------------------------------------------------------------

    def story_candidates(
        self, terms: Sequence[str], since: float, until: float, limit: int = CANDIDATES
    ) -> list[Candidate]:
        """Stories active between `since` and `until` that share the most `terms`, with their
        latest members."""
        if not terms:
            return []
        marks = ",".join("?" * len(terms))
        ids = [
            row["story_id"]
            for row in self.db.execute(
                f"""SELECT t.story_id, count(*) AS shared FROM story_terms t
                    JOIN stories s ON s.id = t.story_id
                    WHERE t.term IN ({marks}) AND t.last_at >= ? AND s.first_at <= ?
                    GROUP BY t.story_id ORDER BY shared DESC, t.story_id LIMIT ?""",
                (*terms, since, until, limit),
            )
        ]
        members = self._members(ids)
        return [Candidate(story_id, tuple(members.get(story_id, ()))) for story_id in ids]

    def _members(self, story_ids: Sequence[str]) -> dict[str, list[Member]]:
        if not story_ids:
            return {}
        marks = ",".join("?" * len(story_ids))
        # Features and hits are read only for reports not parsed yet: most were, and their text
        # was a quarter of this query's cost.
        rows = self.db.execute(
            f"""SELECT story_id, feed, item_key, at, outlet, source FROM (
                    SELECT story_id, feed, item_key, at, outlet, source,
                        row_number() OVER (
                            PARTITION BY story_id ORDER BY at DESC, feed, item_key) AS recent
                    FROM story_items WHERE story_id IN ({marks})) AS latest
                WHERE recent <= ? ORDER BY story_id, at DESC""",
            (*story_ids, MEMBERS_COMPARED),
        ).fetchall()
        parsed = {
            (row["feed"], row["item_key"]): self._features_cache.get((row["feed"], row["item_key"]))
            for row in rows
        }
        parsed.update(self._parse_reports([key for key, known in parsed.items() if known is None]))
        found: dict[str, list[Member]] = {}
        for row in rows:
            known = parsed.get((row["feed"], row["item_key"]))
            if known is None:
                continue  # removed since the first read (expired, on another replica)
            features, rules = known
            found.setdefault(row["story_id"], []).append(
                Member(
                    key=f"{row['feed']}\x00{row['item_key']}",
                    at=row["at"],
                    outlet=row["outlet"],
                    source=row["source"],
                    features=features,
                    rules=rules,
                )
            )
        return found

    def _parse_reports(
        self, keys: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], tuple[Features, frozenset[str]]]:
        """The features and rules of these reports (feed, item key), read and parsed."""
        found = {}
        for start in range(0, len(keys), _IN_CHUNK // 2):
            chunk = keys[start : start + _IN_CHUNK // 2]
            where = " OR ".join(["(feed = ? AND item_key = ?)"] * len(chunk))
            params = tuple(part for key in chunk for part in key)
            for row in self.db.execute(
                f"SELECT feed, item_key, features, hits FROM story_items WHERE {where}", params
            ):
                feed, key = row["feed"], row["item_key"]
                found[(feed, key)] = self._parsed(feed, key, row["features"], row["hits"])
        return found

    def _parsed(
        self, feed: str, key: str, features: str, hits: str
    ) -> tuple[Features, frozenset[str]]:
        """Parsed once per process: what a report says and which rules it matched never change."""
        cached = self._features_cache.get((feed, key))
        if cached is None:
            if len(self._features_cache) >= FEATURES_CACHE:
                self._features_cache.clear()
            rules = frozenset(str(hit["rule"]) for hit in json.loads(hits))
            cached = (Features.from_json(json.loads(features)), rules)
            self._features_cache[(feed, key)] = cached
        return cached

    def story_hits(self, story_id: str) -> list[tuple[float, str, list[dict[str, object]]]]:
        """(time, source, rule hits) of every report in the story, oldest first."""
        rows = self.db.execute(
            "SELECT at, source, hits FROM story_items WHERE story_id = ? ORDER BY at",
            (story_id,),
        )
        return [(row["at"], row["source"], json.loads(row["hits"])) for row in rows]

    def term_frequencies(self, terms: Sequence[str]) -> tuple[dict[str, int], int]:
        """How many stories have each term, and how many stories there are."""
        counts: dict[str, int] = {}
        for start in range(0, len(terms), _IN_CHUNK):
            chunk = terms[start : start + _IN_CHUNK]
            marks = ",".join("?" * len(chunk))
            for row in self.db.execute(
                f"SELECT term, stories FROM term_counts WHERE term IN ({marks})", tuple(chunk)
            ):
                counts[row["term"]] = int(row["stories"])
        if self._stories_counted is None:
            # Counted once, then kept up as stories are added: count(*) scans the table, and
            # term weights need only about how many stories there are.
            row = self.db.execute("SELECT count(*) AS n FROM stories").fetchone()
            self._stories_counted = int(row["n"])
        return counts, self._stories_counted

    def add_to_story(self, story_id: str, report: StoryItem, now: float) -> StoryRow:
        """Record `report` in its story (creating the story), refresh its terms and sources."""
        with self._transaction():
            created = self.db.execute(
                """INSERT INTO stories (id, title, first_at, last_at, sources, created_at,
                       updated_at) VALUES (?, ?, ?, ?, 1, ?, ?) ON CONFLICT DO NOTHING""",
                (story_id, report.title, report.at, report.at, now, now),
            ).rowcount
            if created and self._stories_counted is not None:
                self._stories_counted += 1
            self.db.execute(
                """UPDATE stories SET
                       first_at = CASE WHEN first_at > ? THEN ? ELSE first_at END,
                       last_at = CASE WHEN last_at < ? THEN ? ELSE last_at END,
                       updated_at = ? WHERE id = ?""",
                (report.at, report.at, report.at, report.at, now, story_id),
            )
            rules = ",".join(dict.fromkeys(str(hit["rule"]) for hit in report.hits))
            inserted = self.db.execute(
                """INSERT INTO story_items (feed, item_key, story_id, title, link, outlet, source,
                       at, published, features, hits, rules, added_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING""",
                (
                    report.feed,
                    report.key,
                    story_id,
                    report.title,
                    report.link,
                    report.outlet,
                    report.source,
                    report.at,
                    report.published,
                    json.dumps(report.features.to_json()),
                    json.dumps(report.hits),
                    f",{rules},",
                    now,
                ),
            ).rowcount
            if inserted:
                self._index_terms(story_id, list(report.features.terms))
                self.db.execute(
                    """UPDATE stories SET sources = (SELECT count(DISTINCT source)
                           FROM story_items WHERE story_id = ?) WHERE id = ?""",
                    (story_id, story_id),
                )
            row = self.db.execute(
                "SELECT id, title, first_at, last_at, sources FROM stories WHERE id = ?",
                (story_id,),
            ).fetchone()
        return _story_row(row)

    def _index_terms(self, story_id: str, terms: list[str]) -> None:
        """Terms pick candidate stories: each story's terms carry its latest time."""
        last_at = self.db.execute(
            "SELECT last_at FROM stories WHERE id = ?", (story_id,)
        ).fetchone()["last_at"]
        known: set[str] = set()
        if terms:
            marks = ",".join("?" * len(terms))
            known = {
                row["term"]
                for row in self.db.execute(
                    f"SELECT term FROM story_terms WHERE story_id = ? AND term IN ({marks})",
                    (story_id, *terms),
                )
            }
        fresh = [t for t in terms if t not in known]
        if fresh:
            self.db.executemany(
                """INSERT INTO term_counts (term, stories) VALUES (?, 1)
                   ON CONFLICT (term) DO UPDATE SET stories = term_counts.stories + 1""",
                [(t,) for t in fresh],
            )
            self.db.executemany(
                "INSERT INTO story_terms (term, story_id, last_at) VALUES (?, ?, ?)",
                [(t, story_id, last_at) for t in fresh],
            )
        self.db.execute(
            "UPDATE story_terms SET last_at = ? WHERE story_id = ? AND last_at < ?",
            (last_at, story_id, last_at),
        )

    def relabel_sources(self, story_id: str, member_keys: Sequence[str], source: str) -> None:
        """Members found to copy a credited report count for its source (the story's count is
        refreshed when the report itself is added)."""
        with self._transaction():
            self.db.executemany(
                "UPDATE story_items SET source = ? WHERE story_id = ? AND feed = ? AND item_key = ?",
                [(source, story_id, *key.split("\x00", 1)) for key in member_keys],
            )

    def story(self, story_id: str) -> StoryRow | None:
        row = self.db.execute(
            "SELECT id, title, first_at, last_at, sources FROM stories WHERE id = ?", (story_id,)
        ).fetchone()
        return _story_row(row) if row is not None else None

    def story_reports(self, story_id: str) -> list[StoryReportRow]:
        rows = self.db.execute(
            """SELECT feed, item_key, title, link, outlet, source, at, published, rules
               FROM story_items WHERE story_id = ? ORDER BY at, feed, item_key""",
            (story_id,),
        )
        return [
            StoryReportRow(
                feed=row["feed"],
                key=row["item_key"],
                title=row["title"],
                link=row["link"],
                outlet=row["outlet"],
                source=row["source"],
                at=row["at"],
                published=row["published"],
                rules=tuple(r for r in str(row["rules"]).split(",") if r),
            )
            for row in rows
        ]

    def stories(
        self,
        since: float | None = None,
        rule: str | None = None,
        limit: int = 100,
        offset: int = 0,
        *,
        ladder: str | None = None,
        min_severity: Severity | None = None,
    ) -> list[StoryRow]:
        """Stories last reported at or after `since`, newest first; with `rule`, only those an
        item matched that rule in; with `ladder`, only those that reached a rung of it; with
        `min_severity`, only those with a message at least that severe."""
        where: list[str] = ["1 = 1"]
        params: list[object] = []
        if since is not None:
            where.append("s.last_at >= ?")
            params.append(since)
        if rule is not None:
            where.append(
                "EXISTS (SELECT 1 FROM story_items i WHERE i.story_id = s.id AND i.rules LIKE ?)"
            )
            params.append(f"%,{rule},%")
        if ladder is not None:
            where.append(
                "EXISTS (SELECT 1 FROM ladder_marks m WHERE m.ladder = ? AND m.story_id = s.id)"
            )
            params.append(ladder)
        if min_severity is not None:
            where.append(
                "EXISTS (SELECT 1 FROM alerts a WHERE a.story_id = s.id AND a.severity >= ?)"
            )
            params.append(int(min_severity))
        rows = self.db.execute(
            f"""SELECT s.id, s.title, s.first_at, s.last_at, s.sources FROM stories s
                WHERE {" AND ".join(where)} ORDER BY s.last_at DESC, s.id DESC LIMIT ? OFFSET ?""",
            (*params, limit, offset),
        ).fetchall()
        return [_story_row(row) for row in rows]

    def messages_of(self, story_ids: Sequence[str]) -> dict[str, list[Alert]]:
        """Every message about each story's alerts, oldest first."""
        found: dict[str, list[Alert]] = {story_id: [] for story_id in story_ids}
        for start in range(0, len(story_ids), _IN_CHUNK):
            chunk = story_ids[start : start + _IN_CHUNK]
            marks = ",".join("?" * len(chunk))
            rows = self.db.execute(
                f"""SELECT id, story_id, payload FROM alerts
                    WHERE story_id IN ({marks}) ORDER BY created_at, id""",
                tuple(chunk),
            )
            for row in rows:
                found[row["story_id"]].append(_message(row["payload"], row["id"]))
        return found

    def ladder_trend(self, ladder: str, since: float) -> list[tuple[int, int, int]]:
        """(UTC day number since the epoch, highest rung, stories) for each day since `since`
        on which a story reached a rung of `ladder`."""
        rows = self.db.execute(
            """SELECT CAST(at AS BIGINT) / 86400 AS day, max(rung) AS rung, count(*) AS stories
               FROM ladder_marks WHERE ladder = ? AND at >= ? GROUP BY 1 ORDER BY 1""",
            (ladder, since),
        )
        return [(int(row["day"]), int(row["rung"]), int(row["stories"])) for row in rows]

    def alert_state(self, alert_id: str) -> Announced | None:
        row = self.db.execute("SELECT state FROM story_alerts WHERE id = ?", (alert_id,)).fetchone()
        if row is None:
            return None
        data = json.loads(row["state"])
        return Announced(
            version=int(data["version"]),
            rule=data["rule"],
            severity=Severity(int(data["severity"])),
            rung=data.get("rung"),
            sources=int(data["sources"]),
            values=dict(data.get("values", {})),
            rules=tuple(data.get("rules", ())),
        )

    def save_alert_state(
        self, alert_id: str, story_id: str, scope: str, state: Announced, now: float
    ) -> None:
        data = {
            "version": state.version,
            "rule": state.rule,
            "severity": int(state.severity),
            "rung": state.rung,
            "sources": state.sources,
            "values": dict(state.values),
            "rules": list(state.rules),
        }
        with self._transaction():
            self.db.execute(
                """INSERT INTO story_alerts (id, story_id, scope, state, created_at, updated_at)
                   VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET
                   state = excluded.state, updated_at = excluded.updated_at""",
                (alert_id, story_id, scope, json.dumps(data), now, now),
            )

    def story_alerts(self, story_id: str) -> list[tuple[str, str, Announced]]:
        """(alert id, scope, what it announced) for each alert of a story."""
        rows = self.db.execute(
            "SELECT id, scope FROM story_alerts WHERE story_id = ? ORDER BY created_at, id",
            (story_id,),
        ).fetchall()
        found = []
        for row in rows:
            state = self.alert_state(row["id"])
            if state is not None:
                found.append((row["id"], row["scope"], state))
        return found

    def story_messages(self, story_id: str) -> list[MessageRow]:
        """Every message sent about a story's alerts, with where each delivery stands."""
        rows = self.db.execute(
            """SELECT a.id, a.alert_key, a.event, a.rule_id, a.created_at,
                      d.notifier, d.status, d.updated_at
               FROM alerts a LEFT JOIN deliveries d ON d.alert_id = a.id
               WHERE a.story_id = ? ORDER BY a.created_at, a.id, d.notifier""",
            (story_id,),
        ).fetchall()
        return [
            MessageRow(
                row["id"],
                row["alert_key"] or row["id"],
                row["event"],
                row["rule_id"],
                row["created_at"],
                row["notifier"],
                row["status"],
                row["updated_at"],
            )
            for row in rows
        ]

    def ladder_highest(self, ladder: str, since: float, exclude_story: str) -> int | None:
        """The highest rung another story reached on `ladder` since `since` (story time)."""
        row = self.db.execute(
            """SELECT max(rung) AS rung FROM ladder_marks
               WHERE ladder = ? AND at >= ? AND story_id != ?""",
            (ladder, since, exclude_story),
        ).fetchone()
        return int(row["rung"]) if row["rung"] is not None else None

    def mark_ladder(self, ladder: str, story_id: str, rung: int, rule: str, at: float) -> None:
        """The story reached `rung` (by `rule`) at story time `at`; a lower rung changes nothing."""
        with self._transaction():
            self.db.execute(
                """INSERT INTO ladder_marks (ladder, story_id, rung, rule_id, at)
                   VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING""",
                (ladder, story_id, rung, rule, at),
            )
            self.db.execute(
                """UPDATE ladder_marks SET rung = ?, rule_id = ?, at = ?
                   WHERE ladder = ? AND story_id = ? AND rung < ?""",
                (rung, rule, at, ladder, story_id, rung),
            )

    def ladder_top(self, ladder: str, since: float) -> tuple[int, str] | None:
        """The highest rung reached on `ladder` since `since`, and the rule that reached it."""
        row = self.db.execute(
            """SELECT rung, rule_id FROM ladder_marks WHERE ladder = ? AND at >= ?
               ORDER BY rung DESC, at DESC LIMIT 1""",
            (ladder, since),
        ).fetchone()
        return (int(row["rung"]), str(row["rule_id"])) if row is not None else None

    def ladder_days(self, ladder: str, since: float) -> dict[str, int]:
        """The highest rung reached on each UTC day since `since`: {"2025-10-15": 3, ...}."""
        days: dict[str, int] = {}
        for row in self.db.execute(
            "SELECT rung, at FROM ladder_marks WHERE ladder = ? AND at >= ?", (ladder, since)
        ):
            day = utc_from_timestamp(row["at"]).date().isoformat()
            days[day] = max(days.get(day, 0), int(row["rung"]))
        return dict(sorted(days.items()))

    # -- outbox --------------------------------------------------------------

    def _deliveries(
        self,
        where: str,
        params: Sequence[object],
        limit: int | None = None,
        order: str = "d.hold_until, d.created_at, d.alert_id, d.notifier",
    ) -> list[Delivery]:
        rows = self.db.execute(
            f"""SELECT d.*, a.payload FROM deliveries d JOIN alerts a ON a.id = d.alert_id
                WHERE {where} ORDER BY {order}
                {"" if limit is None else "LIMIT ?"}""",
            (*params,) if limit is None else (*params, limit),
        ).fetchall()
        return [self._delivery(row) for row in rows]

    @staticmethod
    def _delivery(row: Row) -> Delivery:
        return Delivery(
            alert=_message(row["payload"], row["alert_id"]),
            notifier=row["notifier"],
            status=row["status"],
            attempts=row["attempts"],
            next_attempt_at=row["next_attempt_at"],
            last_error=row["last_error"],
            created_at=row["created_at"],
            hold_until=row["hold_until"],
            group=row["group_key"],
            updated_at=row["updated_at"],
            message_id=row["alert_id"],
        )

    def due_deliveries(
        self, now: float, *, force: bool = False, notifier: str | None = None, limit: int = 500
    ) -> list[Delivery]:
        """Pending deliveries (to `notifier`, or any) no longer held whose next attempt is due
        and that no replica is sending: the most urgent first (noise.urgency), then the oldest.

        `force` ignores the retry backoff (the user asked for a delivery now) but never a hold:
        quiet hours, group windows and digests are kept even then.
        """
        where, params = self._due(now, force=force)
        if notifier is not None:
            where, params = f"{where} AND d.notifier = ?", [*params, notifier]
        return self._deliveries(
            where,
            params,
            limit,
            order="a.urgency DESC, d.hold_until, d.created_at, d.alert_id, d.notifier",
        )

    @staticmethod
    def _due(now: float, *, force: bool) -> tuple[str, list[object]]:
        """The condition on deliveries `d` that due_deliveries reads, and its parameters."""
        where = "d.status = 'pending' AND d.hold_until <= ? AND "
        where += "(d.lease_until IS NULL OR d.lease_until <= ?)"  # not being sent by a replica
        if force:
            return where, [now, now]
        return f"{where} AND d.next_attempt_at <= ?", [now, now, now]

    def due_notifiers(self, now: float, *, force: bool = False) -> list[str]:
        """The notifiers with at least one due delivery (see due_deliveries)."""
        where, params = self._due(now, force=force)
        rows = self.db.execute(
            f"SELECT DISTINCT d.notifier FROM deliveries d WHERE {where} ORDER BY d.notifier",
            params,
        ).fetchall()
        return [str(row["notifier"]) for row in rows]

    def count_unheld(self, now: float) -> int:
        """Pending deliveries no longer held: due now, waiting out a retry backoff, or in flight."""
        row = self.db.execute(
            "SELECT count(*) AS n FROM deliveries WHERE status = 'pending' AND hold_until <= ?",
            (now,),
        ).fetchone()
        return int(row["n"])

    def claim(
        self, alert_ids: Sequence[str], notifier: str, replica: str, *, until: float, now: float
    ) -> bool:
        """Take the pending deliveries of one message for `replica` until `until`: all of them,
        or none when another replica holds one or one is no longer pending (True if taken)."""
        with self.db.transaction(durable=False):
            taken = 0
            for start in range(0, len(alert_ids), _IN_CHUNK):
                chunk = alert_ids[start : start + _IN_CHUNK]
                marks = ",".join("?" * len(chunk))
                taken += len(
                    self.db.execute(
                        f"""UPDATE deliveries SET lease_owner = ?, lease_until = ?
                            WHERE notifier = ? AND alert_id IN (
                                SELECT alert_id FROM deliveries
                                WHERE notifier = ? AND alert_id IN ({marks})
                                  AND status = 'pending'
                                  AND (lease_until IS NULL OR lease_until <= ?){self.db.skip_locked})
                            RETURNING alert_id""",
                        (replica, until, notifier, notifier, *chunk, now),
                    ).fetchall()
                )
            if taken == len(alert_ids):
                return True
            # Part of a group is another replica's: give back what this one took.
            for start in range(0, len(alert_ids), _IN_CHUNK):
                chunk = alert_ids[start : start + _IN_CHUNK]
                marks = ",".join("?" * len(chunk))
                self.db.execute(
                    f"""UPDATE deliveries SET lease_owner = NULL, lease_until = NULL
                        WHERE notifier = ? AND lease_owner = ? AND alert_id IN ({marks})""",
                    (notifier, replica, *chunk),
                )
            return False

    def held_back(self, alert_ids: Sequence[str]) -> dict[str, str]:
        """Which of these alerts a silence or cooldown keeps from being sent, and which one."""
        found: dict[str, str] = {}
        for start in range(0, len(alert_ids), _IN_CHUNK):
            chunk = alert_ids[start : start + _IN_CHUNK]
            rows = self.db.execute(
                f"""SELECT DISTINCT alert_id, status, last_error FROM deliveries
                    WHERE status IN ('silenced', 'cooldown')
                    AND alert_id IN ({",".join("?" * len(chunk))})""",
                tuple(chunk),
            )
            found.update((row["alert_id"], f"{row['status']}: {row['last_error']}") for row in rows)
        return found

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
                   last_error = NULL, updated_at = ?, lease_until = NULL
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
                   next_attempt_at = ?, updated_at = ?, lease_until = NULL
               WHERE status = 'pending' AND notifier = ? AND alert_id = ?""",
            (error, next_attempt_at, now, notifier),
            alert_ids,
        )

    def mark_failed(self, alert_ids: Iterable[str], notifier: str, error: str, now: float) -> None:
        self._update(
            """UPDATE deliveries SET status = 'failed', attempts = attempts + 1,
                   last_error = ?, updated_at = ?, lease_until = NULL
               WHERE status = 'pending' AND notifier = ? AND alert_id = ?""",
            (error, now, notifier),
            alert_ids,
        )

    def requeue(self, alert_id: str | None, notifier: str | None, now: float) -> Requeued:
        """Make deliveries due now: failed ones, and pending ones waiting out a retry backoff
        (one alert's, one notifier's, or all of them). Naming one alert also replays it when a
        silence or cooldown kept it back. Holds (quiet hours, groups, digests) are kept."""
        scope, scope_params = "1 = 1", []
        if alert_id is not None:
            # The id of one message, or of an alert: then every message of it.
            scope += (
                " AND (alert_id = ? OR alert_id IN (SELECT id FROM alerts WHERE alert_key = ?))"
            )
            scope_params = [alert_id, alert_id]
        if notifier is not None:
            scope, scope_params = scope + " AND notifier = ?", [*scope_params, notifier]
        replayed = "'failed', 'silenced', 'cooldown'" if alert_id else "'failed'"
        where = (
            f"{scope} AND (status IN ({replayed}) OR "
            "(status = 'pending' AND next_attempt_at > ? AND hold_until <= ?))"
        )
        params = (*scope_params, now, now)
        with self._transaction():
            rows = self.db.execute(
                f"SELECT status, count(*) AS n FROM deliveries WHERE {where} GROUP BY status",
                params,
            ).fetchall()
            self.db.execute(
                f"""UPDATE deliveries SET status = 'pending', attempts = 0,
                        next_attempt_at = ?, updated_at = ? WHERE {where}""",
                (now, now, *params),
            )
            left = self.db.execute(
                f"""SELECT count(*) FILTER (WHERE status = 'pending' AND hold_until > ?) AS held,
                           count(*) FILTER (WHERE status IN ('silenced', 'cooldown')) AS kept
                    FROM deliveries WHERE {scope}""",
                (now, *scope_params),
            ).fetchone()
        return Requeued(
            moved={row["status"]: int(row["n"]) for row in rows},
            held=int(left["held"]),
            kept_back=int(left["kept"]),
        )

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
