"""PostgreSQL behind the Database seam (monitor/db.py): a psycopg connection pool shared by
the threads of one replica, and placeholders rewritten from SQLite's style to psycopg's.

Imported only when `state:` is a postgresql:// URL, so SQLite users never load the driver.
"""

from __future__ import annotations

import functools
import logging
import re
import threading
import time
import weakref
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from monitor.db import Backend, Fetched, Params, Result, StateUnavailableError

CONNECT_TIMEOUT = 5  # seconds to connect to PostgreSQL
WAIT_FOR_CONNECTION = 2.0  # seconds an operation waits for a pooled connection before failing
FAIL_FAST = 5.0  # seconds after a lost database during which operations fail without waiting
RECHECK_AFTER = 5.0  # seconds a pooled connection may sit idle and still be used unchecked

# The pool logs every failed reconnect attempt; the daemon reports the outage once instead.
logging.getLogger("psycopg.pool").setLevel(logging.ERROR)


_IN_TRANSACTION = (psycopg.pq.TransactionStatus.INTRANS, psycopg.pq.TransactionStatus.INERROR)
_NAMED = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


@functools.lru_cache(maxsize=512)
def to_psycopg(sql: str) -> str:
    """SQLite placeholders (`?`, `:name`) as psycopg's (`%s`, `%(name)s`)."""
    return _NAMED.sub(r"%(\1)s", sql.replace("%", "%%").replace("?", "%s"))


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for pg_advisory_xact_lock."""
    return zlib.crc32(f"news-monitor:{name}".encode())


def _connection_lost(exc: psycopg.Error) -> bool:
    """No answer, a connection exception (08xxx) or the server shutting down (57P0x)."""
    return exc.sqlstate is None or exc.sqlstate.startswith(("08", "57P"))


class PostgresDatabase:
    """A psycopg connection pool; a transaction keeps one connection, other statements borrow one.

    A lost connection (the server restarted, the network dropped) is replaced by the pool on the
    next use; meanwhile every operation fails with StateUnavailableError, which callers retry.
    After such a failure operations fail at once for FAIL_FAST seconds rather than each waiting
    for a connection: the daemon calls the store from its event loop, which must keep answering.
    """

    backend: Backend = "postgresql"
    skip_locked = " FOR UPDATE SKIP LOCKED"

    def __init__(self, url: str) -> None:
        self.url = url
        self._local = threading.local()  # the transaction's connection, per thread
        self._down_until = 0.0  # time.monotonic() until which operations fail fast
        self._down_because = ""  # set while the database is lost
        self._recovering = threading.Lock()
        self._returned: weakref.WeakKeyDictionary[Any, float] = weakref.WeakKeyDictionary()
        self.pool = self._new_pool()
        with self._unavailable():
            self.pool.open(wait=True, timeout=CONNECT_TIMEOUT)

    def _new_pool(self) -> ConnectionPool:
        return ConnectionPool(
            self.url,
            min_size=1,
            max_size=4,
            kwargs={
                "autocommit": True,
                "row_factory": dict_row,
                "connect_timeout": CONNECT_TIMEOUT,
            },
            timeout=WAIT_FOR_CONNECTION,
            check=self._check,
            reset=self._returning,
            open=False,
            name="news-monitor",
        )

    def _check(self, conn: Any) -> None:
        """Before a pooled connection is used: one round trip to see that it still works, unless
        it was in use a moment ago (which saves a round trip on most statements). A server lost
        since then fails the next statement instead, which is retried like any outage."""
        if time.monotonic() - self._returned.get(conn, 0.0) > RECHECK_AFTER:
            ConnectionPool.check_connection(conn)

    def _returning(self, conn: Any) -> None:
        self._returned[conn] = time.monotonic()

    def _recover(self) -> None:
        """After an outage: one direct connection tells whether the server is back; if so a
        fresh pool replaces the old one, whose reconnect attempts have backed off meanwhile."""
        with self._recovering:
            if not self._down_because:
                return  # another thread recovered first
            psycopg.connect(self.url, connect_timeout=CONNECT_TIMEOUT).close()
            old, self.pool = self.pool, self._new_pool()
            self.pool.open(wait=True, timeout=CONNECT_TIMEOUT)
            self._down_because = ""
            old.close(timeout=0)

    @contextmanager
    def _unavailable(self) -> Iterator[None]:
        if time.monotonic() < self._down_until:
            raise StateUnavailableError(self._down_because)
        try:
            if self._down_because:
                self._recover()
            yield
        except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
            if not _connection_lost(exc):
                raise  # a deadlock or a cancelled query: a bug to see, not an outage
            self._down_because = (
                f"cannot reach the PostgreSQL state database: {str(exc).strip() or type(exc).__name__}"
                " (check that it is running and that `state:` points at it; news-monitor keeps retrying)"
            )
            self._down_until = time.monotonic() + FAIL_FAST
            raise StateUnavailableError(self._down_because) from None

    def _run(self, conn: Any, sql: str, params: Params) -> Fetched:
        cursor = conn.execute(to_psycopg(sql), params or None)
        rows = cursor.fetchall() if cursor.description is not None else []
        return Fetched(rows, cursor.rowcount)

    def _transaction_connection(self) -> Any:
        return getattr(self._local, "conn", None)

    def execute(self, sql: str, params: Params = ()) -> Result:
        with self._unavailable():
            if (tx := self._transaction_connection()) is not None:
                return self._run(tx, sql, params)
            with self.pool.connection() as conn:
                return self._run(conn, sql, params)

    def executemany(self, sql: str, rows: Sequence[Params]) -> None:
        if not rows:
            return
        with self._unavailable():
            if (tx := self._transaction_connection()) is not None:
                tx.cursor().executemany(to_psycopg(sql), rows)
                return
            with self.pool.connection() as conn, conn.transaction():
                conn.cursor().executemany(to_psycopg(sql), rows)

    @contextmanager
    def transaction(self, *, durable: bool = True) -> Iterator[None]:
        with self._unavailable(), self.pool.connection() as conn, conn.transaction():
            if not durable:
                conn.execute("SET LOCAL synchronous_commit TO OFF")
            self._local.conn = conn
            try:
                yield
            finally:
                self._local.conn = None

    def lock(self, name: str) -> None:
        self.execute("SELECT pg_advisory_xact_lock(?)", (lock_key(name),))

    def batch(self, statements: Sequence[tuple[str, Params]], *, durable: bool = True) -> Fetched:
        # One query string of several statements (the simple protocol, parameters bound by
        # psycopg on this side, quoted as the server would) is one round trip, where BEGIN, each
        # statement and COMMIT would be one each.
        with self._unavailable(), self.pool.connection() as conn:
            cursor = psycopg.ClientCursor(conn)
            head = ["BEGIN"] if durable else ["BEGIN", "SET LOCAL synchronous_commit TO OFF"]
            body = [
                cursor.mogrify(to_psycopg(sql), params) if params else sql
                for sql, params in statements
            ]
            try:
                cursor.execute(";\n".join([*head, *body, "COMMIT"]))
                for _ in range(len(head) + len(body) - 1):
                    cursor.nextset()
                rows = cursor.fetchall() if cursor.description is not None else []
                return Fetched(rows, cursor.rowcount)
            except BaseException:
                if conn.info.transaction_status in _IN_TRANSACTION:
                    conn.execute("ROLLBACK")
                raise

    def close(self) -> None:
        self.pool.close()
