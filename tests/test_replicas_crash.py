"""Three replicas on one PostgreSQL database, one of them killed with SIGKILL every few seconds
and restarted: every alert arrives, a duplicate is always a retry (same webhook-id, same body),
no item's alert is created twice, and every feed kept being polled within its interval plus
the lease, whichever replica died."""

from __future__ import annotations

import os
import random
import subprocess
import time
from collections import defaultdict
from itertools import pairwise
from pathlib import Path

from tests.delivery_setup import RULES, SECRET, sorties
from tests.feedgen import rss
from tests.servers import FeedServer, WebhookReceiver, wait_until
from tests.test_end_to_end import start_daemon, stop_daemon

FEEDS, PER_FEED = 50, 6
REPLICAS, KILLS = 3, 20
INTERVAL, TIMEOUT = 3.0, 5.0
LEASE = TIMEOUT + 30.0  # the daemon's feed lease: the fetch deadline plus its margin
START = 15.0  # seconds a replica may take to start on a busy machine


def write_config(tmp_path: Path, urls: dict[str, str], hook: str, state: str) -> Path:
    (tmp_path / "rules").mkdir(exist_ok=True)
    (tmp_path / "rules" / "sorties.yaml").write_text(RULES)
    feeds = "\n".join(f'  - {{name: {name}, url: "{url}"}}' for name, url in urls.items())
    config = tmp_path / "config.yaml"
    config.write_text(
        f"""\
state: "{state}"
rules: [rules/]
defaults: {{interval: {INTERVAL:.0f}s, timeout: {TIMEOUT:.0f}s}}
feeds:
{feeds}
notifiers:
  - {{name: ops, type: webhook, url: "{hook}", secret: "{SECRET}", timeout: 10s}}
routes:
  - {{notify: [ops]}}
"""
    )
    return config


def test_three_replicas_killed_at_random_lose_nothing_and_double_nothing(
    tmp_path: Path, feed_server: FeedServer, webhook_receiver: WebhookReceiver, postgres_url: str
) -> None:
    seed = int(os.environ.get("CRASH_SEED") or random.randrange(2**32))
    print(f"replica crash test seed: {seed} (rerun with CRASH_SEED={seed})")
    rng = random.Random(seed)
    answer = random.Random(seed + 1)
    webhook_receiver.verify_secrets = [SECRET]
    webhook_receiver.delay = lambda: answer.uniform(0.01, 0.05)
    stories = sorties(FEEDS * PER_FEED)
    by_feed = {f"wire-{f}": stories[f * PER_FEED : (f + 1) * PER_FEED] for f in range(FEEDS)}

    def reveal(count: int) -> dict[str, str]:
        """Each feed shows its first `count` stories (new ones appear as the test goes on)."""
        return {
            name: feed_server.serve(f"/{name}.xml", rss(items[:count]))
            for name, items in by_feed.items()
        }

    config = write_config(tmp_path, reveal(1), webhook_receiver.url(), postgres_url)
    logs = [tmp_path / f"replica-{n}.log" for n in range(REPLICAS)]
    replicas: list[subprocess.Popen[bytes]] = [start_daemon(config, log) for log in logs]
    started = time.monotonic()
    expected = {story.guid for story in stories}

    def delivered() -> set[str]:
        return {hook.json()["item"]["key"] for hook in list(webhook_receiver.received)}

    offsets = [0] * REPLICAS  # where each replica's current run starts in its log

    def running(n: int) -> bool:
        with logs[n].open() as log:
            log.seek(offsets[n])
            return "news-monitor running" in log.read()

    kills = 0
    try:
        # Three interpreters importing at once on a loaded machine: the first alert may take a
        # while; only the polling gaps below are bounded by START.
        assert wait_until(lambda: bool(webhook_receiver.received), 4 * START), logs[0].read_text()
        for kill in range(KILLS):
            reveal(1 + (kill + 1) * PER_FEED // KILLS)
            time.sleep(rng.uniform(1.0, 3.0))
            victim = rng.randrange(REPLICAS)
            replicas[victim].kill()
            replicas[victim].wait(timeout=10)
            kills += 1
            offsets[victim] = logs[victim].stat().st_size
            replicas[victim] = start_daemon(config, logs[victim])
        assert wait_until(lambda: delivered() >= expected, 120), logs[0].read_text()[-3000:]
        # A replica restarted last may still be importing: SIGTERM is handled once it runs.
        wait_until(lambda: all(map(running, range(REPLICAS))), START)
    finally:
        codes = [stop_daemon(replica) for replica in replicas]
    ended = time.monotonic()
    assert codes == [0] * REPLICAS

    by_message: dict[str, list[tuple[str, bytes]]] = defaultdict(list)
    created: dict[str, set[str]] = defaultdict(set)
    for hook in webhook_receiver.received:
        payload = hook.json()
        by_message[payload.get("message_id", payload["id"])].append(
            (hook.headers["webhook-id"], hook.body)
        )
        created[payload["item"]["key"]].add(payload["id"])
    duplicates = sum(len(copies) - 1 for copies in by_message.values())
    print(
        f"{kills} kills, {len(webhook_receiver.received)} requests for {len(expected)} alerts "
        f"({duplicates} duplicates) in {ended - started:.0f} s"
    )
    assert kills >= KILLS
    assert [hook.body for hook in webhook_receiver.unverified] == []
    assert delivered() == expected
    assert {key: len(ids) for key, ids in created.items() if len(ids) != 1} == {}
    for message_id, copies in by_message.items():
        assert {webhook_id for webhook_id, _ in copies} == {message_id}
        assert len({body for _, body in copies}) == 1

    # Every feed polled within its interval plus the lease, from the first poll to the end.
    polls: dict[str, list[float]] = defaultdict(list)
    for path, at in feed_server.times:
        polls[path].append(at)
    assert len(polls) == FEEDS
    for path, times in polls.items():
        points = [*times, ended]
        gaps = [later - earlier for earlier, later in pairwise(points)]
        assert max(gaps) <= INTERVAL + LEASE + START, (path, max(gaps))
