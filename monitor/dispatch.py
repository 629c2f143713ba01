"""Drain the outbox: send each due message, then mark its deliveries sent, retry later, or failed.

A message is one delivery, or every pending delivery of one group (a route's `group:` window or
`digest:`) sent as one batch whose id derives from its members, so a retry carries the same id.
Each notifier is a lane of its own: it takes its due messages most urgent first (step-ups, then
by severity: `noise.urgency`) and keeps up to its `concurrency` of them in flight, so a slow or
stuck receiver delays its own lane only; woken by new alerts, a lane reads the outbox again
before its next send, so an alert that outranks a backlog goes ahead of it. The first retryable
failure ends that lane's turn (its receiver is likely down). Deliveries are marked sent only
after the receiver confirmed them, so a crash in between means a resend with the same id: at
least once, never under two ids. Once `stopping()` is true no new message is started.

Replicas draining one outbox claim each message before sending it (a lease of LEASE seconds):
one sends it, and if that one dies mid-send another sends it again, under the same id.

When a receiver accepted a message whose "sent" cannot be written (a full disk, a failing state
database), the outbox remembers it: this process does not send it again, the lane's next turn
first records it, and the notifier's other messages wait until that works. Without that, a full
disk meant the same alert posted at every round.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from monitor import metrics
from monitor.backoff import delivery_retry_delay
from monitor.db import StateUnavailableError
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
# Deliveries a lane reads at a time, and sends in one turn; it reads again sooner when woken.
LANE_TURN = 50
# What a state database raises when it fails under us (SQLite's own, PostgreSQL's through db.py).
STATE_ERRORS = (sqlite3.Error, StateUnavailableError)


@dataclass
class DispatchReport:
    """Counts of what one drain did, in deliveries (an alert to a notifier)."""

    sent: int = 0
    retried: int = 0
    failed: int = 0
    # The state database could not record a send the receiver accepted.
    state_error: Exception | None = None
    # The turn ended with messages still due and its receiver working: another turn goes on.
    more: bool = False

    def add(self, other: DispatchReport) -> None:
        self.sent += other.sent
        self.retried += other.retried
        self.failed += other.failed
        self.state_error = other.state_error or self.state_error


@dataclass(frozen=True)
class Channel:
    """A configured notifier, the fingerprint of its settings (a 410 disables until it changes),
    and how many of its messages may be in flight at once."""

    notifier: Notifier
    fingerprint: str
    concurrency: int = 1


@dataclass
class Outbox:
    """The store as this process drains it: who drains it (`replica`), the clock every decision
    and record of a drain takes its time from, and per notifier the message ids its receiver
    accepted whose "sent" could not be written yet (never sent again by this process)."""

    store: Store
    replica: str = "local"
    clock: Callable[[], float] = time.time
    unrecorded: dict[str, set[str]] = field(default_factory=dict)

    def observe(self) -> None:
        """Set the outbox gauges of /metrics."""
        pending, _, oldest = self.store.outbox_summary()
        metrics.OUTBOX_PENDING.set(pending)
        metrics.OUTBOX_OLDEST_PENDING_AGE.set(max(0.0, self.clock() - oldest) if oldest else 0)


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


def messages(store: Store, name: str, due: list[Delivery]) -> list[Message]:
    """One notifier's due deliveries as messages, in the order given; a group is fetched whole
    where its first member comes and sent in slices of MAX_BATCH (in outbox order, so a retried
    slice keeps its members and id)."""
    queue: list[Message] = []
    groups: set[str] = set()
    for delivery in due:
        if delivery.group is None:
            queue.append(Message(name, (delivery,), grouped=False))
        elif delivery.group not in groups:
            groups.add(delivery.group)
            members = store.group_members(name, delivery.group)
            queue.extend(
                Message(name, tuple(members[start : start + MAX_BATCH]), grouped=True)
                for start in range(0, len(members), MAX_BATCH)
            )
    return queue


class Lane:
    """One notifier's turn at the outbox: up to LANE_TURN of its due messages, most urgent
    first, with up to its channel's concurrency in flight. `wake()` (new alerts were queued)
    makes it read the outbox again before its next send."""

    def __init__(
        self,
        outbox: Outbox,
        name: str,
        channel: Channel | None,
        *,
        force: bool = False,
        stopping: Callable[[], bool] = bool,
    ) -> None:
        self.outbox = outbox
        self.name = name
        self.channel = channel
        self.force = force
        self.stopping = stopping
        self.report = DispatchReport()
        self._stale = True

    def wake(self) -> None:
        self._stale = True

    def _due(self) -> deque[Message]:
        self._stale = False
        store = self.outbox.store
        due = store.due_deliveries(
            self.outbox.clock(), force=self.force, notifier=self.name, limit=LANE_TURN
        )
        return deque(messages(store, self.name, due))

    async def turn(self) -> DispatchReport:
        """Send until the turn's messages are out, nothing is due, the receiver fails, or
        `stopping()`; `report.more` says whether another turn has work."""
        channel, store = self.channel, self.outbox.store
        if channel is None:
            self._dead_letters()
            return self.report
        disabled = store.disabled_reason(self.name, channel.fingerprint)
        if disabled is not None:
            log.warning(
                "notifier %s is disabled until its config changes: %s (its messages wait)",
                self.name,
                disabled,
                extra={"notifier": self.name},
            )
            return self.report
        if not self._record_unrecorded():
            return self.report
        queue: deque[Message] = deque()
        flying: dict[asyncio.Task[bool], str] = {}  # sends under way, and their message ids
        # Messages another replica is sending, and those this lane sends: a send may outlast
        # its lease (a timeout above LEASE), and this lane must not start it a second time.
        skip: set[str] = set()
        started, going = 0, True
        try:
            while going and started < LANE_TURN and not self.stopping():
                # A send that ended the turn (a retry under `force` is due again at once) is
                # seen before the outbox is read again.
                done = [task for task in flying if task.done()]
                going = _settled(flying, done)
                if not going:
                    break
                if self._stale or not queue:
                    queue = deque(m for m in self._due() if m.id not in skip)
                    if not queue:
                        break
                message = queue.popleft()
                skip.add(message.id)
                now = self.outbox.clock()
                if not store.claim(
                    message.alert_ids, self.name, self.outbox.replica, until=now + LEASE, now=now
                ):
                    continue
                flying[asyncio.create_task(self._deliver(channel, message))] = message.id
                started += 1
                if len(flying) >= channel.concurrency:
                    finished, _ = await asyncio.wait(flying, return_when=asyncio.FIRST_COMPLETED)
                    going = _settled(flying, finished)
        finally:
            if flying:
                finished, _ = await asyncio.wait(flying)
                going = _settled(flying, finished) and going
        self.report.more = going and started >= LANE_TURN
        return self.report

    def _dead_letters(self) -> None:
        """Kept as dead letters, so `outbox retry` can replay them once the notifier is back."""
        store = self.outbox.store
        while queue := self._due():
            for message in queue:
                store.mark_failed(
                    message.alert_ids,
                    self.name,
                    f"notifier {self.name!r} is not configured",
                    self.outbox.clock(),
                )
                self.report.failed += len(message.deliveries)

    def _record_unrecorded(self) -> bool:
        """Write the "sent" of messages already delivered; False while that still fails."""
        unrecorded = self.outbox.unrecorded.get(self.name)
        if not unrecorded:
            return True
        try:
            self.outbox.store.mark_sent(sorted(unrecorded), self.name, self.outbox.clock())
        except STATE_ERRORS as exc:
            self.report.state_error = exc
            return False
        log.info(
            "recorded %d deliveries to %s that were sent while the state could not be written",
            len(unrecorded),
            self.name,
            extra={"notifier": self.name},
        )
        unrecorded.clear()
        return True

    async def _deliver(self, channel: Channel, message: Message) -> bool:
        """Deliver one message; False means end this lane's turn."""
        store, report = self.outbox.store, self.report
        name, count = self.name, len(message.deliveries)
        first = message.alerts[0]
        extra = {"notifier": name, "alert_id": message.id, "rule": first.rule.id}
        try:
            await _send(channel.notifier, message, extra)
        except DeliveryError as exc:
            now = self.outbox.clock()
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
        report.sent += count
        metrics.DELIVERIES.labels(name, "sent").inc(count)
        try:
            store.mark_sent(message.alert_ids, name, self.outbox.clock())
        except STATE_ERRORS as exc:
            self.outbox.unrecorded.setdefault(name, set()).update(message.alert_ids)
            report.state_error = exc
            log.error(
                "%s was delivered to %s, but that cannot be recorded (%s); it is not sent "
                "again, and %s waits until the state can be written",
                message.id,
                name,
                exc,
                name,
                extra=extra,
            )
            return False
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


