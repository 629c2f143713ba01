"""Operating the daemon: live config edits, SIGHUP, the HTTP endpoint, secrets kept out of logs."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from monitor.cli import main
from tests.feedgen import BOMBERS, rss
from tests.servers import FeedServer, WebhookReceiver, free_port, wait_until
from tests.test_end_to_end import start_daemon, stop_daemon, write_config


def add_feed(config: Path, name: str, url: str) -> None:
    text = config.read_text()
    config.write_text(text.replace("feeds:\n", f"feeds:\n  - {{name: {name}, url: '{url}'}}\n", 1))


class TestLiveConfig:
    def test_feeds_added_and_removed_in_config_are_scheduled_live(
        self, tmp_path: Path, feed_server: FeedServer
    ) -> None:
        """A new feed is polled without a restart; a removed one stops being polled."""
        first = feed_server.serve("/first.xml", rss([]))
        second = feed_server.serve("/second.xml", rss([]))
        config = write_config(tmp_path, {"first": first})
        log = tmp_path / "daemon.log"
        daemon = start_daemon(config, log)
        try:
            assert wait_until(lambda: feed_server.hits("/first.xml") >= 1, timeout=30)
            add_feed(config, "second", second)
            assert wait_until(lambda: feed_server.hits("/second.xml") >= 1, timeout=30)
            config.write_text(
                config.read_text().replace(f"  - {{name: first, url: '{first}'}}\n", "")
            )
            assert wait_until(lambda: "feed first removed" in log.read_text(), timeout=30)
            hits = feed_server.hits("/first.xml")
            assert wait_until(lambda: feed_server.hits("/second.xml") >= 4, timeout=30)
            assert feed_server.hits("/first.xml") <= hits + 1  # at most one poll already under way
        finally:
            assert stop_daemon(daemon) == 0

    def test_sighup_reloads_instead_of_killing(
        self, tmp_path: Path, feed_server: FeedServer
    ) -> None:
        """SIGHUP asks for a reload; the daemon keeps running."""
        url = feed_server.serve("/wire.xml", rss([]))
        config = write_config(tmp_path, {"wire": url})
        log = tmp_path / "daemon.log"
        daemon = start_daemon(config, log)
        try:
            assert wait_until(lambda: "news-monitor running" in log.read_text(), timeout=30)
            daemon.send_signal(signal.SIGHUP)
            assert wait_until(lambda: "reloaded" in log.read_text(), timeout=30)
            assert daemon.poll() is None
        finally:
            assert stop_daemon(daemon) == 0

    def test_an_invalid_config_edit_keeps_the_running_config(
        self, tmp_path: Path, feed_server: FeedServer
    ) -> None:
        """A broken config.yaml is rejected with file:line and polling goes on."""
        url = feed_server.serve("/wire.xml", rss([]))
        config = write_config(tmp_path, {"wire": url})
        log = tmp_path / "daemon.log"
        daemon = start_daemon(config, log)
        try:
            assert wait_until(lambda: feed_server.hits("/wire.xml") >= 1, timeout=30)
            config.write_text(config.read_text() + "routes: oops\n")
            assert wait_until(lambda: "reload rejected" in log.read_text(), timeout=30)
            hits = feed_server.hits("/wire.xml")
            assert wait_until(lambda: feed_server.hits("/wire.xml") >= hits + 2, timeout=30)
        finally:
            assert stop_daemon(daemon) == 0
        assert f"{config}:" in log.read_text()


class TestHttpEndpoint:
    def test_health_readiness_and_metrics_are_served(
        self, tmp_path: Path, feed_server: FeedServer, webhook_receiver: WebhookReceiver
    ) -> None:
        """/healthz and /readyz answer 200; /metrics counts polls, matches and deliveries."""
        url = feed_server.serve("/wire.xml", rss([BOMBERS]))
        port = free_port()
        config = write_config(
            tmp_path,
            {"wire": url},
            webhook=webhook_receiver.url(),
            extra=f"http: {{listen: '127.0.0.1:{port}'}}\n",
        )
        daemon = start_daemon(config, tmp_path / "daemon.log")
        base = f"http://127.0.0.1:{port}"
        try:
            assert wait_until(lambda: len(webhook_receiver.received) == 1, timeout=30)

            def ready() -> bool:
                try:
                    return httpx.get(f"{base}/readyz", timeout=2).status_code == 200
                except httpx.HTTPError:
                    return False

            assert wait_until(ready, timeout=30)
            assert httpx.get(f"{base}/healthz", timeout=5).status_code == 200

            def delivered_metric() -> bool:
                text = httpx.get(f"{base}/metrics", timeout=5).text
                samples = {
                    (s.name, tuple(sorted(s.labels.items()))): s.value
                    for family in text_string_to_metric_families(text)
                    for s in family.samples
                }
                sent = samples.get(
                    ("news_monitor_deliveries_total", (("notifier", "ops"), ("outcome", "sent")))
                )
                polled = samples.get(
                    ("news_monitor_polls_total", (("feed", "wire"), ("outcome", "ok")))
                )
                matched = samples.get(
                    (
                        "news_monitor_matches_total",
                        (("rule", "bomber-flights-venezuela"), ("severity", "high")),
                    )
                )
                return sent == 1 and polled == 1 and matched == 1

            assert wait_until(delivered_metric, timeout=15)
        finally:
            assert stop_daemon(daemon) == 0


def test_secrets_never_reach_the_log(tmp_path: Path, feed_server: FeedServer) -> None:
    """Passwords in notifier URLs and signing secrets are redacted even in error messages."""
    url = feed_server.serve("/wire.xml", rss([BOMBERS]))
    dead_port = free_port()
    config = write_config(tmp_path, {"wire": url})
    secret = "whsec_" + "c2VjcmV0LXNpZ25pbmcta2V5LWZvci10ZXN0cw=="
    password = "hunter2-very-secret"
    config.write_text(
        config.read_text().replace(
            "notifiers:\n",
            "notifiers:\n"
            f"  - {{name: ops, type: webhook, url: 'http://alice:{password}@127.0.0.1:{dead_port}/hook',"
            f" secret: '{secret}'}}\n",
        )
        + "log: {level: debug, format: json}\n"
    )
    config.write_text(config.read_text().replace("notify: [console]", "notify: [console, ops]"))
    result = subprocess.run(
        [sys.executable, "-m", "monitor", "once", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 4, result.stderr  # the delivery to the dead port waits
    output = result.stdout + result.stderr
    assert "failed" in output  # the delivery error was logged...
    assert password not in output  # ...without the password
    assert secret not in output and secret.removeprefix("whsec_") not in output
    assert main(["check", "--config", str(config)]) == 0
