"""`news-monitor state copy --to URL`: a SQLite state moved to PostgreSQL carries on where it
was: no burst of old alerts, the outbox and silences kept, an occupied target refused."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from monitor.cli import main
from monitor.migrations import NOT_COPIED, TABLES
from monitor.store import Store
from tests.delivery_setup import RULE_ID, SECRET, sorties, write_config
from tests.feedgen import rss
from tests.servers import FeedServer, WebhookReceiver


def test_a_copied_state_alerts_only_on_what_is_new(
    tmp_path: Path,
    feed_server: FeedServer,
    webhook_receiver: WebhookReceiver,
    postgres_url: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Three alerts sent from SQLite; after the copy, PostgreSQL sends only the fourth story's,
    and the silence made before the switch still holds and keeps its id."""
    webhook_receiver.verify_secrets = [SECRET]
    stories = sorties(4)
    url = feed_server.serve("/wire.xml", rss(stories[:3]))
    old = write_config(tmp_path / "old", url, webhook_receiver.url())
    assert main(["once", "--config", str(old)]) == 0
    assert len(webhook_receiver.received) == 3
    with Store(tmp_path / "old" / "data" / "state.db") as store:
        store.add_silence(RULE_ID, "desk", ends_at=time.time() + 3600, comment="", now=time.time())
    capsys.readouterr()

    assert main(["state", "copy", "--config", str(old), "--to", postgres_url]) == 0
    out = capsys.readouterr().out
    assert "copied 1 feeds, 3 items, 3 alerts, 3 deliveries, 1 silences" in out

    new = write_config(tmp_path / "new", url, webhook_receiver.url(), state=postgres_url)
    feed_server.serve("/wire.xml", rss(stories))
    assert main(["once", "--config", str(new)]) == 0
    assert [hook.json()["item"]["title"] for hook in webhook_receiver.received[3:]] == [
        stories[3].title
    ]
    with Store(postgres_url) as store:
        store.add_silence(RULE_ID, "radio", ends_at=time.time() + 3600, comment="", now=time.time())
        assert [(s.id, s.feed) for s in store.silences(time.time())] == [(1, "desk"), (2, "radio")]
        assert {d.status for d in store.deliveries()} == {"sent"}


def test_a_target_that_holds_state_is_refused(
    tmp_path: Path, postgres_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Copying twice would mix two states: the second copy stops with a message, nothing written."""
    config = write_config(tmp_path, "http://127.0.0.1:9/none.xml", "http://127.0.0.1:9/")
    Store(tmp_path / "data" / "state.db").close()
    assert main(["state", "copy", "--config", str(config), "--to", postgres_url]) == 0
    with Store(postgres_url) as store:
        store.add_silence("bombers", None, ends_at=2e9, comment="", now=1e9)
    capsys.readouterr()
    assert main(["state", "copy", "--config", str(config), "--to", postgres_url]) == 1
    err = capsys.readouterr().err
    assert "already holds state (table silences has rows)" in err
    assert "Traceback" not in err


def test_every_table_is_copied_or_deliberately_left(tmp_path: Path) -> None:
    """A table a later migration adds cannot be forgotten by `state copy`."""
    Store(tmp_path / "state.db").close()
    with sqlite3.connect(tmp_path / "state.db") as conn:
        tables = {
            name
            for (name,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        }
    assert sorted(tables) == sorted((*TABLES, *NOT_COPIED))
