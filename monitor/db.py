"""The seam to the state database: SQLite (one file, one process) or PostgreSQL (shared by replicas).

The store writes one SQL text for both, in SQLite's parameter style (`?` and `:name`); the
PostgreSQL side (monitor/pg.py) rewrites the placeholders for psycopg. What the two really do
differently sits behind this seam: how a transaction starts, how concurrent writers are kept
apart (`lock`), how a claim skips rows another replica holds (`skip_locked`), and how a short
transaction reaches the server in one round trip (`batch`).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal, Protocol

from monitor.errors import MonitorError

Params = Sequence[Any] | Mapping[str, Any]
Backend = Literal["sqlite", "postgresql"]


class StateUnavailableError(MonitorError):
    """The state database cannot be reached right now; what was not recorded is retried."""


class Row(Protocol):
    def __getitem__(self, key: str) -> Any: ...

    def keys(self) -> Any: ...


class Result(Protocol):
    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class Fetched:
    """A statement's rows, read to the end (so a pooled connection goes back at once), and how
    many rows it touched."""

    def __init__(self, rows: list[Any], rowcount: int) -> None:
        self.rows = rows
        self.rowcount = rowcount

    def fetchone(self) -> Any:
        return self.rows[0] if self.rows else None

    def fetchall(self) -> list[Any]:
        return self.rows

    def __iter__(self) -> Iterator[Any]:
        return iter(self.rows)


class Database(Protocol):
    """What the store needs from a database connection."""

    backend: Backend
    skip_locked: str  # appended to a claim's inner SELECT: rows another replica holds are skipped

    def execute(self, sql: str, params: Params = ()) -> Result: ...

    def executemany(self, sql: str, rows: Sequence[Params]) -> None: ...

    def transaction(self, *, durable: bool = True) -> Any:
        """A context manager: everything inside commits together or not at all. Not `durable`:
        the commit need not wait for the disk (a lease or a heartbeat lost in a database crash
        costs nothing)."""

    def lock(self, name: str) -> None:
        """Inside a transaction: wait until no other process holds `name`, hold it until commit."""

    def batch(self, statements: Sequence[tuple[str, Params]], *, durable: bool = True) -> Fetched:
        """Run `statements` as one transaction of their own, sent together (one round trip to
        PostgreSQL, where a claim's or a poll's few milliseconds are mostly round trips), and
        return the last one's result. `durable` as for `transaction`."""

    def close(self) -> None: ...


def connect(state: Path | str) -> Database:
    """A SQLite file for a path, PostgreSQL for a postgresql:// URL."""
    if isinstance(state, str):
        from monitor.pg import PostgresDatabase  # only then: the driver takes a while to import

        return PostgresDatabase(state)
    return SqliteDatabase(state)


class SqliteDatabase:
    """One connection in WAL mode; BEGIN IMMEDIATE already keeps writers apart."""

    backend: Backend = "sqlite"
    skip_locked = ""

    def __init__(self, path: Path) -> None:
        # The daemon's heartbeat writes from a worker thread on this same connection: one
        # thread's transaction at a time, or the other's BEGIN fails inside it; and a statement
        # outside any transaction waits for another thread's to end, or it would run inside
        # it and vanish with it when that one rolls back.
        self._writing = threading.RLock()
        path.parent.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.conn.row_factory = sqlite3.Row
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.execute("PRAGMA busy_timeout=10000")

    def execute(self, sql: str, params: Params = ()) -> Result:
        # A write (RETURNING too) is done by the statement's first step, which runs here.
        with self._writing:
            return self.conn.execute(sql, params)

    def executemany(self, sql: str, rows: Sequence[Params]) -> None:
        with self._writing:
            self.conn.executemany(sql, rows)

    @contextmanager
    def transaction(self, *, durable: bool = True) -> Iterator[None]:
        # synchronous=NORMAL already: a WAL commit does not wait for the disk.
        with self._writing:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")

    def lock(self, name: str) -> None:
        pass  # one writer at a time already: the transaction began IMMEDIATE

    def batch(self, statements: Sequence[tuple[str, Params]], *, durable: bool = True) -> Fetched:
        if len(statements) == 1:
            # One statement is its own transaction in autocommit mode: no BEGIN and COMMIT to
            # run (a third of a steady poll's recording). The lock still keeps it out of
            # another thread's transaction on this connection.
            with self._writing:
                cursor = self.conn.execute(*statements[0])
                return Fetched(cursor.fetchall(), cursor.rowcount)
        with self.transaction(durable=durable):
            for sql, params in statements:
                cursor = self.conn.execute(sql, params)
            # Read before the commit: RETURNING rows come as the statement is stepped.
            return Fetched(cursor.fetchall(), cursor.rowcount)

    def close(self) -> None:
        self.conn.close()
