"""Benchmark: delivery lanes of the real daemon, one webhook receiver slow and one instant.

A feed carries `alerts` items that each alert, routed to both notifiers; the slow receiver
takes `delay` seconds per request, its notifier `concurrency` messages at once. Measured: how
long the instant receiver takes to have every alert and how many the slow one has by then;
then a critical alert is published behind the slow one's backlog: how long it takes to reach
each receiver and how many backlog alerts the slow one received before it. Every wait is
bounded by `limit` seconds.
"""

from __future__ import annotations

import argparse
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.proc import ROOT, emit
from tests.delivery_setup import sorties
from tests.feedgen import Story, rss
from tests.servers import FeedServer, WebhookReceiver, wait_until

RULES = """\
rules:
  - id: bomber-sorties
    title: US bomber sorties near Venezuela
    severity: medium
    match:
      all:
        - any: [bomber, bombers, B-52]
        - any: [Venezuela, Caracas]
  - id: strike-on-caracas
    title: Strike on Caracas
    severity: critical
    match:
      all: [strike, Caracas]
"""
STRIKE = Story("strike-1", "Missile strike reported in Caracas", "Explosions were heard.")


def _recorded(state: Path) -> int:
    """Alerts the daemon recorded (near-identical headlines may share a story), 0 before."""
    try:
        with sqlite3.connect(f"file:{state}?mode=ro", uri=True) as db:
            return int(db.execute("SELECT count(*) FROM alerts").fetchone()[0])
    except sqlite3.Error:
        return 0


def _strike_index(receiver: WebhookReceiver) -> int | None:
    for n, hook in enumerate(receiver.received):
        if hook.json()["rule"]["id"] == "strike-on-caracas":
            return n
    return None


def measure_lanes(*, alerts: int, delay: float, concurrency: int, limit: float) -> dict[str, Any]:
    backlog = sorties(alerts)
    feed, slow, fast = FeedServer().start(), WebhookReceiver().start(), WebhookReceiver().start()
    slow.delay = delay
    try:
        with tempfile.TemporaryDirectory(prefix="bench-lanes-") as tmp:
            folder = Path(tmp)
            (folder / "rules").mkdir()
            (folder / "rules" / "rules.yaml").write_text(RULES)
            config = folder / "config.yaml"
            config.write_text(
                f"""\
state: data/state.db
rules: [rules/]
defaults: {{interval: 1s, timeout: 10s}}
feeds:
  - {{name: wire, url: "{feed.serve("/wire.xml", rss(backlog))}"}}
notifiers:
  - {{name: slow, type: webhook, url: "{slow.url()}", timeout: 30s, concurrency: {concurrency}}}
  - {{name: fast, type: webhook, url: "{fast.url()}", timeout: 30s}}
routes:
  - {{notify: [slow, fast]}}
log: {{level: warning}}
"""
            )
            started = time.monotonic()
            with (folder / "daemon.log").open("wb") as out:
                daemon = subprocess.Popen(
                    [sys.executable, "-m", "monitor", "run", "--config", str(config)],
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    cwd=ROOT,
                    env={**os.environ, "PYTHONPATH": str(ROOT)},
                )
            try:
                state = folder / "data" / "state.db"
                if not wait_until(lambda: _recorded(state) > 0, limit, 0.05):
                    raise RuntimeError(f"no alert was recorded within {limit}s")
                made = _recorded(state)  # one poll records the whole feed, or nothing
                if not wait_until(lambda: len(fast.received) >= made, limit, 0.05):
                    raise RuntimeError(
                        f"the instant receiver had {len(fast.received)} after {limit}s"
                    )
                fast_all = time.monotonic() - started
                slow_then = len(slow.received)
                feed.serve("/wire.xml", rss([*backlog, STRIKE]))
                published = time.monotonic()
                if not wait_until(lambda: _strike_index(fast) is not None, limit, 0.05):
                    raise RuntimeError("the critical alert never reached the instant receiver")
                strike_fast = time.monotonic() - published
                if not wait_until(lambda: _strike_index(slow) is not None, limit, 0.05):
                    raise RuntimeError("the critical alert never reached the slow receiver")
                strike_slow = time.monotonic() - published
                before = _strike_index(slow)
            finally:
                daemon.send_signal(signal.SIGTERM)
                try:
                    daemon.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    daemon.kill()
                    daemon.wait()
    finally:
        feed.stop()
        slow.stop()
        fast.stop()
    return {
        "alerts": made,
        "delay_s": delay,
        "concurrency": concurrency,
        "fast_all_s": fast_all,
        "slow_when_fast_done": slow_then,
        "strike_to_fast_s": strike_fast,
        "strike_to_slow_s": strike_slow,
        "slow_before_strike": before,
        "slow_after_publish_before_strike": (before or 0) - slow_then,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--alerts", type=int, required=True)
    parser.add_argument("--delay", type=float, required=True)
    parser.add_argument("--concurrency", type=int, required=True)
    parser.add_argument("--limit", type=float, default=600.0)
    args = parser.parse_args()
    emit(
        measure_lanes(
            alerts=args.alerts, delay=args.delay, concurrency=args.concurrency, limit=args.limit
        )
    )


if __name__ == "__main__":
    main()
