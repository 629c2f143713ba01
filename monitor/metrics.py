"""Prometheus metrics of the daemon, all on one registry that `/metrics` serves.

The registry is our own rather than prometheus_client's global default, so importing a library
that registers its own collectors never changes what we expose, and tests see only ours.
"""

from __future__ import annotations

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
)

# The `_created` series double every counter and histogram in a scrape and nobody alerts on them;
# with thousands of feeds they cost real CPU per scrape.
disable_created_metrics()  # type: ignore[no-untyped-call]  # untyped upstream

REGISTRY = CollectorRegistry()

POLLS = Counter(
    "news_monitor_polls",
    "Feed polls by outcome: ok (new body parsed), not_modified (304), unchanged (same body), error.",
    ["feed", "outcome"],
    registry=REGISTRY,
)
POLL_DURATION = Histogram(
    "news_monitor_poll_duration_seconds",
    "Wall time of one feed poll: fetch, parse, match and record.",
    # No feed label: per-feed buckets made a /metrics scrape at 10,000 feeds weigh 10 MB;
    # per-feed trouble shows in polls_total and feed_consecutive_failures.
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0),
    registry=REGISTRY,
)
FEED_CONSECUTIVE_FAILURES = Gauge(
    "news_monitor_feed_consecutive_failures",
    "Polls of this feed that failed in a row (0 after a success).",
    ["feed"],
    registry=REGISTRY,
)
ITEMS_SEEN = Counter(
    "news_monitor_items_seen",
    "Items seen for the first time.",
    ["feed"],
    registry=REGISTRY,
)
MATCHES = Counter(
    "news_monitor_matches",
    "Alerts raised, by rule and severity.",
    ["rule", "severity"],
    registry=REGISTRY,
)
DELIVERIES = Counter(
    "news_monitor_deliveries",
    "Delivery attempts by notifier and outcome: sent, retry, failed (permanent), dead (gave up).",
    ["notifier", "outcome"],
    registry=REGISTRY,
)
OUTBOX_PENDING = Gauge(
    "news_monitor_outbox_pending",
    "Deliveries waiting in the outbox.",
    registry=REGISTRY,
)
OUTBOX_OLDEST_PENDING_AGE = Gauge(
    "news_monitor_outbox_oldest_pending_age_seconds",
    "Age of the oldest delivery still waiting in the outbox (0 when empty).",
    registry=REGISTRY,
)
RULES_LOADED = Gauge(
    "news_monitor_rules_loaded",
    "Rules in the rulebook currently in use.",
    registry=REGISTRY,
)
LAST_RELOAD_SUCCESS = Gauge(
    "news_monitor_last_reload_success",
    "1 if the last reload of config and rules succeeded, 0 if it was rejected.",
    registry=REGISTRY,
)
LOOP_LAST_TICK = Gauge(
    "news_monitor_loop_last_tick_timestamp_seconds",
    "Unix time of the scheduler loop's last tick.",
    registry=REGISTRY,
)
