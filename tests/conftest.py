"""Shared fixtures: real loopback servers, started per test and always stopped."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

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