def _settled(flying: dict[asyncio.Task[bool], str], done: Iterable[asyncio.Task[bool]]) -> bool:
    """Take finished sends out of `flying`; False when one of them ended the lane's turn."""
    going = True
    for task in done:
        del flying[task]
        going = task.result() and going
    return going


async def deliver_due(
    outbox: Outbox,
    channels: Mapping[str, Channel],
    *,
    force: bool = False,
    stopping: Callable[[], bool] | None = None,
) -> DispatchReport:
    """Send every due message, each notifier in its lane, turn after turn until nothing is due
    or its receiver fails (with `force`, also those waiting out a retry backoff, as `news-monitor
    once` does; held deliveries wait for their time either way)."""

    async def drain(name: str) -> DispatchReport:
        report = DispatchReport()
        while True:
            lane = Lane(outbox, name, channels.get(name), force=force, stopping=stopping or bool)
            turn = await lane.turn()
            report.add(turn)
            if not turn.more:
                return report

    try:
        names = outbox.store.due_notifiers(outbox.clock(), force=force)
        results = await asyncio.gather(*(drain(name) for name in names), return_exceptions=True)
    finally:
        outbox.observe()
    report = DispatchReport()
    for result in results:
        if isinstance(result, BaseException):
            raise result
        report.add(result)
    return report


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
