"""A poll takes every time it decides or records from the clock it is given: a feed's backoff
and an item's age follow that clock, not the wall clock, so their timing is tested without
waiting (and the daemon and `once` pass the wall clock)."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from pathlib import Path

from monitor.app import App
from monitor.config import load_config
from monitor.poll import PollOutcome, poll_feed
from tests.delivery_setup import write_config
from tests.feedgen import BOMBERS, Story, rss
from tests.servers import FeedServer

DAY = 86400.0


def poll_at(config: Path, at: float) -> PollOutcome:
    """One poll of the config's only feed with the clock reading `at`."""

    async def run() -> PollOutcome:
        async with App.open(load_config(config)) as app:
            return await poll_feed(
                app.config.feeds[0],
                fetcher=app.fetcher,
                store=app.store,
                rulebook=app.rulebook,
                routes=app.config.routes,
                max_age=app.config.max_age,
                crunch=app.crunch,
                clock=lambda: at,
            )

    return asyncio.run(run())


def test_a_failed_feed_waits_out_its_backoff_on_the_polls_clock(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    """Failed at T (1 s interval, so a 1 s backoff): asked again at T + 0.5 it is not fetched;
    at T + 2 it is, although the wall clock has not moved that far."""
    url = feed_server.serve("/wire.xml", "unavailable", status=503)
    config = write_config(tmp_path, url, "http://127.0.0.1:9/hook")
    start = time.time() + 30 * DAY
    assert poll_at(config, start).status == "error"
    assert poll_at(config, start + 0.5).status == "backing_off"
    assert feed_server.hits("/wire.xml") == 1
    feed_server.serve("/wire.xml", rss([]))
    assert poll_at(config, start + 2).status == "new"
    assert feed_server.hits("/wire.xml") == 2


def test_an_items_age_is_judged_on_the_polls_clock(tmp_path: Path, feed_server: FeedServer) -> None:
    """Published 10 minutes before the wall clock: to a poll whose clock reads two days later it
    is older than max_age (24 h) and does not alert; to one reading now it alerts."""
    fresh = Story("bombers-2", BOMBERS.title, BOMBERS.summary, age=timedelta(minutes=10))
    url = feed_server.serve("/wire.xml", rss([fresh]))
    late = write_config(tmp_path / "late", url, "http://127.0.0.1:9/hook")
    on_time = write_config(tmp_path / "on-time", url, "http://127.0.0.1:9/hook")
    stale = poll_at(late, time.time() + 2 * DAY)
    assert (stale.new_items, len(stale.alerts)) == (1, 0)
    current = poll_at(on_time, time.time())
    assert (current.new_items, len(current.alerts)) == (1, 1)
