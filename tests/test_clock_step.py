"""A step of the system clock (NTP, a resumed VM, `date -s`) does not stop polling, and the
health check tells a loop that ticks but no longer polls from one that works.

The daemon runs under libfaketime (Debian's `faketime` package), whose offset is read from a file
on every clock call, so the test steps the daemon's wall clock while its monotonic clock runs on,
as a real step does.
"""

from __future__ import annotations

import glob
import os
import subprocess
import sys
from pathlib import Path

import pytest

from monitor.health import Health, check_heartbeat, polls_stalled
from tests.delivery_setup import sorties, write_config
from tests.feedgen import rss
from tests.servers import FeedServer, WebhookReceiver, wait_until
from tests.test_end_to_end import stop_daemon

LIBFAKETIME = sorted(glob.glob("/usr/lib/*/faketime/libfaketime.so.1"))


def faketime_env(offset_file: Path) -> dict[str, str]:
    if not LIBFAKETIME:
        if os.environ.get("CI"):
            pytest.fail("libfaketime is missing: .ci/run installs Debian's faketime package")
        pytest.skip("needs Debian's faketime package (apt-get install faketime)")
    return {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "LD_PRELOAD": LIBFAKETIME[0],
        "FAKETIME_TIMESTAMP_FILE": str(offset_file),
        "FAKETIME_NO_CACHE": "1",  # read the offset file on every call, so it can step
        "FAKETIME_DONT_FAKE_MONOTONIC": "1",  # a real step leaves the monotonic clock alone
    }


def test_a_clock_stepped_back_an_hour_does_not_stop_polling(
    tmp_path: Path, feed_server: FeedServer, webhook_receiver: WebhookReceiver
) -> None:
    """After the step the daemon says so, reschedules, and a new item still alerts at once."""
    offset = tmp_path / "faketime"
    offset.write_text("+0\n")
    env = faketime_env(offset)
    url = feed_server.serve("/wire.xml", rss(sorties(1)))
    config = write_config(tmp_path, url, webhook_receiver.url())
    log = tmp_path / "daemon.log"
    with log.open("ab") as out:
        daemon = subprocess.Popen(
            [sys.executable, "-m", "monitor", "run", "--config", str(config)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    try:
        assert wait_until(lambda: len(webhook_receiver.received) >= 1, timeout=30), log.read_text()
        offset.write_text("-3600\n")
        feed_server.serve("/wire.xml", rss(sorties(2)))
        assert wait_until(lambda: len(webhook_receiver.received) >= 2, timeout=30), log.read_text()
        assert "the system clock jumped -3600 s; every feed is rescheduled" in log.read_text()
        probe = subprocess.run(
            [sys.executable, "-m", "monitor", "healthcheck", "--config", str(config)],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
        assert probe.returncode == 0, probe.stderr
    finally:
        code = stop_daemon(daemon)
    assert code == 0, log.read_text()


class TestStuckLoop:
    def test_no_poll_for_longer_than_two_intervals_and_a_minute_is_stuck(self) -> None:
        """The limit leaves room for a slow poll and a missed run, then names the symptom."""
        assert polls_stalled(100.0, shortest_interval=20.0) is None
        reason = polls_stalled(3700.0, shortest_interval=60.0)
        assert reason is not None and "no feed poll has started for 3700 s" in reason

    def test_a_stuck_loop_fails_the_health_check_though_its_heartbeat_is_fresh(
        self, tmp_path: Path
    ) -> None:
        """The heartbeat carries the reason, so `healthcheck` fails at once, and /healthz too."""
        beat = tmp_path / "state.db.heartbeat"
        health = Health(last_tick=0.0, heartbeat=beat)
        health.tick(5.0, wall=1_000_000.0)
        assert check_heartbeat(beat, now=1_000_001.0) is None
        health.stuck = polls_stalled(3700.0, shortest_interval=60.0)
        health.tick(7.0, wall=1_000_002.0)
        assert not health.alive(7.0)
        problem = check_heartbeat(beat, now=1_000_003.0)
        assert problem is not None and problem.startswith("stuck: no feed poll")
        health.stuck = None
        health.tick(9.0, wall=1_000_004.0)
        assert check_heartbeat(beat, now=1_000_005.0) is None
