"""Noise control, pure: when a delivery may go out (group windows, daily digests, quiet hours),
and whether it goes out at all (silences, rule cooldowns). Times are unix seconds, passed in.

A held delivery waits in the outbox until its `hold_until`; deliveries to one notifier that share
a group key go out together as one message once that time has come.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, tzinfo

from monitor.models import CREATED, Alert, Severity


def next_local_time(clock: time, zone: tzinfo, now: float) -> float:
    """The first moment after `now` at which the wall clock in `zone` reads `clock`."""
    today = datetime.fromtimestamp(now, zone).date()
    for offset in range(3):
        # Across a DST change the same wall time can be 23 or 25 hours away, hence a loop.
        local = datetime.combine(today + timedelta(days=offset), clock, tzinfo=zone)
        if local.timestamp() > now:
            return local.timestamp()
    raise AssertionError("a wall-clock time recurs within three days")


@dataclass(frozen=True)
class QuietHours:
    """A nightly window (may wrap past midnight) in which only `pierce` and above is sent."""

    start: time
    end: time
    zone: tzinfo = UTC
    pierce: Severity | None = None  # None: nothing pierces

    def __post_init__(self) -> None:
        if self.start == self.end:
            raise ValueError(f"from and to must differ, both are {self.start:%H:%M}")

    def ends_after(self, now: float) -> float | None:
        """When the quiet hours around `now` end, or None if `now` is not in them."""
        clock = datetime.fromtimestamp(now, self.zone).time()
        if self.start < self.end:
            quiet = self.start <= clock < self.end
        else:
            quiet = clock >= self.start or clock < self.end
        return next_local_time(self.end, self.zone, now) if quiet else None

    def holds(self, severity: Severity) -> bool:
        return self.pierce is None or severity < self.pierce


@dataclass(frozen=True)
class Hold:
    """Until when a delivery waits, and the group it is sent with (None: sent on its own)."""

    until: float
    group: str | None = None


def hold_for(
    severity: Severity,
    now: float,
    *,
    group: float | None = None,
    digest: time | None = None,
    zone: tzinfo = UTC,
    quiet: QuietHours | None = None,
) -> Hold:
    """Apply a route's timing to one alert detected at `now`.

    `group` batches alerts into fixed windows of that many seconds (aligned to the epoch, so the
    same window always gets the same key); `digest` collects everything until the next daily
    wall-clock time in `zone`. Quiet hours postpone both, unless the severity pierces them.
    """
    until = now
    key_base: str | None = None
    if digest is not None:
        until = next_local_time(digest, zone, now)
        key_base = f"digest {digest:%H:%M} {zone}"
    elif group is not None:
        until = (now // group + 1) * group
        key_base = f"group {group:g}s"
    if quiet is not None and quiet.holds(severity):
        quiet_end = quiet.ends_after(now)
        if quiet_end is not None:
            until = max(until, quiet_end)
    if key_base is None:
        return Hold(until)
    # The release time is part of the key: a group never takes members once it is due.
    return Hold(until, f"{key_base} until {until:.0f}")


def hold_reason(group: str | None) -> str:
    """Why a delivery held until later waits, from the group key `hold_for` gave it."""
    if group is None:
        return "quiet hours"  # the only hold of a delivery sent on its own
    kind, _, rest = group.partition(" ")
    if kind == "digest":
        return f"daily digest at {rest.split(' until ')[0]}"
    return f"group window of {rest.split(' until ')[0]}"


@dataclass(frozen=True)
class DeliveryPlan:
    """One notifier an alert is owed to, held until `hold_until`; deliveries to the same
    notifier with the same `group` go out together as one message."""

    notifier: str
    hold_until: float
    group: str | None = None


@dataclass(frozen=True)
class Silence:
    """Alerts of `rule` (on `feed`, or any feed) between `starts_at` and `ends_at` are not sent."""

    id: int
    rule: str
    feed: str | None
    starts_at: float
    ends_at: float
    comment: str = ""

    def covers(self, alert: Alert, now: float) -> bool:
        return (
            self.starts_at <= now < self.ends_at
            and alert.rule.id == self.rule
            and (self.feed is None or alert.item.feed == self.feed)
        )

    def describe(self) -> str:
        where = f" on feed {self.feed}" if self.feed else ""
        note = f" ({self.comment})" if self.comment else ""
        return f"silence {self.id}: rule {self.rule}{where}{note}"


@dataclass(frozen=True)
class Cooldown:
    """A rule fired at `started_at` with `severity` (by `alert_id`): the start of its cooldown."""

    rule: str
    started_at: float
    severity: Severity
    alert_id: str

    def suppresses(self, severity: Severity, length: float, now: float) -> bool:
        """True when an alert of `severity` at `now` falls in the cooldown; never a higher one."""
        return now < self.started_at + length and severity <= self.severity

    def describe(self) -> str:
        return f"cooldown of rule {self.rule} started by {self.alert_id}"


@dataclass(frozen=True)
class Decision:
    """Whether a new alert is sent (`pending`) or kept back (`silenced`, `cooldown`, with why),
    and the cooldown its rule is in from now on when this alert starts one."""

    status: str
    reason: str | None = None
    starts: Cooldown | None = None


STEP_UP_URGENCY = 10  # above every severity: a step-up goes before any alert that is not one


def urgency(alert: Alert) -> int:
    """Where a message stands in its notifier's lane, highest first: step-ups (the news the
    watch exists for, as they pierce quiet hours), then by severity."""
    return int(alert.rule.severity) + (STEP_UP_URGENCY if alert.step_up else 0)


def decide(
    alert: Alert,
    silences: Sequence[Silence],
    cooldown: Cooldown | None,
    length: float | None,
    now: float,
) -> Decision:
    """Silences first (a silenced alert starts no cooldown), then the rule's cooldown of
    `length` seconds (None: the rule has none), of which `cooldown` is the current start."""
    for silence in silences:
        if silence.covers(alert, now):
            return Decision("silenced", silence.describe())
    if not length or alert.event != CREATED or alert.step_up:
        # A cooldown holds back new alerts: never the updates of one sent, nor a step-up.
        return Decision("pending")
    if cooldown is not None and cooldown.suppresses(alert.rule.severity, length, now):
        return Decision("cooldown", cooldown.describe())
    return Decision("pending", starts=Cooldown(alert.rule.id, now, alert.rule.severity, alert.id))
