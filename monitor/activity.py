"""What the daemon did between two summary log lines, and whether every feed is failing. Pure:
the daemon feeds it poll outcomes and delivery reports with `now`, and logs what it returns.

A healthy daemon is otherwise quiet for hours; one line every few minutes shows it works, and a
warning when no feed has answered for a whole summary period shows when the network is gone.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from monitor.dispatch import DispatchReport
from monitor.poll import PollOutcome


@dataclass(frozen=True)
class Summary:
    """One summary line's facts; `all_failing_since` is set when every feed fails."""

    polls: int
    failed_polls: int
    failing_feeds: int
    feeds: int
    new_items: int
    alerts: int
    sent: int
    retried: int
    failed: int
    pending: int
    all_failing_since: float | None
    last_error: str | None

    def line(self) -> str:
        return (
            f"summary: {self.polls} polls ({self.failed_polls} failed), {self.failing_feeds} of "
            f"{self.feeds} feeds failing, {self.new_items} new items, {self.alerts} alerts; "
            f"deliveries: {self.sent} sent, {self.retried} to retry, {self.failed} failed, "
            f"{self.pending} pending"
        )


@dataclass
class Activity:
    """Counters since the last summary, and each feed's latest poll outcome."""

    polls: int = 0
    failed_polls: int = 0
    new_items: int = 0
    alerts: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    failing: dict[str, str] = field(default_factory=dict)  # feed -> its last error
    healthy: set[str] = field(default_factory=set)
    all_failing_since: float | None = None

    def polled(self, outcome: PollOutcome, now: float) -> None:
        if outcome.status == "backing_off":
            return  # not a poll: the feed waits out its backoff, still failing
        self.polls += 1
        self.new_items += outcome.new_items
        self.alerts += len(outcome.alerts)
        if outcome.status == "error":
            self.failed_polls += 1
            self.failing[outcome.feed] = outcome.error or "failed"
            self.healthy.discard(outcome.feed)
            if not self.healthy and self.all_failing_since is None:
                self.all_failing_since = now
        else:
            self.failing.pop(outcome.feed, None)
            self.healthy.add(outcome.feed)
            self.all_failing_since = None

    def delivered(self, report: DispatchReport) -> None:
        self.sent += report.sent
        self.retried += report.retried
        self.failed += report.failed

    def summarise(self, feeds: Iterable[str], pending: int) -> Summary:
        """The facts since the last summary; the counters start again from zero."""
        names = set(feeds)
        for gone in set(self.failing) - names:  # removed by a reload
            del self.failing[gone]
        self.healthy &= names
        every_feed_failing = bool(names) and set(self.failing) == names
        summary = Summary(
            polls=self.polls,
            failed_polls=self.failed_polls,
            failing_feeds=len(self.failing),
            feeds=len(names),
            new_items=self.new_items,
            alerts=self.alerts,
            sent=self.sent,
            retried=self.retried,
            failed=self.failed,
            pending=pending,
            all_failing_since=self.all_failing_since if every_feed_failing else None,
            last_error=next(reversed(self.failing.values()), None),
        )
        self.polls = self.failed_polls = self.new_items = self.alerts = 0
        self.sent = self.retried = self.failed = 0
        return summary
