"""SIGTERM while a receiver is still answering: that delivery finishes, nothing new starts, and a
restart neither resends it nor forgets the rest."""

from __future__ import annotations

from pathlib import Path

from tests.delivery_setup import SECRET, sorties, write_config
from tests.feedgen import rss
from tests.servers import FeedServer, WebhookReceiver, wait_until
from tests.test_end_to_end import start_daemon, stop_daemon


def test_sigterm_finishes_the_delivery_in_flight_and_a_restart_does_not_resend_it(
    tmp_path: Path, feed_server: FeedServer, webhook_receiver: WebhookReceiver
) -> None:
    """The daemon exits 0 after the slow receiver confirmed; the next run sends only the rest."""
    webhook_receiver.verify_secrets = [SECRET]
    webhook_receiver.delay = 2.0
    url = feed_server.serve("/wire.xml", rss(sorties(3)))
    config = write_config(tmp_path, url, webhook_receiver.url())
    log = tmp_path / "daemon.log"

    daemon = start_daemon(config, log)
    try:
        assert wait_until(lambda: webhook_receiver.attempts >= 1, timeout=30), log.read_text()
    finally:
        code = stop_daemon(daemon)  # SIGTERM while the receiver takes its two seconds
    assert code == 0
    assert webhook_receiver.attempts == 1  # nothing new was started once stopping
    first = webhook_receiver.received[0].json()["id"]
    assert f"alert {first} delivered to ops" in log.read_text()

    webhook_receiver.delay = 0.0
    daemon = start_daemon(config, log)
    try:
        assert wait_until(lambda: len(webhook_receiver.received) >= 3, timeout=30)
    finally:
        assert stop_daemon(daemon) == 0
    ids = [hook.json()["id"] for hook in webhook_receiver.received]
    assert len(ids) == 3 and len(set(ids)) == 3
    assert webhook_receiver.unverified == []
