"""Rule cooldowns: after a rule fires, its further alerts within the cooldown are recorded but
not sent, unless they are more severe than the one that started it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.cli import main
from monitor.errors import RuleError
from monitor.models import Alert, Item, RuleInfo, Severity
from monitor.noise import DeliveryPlan
from monitor.rules import load_rulebook
from monitor.store import QueuedAlert, Store
from tests.delivery_setup import RULES, sorties, write_config
from tests.feedgen import rss
from tests.servers import FeedServer, WebhookReceiver

COOLDOWN = 600.0


def record(store: Store, key: str, now: float, severity: Severity = Severity.HIGH) -> str:
    """Record one alert of rule `bombers` at `now`; the status its delivery gets."""
    alert = Alert(
        id=f"alert_{key}",
        rule=RuleInfo("bombers", "Bombers", severity),
        item=Item(feed="wire", key=key, title=key, link="https://x/"),
        matched=("bomber",),
        detected_at=datetime.fromtimestamp(now, UTC),
    )
    entry = QueuedAlert(alert, (DeliveryPlan("ops", now),), cooldown=COOLDOWN)
    store.record_poll(store.feed_state("wire", "https://x/rss"), [alert.item], [entry], now)
    [delivery] = [d for d in store.deliveries() if d.alert.id == alert.id]
    return delivery.status


@pytest.fixture
def store(state: Path | str) -> Iterator[Store]:
    """Once on SQLite, once on PostgreSQL."""
    with Store(state) as opened:
        yield opened


class TestCooldown:
    def test_alerts_within_the_cooldown_are_held_back(self, store: Store) -> None:
        """The first alert goes, the next within ten minutes does not, the one after does."""
        assert record(store, "a", 1000.0) == "pending"
        assert record(store, "b", 1599.0) == "cooldown"
        assert record(store, "c", 1600.0) == "pending"
        assert record(store, "d", 1700.0) == "cooldown"  # c started a new cooldown

    def test_a_held_back_alert_does_not_extend_the_cooldown(self, store: Store) -> None:
        """The window runs from the alert that was sent, however many follow it."""
        record(store, "a", 1000.0)
        for n, now in enumerate((1200.0, 1400.0, 1550.0)):
            assert record(store, f"x{n}", now) == "cooldown"
        assert record(store, "b", 1600.0) == "pending"

    def test_a_higher_severity_is_never_suppressed(self, store: Store) -> None:
        """A critical alert within a high one's cooldown goes, and starts its own cooldown."""
        assert record(store, "a", 1000.0, Severity.HIGH) == "pending"
        assert record(store, "b", 1100.0, Severity.CRITICAL) == "pending"
        assert record(store, "c", 1200.0, Severity.CRITICAL) == "cooldown"
        assert record(store, "d", 1650.0, Severity.HIGH) == "cooldown"  # b's window, not a's

    def test_the_reason_names_the_alert_that_started_it(self, store: Store) -> None:
        """`outbox list` can tell a user why an alert was not sent."""
        record(store, "a", 1000.0)
        record(store, "b", 1100.0)
        held = next(d for d in store.deliveries() if d.alert.id == "alert_b")
        assert held.last_error == "cooldown of rule bombers started by alert_a"


def test_a_rule_cooldown_from_the_rule_file_holds_back_repeats(
    tmp_path: Path,
    feed_server: FeedServer,
    webhook_receiver: WebhookReceiver,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`cooldown: 1h` in a rule: three matching stories in one poll make one webhook."""
    url = feed_server.serve("/wire.xml", rss(sorties(3)))
    config = write_config(tmp_path, url, webhook_receiver.url())
    (tmp_path / "rules" / "sorties.yaml").write_text(RULES + "    cooldown: 1h\n")
    assert main(["once", "--config", str(config)]) == 0
    assert len(webhook_receiver.received) == 1
    assert main(["outbox", "list", "--config", str(config)]) == 0
    assert capsys.readouterr().out.count("cooldown") >= 2


def test_a_bad_cooldown_names_file_and_line(tmp_path: Path) -> None:
    """`check` refuses a cooldown that is not a duration."""
    path = tmp_path / "rules.yaml"
    path.write_text(RULES + "    cooldown: often\n")
    with pytest.raises(RuleError, match="cooldown") as caught:
        load_rulebook([path])
    assert str(caught.value).startswith(f"{path}:9:")
