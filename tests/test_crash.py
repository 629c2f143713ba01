"""kill -9 in the middle of deliveries, again and again: no alert is lost, and a duplicate is
always a retry a receiver can recognise (the same webhook-id and the same body)."""

from __future__ import annotations

import os
import random
import time
from collections import defaultdict
from pathlib import Path

from tests.delivery_setup import SECRET, sorties, write_config
from tests.feedgen import rss
from tests.servers import FeedServer, WebhookReceiver, wait_until
from tests.test_end_to_end import start_daemon, stop_daemon

ITEMS = 30
KILLS = 20
ROUND_WAIT = 10.0  # seconds a run may take to start delivering (about one on an idle machine)


def test_kill_9_during_delivery_loses_nothing_and_keeps_ids(
    tmp_path: Path, feed_server: FeedServer, webhook_receiver: WebhookReceiver
) -> None:
    """After 20+ kills at random points and one clean run, every alert arrived, each duplicate
    with the same webhook-id and body, every signature valid."""
    seed = int(os.environ.get("CRASH_SEED") or random.randrange(2**32))
    print(f"crash test seed: {seed} (rerun with CRASH_SEED={seed})")
    rng = random.Random(seed)
    answer = random.Random(seed + 1)
    webhook_receiver.verify_secrets = [SECRET]
    webhook_receiver.delay = lambda: answer.uniform(0.03, 0.08)
    stories = sorties(ITEMS)
    url = feed_server.serve("/wire.xml", rss(stories))
    config = write_config(tmp_path, url, webhook_receiver.url())
    expected = {story.guid for story in stories}  # each sortie is a story of its own
    log = tmp_path / "daemon.log"

    def delivered() -> set[str]:
        return {hook.json()["item"]["key"] for hook in list(webhook_receiver.received)}

    kills = runs_that_delivered = 0
    for _ in range(KILLS):
        before = webhook_receiver.attempts
        daemon = start_daemon(config, log)
        # Once this run has a request out (or nothing is left to send), kill it a moment later:
        # mostly while the receiver is still answering, sometimes between two deliveries.
        wait_until(
            lambda n=before: webhook_receiver.attempts > n or delivered() >= expected, ROUND_WAIT
        )
        time.sleep(rng.uniform(0.0, 0.1))
        daemon.kill()
        daemon.wait(timeout=10)
        kills += 1
        runs_that_delivered += webhook_receiver.attempts > before

    daemon = start_daemon(config, log)
    try:
        assert wait_until(lambda: delivered() >= expected, timeout=30), log.read_text()[-3000:]
    finally:
        assert stop_daemon(daemon) == 0

    by_id: dict[str, list[tuple[str, bytes]]] = defaultdict(list)
    for hook in webhook_receiver.received:
        by_id[hook.json()["message_id"]].append((hook.headers["webhook-id"], hook.body))
    duplicates = sum(len(copies) - 1 for copies in by_id.values())
    print(
        f"{kills} kills, {runs_that_delivered} runs delivered before being killed, "
        f"{len(webhook_receiver.received)} requests for {ITEMS} alerts ({duplicates} duplicates)"
    )
    assert kills >= KILLS
    assert [hook.body for hook in webhook_receiver.unverified] == []
    assert len(by_id) == ITEMS  # one message per story: no alert under two ids
    assert len({hook.json()["id"] for hook in webhook_receiver.received}) == ITEMS
    for payload_id, copies in by_id.items():
        assert {webhook_id for webhook_id, _ in copies} == {payload_id}
        assert len({body for _, body in copies}) == 1
