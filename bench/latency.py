"""Benchmark 4: detection latency of the real daemon, from an item appearing on the server to
the webhook receiver having its alert.

Starts the bench server and `python -m monitor run` (the daemon, as a user runs it) with a
generated config: every feed at the given interval, a rule that matches the probe story, a
webhook notifier to the server's receiver. Once every feed has been polled, probes are published
at random moments (seeded) on distinct feeds; each probe's latency is its alert's arrival time
minus its publication time. Both clocks are this machine's wall clock.
"""

from __future__ import annotations

import math
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.cycle import write_config
from bench.proc import ROOT
from bench.server import ServerProcess

PROBE_RULE = """rules:
  - id: latency-probe
    title: Latency probe
    severity: high
    match:
      any: ["latency probe"]
"""


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile: with few samples p99 is the worst one, which is the honest reading."""
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def _wait_until_polled(server: ServerProcess, feeds: int, limit: float) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        stats = server.admin("/admin/stats")
        if stats.get("200", 0) + stats.get("304", 0) >= feeds:
            return
        time.sleep(0.2)
    raise RuntimeError(f"the daemon did not poll all {feeds} feeds within {limit:.0f}s")


def measure_latency(
    *, feeds: int, probes: int, window: float, interval: float, seed: int = 5
) -> dict[str, Any]:
    """Publish `probes` items at random moments within `window` seconds; latencies in seconds."""
    if probes > feeds:
        raise ValueError(f"probes ({probes}) must not exceed feeds ({feeds}): one probe per feed")
    rng = random.Random(seed)
    with (
        ServerProcess(feeds) as server,
        tempfile.TemporaryDirectory(prefix="bench-latency-") as tmp,
    ):
        workdir = Path(tmp)
        (workdir / "rules").mkdir()
        (workdir / "rules" / "probe.yaml").write_text(PROBE_RULE)
        urls = [server.feed_url(n) for n in range(feeds)]
        config = write_config(
            workdir,
            urls,
            workdir / "rules",
            hook_url=f"{server.base}/hook",
            interval=f"{interval:g}s",
        )
        log = (workdir / "daemon.log").open("w")
        daemon = subprocess.Popen(
            [sys.executable, "-m", "monitor", "run", "--config", str(config)],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
        try:
            _wait_until_polled(server, feeds, limit=interval * 3 + 30)
            published: dict[str, float] = {}
            start = time.monotonic()
            targets = rng.sample(range(feeds), probes)
            for at, feed in zip(
                sorted(rng.uniform(0, window) for _ in range(probes)), targets, strict=True
            ):
                time.sleep(max(0.0, start + at - time.monotonic()))
                probe = server.admin(f"/admin/publish?feed={feed}", post=True)
                published[probe["link"]] = probe["published_at"]
            deadline = time.monotonic() + interval + 30
            arrived: dict[str, float] = {}
            while time.monotonic() < deadline and len(arrived) < len(published):
                for entry in server.admin("/admin/arrivals"):
                    if entry["link"] in published:
                        arrived.setdefault(entry["link"], entry["received_at"])
                time.sleep(0.2)
        finally:
            daemon.send_signal(signal.SIGTERM)
            try:
                daemon.wait(timeout=40)
            except subprocess.TimeoutExpired:
                daemon.kill()
                daemon.wait(timeout=10)
            log.close()
        if daemon.returncode not in (0, -signal.SIGTERM):
            tail = (workdir / "daemon.log").read_text().splitlines()[-10:]
            raise RuntimeError(f"daemon exited {daemon.returncode}:\n" + "\n".join(tail))
    latencies = [arrived[link] - published[link] for link in arrived]
    result: dict[str, Any] = {
        "feeds": feeds,
        "interval_s": interval,
        "probes": probes,
        "received": len(latencies),
        "missed": probes - len(latencies),
    }
    if latencies:
        result.update(
            p50_s=percentile(latencies, 0.50),
            p99_s=percentile(latencies, 0.99),
            max_s=max(latencies),
            target_s=interval + 2,
        )
    return result
