"""Two replicas on one host, one PostgreSQL state: each keeps its own heartbeat, so the host's
health check fails when either loop stalls, not only when both do, and a replica that stopped
is not waited for."""

from __future__ import annotations

import os
import signal
import tempfile
from pathlib import Path

import pytest

from monitor.cli import main
from monitor.health import replica_heartbeats
from tests.feedgen import rss
from tests.servers import FeedServer, WebhookReceiver, wait_until
from tests.test_end_to_end import start_daemon, stop_daemon
from tests.test_replicas_crash import write_config

START = 30.0  # seconds two replicas may take to start on a busy machine


def healthcheck(config: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["healthcheck", "--config", str(config)])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_a_stalled_replica_fails_the_health_check_beside_a_live_one(
    tmp_path: Path,
    feed_server: FeedServer,
    webhook_receiver: WebhookReceiver,
    postgres_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    url = feed_server.serve("/wire.xml", rss([]))
    config = write_config(tmp_path, {"wire": url}, webhook_receiver.url(), postgres_url)
    first, second = (start_daemon(config, tmp_path / f"replica-{n}.log") for n in (1, 2))
    try:
        both = {first.pid, second.pid}
        assert wait_until(lambda: set(replica_heartbeats(postgres_url)) == both, START), (
            tmp_path / "replica-1.log"
        ).read_text()
        assert healthcheck(config, capsys)[0] == 0

        # The second replica's loop stops (SIGSTOP) and its last tick ages past the limit.
        os.kill(second.pid, signal.SIGSTOP)
        try:
            beat = replica_heartbeats(postgres_url)[second.pid]
            os.utime(beat, (beat.stat().st_atime - 300, beat.stat().st_mtime - 300))
            code, said = healthcheck(config, capsys)
            assert code == 1
            assert f"replica pid {second.pid}: stalled" in said
            assert str(first.pid) not in said
        finally:
            os.kill(second.pid, signal.SIGCONT)
        assert wait_until(lambda: healthcheck(config, capsys)[0] == 0, 10)

        assert stop_daemon(second) == 0
        assert set(replica_heartbeats(postgres_url)) == {first.pid}
        assert healthcheck(config, capsys)[0] == 0
    finally:
        codes = [stop_daemon(first), stop_daemon(second)]
    assert codes == [0, 0]
    code, said = healthcheck(config, capsys)
    assert code == 1
    assert "no replica on this host has started its loop" in said
