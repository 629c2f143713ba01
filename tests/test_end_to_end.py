"""The whole job once, against real servers: poll, parse, match, record, deliver, exactly once."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from monitor.cli import main
from tests.feedgen import BAND, BOAT_STRIKE, BOMBERS, JACKET, Story, rss
from tests.servers import FeedServer, SmtpSink, WebhookReceiver, wait_until

RULES = """\
rules:
  - id: bomber-flights-venezuela
    title: US bombers near Venezuela
    severity: high
    tags: [air]
    match:
      all:
        - any: [B-52, B-1B, "B-1", ~bomber, Stratofortress]
        - any: [Venezuela, Venezuelan, Caracas, Maduro]
      none: [jacket, concert]
  - id: boat-strikes
    title: Lethal strikes on boats
    severity: critical
    tags: [maritime]
    match:
      all:
        - any: [strike, strikes]
        - any: [boat, vessel]
        - any: [kills, killed, dead]
        - number: {near: [kills], within: 2, at_least: 1, as: killed}
"""


def write_config(
    tmp_path: Path,
    feeds: dict[str, str],
    *,
    webhook: str | None = None,
    smtp_port: int | None = None,
    extra: str = "",
) -> Path:
    rules = tmp_path / "rules"
    rules.mkdir(exist_ok=True)
    if not (rules / "escalation.yaml").exists():
        (rules / "escalation.yaml").write_text(RULES)
    lines = [
        "state: data/state.db",
        "rules: [rules/]",
        "max_age: 24h",
        "defaults: {interval: 1s, timeout: 2s}",
        "feeds:",
        *(f"  - {{name: {name}, url: '{url}'}}" for name, url in feeds.items()),
        "notifiers:",
        "  - {name: console, type: log}",
    ]
    notify = ["console"]
    if webhook:
        lines.append(f"  - {{name: ops, type: webhook, url: '{webhook}'}}")
        notify.append("ops")
    if smtp_port:
        lines += [
            "  - name: desk",
            "    type: email",
            "    host: 127.0.0.1",
            f"    port: {smtp_port}",
            "    security: none",
            "    from: monitor@example.org",
            "    to: [desk@example.org]",
        ]
        notify.append("desk")
    lines += ["routes:", f"  - {{notify: [{', '.join(notify)}]}}"]
    path = tmp_path / "config.yaml"
    path.write_text("\n".join(lines) + "\n" + extra)
    return path


def once(config: Path) -> int:
    return main(["once", "--config", str(config)])


class TestOnce:
    def test_matching_items_reach_webhook_and_email_once(
        self,
        tmp_path: Path,
        feed_server: FeedServer,
        webhook_receiver: WebhookReceiver,
        smtp_sink: SmtpSink,
    ) -> None:
        """Each matching story is delivered once to each channel; look-alikes are not."""
        url = feed_server.serve("/wire.xml", rss([BOMBERS, BAND, BOAT_STRIKE, JACKET]))
        config = write_config(
            tmp_path, {"wire": url}, webhook=webhook_receiver.url(), smtp_port=smtp_sink.port
        )
        assert once(config) == 0

        payloads = webhook_receiver.payloads()
        assert sorted(p["rule"]["id"] for p in payloads) == [
            "boat-strikes",
            "bomber-flights-venezuela",
        ]
        bombers = next(p for p in payloads if p["rule"]["id"] == "bomber-flights-venezuela")
        assert bombers["item"]["title"] == BOMBERS.title
        assert bombers["item"]["link"] == "https://news.example.org/bombers-1"
        assert bombers["item"]["feed"] == "wire"
        assert bombers["rule"]["severity"] == "high"
        assert bombers["rule"]["tags"] == ["air"]
        assert bombers["id"] and bombers["detected_at"] and bombers["item"]["published"]
        # The words as the item wrote them, the rule's patterns apart, counts as integers.
        assert {"B-52", "bombers", "Venezuela"} <= set(bombers["matched"])
        assert "~bomber" in bombers["patterns"] and "~bomber" not in bombers["matched"]
        boat = next(p for p in payloads if p["rule"]["id"] == "boat-strikes")
        assert boat["values"] == {"killed": 4} and isinstance(boat["values"]["killed"], int)

        assert len(smtp_sink.messages) == 2
        subjects = sorted(str(m["Subject"]) for m in smtp_sink.messages)
        assert any("US bombers near Venezuela" in s and BOMBERS.title in s for s in subjects)
        assert any("critical" in s.lower() for s in subjects)
        bodies = [m.get_body(("plain",)).get_content() for m in smtp_sink.messages]  # type: ignore[union-attr]
        assert any("Matched: B-52, bombers, Venezuela" in b for b in bodies), bodies

        assert once(config) == 0
        assert len(webhook_receiver.received) == 2
        assert len(smtp_sink.messages) == 2

    def test_new_story_on_a_later_poll_alerts_and_old_ones_do_not(
        self, tmp_path: Path, feed_server: FeedServer, webhook_receiver: WebhookReceiver
    ) -> None:
        """Only items not seen before alert."""
        url = feed_server.serve("/wire.xml", rss([BOMBERS]))
        config = write_config(tmp_path, {"wire": url}, webhook=webhook_receiver.url())
        assert once(config) == 0
        feed_server.serve("/wire.xml", rss([BOAT_STRIKE, BOMBERS]))
        assert once(config) == 0
        assert [p["rule"]["id"] for p in webhook_receiver.payloads()] == [
            "bomber-flights-venezuela",
            "boat-strikes",
        ]

    def test_conditional_get_uses_the_etag(
        self, tmp_path: Path, feed_server: FeedServer, webhook_receiver: WebhookReceiver
    ) -> None:
        """The second poll revalidates with If-None-Match and the 304 costs nothing."""
        url = feed_server.serve("/wire.xml", rss([BOMBERS]))
        config = write_config(tmp_path, {"wire": url}, webhook=webhook_receiver.url())
        once(config)
        once(config)
        _, headers = feed_server.requests[-1]
        assert "If-None-Match" in headers
        assert len(webhook_receiver.received) == 1

    def test_old_items_are_recorded_but_never_alert(
        self, tmp_path: Path, feed_server: FeedServer, webhook_receiver: WebhookReceiver
    ) -> None:
        """max_age keeps the first start from alerting on last week's news."""
        old = Story("old-1", BOMBERS.title, BOMBERS.summary, age=timedelta(days=3))
        url = feed_server.serve("/wire.xml", rss([old]))
        config = write_config(tmp_path, {"wire": url}, webhook=webhook_receiver.url())
        assert once(config) == 0
        assert webhook_receiver.received == []

    def test_broken_and_slow_feeds_do_not_stop_the_others(
        self, tmp_path: Path, feed_server: FeedServer, webhook_receiver: WebhookReceiver
    ) -> None:
        """A 500ing feed and a timing-out feed are recorded as failing; the good feed alerts."""
        good = feed_server.serve("/good.xml", rss([BOMBERS]))
        broken = feed_server.serve("/broken.xml", "oops", status=500)
        slow = feed_server.serve("/slow.xml", rss([BOAT_STRIKE]), delay=4)
        config = write_config(
            tmp_path, {"good": good, "broken": broken, "slow": slow}, webhook=webhook_receiver.url()
        )
        assert once(config) == 0
        assert [p["item"]["feed"] for p in webhook_receiver.payloads()] == ["good"]
        with sqlite3.connect(tmp_path / "data" / "state.db") as db:
            rows = dict(db.execute("SELECT name, consecutive_failures FROM feeds").fetchall())
        assert rows == {"good": 0, "broken": 1, "slow": 1}

    def test_receiver_that_was_down_gets_the_alert_later_with_the_same_id(
        self, tmp_path: Path, feed_server: FeedServer, webhook_receiver: WebhookReceiver
    ) -> None:
        """A failed delivery stays in the outbox and is retried with the same alert id."""
        webhook_receiver.fail_next = 1
        url = feed_server.serve("/wire.xml", rss([BOMBERS]))
        config = write_config(tmp_path, {"wire": url}, webhook=webhook_receiver.url())
        assert once(config) == 4  # the alert waits for the receiver
        assert webhook_receiver.received == []
        assert once(config) == 0
        assert len(webhook_receiver.received) == 1
        assert (
            webhook_receiver.received[0].json()["id"] == webhook_receiver.rejected[0].json()["id"]
        )

    def test_a_client_error_is_permanent_and_kept_as_a_dead_letter(
        self,
        tmp_path: Path,
        feed_server: FeedServer,
        webhook_receiver: WebhookReceiver,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        """A 400 is not retried; `outbox list --failed` shows it and `outbox retry` replays it."""
        webhook_receiver.fail_next, webhook_receiver.fail_status = 1, 400
        url = feed_server.serve("/wire.xml", rss([BOMBERS]))
        config = write_config(tmp_path, {"wire": url}, webhook=webhook_receiver.url())
        once(config)
        once(config)
        assert webhook_receiver.attempts == 1
        assert main(["outbox", "list", "--failed", "--config", str(config)]) == 0
        listing = capsys.readouterr().out
        assert "bomber-flights-venezuela" in listing and "failed" in listing
        assert main(["outbox", "retry", "--all", "--config", str(config)]) == 0
        once(config)
        assert len(webhook_receiver.received) == 1


class TestCheck:
    def test_a_valid_config_passes(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """`check` says what it loaded and exits 0."""
        config = write_config(tmp_path, {"wire": "http://127.0.0.1:9/feed"})
        assert main(["check", "--config", str(config)]) == 0
        assert "2 rules" in capsys.readouterr().out

    def test_a_broken_rule_file_names_file_and_line(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """`check` exits 1 and points at the broken line."""
        config = write_config(tmp_path, {"wire": "http://127.0.0.1:9/feed"})
        broken = tmp_path / "rules" / "broken.yaml"
        broken.write_text(
            "rules:\n  - id: x\n    title: X\n    severity: severe\n    match: {any: [a]}\n"
        )
        assert main(["check", "--config", str(config)]) == 1
        err = capsys.readouterr().err
        assert f"{broken}:4" in err and "severity" in err

    def test_a_missing_environment_variable_is_named(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """${VAR} without default and without the variable is a clear error."""
        config = write_config(
            tmp_path, {"wire": "http://127.0.0.1:9/feed"}, extra="max_age: ${NM_TEST_UNSET_VAR}\n"
        )
        config.write_text(config.read_text().replace("max_age: 24h\n", ""))
        os.environ.pop("NM_TEST_UNSET_VAR", None)
        assert main(["check", "--config", str(config)]) == 1
        err = capsys.readouterr().err
        assert "NM_TEST_UNSET_VAR" in err and f"{config}:" in err


def start_daemon(config: Path, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "monitor", "run", "--config", str(config)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )


def stop_daemon(process: subprocess.Popen[bytes]) -> int:
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


class TestDaemon:
    def test_restart_does_not_resend(
        self, tmp_path: Path, feed_server: FeedServer, webhook_receiver: WebhookReceiver
    ) -> None:
        """The daemon delivers, exits 0 on SIGTERM, and a restart sends nothing twice."""
        url = feed_server.serve("/wire.xml", rss([BOMBERS]))
        config = write_config(tmp_path, {"wire": url}, webhook=webhook_receiver.url())
        log = tmp_path / "daemon.log"
        daemon = start_daemon(config, log)
        try:
            assert wait_until(lambda: len(webhook_receiver.received) >= 1, timeout=30)
        finally:
            assert stop_daemon(daemon) == 0
        daemon = start_daemon(config, log)
        try:
            polls_before = feed_server.hits("/wire.xml")
            assert wait_until(lambda: feed_server.hits("/wire.xml") >= polls_before + 3, timeout=30)
        finally:
            assert stop_daemon(daemon) == 0
        assert len(webhook_receiver.received) == 1

    def test_a_broken_rule_edit_keeps_the_last_good_rules(
        self, tmp_path: Path, feed_server: FeedServer, webhook_receiver: WebhookReceiver
    ) -> None:
        """An invalid edit is logged with file:line and the daemon keeps alerting on the old rules."""
        url = feed_server.serve("/wire.xml", rss([BAND]))
        config = write_config(tmp_path, {"wire": url}, webhook=webhook_receiver.url())
        log = tmp_path / "daemon.log"
        daemon = start_daemon(config, log)
        try:
            assert wait_until(lambda: feed_server.hits("/wire.xml") >= 1, timeout=30)
            rule_file = tmp_path / "rules" / "escalation.yaml"
            rule_file.write_text(RULES + "  - id: broken\n    severity: [\n")
            assert wait_until(lambda: "reload rejected" in log.read_text(), timeout=30)
            feed_server.serve("/wire.xml", rss([BAND, BOMBERS]))
            assert wait_until(lambda: len(webhook_receiver.received) >= 1, timeout=30)
        finally:
            assert stop_daemon(daemon) == 0
        text = log.read_text()
        assert f"{tmp_path / 'rules' / 'escalation.yaml'}:" in text
        assert webhook_receiver.payloads()[0]["rule"]["id"] == "bomber-flights-venezuela"

    def test_a_valid_rule_edit_is_applied_without_restart(
        self, tmp_path: Path, feed_server: FeedServer, webhook_receiver: WebhookReceiver
    ) -> None:
        """A new rule takes effect on the next poll."""
        url = feed_server.serve("/wire.xml", rss([]))
        config = write_config(tmp_path, {"wire": url}, webhook=webhook_receiver.url())
        log = tmp_path / "daemon.log"
        daemon = start_daemon(config, log)
        try:
            assert wait_until(lambda: feed_server.hits("/wire.xml") >= 1, timeout=30)
            (tmp_path / "rules" / "bands.yaml").write_text(
                "rules:\n  - id: band-news\n    title: Band news\n    severity: low\n"
                "    match: {any: [concert]}\n"
            )
            assert wait_until(lambda: "reloaded" in log.read_text(), timeout=30)
            feed_server.serve("/wire.xml", rss([BAND]))
            assert wait_until(lambda: len(webhook_receiver.received) >= 1, timeout=30)
        finally:
            assert stop_daemon(daemon) == 0
        assert webhook_receiver.payloads()[0]["rule"]["id"] == "band-news"


def test_python_dash_m_runs_the_same_cli() -> None:
    """`python -m monitor --help` lists the commands."""
    result = subprocess.run(
        [sys.executable, "-m", "monitor", "--help"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0
    for command in ("check", "once", "run", "status", "demo"):
        assert command in result.stdout


def test_status_shows_feed_health_rule_matches_and_the_outbox(
    tmp_path: Path,
    feed_server: FeedServer,
    webhook_receiver: WebhookReceiver,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`status` tells an operator which feed fails, what matched, and what waits to be sent."""
    good = feed_server.serve("/good.xml", rss([BOMBERS]))
    broken = feed_server.serve("/broken.xml", "oops", status=500)
    webhook_receiver.fail_next = 1
    config = write_config(
        tmp_path, {"good": good, "broken": broken}, webhook=webhook_receiver.url()
    )
    once(config)
    capsys.readouterr()
    assert main(["status", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    feeds = out.split("RULES")[0]
    broken_line = next(line for line in feeds.splitlines() if line.startswith("broken"))
    assert " 1 " in broken_line and "500" in broken_line
    rules = out.split("RULES")[1].split("OUTBOX")[0]
    bomber_line = next(line for line in rules.splitlines() if "bomber-flights" in line)
    assert bomber_line.split()[-1] == "1"
    assert "pending 1" in out.split("OUTBOX")[1]
