"""Silences from the command line: silenced alerts are recorded and visible, never sent, also
when they were already waiting in the outbox; a silence ends at its expiry or on removal."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.cli import main
from monitor.models import Alert, Item, RuleInfo, Severity
from monitor.noise import DeliveryPlan
from monitor.store import QueuedAlert, Store
from tests.delivery_setup import RULE_ID, sorties, write_config
from tests.feedgen import rss
from tests.servers import FeedServer, WebhookReceiver


def cli(config: Path, *args: str) -> int:
    return main([*args, "--config", str(config)])


class TestSilenceCommands:
    def test_a_silenced_rule_is_recorded_but_not_sent(
        self,
        tmp_path: Path,
        feed_server: FeedServer,
        webhook_receiver: WebhookReceiver,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        """`silence add` keeps the alert off the webhook; `outbox list` shows it as silenced."""
        url = feed_server.serve("/wire.xml", rss(sorties(1)))
        config = write_config(tmp_path, url, webhook_receiver.url())
        assert (
            cli(config, "silence", "add", "--rule", RULE_ID, "--for", "6h", "--comment", "drill")
            == 0
        )
        assert "0 waiting deliveries silenced" in capsys.readouterr().out
        assert cli(config, "silence", "list") == 0
        listing = capsys.readouterr().out
        assert RULE_ID in listing and "drill" in listing and "(any)" in listing
        assert cli(config, "once") == 0
        assert webhook_receiver.attempts == 0
        assert cli(config, "outbox", "list") == 0
        assert "silenced" in capsys.readouterr().out

    def test_alerts_already_waiting_are_silenced_too(
        self,
        tmp_path: Path,
        feed_server: FeedServer,
        webhook_receiver: WebhookReceiver,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        """An alert whose receiver was down is not sent once its rule is silenced."""
        webhook_receiver.fail_next = 1
        url = feed_server.serve("/wire.xml", rss(sorties(2)))
        config = write_config(tmp_path, url, webhook_receiver.url())
        assert cli(config, "once") == 4  # both deliveries wait for the receiver
        assert webhook_receiver.attempts == 1  # the failure ended the notifier's turn
        assert cli(config, "silence", "add", "--rule", RULE_ID, "--for", "1h") == 0
        assert "2 waiting deliveries silenced" in capsys.readouterr().out
        assert cli(config, "once") == 0  # nothing left: both are silenced
        assert webhook_receiver.attempts == 1

    def test_removing_a_silence_lets_new_alerts_through(
        self,
        tmp_path: Path,
        feed_server: FeedServer,
        webhook_receiver: WebhookReceiver,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        """After `silence remove`, the next new alert is delivered; the silenced one stays unsent."""
        url = feed_server.serve("/wire.xml", rss(sorties(1)))
        config = write_config(tmp_path, url, webhook_receiver.url())
        assert cli(config, "silence", "add", "--rule", RULE_ID, "--for", "1h") == 0
        assert cli(config, "once") == 0
        assert cli(config, "silence", "remove", "1") == 0
        assert cli(config, "silence", "list") == 0
        assert RULE_ID not in capsys.readouterr().out.split("removed")[-1]
        feed_server.serve("/wire.xml", rss(sorties(2)))
        assert cli(config, "once") == 0
        assert [p["item"]["key"] for p in webhook_receiver.payloads()] == ["sortie-1"]

    @pytest.mark.parametrize(
        ("args", "code", "message"),
        [
            (["--rule", "no-such-rule", "--for", "1h"], 1, "no rule with id 'no-such-rule'"),
            (["--rule", RULE_ID, "--feed", "nope", "--for", "1h"], 1, "no feed named 'nope'"),
            (["--rule", RULE_ID, "--for", "soon"], 2, "--for"),
            (["--rule", RULE_ID, "--for", "0s"], 2, "longer than zero"),
        ],
    )
    def test_mistakes_are_refused(
        self,
        tmp_path: Path,
        capsys: pytest.CaptureFixture[str],
        args: list[str],
        code: int,
        message: str,
    ) -> None:
        """A typo in a rule or feed name, or a bad duration, silences nothing and says why."""
        config = write_config(tmp_path, "http://127.0.0.1:9/feed", "http://127.0.0.1:9/hook")
        assert cli(config, "silence", "add", *args) == code
        assert message in capsys.readouterr().err

    def test_removing_an_unknown_silence_fails(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """`silence remove 42` with no silence 42 exits 1."""
        config = write_config(tmp_path, "http://127.0.0.1:9/feed", "http://127.0.0.1:9/hook")
        assert cli(config, "silence", "remove", "42") == 1
        assert "no silence with id 42" in capsys.readouterr().err


def queued(rule: str, feed: str, key: str) -> QueuedAlert:
    alert = Alert(
        id=f"alert_{feed}_{key}",
        rule=RuleInfo(rule, rule, Severity.HIGH),
        item=Item(feed=feed, key=key, title=key, link="https://x/"),
        matched=("x",),
        detected_at=datetime(2026, 11, 20, tzinfo=UTC),
    )
    return QueuedAlert(alert, (DeliveryPlan("ops", 0.0),))


def record(store: Store, entry: QueuedAlert, now: float) -> str:
    state = store.feed_state(entry.alert.item.feed, "https://x/rss")
    store.record_poll(state, [entry.alert.item], [entry], now)
    [delivery] = [d for d in store.deliveries() if d.alert.id == entry.alert.id]
    return delivery.status


class TestSilenceScope:
    def test_a_feed_silence_covers_only_that_feed_and_rule(self, state: Path | str) -> None:
        """--feed narrows a silence; other rules are never touched."""
        with Store(state) as store:
            store.add_silence("bombers", "wire", ends_at=2000.0, comment="", now=1000.0)
            assert record(store, queued("bombers", "wire", "a"), 1100.0) == "silenced"
            assert record(store, queued("bombers", "desk", "b"), 1100.0) == "pending"
            assert record(store, queued("ships", "wire", "c"), 1100.0) == "pending"

    def test_an_expired_silence_no_longer_applies(self, state: Path | str) -> None:
        """After its expiry a silence is not listed and alerts are sent again."""
        with Store(state) as store:
            store.add_silence("bombers", None, ends_at=2000.0, comment="", now=1000.0)
            assert [s.rule for s in store.silences(1999.0)] == ["bombers"]
            assert store.silences(2000.0) == []
            assert record(store, queued("bombers", "wire", "a"), 2000.0) == "pending"

    def test_a_silenced_alert_can_still_be_replayed_by_id(self, state: Path | str) -> None:
        """`outbox retry ID` puts a silenced alert back in the outbox if the silence was a mistake."""
        with Store(state) as store:
            store.add_silence(
                "bombers", None, ends_at=time.time() + 60, comment="", now=time.time()
            )
            entry = queued("bombers", "wire", "a")
            assert record(store, entry, time.time()) == "silenced"
            assert store.requeue(entry.alert.id, None, time.time()).moved == {"silenced": 1}
            assert [d.status for d in store.deliveries()] == ["pending"]
