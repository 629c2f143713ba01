"""A full disk under the running daemon: what the receiver accepted is not posted again while
its "sent" cannot be written, /readyz, `healthcheck` and `status` say why, and once space
returns every alert has arrived exactly once. The state lives on a real 16 MB tmpfs that the
test fills."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections import Counter
from pathlib import Path

import httpx

from tests.delivery_setup import sorties, write_config
from tests.feedgen import rss
from tests.mounts import tmpfs
from tests.servers import FeedServer, WebhookReceiver, free_port, wait_until
from tests.test_end_to_end import start_daemon, stop_daemon


def _fill(folder: Path) -> Path:
    filler = folder / "filler"
    with contextlib.suppress(OSError), filler.open("wb") as out:
        while True:
            out.write(b"\0" * 65536)
            out.flush()
    return filler


def _readyz(port: int) -> tuple[int, str]:
    try:
        answer = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5)
    except httpx.HTTPError as exc:
        return 0, str(exc)
    return answer.status_code, answer.text


def test_a_full_disk_sends_nothing_twice_and_says_so_until_space_returns(
    tmp_path: Path, feed_server: FeedServer, webhook_receiver: WebhookReceiver
) -> None:
    """Before, one alert was posted 14 times and status and healthcheck showed nothing wrong."""
    url = feed_server.serve("/wire.xml", rss(sorties(1)))
    config = write_config(tmp_path, url, webhook_receiver.url())
    port = free_port()
    config.write_text(config.read_text() + f"http: {{listen: '127.0.0.1:{port}'}}\n")
    log = tmp_path / "daemon.log"
    with tmpfs(tmp_path / "data", "16m") as data:
        daemon = start_daemon(config, log)
        try:
            assert wait_until(lambda: len(webhook_receiver.received) == 1, timeout=30)
            # The next alert is answered slowly; the disk fills while the receiver holds it.
            webhook_receiver.delay = 1.5
            feed_server.serve("/wire.xml", rss(sorties(4)))
            assert wait_until(lambda: webhook_receiver.attempts >= 2, timeout=30)
            filler = _fill(data)
            assert wait_until(lambda: "cannot be recorded" in log.read_text(), timeout=30), (
                log.read_text()
            )
            assert wait_until(lambda: _readyz(port)[0] == 503, timeout=30), log.read_text()
            why = _readyz(port)[1]
            assert "database or disk is full" in why
            probes: list[subprocess.CompletedProcess[str]] = []

            def unhealthy() -> bool:
                # The heartbeat file takes the reason at the loop's next tick.
                probes.append(
                    subprocess.run(
                        [sys.executable, "-m", "monitor", "healthcheck", "--config", str(config)],
                        capture_output=True,
                        text=True,
                        timeout=60,
                    )
                )
                return probes[-1].returncode == 1

            assert wait_until(unhealthy, timeout=30, interval=1), probes[-1].stdout
            assert "database or disk is full" in probes[-1].stderr
            status = subprocess.run(
                [sys.executable, "-m", "monitor", "status", "--config", str(config)],
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert "but not working: " in status.stdout, status.stdout + status.stderr
            assert "database or disk is full" in status.stdout
            sent_while_full = webhook_receiver.attempts
            assert not wait_until(lambda: webhook_receiver.attempts > sent_while_full, 5)
            # Space returns: the lost "sent" is recorded first, so that message is not sent
            # again (before, it was: once the disk had room, or every round while it had none).

            filler.unlink()
            webhook_receiver.delay = 0.0
            assert wait_until(lambda: len(webhook_receiver.received) >= 4, timeout=60), (
                log.read_text()
            )
            assert wait_until(lambda: _readyz(port)[0] == 200, timeout=30)
        finally:
            code = stop_daemon(daemon)
    assert code == 0, log.read_text()
    copies = Counter(hook.json()["id"] for hook in webhook_receiver.received)
    assert len(copies) == 4
    assert set(copies.values()) == {1}, copies
    assert "sent while the state could not be written" in log.read_text()
