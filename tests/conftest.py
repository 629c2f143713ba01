"""Shared fixtures: real loopback servers, started per test and always stopped.

`state` is where a test's store lives, once per backend: a SQLite file, and a fresh schema in
a throwaway PostgreSQL cluster (started once per session). Without PostgreSQL installed and no
way to install it those cases skip, except in CI, where they fail.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.postgres import PostgresServer, PostgresUnavailableError
from tests.servers import FeedServer, SmtpSink, WebhookReceiver


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    server = FeedServer().start()
    yield server
    server.stop()


@pytest.fixture
def webhook_receiver() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    sink = SmtpSink().start()
    yield sink
    sink.stop()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    try:
        server = PostgresServer().start()
    except PostgresUnavailableError as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(str(exc))
    yield server
    server.remove()


def fresh_schema(server: PostgresServer) -> str:
    """The URL of an empty schema of its own in `server`: tests never see each other's rows."""
    schema = f"test_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(server.url(), autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    return server.url(options=f"-csearch_path%3D{schema}")


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> str:
    return fresh_schema(postgres_server)


@pytest.fixture(params=["sqlite", "postgresql"])
def state(request: pytest.FixtureRequest, tmp_path: Path) -> Path | str:
    """Where the store lives: `Store(state)` works the same on either backend."""
    if request.param == "sqlite":
        return tmp_path / "state.db"
    url: str = request.getfixturevalue("postgres_url")
    return url
