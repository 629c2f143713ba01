"""PostgreSQL stopped under a running daemon for 30 s: the daemon keeps running, says it is not
ready, and once the database is back it resumes and delivers what arrived meanwhile. The page
open in a browser shows the outage instead of an error, and the stories again afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.browser import chromium
from tests.delivery_setup import SECRET, sorties, write_config
from tests.feedgen import rss
from tests.postgres import PostgresServer
from tests.servers import FeedServer, WebhookReceiver, free_port, wait_until
from tests.test_browser import text_of
from tests.test_end_to_end import start_daemon, stop_daemon

OUTAGE = 30.0  # seconds the database stays down


@pytest.fixture
def own_postgres(postgres_server: PostgresServer) -> Iterator[PostgresServer]:
    """A cluster of this test's own: stopping the shared one would break the others."""
    server = PostgresServer().start()
    yield server
    server.remove()


def ready(base: str) -> int | None:
    try:
        return httpx.get(f"{base}/readyz", timeout=5).status_code
    except httpx.HTTPError:
        return None


def test_a_database_outage_pauses_the_daemon_and_loses_nothing(
    tmp_path: Path,
    feed_server: FeedServer,
    webhook_receiver: WebhookReceiver,
    own_postgres: PostgresServer,
) -> None:
    webhook_receiver.verify_secrets = [SECRET]
    stories = sorties(2)
    url = feed_server.serve("/wire.xml", rss(stories[:1]))
    config = write_config(tmp_path, url, webhook_receiver.url(), state=own_postgres.url())
    port = free_port()
    config.write_text(config.read_text() + f"http: {{listen: '127.0.0.1:{port}'}}\n")
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "daemon.log"
    daemon = start_daemon(config, log)
    try:
        with chromium() as browser:
            assert wait_until(lambda: len(webhook_receiver.received) == 1, 30), log.read_text()[
                -3000:
            ]
            assert ready(base) == 200
            browser.get(base + "/")
            assert stories[0].title in text_of(browser, "stories")

            own_postgres.stop()
            feed_server.serve("/wire.xml", rss(stories))
            assert wait_until(lambda: ready(base) == 503, 20), log.read_text()[-3000:]
            # The open page swaps its live part for the outage; a fresh load says it too.
            assert wait_until(lambda: text_of(browser, "outage") != "", 20)
            outage = text_of(browser, "outage")
            assert "cannot reach the PostgreSQL state database" in outage, outage
            assert text_of(browser, "ready") == "not ready"
            fresh = httpx.get(base + "/", timeout=10)
            assert fresh.status_code == 503
            assert "State database unreachable" in fresh.text
            assert not wait_until(lambda: daemon.poll() is not None, OUTAGE)
            assert ready(base) == 503
            assert len(webhook_receiver.received) == 1

            own_postgres.start()
            assert wait_until(lambda: ready(base) == 200, 30), log.read_text()[-3000:]
            assert wait_until(lambda: len(webhook_receiver.received) >= 2, 30), log.read_text()[
                -3000:
            ]
            assert wait_until(lambda: stories[1].title in text_of(browser, "stories"), 20)
            assert text_of(browser, "outage") == ""
            assert text_of(browser, "ready") == "ready"
    finally:
        assert stop_daemon(daemon) == 0
    text = log.read_text()
    assert "Traceback" not in text
    assert "not ready, polls and deliveries paused" in text
    assert "ready: the state database answers again" in text
    titles = [hook.json()["item"]["title"] for hook in webhook_receiver.received]
    assert sorted(set(titles)) == sorted(story.title for story in stories)
    assert [hook.body for hook in webhook_receiver.unverified] == []
