"""What the page shows, pure: feed rows in the order a person on watch needs them, why a pending
delivery is waiting and until when, and pagination. Takes stored state and `now`, returns data.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from monitor.config import FeedSettings
from monitor.store import Delivery, FeedState

PAGE_SIZE = 50


@dataclass(frozen=True)
class FeedRow:
    """One configured feed and its health."""

    name: str
    url: str
    last_success: float | None
    failures: int
    next_poll: float | None  # None: at the daemon's next start
    last_error: str | None
    items_seen: int

    @property
    def failing(self) -> bool:
        return self.failures > 0


def feed_rows(
    feeds: Iterable[FeedSettings], states: Mapping[str, FeedState], now: float
) -> list[FeedRow]:
    """Every configured feed, failing ones first (most failures in a row first), then by name."""
    rows = []
    for feed in feeds:
        state = states.get(feed.name)
        if state is None:
            rows.append(FeedRow(feed.name, feed.url, None, 0, None, None, 0))
            continue
        next_poll = state.retry_at or ((state.last_polled_at or now) + feed.interval)
        rows.append(
            FeedRow(
                feed.name,
                feed.url,
                state.last_success_at,
                state.consecutive_failures,
                next_poll,
                state.last_error,
                state.items_seen,
            )
        )
    return sorted(rows, key=lambda r: (-r.failures, r.name))


@dataclass(frozen=True)
class Release:
    """When a pending delivery goes out, and what holds it until then."""

    at: float
    reason: str


def release(delivery: Delivery, now: float) -> Release:
    """Why `delivery` (pending) is still waiting: retry backoff, digest, group window, quiet hours."""
    at = max(delivery.hold_until, delivery.next_attempt_at)
    if delivery.next_attempt_at > now and delivery.attempts and delivery.hold_until <= now:
        error = f": {delivery.last_error}" if delivery.last_error else ""
        return Release(at, f"retry backoff after {delivery.attempts} failed attempts{error}")
    if delivery.hold_until > now:
        group = delivery.group or ""
        if group.startswith("digest"):
            return Release(at, "daily digest")
        if group.startswith("group"):
            return Release(at, "group window (and quiet hours, if they end later)")
        return Release(at, "quiet hours")
    return Release(at, "due now: goes out at the next drain")


def page_number(requested: str | None) -> int:
    """The 1-based page a query parameter asks for; 1 when it is missing or not a number."""
    try:
        return max(int(requested or 1), 1)
    except ValueError:
        return 1


@dataclass(frozen=True)
class Page:
    """One page of a listing: 1-based `number` of `size` rows out of `total`."""

    number: int
    size: int
    total: int

    @classmethod
    def of(cls, requested: str | None, total: int, size: int = PAGE_SIZE) -> Page:
        """The page a query parameter asks for, clamped to the pages that exist."""
        last = max(1, -(-total // size))
        return cls(min(page_number(requested), last), size, total)

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size

    @property
    def last(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def has_prev(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.last
