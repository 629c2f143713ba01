"""Commands import only what they use: `once`, `check` and `status` never load the scheduler,
the PostgreSQL driver only for a PostgreSQL state, and Apprise or Jinja2 only when a configured
notifier needs them (each costs a steady `once`
a large share of its time)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.feedgen import BOMBERS, rss
from tests.servers import FeedServer, WebhookReceiver
from tests.test_end_to_end import write_config

HEAVY = ("apscheduler", "apprise", "jinja2", "psycopg")  # psycopg: only for PostgreSQL state

PROBE = """
import json, sys
from monitor.cli import main
code = main(sys.argv[1:])
loaded = sorted({name.split(".")[0] for name in sys.modules})
print(json.dumps({"code": code, "loaded": loaded}))
"""


def loaded_by(*argv: str) -> tuple[int, set[str]]:
    """Run one command in a fresh interpreter; its exit code and the top-level modules it loaded."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *argv],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        check=False,
    )
    report = json.loads(done.stdout.strip().splitlines()[-1])
    return report["code"], set(report["loaded"])


@pytest.mark.parametrize("command", ["check", "once", "status"])
def test_everyday_commands_load_no_scheduler_chat_or_template_engine(
    tmp_path: Path,
    feed_server: FeedServer,
    webhook_receiver: WebhookReceiver,
    command: str,
) -> None:
    """With a log and a webhook notifier, none of the heavy libraries is imported."""
    url = feed_server.serve("/wire.xml", rss([BOMBERS]))
    config = write_config(tmp_path, {"wire": url}, webhook=webhook_receiver.url())
    if command == "status":
        assert loaded_by("once", "--config", str(config))[0] == 0
    code, loaded = loaded_by(command, "--config", str(config))
    assert code == 0
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))
    if command == "once":
        assert len(webhook_receiver.received) == 1  # it did deliver, through the webhook


def test_a_chat_notifier_loads_apprise_and_email_loads_jinja2(tmp_path: Path) -> None:
    """The laziness is per need: configure them, and `check` does load them (and validates)."""
    config = write_config(tmp_path, {"wire": "http://127.0.0.1:9/feed.xml"})
    text = config.read_text().replace(
        "notifiers:\n",
        "notifiers:\n"
        "  - {name: chat, type: apprise, urls: ['json://127.0.0.1:9/hook']}\n"
        "  - {name: mail, type: email, host: 127.0.0.1, port: 9, from: a@example.org, "
        "to: [b@example.org], html_template: '<p>{{ item.title }}</p>'}\n",
        1,
    )
    config.write_text(text)
    code, loaded = loaded_by("check", "--config", str(config))
    assert code == 0
    assert {"apprise", "jinja2"} <= loaded
    assert "apscheduler" not in loaded
