"""`news-monitor once` delivers everything due, however many rounds that takes, or exits 4
saying how many deliveries are left."""

from __future__ import annotations

import sqlite3
from collections import Counter
from pathlib import Path

import pytest

from monitor.cli import main
from tests.delivery_setup import SECRET, sorties, write_config
from tests.feedgen import rss
from tests.servers import FeedServer, WebhookReceiver, free_port


def _two_notifiers(config: Path, second: str) -> None:
    config.write_text(
        config.read_text()
        .replace(
            "routes:\n",
            f'  - {{name: desk, type: webhook, url: "{second}", secret: "{SECRET}", timeout: 2s}}\n'
            "routes:\n",
        )
        .replace("notify: [ops", "notify: [ops, desk")
    )


def test_once_delivers_a_thousand_alerts_to_two_notifiers(
    tmp_path: Path, feed_server: FeedServer, webhook_receiver: WebhookReceiver
) -> None:
    """Was "500 sent", exit 0, with 1,500 left pending."""
    url = feed_server.serve("/wire.xml", rss(sorties(1000)))
    config = write_config(tmp_path, url, webhook_receiver.url("/ops"))
    _two_notifiers(config, webhook_receiver.url("/desk"))
    assert main(["once", "--config", str(config)]) == 0
    with sqlite3.connect(tmp_path / "data" / "state.db") as db:
        (alerts,) = db.execute("SELECT count(*) FROM alerts").fetchone()
    assert alerts > 900  # near-identical headlines may share a story
    per_path = Counter(hook.path for hook in webhook_receiver.received)
    assert per_path == {"/ops": alerts, "/desk": alerts}


def test_once_says_how_many_are_left_when_a_receiver_is_down(
    tmp_path: Path,
    feed_server: FeedServer,
    webhook_receiver: WebhookReceiver,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The working notifier gets all; the dead one's deliveries are counted, exit 4."""
    url = feed_server.serve("/wire.xml", rss(sorties(600)))
    config = write_config(tmp_path, url, webhook_receiver.url("/ops"))
    _two_notifiers(config, f"http://127.0.0.1:{free_port()}/gone")
    assert main(["once", "--config", str(config)]) == 4
    assert len(webhook_receiver.received) == 600
    assert "600 deliveries are still waiting" in caplog.text
