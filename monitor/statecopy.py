"""`news-monitor state copy --to URL`: one state's rows into another, empty, database.

Switching from SQLite to PostgreSQL must not look like a first start: the feeds' validators,
the items already seen (else every item in every feed alerts again), the stories, the outbox
and the silences all move. Both sides are migrated to the same schema first, and the target is
written in one transaction: a copy that fails leaves it empty.
"""

from __future__ import annotations

from collections.abc import Callable

from monitor.errors import MonitorError
from monitor.migrations import IDENTITY, TABLES
from monitor.store import Store

BATCH = 1000  # rows read and written at a time


class StateCopyError(MonitorError):
    """The copy cannot go ahead (the target is not empty)."""


def copy_state(
    source: Store, target: Store, progress: Callable[[str, int], None] | None = None
) -> dict[str, int]:
    """Copy every table of `source` into `target`; returns the rows copied per table."""
    for table in TABLES:
        if target.db.execute(f"SELECT 1 AS found FROM {table} LIMIT 1").fetchone() is not None:
            raise StateCopyError(
                f"the target already holds state (table {table} has rows): copy only into a new, "
                "empty database, or drop its tables first"
            )
    copied: dict[str, int] = {}
    with target.db.transaction():
        for table in TABLES:
            copied[table] = 0
            batch: list[tuple[object, ...]] = []
            columns: list[str] = []
            for row in source.db.execute(f"SELECT * FROM {table}"):  # SQLite streams the rows
                columns = columns or list(row.keys())
                batch.append(tuple(row[c] for c in columns))
                if len(batch) == BATCH:
                    _insert(target, table, columns, batch)
                    copied[table] += len(batch)
                    batch = []
            if batch:
                _insert(target, table, columns, batch)
                copied[table] += len(batch)
            if table in IDENTITY and target.db.backend == "postgresql":
                column = IDENTITY[table]
                target.db.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), "
                    f"(SELECT coalesce(max({column}), 0) + 1 FROM {table}), false)"
                )
            if progress is not None:
                progress(table, copied[table])
    return copied


def _insert(target: Store, table: str, columns: list[str], rows: list[tuple[object, ...]]) -> None:
    marks = ", ".join("?" * len(columns))
    target.db.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)
