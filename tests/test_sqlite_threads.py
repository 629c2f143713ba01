"""The SQLite state's one connection is shared by the daemon's loop and its heartbeat thread: a
statement one thread runs outside any transaction while the other's transaction is open must
not run inside that transaction, where it would vanish when that transaction rolls back."""

from __future__ import annotations

import threading
from pathlib import Path

from monitor.store import Store


class DiskFull(Exception):
    """Stands for the heartbeat's transaction failing before its commit."""


def test_a_write_outside_a_transaction_survives_another_threads_rollback(tmp_path: Path) -> None:
    with Store(tmp_path / "state.db") as store:
        opened, release = threading.Event(), threading.Event()
        failures: list[BaseException] = []

        def heartbeat() -> None:
            try:
                with store.db.transaction():
                    store.db.execute(
                        "INSERT INTO replicas (id, host, pid, started_at, heartbeat_at)"
                        " VALUES ('beat', 'host', 1, 900.0, 1000.0)"
                    )
                    opened.set()
                    release.wait(timeout=30)
                    raise DiskFull
            except BaseException as exc:  # the thread reports what it met
                failures.append(exc)

        def loop() -> None:
            # A plain statement, as the loop runs many (the heartbeat's transaction is open).
            store.db.execute(
                "INSERT INTO feeds (name, url, added_at) VALUES (?, ?, ?)",
                ("wire", "https://wire.example.org/rss", 1000.0),
            )

        beating = threading.Thread(target=heartbeat)
        beating.start()
        assert opened.wait(timeout=30), failures
        writer = threading.Thread(target=loop)
        writer.start()
        writer.join(timeout=1.0)  # with the bug it is done by now, inside the other transaction
        release.set()
        beating.join(timeout=30)
        writer.join(timeout=30)
        assert not writer.is_alive()
        assert [type(exc) for exc in failures] == [DiskFull]
        assert [s.name for s in store.feed_states()] == ["wire"]
        assert store.replicas(1000.0) == []
