"""One poll of one feed: fetch -> parse -> keep unseen -> match (`read_feed`), then place in
stories and record, in one transaction (`record_reads`).

The two halves are apart so that `once` can read many feeds at a time and record what they
read together, placing every report in the time order of its occurrence across feeds, as
live polling would have seen them, rather than in the order the fetches happened to finish.

Failures are recorded on the feed (with backoff) and logged; they never raise into the loop,
so one broken feed cannot stop the others.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from monitor import metrics
from monitor.backoff import feed_retry_delay
from monitor.config import FeedSettings, Route
from monitor.crunch import Crunch, Document, Window, is_stale
from monitor.errors import FeedParseError, FetchError, WorkerDied
from monitor.feeds.article import ArticleFetcher
from monitor.feeds.fetch import Fetcher
from monitor.models import Alert, Item
from monitor.rules import Rulebook, RulePin
from monitor.store import FeedState, QueuedAlert, Store
from monitor.stories.tracker import Matched, track

log = logging.getLogger("monitor.poll")


@dataclass(frozen=True)
class PollOutcome:
    """What one poll did, for logs, metrics and the CLI summary."""

    feed: str
    status: str  # new | not_modified | unchanged | error | backing_off
    items: int = 0
    new_items: int = 0
    alerts: tuple[Alert, ...] = field(default=())
    error: str | None = None


@dataclass(frozen=True)
class FeedRead:
    """A feed fetched and read, its new items matched: what recording it needs."""

    feed: FeedSettings
    validators: FeedState  # the feed's state with this fetch's validators and body hash
    found: int  # entries in the document
    new_items: list[Item]
    matched: list[Matched]
    since: float | None  # a new feed's baseline (see baseline_since)
    now: float  # when it was read: its items' first sight


def baseline_since(
    feed: FeedSettings, state: FeedState, added_at: float | None, now: float
) -> float | None:
    """From when a feed's items may alert on its first poll: None (all, within max_age) unless
    the feed was added at `added_at` to a state that already polled others; then only items
    published since then, or within its `backfill`. Pure."""
    if added_at is None or state.last_success_at is not None:
        return None
    return added_at if feed.backfill is None else min(added_at, now - feed.backfill)


async def with_full_text(
    items: Sequence[Item],
    feed: FeedSettings,
    articles: ArticleFetcher,
    rulebook: Rulebook,
    now: float,
    max_age: float | None,
    since: float | None = None,
) -> list[Item]:
    """Items whose `content` is the linked article's main text, for feeds that opt in.

    `full_text: candidates` fetches only items some rule already partly matches. A failed fetch
    keeps the item as the feed gave it: the article is a bonus, never a reason to lose an item.
    """

    async def enrich(item: Item) -> Item:
        if is_stale(item, now, max_age, since) or not item.link.startswith(("http://", "https://")):
            return item
        if feed.full_text == "candidates" and not rulebook.is_candidate(item):
            return item
        try:
            text = await articles.fetch_text(item.link, allow_private=feed.allow_private)
        except FetchError as exc:
            log.warning("article %s not fetched: %s", item.link, exc, extra={"feed": feed.name})
            return item
        return replace(item, content=text) if text else item

    return list(await asyncio.gather(*(enrich(item) for item in items)))


async def _read_new(
    document: Document,
    feed: FeedSettings,
    state: FeedState,
    store: Store,
    crunch: Crunch,
    rulebook: Rulebook,
    pin: RulePin | None,
    articles: ArticleFetcher | None,
    window: Window,
) -> tuple[int, list[Item], list[Matched]]:
    """How many entries the body has, its new items and the matches among them.

    Only entries not seen before have their HTML turned into text: most of a busy feed is old.
    A feed never read before has none seen, so running workers then read, build and match its
    items in one step.
    """
    full_text = articles is not None and feed.full_text != "off"
    eager = window if crunch.running and state.body_hash is None and not full_text else None
    read = await crunch.read(document, rulebook, pin, eager)
    if read.items is not None and read.matched is not None:
        seen = store.seen_keys(feed.name, [item.key for item in read.items])
        new_items = [item for item in read.items if item.key not in seen]
        matched = [found for found in read.matched if found.item.key not in seen]
        return len(read.items), new_items, matched
    seen = store.seen_keys(feed.name, [entry.key for entry in read.entries])
    fresh = [entry for entry in read.entries if entry.key not in seen]
    if articles is None or not full_text:
        new_items, matches = await crunch.build(fresh, rulebook, pin, window)
        assert matches is not None
        return len(read.entries), new_items, matches
    new_items, _ = await crunch.build(fresh, rulebook, pin, None)
    new_items = await with_full_text(
        new_items, feed, articles, rulebook, window.now, window.max_age, window.since
    )
    return len(read.entries), new_items, await crunch.match(new_items, rulebook, pin, window)


_OUTCOME_LABELS = {
    "new": "ok",
    "not_modified": "not_modified",
    "unchanged": "unchanged",
    "error": "error",
}


def observe(outcome: PollOutcome, seconds: float) -> None:
    """Count a finished poll in the metrics (a poll skipped for backoff is not one)."""
    if outcome.status == "backing_off":
        return
    metrics.POLL_DURATION.observe(seconds)
    metrics.POLLS.labels(outcome.feed, _OUTCOME_LABELS[outcome.status]).inc()
    metrics.ITEMS_SEEN.labels(outcome.feed).inc(outcome.new_items)
    for alert in outcome.alerts:
        metrics.MATCHES.labels(alert.rule.id, alert.rule.severity.label).inc()


async def poll_feed(
    feed: FeedSettings,
    *,
    fetcher: Fetcher,
    store: Store,
    rulebook: Rulebook,
    routes: Sequence[Route],
    max_age: float | None,
    crunch: Crunch,
    pin: RulePin | None = None,
    articles: ArticleFetcher | None = None,
    respect_backoff: bool = True,
    clock: Callable[[], float] = time.time,
    state: FeedState | None = None,
) -> PollOutcome:
    """Poll `feed` once and record the result. Never raises for feed problems.

    A feed added to a state that already polled other feeds (`state.added_at`) marks what it
    already had as seen without alerting on its first poll (see baseline_since).
    `clock` gives every time this poll decides or records (backoff, staleness, first seen).
    `state`: what the store remembers of the feed, when the caller has just read it (a claim).
    Parsing, text and matching run through `crunch` (here or in worker processes that load the
    rule files `pin` names; without a pin, here).
    """
    read = await read_feed(
        feed,
        fetcher=fetcher,
        store=store,
        rulebook=rulebook,
        max_age=max_age,
        crunch=crunch,
        pin=pin,
        articles=articles,
        respect_backoff=respect_backoff,
        clock=clock,
        state=state,
    )
    if isinstance(read, PollOutcome):
        return read
    return record_reads([read], store, rulebook, routes)[0]


async def read_feed(
    feed: FeedSettings,
    *,
    fetcher: Fetcher,
    store: Store,
    rulebook: Rulebook,
    max_age: float | None,
    crunch: Crunch,
    pin: RulePin | None = None,
    articles: ArticleFetcher | None = None,
    respect_backoff: bool = True,
    clock: Callable[[], float] = time.time,
    state: FeedState | None = None,
) -> FeedRead | PollOutcome:
    """Fetch `feed` and read its new items, recording nothing of them yet: the outcome when
    there is nothing to record but the poll itself (an error, a 304, the same body again, a
    backoff), else what `record_reads` records. Never raises for feed problems."""
    if state is None:
        state = store.feed_state(feed.name, feed.url)
    started = clock()
    if respect_backoff and state.retry_at is not None and state.retry_at > started:
        return PollOutcome(feed.name, "backing_off", error=state.last_error)
    try:
        result = await fetcher.fetch(
            feed.url, etag=state.etag, last_modified=state.last_modified, timeout=feed.timeout
        )
    except FetchError as exc:
        return _failed(store, feed, state, str(exc), exc.retry_after, clock())

    metrics.FEED_CONSECUTIVE_FAILURES.labels(feed.name).set(0)
    refreshed = replace(state, etag=result.etag, last_modified=result.last_modified)
    if result.status == 304:
        store.record_unchanged(refreshed, clock())
        return PollOutcome(feed.name, "not_modified")

    body_hash = hashlib.sha256(result.body).hexdigest()
    validators = replace(refreshed, body_hash=body_hash)
    if body_hash == state.body_hash:
        # Servers without validators resend the same bytes: skip parsing and matching them.
        store.record_unchanged(validators, clock())
        return PollOutcome(feed.name, "unchanged")

    now = clock()
    since = baseline_since(feed, state, state.added_at, now)
    document = Document(result.body, feed.name, result.url, result.content_type)
    try:
        found, new_items, matched = await _read_new(
            document,
            feed,
            state,
            store,
            crunch,
            rulebook,
            pin,
            articles,
            Window(now, max_age, since),
        )
    except FeedParseError as exc:
        return _failed(store, feed, state, f"not a readable feed: {exc}", None, clock())
    except WorkerDied as exc:
        return _failed(store, feed, state, str(exc), None, clock())
    return FeedRead(feed, validators, found, new_items, matched, since, now)


def record_reads(
    reads: Sequence[FeedRead], store: Store, rulebook: Rulebook, routes: Sequence[Route]
) -> list[PollOutcome]:
    """Record `reads` in one transaction, their reports placed in stories in the time order
    of their occurrences across all of them; the outcome of each, in the order given."""
    queued: dict[str, list[QueuedAlert]] = {read.feed.name: [] for read in reads}
    # Placing items in stories reads and writes story state: it runs here, on the loop thread,
    # with no await between the read and the write, in the same transaction as marking seen.
    with store.transaction():
        for read in reads:
            store.record_poll(read.validators, read.new_items, (), read.now)
        arrivals = sorted(
            ((entry, read) for read in reads for entry in read.matched),
            key=lambda pair: (pair[0].at, pair[1].feed.name, pair[0].item.key),
        )
        for entry, read in arrivals:
            queued[read.feed.name] += track(store, rulebook, routes, read.feed, [entry], read.now)
    outcomes = []
    for read in reads:
        mine = queued[read.feed.name]
        if read.since is not None:
            _log_baseline(read.feed, read.new_items, len(mine), read.since, read.now)
        _log_alerts(store, read.feed, mine)
        outcomes.append(
            PollOutcome(
                read.feed.name,
                "new",
                items=read.found,
                new_items=len(read.new_items),
                alerts=tuple(entry.alert for entry in mine),
            )
        )
    return outcomes


def _log_alerts(store: Store, feed: FeedSettings, queued: Sequence[QueuedAlert]) -> None:
    held = store.held_back([entry.alert.message_id for entry in queued]) if queued else {}
    for entry in queued:
        alert = entry.alert
        why = held.get(alert.message_id)
        log.info(
            "%s %s: rule %s matched %r (story %s, %d independent sources)%s%s",
            alert.event,
            alert.id,
            alert.rule.id,
            alert.item.title,
            alert.story.id if alert.story else "-",
            alert.sources,
            f" [{'; '.join(alert.changes)}]" if alert.changes else "",
            f"; not sent, {why}" if why else "",
            extra={"feed": feed.name, "rule": alert.rule.id, "alert_id": alert.id},
        )


def _log_baseline(
    feed: FeedSettings, items: Sequence[Item], alerts: int, since: float, now: float
) -> None:
    kept = sum(1 for item in items if is_stale(item, now, None, since))
    why = (
        f"backfill {feed.backfill:g}s" if feed.backfill is not None else "added to a running state"
    )
    log.info(
        "feed %s: first poll (%s): %d items marked seen without alerting, published before %s; "
        "%d newer items, %d alerts",
        feed.name,
        why,
        kept,
        datetime.fromtimestamp(since, UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
        len(items) - kept,
        alerts,
        extra={"feed": feed.name},
    )


def _failed(
    store: Store,
    feed: FeedSettings,
    state: FeedState,
    error: str,
    retry_after: float | None,
    now: float,
) -> PollOutcome:
    delay = feed_retry_delay(state.consecutive_failures + 1, feed.interval, retry_after)
    failed = store.record_failure(state, error, now + delay, now)
    metrics.FEED_CONSECUTIVE_FAILURES.labels(feed.name).set(failed.consecutive_failures)
    log.warning(
        "feed %s failed (%d in a row), next try in %.0fs: %s",
        feed.name,
        failed.consecutive_failures,
        delay,
        error,
        extra={"feed": feed.name},
    )
    return PollOutcome(feed.name, "error", error=error)
