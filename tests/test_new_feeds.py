"""A feed added to a state that already polls others baselines on its first poll: what it already
had is marked seen without alerting, items published after it was added still alert, and
`backfill:` asks for recent ones. A brand-new state alerts as configured (within max_age)."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from pathlib import Path

import pytest

from monitor.app import App
from monitor.cli import main
from monitor.config import load_config
from monitor.poll import PollOutcome
from tests.delivery_setup import sorties
from tests.feedgen import BOAT_STRIKE, BOMBERS, Story, rss
from tests.servers import FeedServer, WebhookReceiver, wait_until
from tests.test_daemon_ops import add_feed
from tests.test_end_to_end import start_daemon, stop_daemon, write_config
from tests.test_replicas_crash import write_config as write_replica_config


def old(n: int, age: timedelta = timedelta(minutes=30)) -> Story:
    return Story(
        f"old-{n}", f"US B-52 bombers fly mission {n} near Venezuela", "Over the sea.", age=age
    )


LATER = Story(
    "later", "B-52 bombers fly again near Venezuela's coast", "A new flight.", timedelta(minutes=-5)
)


def once(config: Path) -> int:
    return main(["once", "--config", str(config)])


def established(tmp_path: Path, feed_server: FeedServer, webhook: str, extra: str = "") -> Path:
    """A state that has polled one quiet feed."""
    quiet = feed_server.serve("/quiet.xml", rss([]))
    config = write_config(tmp_path, {"quiet": quiet}, webhook=webhook)
    assert once(config) == 0
    return config


def test_a_feed_added_later_alerts_only_on_what_is_published_after_it_was_added(
    tmp_path: Path,
    feed_server: FeedServer,
    webhook_receiver: WebhookReceiver,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Three matching items it already had stay quiet; one published after it was added alerts."""
    config = established(tmp_path, feed_server, webhook_receiver.url())
    add_feed(config, "wire", feed_server.serve("/wire.xml", rss([old(1), old(2), old(3), LATER])))
    with caplog.at_level(logging.INFO, logger="monitor.poll"):
        assert once(config) == 0
    assert [p["item"]["key"] for p in webhook_receiver.payloads()] == ["later"]
    line = next(r.getMessage() for r in caplog.records if "first poll" in r.getMessage())
    assert "feed wire: first poll (added to a running state)" in line
    assert "3 items marked seen without alerting" in line and "1 alerts" in line
    feed_server.serve("/wire.xml", rss([old(1), old(2), old(3), LATER, BOAT_STRIKE]))
    assert once(config) == 0  # later polls alert as always (another story)
    assert len(webhook_receiver.received) == 2


def test_backfill_asks_for_recent_items_of_a_feed_added_later(
    tmp_path: Path, feed_server: FeedServer, webhook_receiver: WebhookReceiver
) -> None:
    config = established(tmp_path, feed_server, webhook_receiver.url())
    url = feed_server.serve("/wire.xml", rss([old(1), old(2, age=timedelta(hours=3))]))
    config.write_text(
        config.read_text().replace(
            "feeds:\n", f"feeds:\n  - {{name: wire, url: '{url}', backfill: 1h}}\n", 1
        )
    )
    assert once(config) == 0
    assert [p["item"]["key"] for p in webhook_receiver.payloads()] == ["old-1"]


def test_a_brand_new_state_alerts_on_every_feed_as_before(
    tmp_path: Path, feed_server: FeedServer, webhook_receiver: WebhookReceiver
) -> None:
    """The first start of an installation (or a fresh test state) is not a baseline."""
    first = feed_server.serve("/first.xml", rss([old(1)]))
    second = feed_server.serve("/second.xml", rss([BOAT_STRIKE]))
    config = write_config(
        tmp_path, {"first": first, "second": second}, webhook=webhook_receiver.url()
    )
    assert once(config) == 0
    keys = sorted(p["item"]["key"] for p in webhook_receiver.payloads())
    assert keys == sorted(["old-1", BOAT_STRIKE.guid])


def test_a_feed_added_to_a_running_daemon_does_not_burst(
    tmp_path: Path, feed_server: FeedServer, webhook_receiver: WebhookReceiver
) -> None:
    """Live add: the new feed's existing items are marked seen, logged, and not sent."""
    quiet = feed_server.serve("/quiet.xml", rss([]))
    config = write_config(tmp_path, {"quiet": quiet}, webhook=webhook_receiver.url())
    log = tmp_path / "daemon.log"
    daemon = start_daemon(config, log)
    try:
        assert wait_until(lambda: feed_server.hits("/quiet.xml") >= 1, timeout=30)
        add_feed(config, "wire", feed_server.serve("/wire.xml", rss([old(1), old(2)])))
        assert wait_until(lambda: "feed wire: first poll" in log.read_text(), timeout=30)
        feed_server.serve("/wire.xml", rss([old(1), old(2), BOMBERS]))
        assert wait_until(lambda: len(webhook_receiver.received) >= 1, timeout=30)
    finally:
        assert stop_daemon(daemon) == 0
    assert [p["item"]["key"] for p in webhook_receiver.payloads()] == [BOMBERS.guid]
    assert "2 items marked seen without alerting" in log.read_text()


def test_a_silenced_alert_is_logged_with_the_silence(
    tmp_path: Path,
    feed_server: FeedServer,
    webhook_receiver: WebhookReceiver,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Not only "rule matched": the log says it was silenced, and by which silence."""
    url = feed_server.serve("/wire.xml", rss([BOMBERS]))
    config = write_config(tmp_path, {"wire": url}, webhook=webhook_receiver.url())
    assert (
        main(
            [
                "silence",
                "add",
                "--rule",
                "bomber-flights-venezuela",
                "--for",
                "1h",
                "--comment",
                "exercise",
                "--config",
                str(config),
            ]
        )
        == 0
    )
    with caplog.at_level(logging.INFO, logger="monitor.poll"):
        assert once(config) == 0
    [line] = [r.getMessage() for r in caplog.records if "matched" in r.getMessage()]
    assert "not sent, silenced: silence 1: rule bomber-flights-venezuela (exercise)" in line
    assert webhook_receiver.attempts == 0


def poll_once(config: Path, feed: str) -> PollOutcome:
    """One process opening the state and polling one feed of the config, as a replica would."""

    async def run() -> PollOutcome:
        async with App.open(load_config(config)) as app:
            return await app.poll(app.config.feed(feed))

    return asyncio.run(run())


def test_a_feed_there_from_the_start_alerts_when_a_later_process_polls_it_first(
    tmp_path: Path, feed_server: FeedServer, state: Path | str
) -> None:
    """Alpha and beta are in the config from the first start; one process polls alpha, one
    started after it (a second replica, or a restart) polls beta first: beta is no new feed,
    so its matching item alerts instead of being marked seen."""
    first, second = sorties(2)
    urls = {
        "alpha": feed_server.serve("/alpha.xml", rss([first])),
        "beta": feed_server.serve("/beta.xml", rss([second])),
    }
    config = write_replica_config(tmp_path, urls, "http://127.0.0.1:9/hook", str(state))
    assert len(poll_once(config, "alpha").alerts) == 1
    later = poll_once(config, "beta")
    assert (later.new_items, len(later.alerts)) == (1, 1)
