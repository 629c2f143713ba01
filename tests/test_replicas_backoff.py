"""Two replicas on one PostgreSQL state, and a feed that fails once asking for a pause
(503, Retry-After): it is polled again once the pause and one interval are over, not only when
a lease taken by a replica that found it still backing off runs out."""

from __future__ import annotations

from pathlib import Path

from tests.delivery_setup import sorties
from tests.feedgen import rss
from tests.servers import FeedServer, WebhookReceiver, wait_until
from tests.test_end_to_end import start_daemon, stop_daemon
from tests.test_replicas_crash import INTERVAL, LEASE, START, write_config

PAUSE = 6.0  # the Retry-After the failing answer asks for: two intervals and more


def test_a_feed_backing_off_is_polled_again_when_its_pause_ends(
    tmp_path: Path, feed_server: FeedServer, webhook_receiver: WebhookReceiver, postgres_url: str
) -> None:
    # The bound below must tell the two apart: a pause, an interval and a loaded machine's
    # slack, against a lease that would otherwise lock the feed until it expired.
    assert PAUSE + INTERVAL + START < LEASE
    first, second = sorties(2)
    url = feed_server.serve("/wire.xml", rss([first]))
    config = write_config(tmp_path, {"wire": url}, webhook_receiver.url(), postgres_url)
    logs = [tmp_path / f"replica-{n}.log" for n in (1, 2)]
    replicas = [start_daemon(config, log) for log in logs]
    try:
        assert wait_until(lambda: len(webhook_receiver.received) == 1, 4 * START), logs[
            0
        ].read_text()[-3000:]
        before = feed_server.hits("/wire.xml")
        feed_server.serve(
            "/wire.xml", "busy", status=503, etag=False, headers={"Retry-After": f"{PAUSE:.0f}"}
        )
        assert wait_until(lambda: feed_server.hits("/wire.xml") > before, 4 * START)
        feed_server.serve("/wire.xml", rss([first, second]))
        answered_503 = feed_server.hits("/wire.xml")  # at most the last of these got the feed
        assert wait_until(lambda: len(webhook_receiver.received) == 2, LEASE + 4 * START), logs[
            0
        ].read_text()[-3000:]
    finally:
        codes = [stop_daemon(replica) for replica in replicas]
    assert codes == [0, 0]
    assert [hook.json()["item"]["key"] for hook in webhook_receiver.received] == [
        first.guid,
        second.guid,
    ]
    times = [at for path, at in feed_server.times if path == "/wire.xml"]
    # Every request answered 503 (more than one if a poll came before the swap back) was
    # followed by the next within the pause plus one interval, with START for a busy machine.
    retried = [times[n + 1] - times[n] for n in range(before, answered_503)]
    print(f"gaps after a 503: {[round(gap, 1) for gap in retried]} s")
    assert max(retried) <= PAUSE + INTERVAL + START, retried
    text = "".join(log.read_text() for log in logs)
    assert "Traceback" not in text
    assert "HTTP 503" in text
