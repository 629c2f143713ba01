"""Drain the outbox: send each due message, then mark its deliveries sent, retry later, or failed.

A message is one delivery, or every pending delivery of one group (a route's `group:` window or
`digest:`) sent as one batch whose id derives from its members, so a retry carries the same id.
Each notifier is drained in order, one message at a time; the first retryable failure ends that
notifier's turn (its receiver is likely down) without touching the others. Deliveries are marked
sent only after the receiver confirmed them, so a crash in between means a resend with the same
id: at least once, never under two ids. Once `stopping()` is true no new message is started.
Replicas draining one outbox claim each message before sending it (a lease of LEASE seconds):
one sends it, and if that one dies mid-send another sends it again, under the same id.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from monitor import metrics
from monitor.backoff import delivery_retry_delay
from monitor.errors import DeliveryError
from monitor.models import Alert
from monitor.notify.base import Notifier
from monitor.notify.batch import batch_id
from monitor.store import Delivery, Store

log = logging.getLogger("monitor.dispatch")

# Seconds a claimed message is this replica's to send: if it dies meanwhile, another replica
# sends the message again after this, under the same id. Twice the longest default notifier
# timeout (30 s): a slow send is rarely taken over, a dead sender's message waits a minute.
LEASE = 60.0
MAX_BATCH = 100  # alerts per message: a long digest goes out as several messages, in order


@dataclass
class DispatchReport:
    """Counts of what one drain did, in deliveries (an alert to a notifier)."""

    sent: int = 0
    retried: int = 0
    failed: int = 0


@dataclass(frozen=True)
class Channel:
    """A configured notifier and the fingerprint of its settings (a 410 disables until it changes)."""

    notifier: Notifier
    fingerprint: str


@dataclass(frozen=True)
class Message:
    """What one send carries: one delivery, or all the pending deliveries of one group."""

    notifier: str
    deliveries: tuple[Delivery, ...]
    grouped: bool

    @property
    def alerts(self) -> list[Alert]:
        return [d.alert for d in self.deliveries]

    @property
    def alert_ids(self) -> list[str]:
        """The message ids of its deliveries (an alert's creation or one of its updates)."""
        return [d.message_id for d in self.deliveries]

    @property
    def id(self) -> str:
        return batch_id(self.alert_ids) if self.grouped else self.deliveries[0].message_id

    @property
    def attempts(self) -> int:
        return max(d.attempts for d in self.deliveries)


def messages(store: Store, due: list[Delivery]) -> dict[str, list[Message]]:
    """Due deliveries as messages per notifier, in outbox order; a group is fetched whole and
    sent in slices of MAX_BATCH (in outbox order, so a retried slice keeps its members and id)."""
    by_notifier: dict[str, list[Message]] = {}
    groups: set[tuple[str, str]] = set()
    for delivery in due:
        name = delivery.notifier
        queue = by_notifier.setdefault(name, [])
        if delivery.group is None:
            queue.append(Message(name, (delivery,), grouped=False))
        elif (name, delivery.group) not in groups:
            groups.add((name, delivery.group))
            members = store.group_members(name, delivery.group)
            queue.extend(
                Message(name, tuple(members[start : start + MAX_BATCH]), grouped=True)
                for start in range(0, len(members), MAX_BATCH)
            )
    return by_notifier


async def deliver_due(
    store: Store,
    channels: Mapping[str, Channel],
    *,
    force: bool = False,
    stopping: Callable[[], bool] | None = None,
    replica: str = "local",
    clock: Callable[[], float] = time.time,
) -> DispatchReport:
    """Send every due message (with `force`, also those waiting out a retry backoff, as
    `news-monitor once` does; held deliveries wait for their time either way).

    Each message is claimed for `replica` before it is sent, so of several replicas draining one
    outbox exactly one sends it; `clock` gives every time this drain decides or records.
    """
    due = store.due_deliveries(clock(), force=force)
    report = DispatchReport()
    outbox = _Outbox(store, replica, clock)
    try:
        await asyncio.gather(
            *(
                _drain(outbox, name, channels.get(name), queue, report, stopping or bool)
                for name, queue in messages(store, due).items()
            )
        )
    finally:
        pending, _, oldest = store.outbox_summary()
        metrics.OUTBOX_PENDING.set(pending)
        metrics.OUTBOX_OLDEST_PENDING_AGE.set(max(0.0, clock() - oldest) if oldest else 0)
    return report


@dataclass(frozen=True)
class _Outbox:
    """The store, who is draining it, and the clock of this drain."""

    store: Store
    replica: str
    clock: Callable[[], float]


async def _drain(
    outbox: _Outbox,
    name: str,
    channel: Channel | None,
    queue: list[Message],
    report: DispatchReport,
    stopping: Callable[[], bool],
) -> None:
    store = outbox.store
    if channel is None:
        for message in queue:
            # Kept as a dead letter, so `outbox retry` can replay it once the notifier is back.
            store.mark_failed(
                message.alert_ids, name, f"notifier {name!r} is not configured", outbox.clock()
            )
            report.failed += len(message.deliveries)
        return
    disabled = store.disabled_reason(name, channel.fingerprint)
    if disabled is not None:
        log.warning(
            "notifier %s is disabled until its config changes: %s (%d messages wait)",
            name,
            disabled,
            len(queue),
            extra={"notifier": name},
        )
        return
    for message in queue:
        if stopping():
            return  # shutting down: what is not started stays in the outbox for the next run
        now = outbox.clock()
        if not store.claim(message.alert_ids, name, outbox.replica, until=now + LEASE, now=now):
            continue  # another replica is sending it
        if not await _deliver_one(outbox, channel, message, report):
            return


async def _send(notifier: Notifier, message: Message, extra: dict[str, str]) -> None:
    """Send one message; any failure comes out as DeliveryError."""
    try:
        if message.grouped:
            await notifier.send_batch(message.alerts, message.id)
        else:
            await notifier.send(message.alerts[0])
    except DeliveryError:
        raise
    except Exception as unexpected:
        # A bug in a channel must not stop the loop; the alert is retried like any failure.
        log.exception("notifier %s raised unexpectedly", notifier.name, extra=extra)
        raise DeliveryError(f"unexpected error: {unexpected!r}") from unexpected


async def _deliver_one(
    outbox: _Outbox, channel: Channel, message: Message, report: DispatchReport
) -> bool:
    """Deliver one message; False means stop draining this notifier for now."""
    store = outbox.store
    name, count = channel.notifier.name, len(message.deliveries)
    first = message.alerts[0]
    extra = {"notifier": name, "alert_id": message.id, "rule": first.rule.id}
    try:
        await _send(channel.notifier, message, extra)
    except DeliveryError as exc:
        now = outbox.clock()
        if exc.disable:
            store.disable_notifier(name, channel.fingerprint, str(exc), now)
            metrics.DELIVERIES.labels(name, "failed").inc(count)
            log.error("notifier %s disabled: %s", name, exc, extra=extra)
            return False
        attempts = message.attempts + 1
        delay = None if exc.permanent else delivery_retry_delay(attempts, exc.retry_after)
        if delay is None:
            store.mark_failed(message.alert_ids, name, str(exc), now)
            report.failed += count
            metrics.DELIVERIES.labels(name, "failed" if exc.permanent else "dead").inc(count)
            why = "permanent error" if exc.permanent else f"gave up after {attempts} attempts"
            log.error("%s to %s failed (%s): %s", message.id, name, why, exc, extra=extra)
            return True
        store.mark_retry(message.alert_ids, name, str(exc), now + delay, now)
        report.retried += count
        metrics.DELIVERIES.labels(name, "retry").inc(count)
        log.warning(
            "%s to %s failed (attempt %d), retrying in %.0fs: %s",
            message.id,
            name,
            attempts,
            delay,
            exc,
            extra=extra,
        )
        return False
    store.mark_sent(message.alert_ids, name, outbox.clock())
    report.sent += count
    metrics.DELIVERIES.labels(name, "sent").inc(count)
    if message.grouped:
        log.info("%s (%d alerts) delivered to %s", message.id, count, name, extra=extra)
    else:
        log.info(
            "alert %s delivered to %s (%s, message %s)",
            first.id,
            name,
            first.event,
            message.id,
            extra=extra,
        )
    return True
