"""Recovering deliveries as an operator does: see why a delivery waits and until when, send a
backed-off one now once the receiver is back, and read what `outbox retry` did in the words
`outbox list` used."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.cli import main
from monitor.store import Store
from tests.delivery_setup import RULE_ID, sorties, write_config
from tests.feedgen import rss
from tests.servers import FeedServer, WebhookReceiver, wait_until
from tests.test_end_to_end import start_daemon, stop_daemon


def cli(config: Path, *args: str) -> int:
    return main([*args, "--config", str(config)])


def listing(config: Path, capsys: pytest.CaptureFixture[str]) -> list[str]:
    capsys.readouterr()
    assert cli(config, "outbox", "list") == 0
    return capsys.readouterr().out.splitlines()[1:]


class TestWhyItWaits:
    @pytest.mark.parametrize(
        ("route", "reason"),
        [
            ("{digest: '08:00'}", "daily digest at 08:00 UTC until "),
            ("{group: 6h}", "group window of 21600s until "),
            ("QUIET", "quiet hours until "),
        ],
    )
    def test_a_held_delivery_says_why_and_until_when(
        self,
        tmp_path: Path,
        feed_server: FeedServer,
        webhook_receiver: WebhookReceiver,
        capsys: pytest.CaptureFixture[str],
        route: str,
        reason: str,
    ) -> None:
        """Not plain 'pending': the digest, group window or quiet hours, and the release time."""
        if route == "QUIET":
            now = datetime.now(UTC)
            start, end = (now - timedelta(hours=1)), (now + timedelta(hours=2))
            # (write_config strips the route's outer braces: it must not end in one)
            route = f"quiet_hours: {{from: '{start:%H:%M}', to: '{end:%H:%M}'}}, continue: true"
        url = feed_server.serve("/wire.xml", rss(sorties(1)))
        config = write_config(tmp_path, url, webhook_receiver.url(), route=route)
        assert cli(config, "once") == 0
        assert webhook_receiver.attempts == 0
        [row] = listing(config, capsys)
        assert " pending " in row and reason in row and "(in " in row

    def test_a_backed_off_delivery_says_when_it_is_tried_again(
        self,
        tmp_path: Path,
        feed_server: FeedServer,
        webhook_receiver: WebhookReceiver,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        webhook_receiver.fail_next = 1
        url = feed_server.serve("/wire.xml", rss(sorties(1)))
        config = write_config(tmp_path, url, webhook_receiver.url())
        assert cli(config, "once") == 4  # the delivery waits for its retry
        [row] = listing(config, capsys)
        assert "retry backoff after 1 attempts until " in row and "answered 503" in row


class TestRetryNow:
    def test_a_backed_off_delivery_goes_out_now_once_the_receiver_is_back(
        self,
        tmp_path: Path,
        feed_server: FeedServer,
        webhook_receiver: WebhookReceiver,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        """After two failures the daemon would wait ~5 min; `outbox retry --notifier` sends now."""
        webhook_receiver.fail_next = 2
        url = feed_server.serve("/wire.xml", rss(sorties(1)))
        config = write_config(tmp_path, url, webhook_receiver.url())
        log = tmp_path / "daemon.log"
        daemon = start_daemon(config, log)
        try:
            assert wait_until(lambda: webhook_receiver.attempts >= 2, timeout=60)
            assert wait_until(lambda: "retrying in" in log.read_text().split("attempt 2")[-1])
            capsys.readouterr()
            assert cli(config, "outbox", "retry", "--notifier", "ops") == 0
            out = capsys.readouterr().out
            assert wait_until(lambda: len(webhook_receiver.received) == 1, timeout=60)
        finally:
            assert stop_daemon(daemon) == 0
        assert out.startswith("1 deliveries will be sent now (1 waiting out a retry backoff)")

    def test_retry_by_id_or_all_reports_how_many_and_what_they_were(
        self,
        tmp_path: Path,
        feed_server: FeedServer,
        webhook_receiver: WebhookReceiver,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        webhook_receiver.fail_next = 2
        url = feed_server.serve("/wire.xml", rss(sorties(2)))
        config = write_config(tmp_path, url, webhook_receiver.url())
        assert cli(config, "once") == 4  # the first fails; the notifier's turn ends
        with Store(tmp_path / "data" / "state.db") as store:
            [first] = [d.alert.id for d in store.deliveries() if d.attempts == 1]
            assert first not in [d.alert.id for d in store.due_deliveries(time.time())]
        capsys.readouterr()
        assert cli(config, "outbox", "retry", first) == 0
        assert capsys.readouterr().out.startswith(
            "1 deliveries will be sent now (1 waiting out a retry backoff)"
        )
        with Store(tmp_path / "data" / "state.db") as store:
            assert first in [d.alert.id for d in store.due_deliveries(time.time())]
        assert cli(config, "once") == 4  # fails again (the second 503): backing off again
        assert cli(config, "outbox", "retry", "--all") == 0
        assert capsys.readouterr().out.startswith(
            "1 deliveries will be sent now (1 waiting out a retry backoff)"
        )
        assert cli(config, "outbox", "retry", "--all") == 0
        assert capsys.readouterr().out.startswith("nothing to retry")
        assert cli(config, "outbox", "retry") == 2


class TestSilencedWording:
    def test_retry_says_silenced_when_it_replays_a_silenced_alert(
        self,
        tmp_path: Path,
        feed_server: FeedServer,
        webhook_receiver: WebhookReceiver,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        """--all leaves silenced alerts alone and says so; naming the id replays it as 'silenced'."""
        url = feed_server.serve("/wire.xml", rss(sorties(1)))
        config = write_config(tmp_path, url, webhook_receiver.url())
        assert cli(config, "silence", "add", "--rule", RULE_ID, "--for", "1h") == 0
        assert cli(config, "once") == 0
        [row] = listing(config, capsys)
        assert " silenced " in row and f"silence 1: rule {RULE_ID}" in row
        alert_id = row.split()[0]
        assert cli(config, "outbox", "retry", "--all") == 0
        out = capsys.readouterr().out
        assert "nothing to retry" in out and "1 silenced or held back by a cooldown" in out
        assert cli(config, "outbox", "retry", alert_id) == 0
        assert capsys.readouterr().out.startswith("1 deliveries will be sent now (1 silenced)")
        assert cli(config, "once") == 0
        assert len(webhook_receiver.received) == 1
