"""Inspecting a daemon as an operator does: read-only commands without secrets, `status` while a
rule file is broken, running or stopped, whole error messages, `once` failing loudly when no
feed answers, and a summary line from a healthy `run`."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from monitor.cli import NO_FEED_FETCHED, main
from tests.feedgen import BOMBERS, rss
from tests.servers import FeedServer, WebhookReceiver, free_port, wait_until
from tests.test_end_to_end import start_daemon, stop_daemon, write_config

REPO = Path(__file__).resolve().parent.parent


def cli(config: Path, *args: str) -> int:
    return main([*args, "--config", str(config)])


def flat(text: str) -> str:
    """Output with wrapped lines joined, so a wrapped message reads as one."""
    return re.sub(r"\s+", " ", text)


class TestWithoutSecrets:
    def test_read_only_commands_work_without_the_notifiers_environment(
        self,
        tmp_path: Path,
        feed_server: FeedServer,
        webhook_receiver: WebhookReceiver,
        monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        """status, outbox list, silence list and backtest need no webhook URL; check and once do."""
        url = feed_server.serve("/wire.xml", rss([BOMBERS]))
        config = write_config(tmp_path, {"wire": url}, webhook="${NM_OPS_WEBHOOK_URL}")
        monkeypatch.setenv("NM_OPS_WEBHOOK_URL", webhook_receiver.url())
        assert cli(config, "once") == 0
        monkeypatch.delenv("NM_OPS_WEBHOOK_URL")
        capsys.readouterr()
        for command in (
            ["status"],
            ["outbox", "list"],
            ["silence", "list"],
            ["backtest", "--since", "1d"],
        ):
            assert cli(config, *command) == 0, command
            captured = capsys.readouterr()
            assert "NM_OPS_WEBHOOK_URL" not in captured.err, command
        assert cli(config, "check") == 1
        assert "NM_OPS_WEBHOOK_URL is not set" in capsys.readouterr().err
        assert cli(config, "once") == 1


class TestStatus:
    def test_a_broken_rule_file_is_a_warning_and_the_rest_still_shows(
        self,
        tmp_path: Path,
        feed_server: FeedServer,
        webhook_receiver: WebhookReceiver,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        """Feeds, matches and the outbox show; the warning names the broken file and line."""
        url = feed_server.serve("/wire.xml", rss([BOMBERS]))
        webhook_receiver.fail_next = 1
        config = write_config(tmp_path, {"wire": url}, webhook=webhook_receiver.url())
        assert cli(config, "once") == 4  # the failed delivery is still waiting
        broken = tmp_path / "rules" / "broken.yaml"
        broken.write_text("rules:\n  - id: x\n    title: X\n    severity: severe\n")
        capsys.readouterr()
        assert cli(config, "status") == 0
        out = capsys.readouterr().out
        assert f"warning: the rule files do not load: {broken}:4:" in out
        feeds = out.split("FEEDS")[1].split("RULES")[0]
        assert any(line.startswith("wire ") for line in feeds.splitlines())
        rules = out.split("RULES")[1].split("OUTBOX")[0]
        assert "bomber-flights-venezuela" in rules
        assert "pending 1" in out.split("OUTBOX")[1]

    def test_says_whether_the_daemon_runs_since_when_and_on_what(
        self, tmp_path: Path, feed_server: FeedServer, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Running: pid, start time, the config and rules it loaded. Stopped: no next poll."""
        url = feed_server.serve("/wire.xml", rss([]))
        config = write_config(tmp_path, {"wire": url})
        assert cli(config, "status") == 0  # no state yet
        log = tmp_path / "daemon.log"
        daemon = start_daemon(config, log)
        try:
            assert wait_until(lambda: "news-monitor running" in log.read_text(), timeout=30)
            assert wait_until(lambda: feed_server.hits("/wire.xml") >= 1, timeout=30)
            capsys.readouterr()
            assert cli(config, "status") == 0
            running = capsys.readouterr().out
        finally:
            assert stop_daemon(daemon) == 0
        daemon_part = running.split("FEEDS")[0]
        assert f"running (pid {daemon.pid}) since " in daemon_part
        assert f"runs on {config.resolve()}: 1 feeds, 2 rules from 1 files" in daemon_part
        wire = next(line for line in running.splitlines() if line.startswith("wire "))
        assert " in " in wire  # next poll in ...

        assert cli(config, "status") == 0
        stopped = capsys.readouterr().out
        assert "stopped: the loop last ticked" in stopped.split("FEEDS")[0]
        assert f"ran on {config.resolve()}" in stopped
        wire = next(line for line in stopped.splitlines() if line.startswith("wire "))
        assert "stopped" in wire and " in " not in wire

    def test_the_last_error_shows_its_cause_wrapped_or_wide(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A long error is wrapped, not cut: its end (the cause) shows; --wide keeps one line."""
        long_path = "/" + "/".join(["world-news-section"] * 5) + "/rss.xml"
        url = f"http://127.0.0.1:{free_port()}{long_path}"
        config = write_config(tmp_path, {"wire": url})
        cli(config, "once")
        capsys.readouterr()
        assert cli(config, "status") == 0
        out = capsys.readouterr().out
        assert len(f"{url}: ConnectError: cannot connect to 127.0.0.1: Connection refused") > 60
        feeds = flat(out.split("FEEDS")[1].split("RULES")[0])
        assert "Connection refused" in feeds
        assert cli(config, "status", "--wide") == 0
        wide = capsys.readouterr().out
        wire = next(line for line in wide.splitlines() if line.startswith("wire "))
        assert wire.endswith("Connection refused") and url in wire


class TestNoFeedAnswers:
    def test_once_exits_3_when_every_feed_failed_and_0_when_one_worked(
        self, tmp_path: Path, feed_server: FeedServer
    ) -> None:
        """A cron job running `once` can tell "nothing new" from "nothing reachable"."""
        down = f"http://127.0.0.1:{free_port()}/rss.xml"
        config = write_config(tmp_path, {"down": down, "also-down": down})
        assert cli(config, "once") == NO_FEED_FETCHED == 3
        good = feed_server.serve("/wire.xml", rss([]))
        config = write_config(tmp_path, {"down": down, "wire": good})
        assert cli(config, "once") == 0

    def test_run_logs_a_summary_and_warns_when_every_feed_keeps_failing(
        self, tmp_path: Path, feed_server: FeedServer
    ) -> None:
        """A healthy run says what it did; once no feed answers for a summary period, it warns."""
        url = feed_server.serve("/wire.xml", rss([BOMBERS]))
        config = write_config(tmp_path, {"wire": url}, extra="log: {summary: 2s}\n")
        log = tmp_path / "daemon.log"
        daemon = start_daemon(config, log)
        try:
            assert wait_until(lambda: "1 new items, 1 alerts" in log.read_text(), timeout=30)
            assert "every feed has been failing" not in log.read_text()
            feed_server.serve("/wire.xml", "down for maintenance", status=503)
            assert wait_until(lambda: "every feed has been failing" in log.read_text(), timeout=60)
        finally:
            assert stop_daemon(daemon) == 0
        text = log.read_text()
        assert re.search(r"summary: \d+ polls \(\d+ failed\), 1 of 1 feeds failing", text)
        warning = next(line for line in text.splitlines() if "every feed has been" in line)
        assert "HTTP 503" in warning


class TestRuleTool:
    def test_one_rule_file_alone_names_the_file_that_declares_its_lists(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """`test rules/escalation.yaml` points at rules/theatre.yaml instead of 'none defined'."""
        items = REPO / "tests" / "data" / "labelled.jsonl"
        rules = REPO / "rules"
        assert main(["test", str(rules / "escalation.yaml"), "--input", str(items)]) == 1
        err = flat(capsys.readouterr().err)
        assert "it is declared in" in err and "rules/" in err
        assert re.search(r"declared in \S+/rules/(theatre|vocabulary)\.yaml", err)

    def test_test_defaults_to_the_configured_rules_and_counts_matches_plainly(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Without rule paths, `test` uses config.yaml's rules; the summary cannot be misread."""
        config = write_config(tmp_path, {"wire": "http://127.0.0.1:9/feed"})
        feed = tmp_path / "feed.xml"
        feed.write_text(rss([BOMBERS]))
        assert main(["test", "--input", str(feed), "--config", str(config)]) == 0
        out = capsys.readouterr().out
        assert "MATCH bomber-flights-venezuela" in out
        assert out.splitlines()[-1] == (
            "1 of 1 items matched (1 matches in all), with a rulebook of 2 rules"
        )
        (tmp_path / "rules" / "escalation.yaml").unlink()
        shutil.copytree(REPO / "rules", tmp_path / "rules", dirs_exist_ok=True)
        labelled = REPO / "tests" / "data" / "labelled.jsonl"
        assert main(["evaluate", str(labelled), "--config", str(config)]) == 0
        assert "precision" in capsys.readouterr().out
