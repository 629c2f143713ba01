"""Backoff for failing feeds and deliveries."""

from __future__ import annotations

import random

from monitor.backoff import DELIVERY_SCHEDULE, delivery_retry_delay, feed_retry_delay


def test_feed_backoff_doubles_from_the_interval_and_is_capped() -> None:
    """A failing feed is polled less and less often, never less than every six hours."""
    delays = [feed_retry_delay(n, 60) for n in range(1, 12)]
    assert delays[:3] == [60, 120, 240]
    assert delays == sorted(delays)
    assert max(delays) == 6 * 3600


def test_feed_backoff_honours_retry_after() -> None:
    """A server that asks for an hour gets an hour."""
    assert feed_retry_delay(1, 60, retry_after=3600) == 3600


def test_deliveries_are_retried_for_more_than_a_day_then_given_up() -> None:
    """Eight attempts spread over a day; after that the alert is a dead letter."""
    rng = random.Random(1)
    delays = [delivery_retry_delay(n, rng=rng) for n in range(1, len(DELIVERY_SCHEDULE) + 2)]
    assert delays[-1] is None
    total = sum(d for d in delays if d is not None)
    assert total > 86400
    assert delivery_retry_delay(1, retry_after=120, rng=rng) == 120
