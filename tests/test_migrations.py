"""Schema migrations: numbered, applied once (also when replicas start together), and a schema
newer than this release knows is refused with a message saying what to do."""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import replace
from pathlib import Path

import pytest

from monitor.cli import main
from monitor.db import connect
from monitor.migrations import LATEST, MIGRATIONS, SchemaTooNewError, current_version
from monitor.models import Severity
from monitor.noise import DeliveryPlan
from monitor.store import QueuedAlert, Store
from tests.delivery_setup import RULES
from tests.notify_alerts import make_alert


def write_config(tmp_path: Path, state: Path | str) -> Path:
    (tmp_path / "rules").mkdir(exist_ok=True)
    (tmp_path / "rules" / "sorties.yaml").write_text(RULES)
    config = tmp_path / "config.yaml"
    config.write_text(f"state: '{state}'\nrules: [rules/]\nfeeds: []\n")
    return config


def versions(state: Path | str) -> list[int]:
    db = connect(state)
    try:
        return [row["version"] for row in db.execute("SELECT version FROM schema_migrations")]
    finally:
        db.close()


def test_migrate_brings_a_new_database_to_the_latest_version(
    tmp_path: Path, state: Path | str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`news-monitor migrate` applies every migration once; a second run has nothing to do."""
    config = write_config(tmp_path, state)
    assert main(["migrate", "--config", str(config)]) == 0
    first = capsys.readouterr().out
    assert f"applied migration 1: {MIGRATIONS[0].name}" in first
    assert f"schema at version {LATEST}\n" in first
    assert main(["migrate", "--config", str(config)]) == 0
    assert capsys.readouterr().out == f"schema at version {LATEST} (nothing to do)\n"
    assert versions(state) == [m.version for m in MIGRATIONS]


def test_a_schema_newer_than_known_is_refused(
    tmp_path: Path, state: Path | str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A database a newer release migrated is not written to by an older one."""
    Store(state).close()
    db = connect(state)
    with db.transaction():
        db.execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, 'future', 0)",
            (LATEST + 1,),
        )
    db.close()
    with pytest.raises(SchemaTooNewError, match="upgrade news-monitor"):
        Store(state)
    config = write_config(tmp_path, state)
    assert main(["once", "--config", str(config)]) == 1
    err = capsys.readouterr().err
    assert f"schema version {LATEST + 1}, newer than the {LATEST}" in err
    assert "Traceback" not in err


def test_replicas_starting_together_migrate_once(postgres_url: str) -> None:
    """Eight stores opening one empty database at the same instant: each migration runs once."""
    start = threading.Barrier(8)
    errors: list[BaseException] = []

    def open_store() -> None:
        start.wait()
        try:
            Store(postgres_url).close()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=open_store) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert versions(postgres_url) == [m.version for m in MIGRATIONS]


def test_a_state_file_from_before_numbered_migrations_keeps_its_rows(tmp_path: Path) -> None:
    """The last release without a version table: its outbox survives and it is now numbered."""
    path = tmp_path / "state.db"
    old = sqlite3.connect(path)
    old.executescript(MIGRATIONS[0].sqlite)
    old.execute(
        "INSERT INTO alerts VALUES ('a1', 'bombers', 3, 'wire', 'k', ?, 900.0)",
        (
            json.dumps(
                {
                    "id": "a1",
                    "rule": {"id": "bombers", "title": "Bombers", "severity": "high"},
                    "item": {"feed": "wire", "title": "t", "link": "https://x/"},
                    "detected_at": "2026-11-20T00:00:00+00:00",
                }
            ),
        ),
    )
    old.execute(
        "INSERT INTO deliveries (alert_id, notifier, status, next_attempt_at, created_at,"
        " updated_at) VALUES ('a1', 'ops', 'pending', 900.0, 900.0, 900.0)"
    )
    old.commit()
    old.close()
    with Store(path) as store:
        assert [d.alert.id for d in store.due_deliveries(now=1000.0)] == ["a1"]
        assert current_version(store.db) == LATEST


def test_messages_waiting_in_an_older_state_get_their_urgency(state: Path | str) -> None:
    """A state from before lanes (schema 6) with messages pending: once migrated, its step-up
    goes first and the rest by severity, as newly queued ones do."""
    alerts = [
        make_alert("Carrier group heads south", key="medium", severity=Severity.MEDIUM),
        replace(make_alert("Troops land", key="step", severity=Severity.LOW), escalation="step_up"),
        make_alert("Bombers over the Caribbean", key="high", severity=Severity.HIGH),
    ]
    with Store(state) as store:
        for n, alert in enumerate(alerts):
            store.record_poll(
                store.feed_state("wire", "u"),
                [alert.item],
                [QueuedAlert(alert, (DeliveryPlan("ops", 0.0),))],
                now=1000.0 + n,
            )
        with store.db.transaction():
            # Back to schema 6: undo migration 7 (urgency) and the ones after it.
            store.db.execute("ALTER TABLE alerts DROP COLUMN urgency")
            store.db.execute("ALTER TABLE feeds DROP COLUMN added_at")
            store.db.execute("ALTER TABLE replicas DROP COLUMN run_info")
            store.db.execute("ALTER TABLE items DROP COLUMN author")
            store.db.execute("ALTER TABLE items DROP COLUMN source")
            store.db.execute("DELETE FROM schema_migrations WHERE version >= 7")
    assert max(versions(state)) == 6
    with Store(state) as store:
        due = store.due_deliveries(now=2000.0, notifier="ops")
    assert [d.alert.item.key for d in due] == ["step", "high", "medium"]
    assert max(versions(state)) == LATEST
