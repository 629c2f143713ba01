"""Drain the outbox: send each due delivery, then mark it sent, retry later, or failed for good.

Each notifier is drained in order of detection, one delivery at a time; the first retryable
failure ends that notifier's turn (its receiver is likely down) without touching the others.
A delivery is marked sent only after the receiver confirmed it, so a crash in between means a
resend with the same alert id: at least once, never under two ids.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass

from monitor import metrics
from monitor.backoff import delivery_retry_delay
from monitor.errors import DeliveryError
from monitor.notify.base import Notifier
from monitor.store import Delivery, Store

log = logging.getLogger("monitor.dispatch")


@dataclass
class DispatchReport:
    """Counts of what one drain did."""

    sent: int = 0
    retried: int = 0
    failed: int = 0


@dataclass(frozen=True)
class Channel:
    """A configured notifier and the fingerprint of its settings (a 410 disables until it changes)."""

    notifier: Notifier
    fingerprint: str


async def deliver_due(
    store: Store, channels: Mapping[str, Channel], *, force: bool = False
) -> DispatchReport:
    """Send every due delivery (every pending one with `force`, as `news-monitor once` does)."""
    due = store.due_deliveries(None if force else time.time())
    by_notifier: dict[str, list[Delivery]] = {}
    for delivery in due:
        by_notifier.setdefault(delivery.notifier, []).append(delivery)
    report = DispatchReport()
    try:
        await asyncio.gather(
            *(
                _drain(store, name, channels.get(name), deliveries, report)
                for name, deliveries in by_notifier.items()
            )
        )
    finally:
        pending, _, oldest = store.outbox_summary()
        metrics.OUTBOX_PENDING.set(pending)
        metrics.OUTBOX_OLDEST_PENDING_AGE.set(time.time() - oldest if oldest else 0)
    return report


async def _drain(
    store: Store,
    name: str,
    channel: Channel | None,
    deliveries: list[Delivery],
    report: DispatchReport,
) -> None:
    if channel is None:
        for delivery in deliveries:
            # Kept as a dead letter, so `outbox retry` can replay it once the notifier is back.
            store.mark_failed(
                delivery.alert.id, name, f"notifier {name!r} is not configured", time.time()
            )
            report.failed += 1
        return
    disabled = store.disabled_reason(name, channel.fingerprint)
    if disabled is not None:
        log.warning(
            "notifier %s is disabled until its config changes: %s (%d alerts wait)",
            name,
            disabled,
            len(deliveries),
            extra={"notifier": name},
        )
        return
    for delivery in deliveries:
        if not await _deliver_one(store, channel, delivery, report):
            return


async def _deliver_one(
    store: Store, channel: Channel, delivery: Delivery, report: DispatchReport
) -> bool:
    """Deliver one alert; False means stop draining this notifier for now."""
    alert, name = delivery.alert, channel.notifier.name
    extra = {"notifier": name, "alert_id": alert.id, "rule": alert.rule.id}
    try:
        try:
            await channel.notifier.send(alert)
        except DeliveryError:
            raise
        except Exception as unexpected:
            # A bug in a channel must not stop the loop; the alert is retried like any failure.
            log.exception("notifier %s raised unexpectedly", name, extra=extra)
            raise DeliveryError(f"unexpected error: {unexpected!r}") from unexpected
    except DeliveryError as exc:
        now = time.time()
        if exc.disable:
            store.disable_notifier(name, channel.fingerprint, str(exc), now)
            metrics.DELIVERIES.labels(name, "failed").inc()
            log.error("notifier %s disabled: %s", name, exc, extra=extra)
            return False
        attempts = delivery.attempts + 1
        delay = None if exc.permanent else delivery_retry_delay(attempts, exc.retry_after)
        if delay is None:
            store.mark_failed(alert.id, name, str(exc), now)
            report.failed += 1
            metrics.DELIVERIES.labels(name, "failed" if exc.permanent else "dead").inc()
            why = "permanent error" if exc.permanent else f"gave up after {attempts} attempts"
            log.error("alert %s to %s failed (%s): %s", alert.id, name, why, exc, extra=extra)
            return True
        store.mark_retry(alert.id, name, str(exc), now + delay, now)
        report.retried += 1
        metrics.DELIVERIES.labels(name, "retry").inc()
        log.warning(
            "alert %s to %s failed (attempt %d), retrying in %.0fs: %s",
            alert.id,
            name,
            attempts,
            delay,
            exc,
            extra=extra,
        )
        return False
    store.mark_sent(alert.id, name, time.time())
    report.sent += 1
    metrics.DELIVERIES.labels(name, "sent").inc()
    log.info("alert %s delivered to %s", alert.id, name, extra=extra)
    return True
