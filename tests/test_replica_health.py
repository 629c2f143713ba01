"""Two replicas on one host, one PostgreSQL state: each keeps its own heartbeat, so the host's
health check fails when either loop stalls, not only when both do, and a replica that stopped
is not waited for."""

from __future__ import annotations

import os
import signal
import tempfile
from pathlib import Path

import httpx
import pytest

from monitor.cli import main
from monitor.health import replica_heartbeats
from tests.feedgen import rss
from tests.servers import FeedServer, WebhookReceiver, free_port, wait_until
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


def test_status_the_page_and_the_health_check_show_every_replica_and_what_it_runs(
    tmp_path: Path,
    feed_server: FeedServer,
    webhook_receiver: WebhookReceiver,
    postgres_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Two replicas, the second started with one feed more: `status` and the page list both
    from the database with what each loaded and warn that they differ; the health check names
    both pids; no per-host run-info file stands in for them. Once the second stops, the
    warning goes."""
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    wire = feed_server.serve("/wire.xml", rss([]))
    extra = feed_server.serve("/extra.xml", rss([]))
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first_config = write_config(
        tmp_path / "a", {"wire": wire}, webhook_receiver.url(), postgres_url
    )
    port = free_port()
    first_config.write_text(first_config.read_text() + f"http: {{listen: '127.0.0.1:{port}'}}\n")
    second_config = write_config(
        tmp_path / "b", {"wire": wire, "extra": extra}, webhook_receiver.url(), postgres_url
    )
    first = start_daemon(first_config, tmp_path / "replica-1.log")
    second = start_daemon(second_config, tmp_path / "replica-2.log")

    def status() -> str:
        assert main(["status", "--config", str(first_config)]) == 0
        return capsys.readouterr().out

    def page() -> str:
        try:
            response = httpx.get(f"http://127.0.0.1:{port}/", timeout=10)
        except httpx.HTTPError:
            return ""
        return response.text if response.status_code == 200 else ""

    try:
        assert wait_until(lambda: status().count(" alive\n") == 2, START), status()
        said = status()
        assert f":{first.pid}:" in said and f":{second.pid}:" in said
        assert "1 feeds, 1 rules, 1 notifiers" in said
        assert "2 feeds, 1 rules, 1 notifiers" in said
        assert "warning: the alive replicas do not run the same config and rules" in said
        assert str(second_config.resolve()) in said

        assert wait_until(lambda: "2 replicas alive" in page(), START)
        html = page()
        assert f'id="replica-{first.pid}"' in html and f'id="replica-{second.pid}"' in html
        assert "(this page)" in html
        assert "do not run the same config and rules" in html

        code, told = healthcheck(first_config, capsys)
        assert code == 0
        assert f"pids {min(first.pid, second.pid)}, {max(first.pid, second.pid)}" in told
        assert list(tmp_path.glob("*.daemon.json")) == []

        assert stop_daemon(second) == 0
        said = status()
        assert f":{second.pid}:" not in said
        assert f"every alive replica runs {first_config.resolve()}" in said
        assert wait_until(lambda: "1 replica alive" in page(), 10)
        assert "do not run the same config" not in page()
    finally:
        codes = [stop_daemon(first), stop_daemon(second)]
    assert codes == [0, 0]
