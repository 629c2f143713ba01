"""The state file when the disk lets it down: read-only, damaged, deleted or replaced under the
daemon. Each case ends in a sentence naming the file and what to do, never a traceback, and
the daemon neither starts on a file it cannot use nor goes on delivering from one it lost."""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

import pytest

from monitor.cli import main
from tests.delivery_setup import sorties, write_config
from tests.feedgen import rss
from tests.mounts import read_only
from tests.servers import FeedServer, WebhookReceiver, wait_until
from tests.test_end_to_end import start_daemon, stop_daemon


def cli(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "monitor", *args, "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def filled(tmp_path: Path, feed_server: FeedServer, webhook_receiver: WebhookReceiver) -> Path:
    """A config whose state file holds 300 items and their alerts, made by a real `once`."""
    url = feed_server.serve("/wire.xml", rss(sorties(300)))
    config = write_config(tmp_path, url, webhook_receiver.url())
    assert main(["once", "--config", str(config)]) == 0
    return config


def _state(config: Path) -> Path:
    return config.parent / "data" / "state.db"


def _overwrite(path: Path, offset: int, size: int) -> None:
    noise = random.Random(11).randbytes(size)
    with path.open("r+b") as out:
        out.seek(offset)
        out.write(noise)


class TestDamaged:
    def test_damage_in_the_middle_is_refused_at_start_with_a_sentence(self, filled: Path) -> None:
        """4 KB overwritten halfway through: `run` and `once` refuse, naming file and remedy."""
        state = _state(filled)
        pages = state.stat().st_size // 4096
        assert pages > 20
        _overwrite(state, (pages // 2) * 4096, 4096)
        for command in ("run", "once"):
            done = cli(filled, command)
            assert done.returncode == 1, done.stderr
            assert f"the state file {state} is damaged" in done.stderr
            assert "restore the file from a backup" in done.stderr
            assert "Traceback" not in done.stderr

    def test_a_damaged_header_gives_read_only_commands_a_sentence(self, filled: Path) -> None:
        """`status` and `outbox list` on a file SQLite cannot open say so, exit 1, no traceback."""
        state = _state(filled)
        _overwrite(state, 0, 100)
        for command in (("status",), ("outbox", "list"), ("silence", "list")):
            done = cli(filled, *command)
            assert done.returncode == 1, (command, done.stdout, done.stderr)
            assert f"error: the state file {state} is damaged" in done.stderr
            assert "Traceback" not in done.stderr


class TestReadOnly:
    def test_a_read_only_state_folder_is_refused_at_start(self, filled: Path) -> None:
        """As on a container started without its /data volume: one sentence, exit 1."""
        folder = _state(filled).parent
        with read_only(folder):
            for command in ("run", "once"):
                done = cli(filled, command)
                assert done.returncode == 1, done.stderr
                assert f"cannot write in {folder} (Read-only file system)" in done.stderr
                assert "Traceback" not in done.stderr

    def test_a_read_only_state_file_is_refused_at_start(self, filled: Path) -> None:
        """Before, the daemon started and failed every poll with 'readonly database'."""
        state = _state(filled)
        with read_only(state):
            done = cli(filled, "run")
        assert done.returncode == 1, done.stderr
        assert f"cannot write the state file {state} (Read-only file system)" in done.stderr
        assert "Traceback" not in done.stderr


class TestLostUnderTheDaemon:
    def test_a_deleted_state_file_stops_delivery_and_says_why(
        self, tmp_path: Path, feed_server: FeedServer, webhook_receiver: WebhookReceiver
    ) -> None:
        """The daemon stops instead of recording into a deleted file, and health says why."""
        url = feed_server.serve("/wire.xml", rss(sorties(1)))
        config = write_config(tmp_path, url, webhook_receiver.url())
        log = tmp_path / "daemon.log"
        daemon = start_daemon(config, log)
        try:
            assert wait_until(lambda: len(webhook_receiver.received) == 1, timeout=30)
            state = _state(config)
            for suffix in ("", "-wal", "-shm"):
                state.with_name(state.name + suffix).unlink(missing_ok=True)
            assert wait_until(lambda: "was deleted while news-monitor ran" in log.read_text(), 15)
            feed_server.serve("/wire.xml", rss(sorties(3)))
            probe = cli(config, "healthcheck")
            polls = feed_server.hits("/wire.xml")
            assert not wait_until(lambda: len(webhook_receiver.received) > 1, timeout=4)
            assert feed_server.hits("/wire.xml") == polls  # no more polling either
        finally:
            code = stop_daemon(daemon)
        assert code == 0
        assert probe.returncode == 1
        assert f"the state file {state} was deleted while news-monitor ran" in probe.stderr

    def test_a_deleted_lock_file_stops_the_first_daemon_so_two_never_deliver(
        self, tmp_path: Path, feed_server: FeedServer, webhook_receiver: WebhookReceiver
    ) -> None:
        """A second daemon can take the new lock; the first stops, so no alert goes out twice."""
        url = feed_server.serve("/wire.xml", rss(sorties(1)))
        config = write_config(tmp_path, url, webhook_receiver.url())
        first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"
        first = start_daemon(config, first_log)
        second = None
        try:
            assert wait_until(lambda: len(webhook_receiver.received) == 1, timeout=30)
            (config.parent / "data" / "state.db.lock").unlink()
            assert wait_until(
                lambda: "was deleted while news-monitor ran" in first_log.read_text(), 15
            )
            second = start_daemon(config, second_log)
            feed_server.serve("/wire.xml", rss(sorties(20)))
            assert wait_until(lambda: len(webhook_receiver.received) >= 20, timeout=60)
            assert not wait_until(lambda: len(webhook_receiver.received) > 20, timeout=3)
        finally:
            codes = [stop_daemon(first), stop_daemon(second) if second else 0]
        ids = [hook.json()["id"] for hook in webhook_receiver.received]
        assert len(ids) == len(set(ids)) == 20
        assert codes == [0, 0]
        assert "delivered to ops" not in first_log.read_text().split("was deleted")[-1]
