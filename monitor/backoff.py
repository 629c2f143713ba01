"""How long to wait before trying again: feeds that fail, and deliveries that fail. Pure."""

from __future__ import annotations

import random

MAX_FEED_BACKOFF = 6 * 3600.0
MAX_RETRY_AFTER = 24 * 3600.0

# Delivery retries: after the Nth failed attempt wait DELIVERY_SCHEDULE[N-1] (with jitter).
# Eight attempts over a little more than a day, then the alert is a dead letter.
DELIVERY_SCHEDULE = (5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 86400.0)


def feed_retry_delay(failures: int, interval: float, retry_after: float | None = None) -> float:
    """Seconds before polling a feed again after `failures` consecutive failures (>= 1).

    Doubles from the feed's own interval, capped at six hours (or the interval if longer);
    a server's Retry-After is honoured when it asks for longer, up to a day.
    """
    exponent = min(max(failures - 1, 0), 30)
    delay = min(interval * 2.0**exponent, max(interval, MAX_FEED_BACKOFF))
    if retry_after is not None:
        delay = max(delay, min(retry_after, MAX_RETRY_AFTER))
    return delay


def delivery_retry_delay(
    attempts: int, retry_after: float | None = None, rng: random.Random | None = None
) -> float | None:
    """Seconds before the next delivery attempt after `attempts` failed ones; None: give up."""
    if attempts < 1 or attempts > len(DELIVERY_SCHEDULE):
        return None
    base = DELIVERY_SCHEDULE[attempts - 1]
    # Jitter spreads retries of many alerts to one receiver that came back at once.
    delay = base * (rng or random).uniform(0.8, 1.2)
    if retry_after is not None:
        delay = max(delay, min(retry_after, MAX_RETRY_AFTER))
    return delay
