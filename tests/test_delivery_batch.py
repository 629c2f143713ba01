"""Group windows and digests: the outbox holds alerts, then sends each group as one message
whose id derives from its members, on every channel, against real receivers."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.app import build_channels
from monitor.cli import main
from monitor.dispatch import MAX_BATCH, DispatchReport, Outbox, deliver_due
from monitor.models import Alert, Severity
from monitor.noise import DeliveryPlan
from monitor.notify.batch import batch_chat_body, batch_id
from monitor.notify.settings import (
    AppriseSettings,
    EmailSettings,
    NotifierSettings,
    WebhookSettings,
)
from monitor.store import QueuedAlert, Store
from tests.delivery_setup import SECRET, sorties, write_config
from tests.feedgen import BOAT_STRIKE, BOMBERS, rss
from tests.notify_alerts import make_alert
from tests.servers import FeedServer, SmtpSink, WebhookReceiver, wait_until
from tests.test_end_to_end import write_config as write_e2e_config

ALERTS = [
    make_alert("Bombers over the Caribbean", key="a"),
    make_alert("Strike on a boat kills four", key="b", severity=Severity.CRITICAL),
    make_alert("Carrier group heads south", key="c", severity=Severity.MEDIUM),
]


def record(store: Store, alerts: list[Alert], plans: list[DeliveryPlan]) -> None:
    state = store.feed_state("wire", "https://wire.example.org/rss")
    queued = [QueuedAlert(alert, tuple(plans)) for alert in alerts]
    store.record_poll(state, [a.item for a in alerts], queued, now=time.time())


def deliver(store: Store, *settings: NotifierSettings, force: bool = False) -> DispatchReport:
    async def run() -> DispatchReport:
        channels = build_channels(settings)
        try:
            return await deliver_due(Outbox(store), channels, force=force)
        finally:
            for channel in channels.values():
                await channel.notifier.aclose()

    return asyncio.run(run())


@pytest.fixture
def store(state: Path | str) -> Iterator[Store]:
    """Once on SQLite, once on PostgreSQL."""
    with Store(state) as opened:
        yield opened


class TestBatches:
    def test_a_group_goes_out_as_one_signed_webhook(
        self, store: Store, webhook_receiver: WebhookReceiver
    ) -> None:
        """Three alerts of one window: one POST {"id", "alerts"}, webhook-id = id, signature valid."""
        webhook_receiver.verify_secrets = [SECRET]
        record(store, ALERTS, [DeliveryPlan("ops", time.time() - 1, "window-1")])
        hook = WebhookSettings("ops", webhook_receiver.url(), secrets=(SECRET,))
        assert deliver(store, hook).sent == 3
        [received] = webhook_receiver.received
        body = received.json()
        assert (
            body["id"] == batch_id(a.message_id for a in ALERTS) == received.headers["webhook-id"]
        )
        assert [a["item"]["title"] for a in body["alerts"]] == [
            "Strike on a boat kills four",
            "Bombers over the Caribbean",
            "Carrier group heads south",
        ]
        assert webhook_receiver.unverified == []

    def test_a_batch_retried_after_a_failure_keeps_its_id(
        self, store: Store, webhook_receiver: WebhookReceiver
    ) -> None:
        """A receiver that was down gets the same batch id on the retry, and one message."""
        webhook_receiver.fail_next = 1
        record(store, ALERTS[:2], [DeliveryPlan("ops", time.time() - 1, "window-1")])
        hook = WebhookSettings("ops", webhook_receiver.url())
        assert deliver(store, hook).retried == 2
        assert deliver(store, hook, force=True).sent == 2
        [rejected], [accepted] = webhook_receiver.rejected, webhook_receiver.received
        assert rejected.json()["id"] == accepted.json()["id"]
        assert rejected.headers["webhook-id"] == accepted.headers["webhook-id"]

    def test_a_group_still_open_is_not_sent_even_when_forced(
        self, store: Store, webhook_receiver: WebhookReceiver
    ) -> None:
        """`once` ignores retry backoff but never a hold: the window must close first."""
        record(store, ALERTS[:1], [DeliveryPlan("ops", time.time() + 3600, "window-2")])
        assert deliver(store, WebhookSettings("ops", webhook_receiver.url()), force=True).sent == 0
        assert webhook_receiver.attempts == 0
        assert [d.status for d in store.deliveries()] == ["pending"]

    def test_held_alerts_go_out_when_their_hold_ends(
        self, store: Store, webhook_receiver: WebhookReceiver
    ) -> None:
        """An alert held (as by quiet hours) is sent on the first drain after its time."""
        release = time.time() + 1.0
        record(store, ALERTS[:1], [DeliveryPlan("ops", release)])
        hook = WebhookSettings("ops", webhook_receiver.url())
        assert deliver(store, hook).sent == 0
        assert wait_until(lambda: time.time() > release, timeout=5)
        assert deliver(store, hook).sent == 1
        assert webhook_receiver.payloads()[0]["id"] == ALERTS[0].id

    def test_a_long_digest_is_sent_in_slices(
        self, store: Store, webhook_receiver: WebhookReceiver
    ) -> None:
        """150 alerts in one group arrive as 100 + 50, none twice."""
        many = [make_alert(f"Story {n}", key=f"k{n:03}") for n in range(150)]
        record(store, many, [DeliveryPlan("ops", time.time() - 1, "digest")])
        assert deliver(store, WebhookSettings("ops", webhook_receiver.url())).sent == 150
        sizes = [len(p["alerts"]) for p in webhook_receiver.payloads()]
        assert sizes == [MAX_BATCH, 150 - MAX_BATCH]
        keys = {a["item"]["key"] for p in webhook_receiver.payloads() for a in p["alerts"]}
        assert len(keys) == 150

    def test_a_group_goes_out_as_one_email(self, store: Store, smtp_sink: SmtpSink) -> None:
        """The subject counts and lists the alerts, most severe first; the body has each one."""
        record(store, ALERTS, [DeliveryPlan("desk", time.time() - 1, "digest")])
        mail = EmailSettings(
            "desk",
            "127.0.0.1",
            "monitor@example.org",
            ("desk@example.org",),
            "none",
            smtp_sink.port,
        )
        assert deliver(store, mail).sent == 3
        [message] = smtp_sink.messages
        subject = str(message["Subject"])
        assert subject.startswith("3 alerts: [CRITICAL] Strike on a boat kills four; [HIGH]")
        text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        assert all(a.item.title in text for a in ALERTS)
        assert batch_id(a.message_id for a in ALERTS) in str(message["Message-ID"])

    def test_a_group_goes_out_as_one_chat_message(
        self, store: Store, webhook_receiver: WebhookReceiver
    ) -> None:
        """Apprise gets one message listing every alert, typed by the most severe."""
        record(store, ALERTS, [DeliveryPlan("chat", time.time() - 1, "window-3")])
        url = f"json://127.0.0.1:{webhook_receiver.port}/chat"
        assert deliver(store, AppriseSettings("chat", (url,))).sent == 3
        [payload] = webhook_receiver.payloads()
        assert payload["title"] == "3 alerts (highest: CRITICAL)"
        assert payload["message"] == batch_chat_body(ALERTS)
        assert payload["type"] == "failure"
        assert len(payload["message"].splitlines()) == 3


class TestRoutesInTheDaemon:
    def test_a_group_window_in_config_batches_a_poll(
        self, tmp_path: Path, feed_server: FeedServer, webhook_receiver: WebhookReceiver
    ) -> None:
        """group: 2s: the alerts of a poll wait for their window to close, then go in one POST."""
        url = feed_server.serve("/wire.xml", rss(sorties(4)))
        config = write_config(tmp_path, url, webhook_receiver.url(), route="{group: 2s}")
        assert main(["once", "--config", str(config)]) == 0
        release = (time.time() // 2 + 1) * 2
        assert wait_until(lambda: time.time() > release, timeout=5)
        assert main(["once", "--config", str(config)]) == 0
        [hook] = webhook_receiver.payloads()  # one poll's alerts all fall in one window
        assert len({a["id"] for a in hook["alerts"]}) == 4
        assert webhook_receiver.unverified == []

    def test_quiet_hours_hold_all_but_the_piercing_severity(
        self, tmp_path: Path, feed_server: FeedServer, webhook_receiver: WebhookReceiver
    ) -> None:
        """During quiet hours only the critical alert goes; the high one waits for their end."""
        now = datetime.now(UTC)
        start, end = (now - timedelta(hours=1)), (now + timedelta(hours=1))
        route = (
            f"  - notify: [ops]\n    quiet_hours: {{from: '{start:%H:%M}', to: '{end:%H:%M}', "
            "timezone: UTC, except_severity: critical}\n"
        )
        url = feed_server.serve("/wire.xml", rss([BOMBERS, BOAT_STRIKE]))
        config = write_e2e_config(tmp_path, {"wire": url}, webhook=webhook_receiver.url())
        config.write_text(config.read_text().split("routes:")[0] + "routes:\n" + route)
        assert main(["once", "--config", str(config)]) == 0
        assert [p["rule"]["id"] for p in webhook_receiver.payloads()] == ["boat-strikes"]
        store = Store(tmp_path / "data" / "state.db")
        try:
            [held] = [d for d in store.deliveries() if d.status == "pending"]
        finally:
            store.close()
        assert held.alert.rule.id == "bomber-flights-venezuela"
        assert held.hold_until == end.replace(second=0, microsecond=0).timestamp()
