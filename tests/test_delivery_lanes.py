"""Each notifier drains in a lane of its own, against real receivers: a slow receiver's backlog
delays no other notifier, a lane keeps its notifier's concurrency in flight and no more, and
within a lane step-ups and the most severe alerts go first."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.app import build_channels
from monitor.dispatch import DispatchReport, Outbox, deliver_due
from monitor.models import Alert, Severity
from monitor.noise import DeliveryPlan
from monitor.notify.settings import NotifierSettings, WebhookSettings
from monitor.store import QueuedAlert, Store
from tests.delivery_setup import SECRET, sorties
from tests.feedgen import Story, rss
from tests.notify_alerts import make_alert
from tests.servers import FeedServer, WebhookReceiver, running, wait_until
from tests.test_end_to_end import start_daemon, stop_daemon


@pytest.fixture
def store(state: Path | str) -> Iterator[Store]:
    """Once on SQLite, once on PostgreSQL."""
    with Store(state) as opened:
        yield opened


def queue(store: Store, alerts: list[Alert], notifiers: tuple[str, ...] = ("ops",)) -> None:
    """Each alert recorded a second after the one before it (the first is the oldest)."""
    start = time.time() - len(alerts) - 1
    for n, alert in enumerate(alerts):
        plans = tuple(DeliveryPlan(name, 0.0) for name in notifiers)
        store.record_poll(
            store.feed_state("wire", "https://wire.example.org/rss"),
            [alert.item],
            [QueuedAlert(alert, plans)],
            now=start + n,
        )


def deliver(store: Store, *settings: NotifierSettings) -> DispatchReport:
    async def run() -> DispatchReport:
        channels = build_channels(settings)
        try:
            return await deliver_due(Outbox(store), channels)
        finally:
            for channel in channels.values():
                await channel.notifier.aclose()

    return asyncio.run(run())


def test_a_lane_sends_step_ups_first_then_the_most_severe_then_the_oldest(
    store: Store, webhook_receiver: WebhookReceiver
) -> None:
    """Queued oldest first: low, critical, medium, a low step-up, high, critical. Received:
    the step-up, both criticals (the older first), high, medium, low."""
    alerts = [
        make_alert("Patrol boats seen off the coast", key="low", severity=Severity.LOW),
        make_alert("Strike on a boat kills four", key="crit-1", severity=Severity.CRITICAL),
        make_alert("Carrier group heads south", key="medium", severity=Severity.MEDIUM),
        dataclasses.replace(
            make_alert("Troops land on the coast", key="step", severity=Severity.LOW),
            escalation="step_up",
        ),
        make_alert("Bombers over the Caribbean", key="high", severity=Severity.HIGH),
        make_alert("Second strike near Caracas", key="crit-2", severity=Severity.CRITICAL),
    ]
    queue(store, alerts)
    assert deliver(store, WebhookSettings("ops", webhook_receiver.url())).sent == 6
    assert [hook.json()["item"]["key"] for hook in webhook_receiver.received] == [
        "step",
        "crit-1",
        "crit-2",
        "high",
        "medium",
        "low",
    ]


def test_a_lane_keeps_its_concurrency_in_flight_and_never_more(store: Store) -> None:
    """`concurrency: 3`: the receiver holds each request until three are in flight at once (so
    one at a time would never get through); it never sees a fourth. Beside it a notifier of
    concurrency 1 never has two at once."""
    with running(WebhookReceiver()) as wide, running(WebhookReceiver()) as narrow:

        def three_at_once() -> float:
            wait_until(lambda: wide.most_in_flight >= 3, timeout=30)
            return 0.0

        wide.delay = three_at_once
        narrow.delay = 0.05
        queue(store, [make_alert(key=f"k{n}") for n in range(8)], ("wide", "narrow"))
        report = deliver(
            store,
            WebhookSettings("wide", wide.url(), concurrency=3),
            WebhookSettings("narrow", narrow.url()),
        )
        assert report.sent == 16
        assert len(wide.received) == len(narrow.received) == 8
        assert wide.most_in_flight == 3
        assert narrow.most_in_flight == 1


RULES = """\
rules:
  - id: bomber-sorties
    title: US bomber sorties near Venezuela
    severity: medium
    match:
      all:
        - any: [bomber, bombers, B-52]
        - any: [Venezuela, Caracas]
  - id: strike-on-caracas
    title: Strike on Caracas
    severity: critical
    match:
      all: [strike, Caracas]
"""
STRIKE = Story("strike-1", "Missile strike reported in Caracas", "Explosions were heard.")


def _config(tmp_path: Path, feed: str, slow: str, fast: str) -> Path:
    (tmp_path / "rules").mkdir(exist_ok=True)
    (tmp_path / "rules" / "rules.yaml").write_text(RULES)
    config = tmp_path / "config.yaml"
    config.write_text(
        f"""\
state: data/state.db
rules: [rules/]
defaults: {{interval: 1s, timeout: 5s}}
feeds:
  - {{name: wire, url: "{feed}"}}
notifiers:
  - {{name: slow, type: webhook, url: "{slow}", secret: "{SECRET}", timeout: 10s}}
  - {{name: fast, type: webhook, url: "{fast}", secret: "{SECRET}", timeout: 10s}}
routes:
  - {{notify: [slow, fast]}}
log: {{format: json}}
"""
    )
    return config


def test_a_slow_receiver_delays_neither_another_notifier_nor_a_critical_alert(
    tmp_path: Path, feed_server: FeedServer, webhook_receiver: WebhookReceiver
) -> None:
    """600 alerts, one receiver taking 0.3 s each: the fast one has them all while the slow one
    is far behind, and a critical alert published then overtakes the slow one's backlog."""
    backlog = sorties(600)
    with running(WebhookReceiver()) as fast:
        webhook_receiver.delay = 0.3
        url = feed_server.serve("/wire.xml", rss(backlog))
        config = _config(tmp_path, url, webhook_receiver.url("/slow"), fast.url("/fast"))
        log = tmp_path / "daemon.log"
        daemon = start_daemon(config, log)
        try:
            assert wait_until(lambda: len(fast.received) >= 600, timeout=240), log.read_text()
            slow_meanwhile = len(webhook_receiver.received)
            feed_server.serve("/wire.xml", rss([*backlog, STRIKE]))

            def strike_at() -> int | None:
                for n, hook in enumerate(webhook_receiver.received):
                    if hook.json()["rule"]["id"] == "strike-on-caracas":
                        return n
                return None

            assert wait_until(lambda: strike_at() is not None, timeout=120), log.read_text()
            slow_before_strike = strike_at()
        finally:
            assert stop_daemon(daemon) == 0
    assert slow_meanwhile < 600 / 2  # the slow lane was far behind when the fast one finished
    assert slow_before_strike is not None and slow_before_strike < 600  # it overtook the rest
    print(
        f"fast lane: 600 while the slow lane sent {slow_meanwhile}; the critical alert reached "
        f"the slow lane after {slow_before_strike} backlog alerts"
    )
