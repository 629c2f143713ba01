"""Routes decide which notifiers get an alert."""

from __future__ import annotations

from datetime import UTC, datetime

from monitor.config import Route
from monitor.models import Alert, Item, RuleInfo, Severity
from monitor.routing import plans_for


def alert(severity: Severity = Severity.HIGH, tags: tuple[str, ...] = ("air",)) -> Alert:
    return Alert(
        id="alert_1",
        rule=RuleInfo("bombers", "Bombers", severity, tags),
        item=Item(feed="wire", key="k", title="t", link="https://x/"),
        matched=("bomber",),
        detected_at=datetime(2026, 11, 1, tzinfo=UTC),
        feed_tags=("americas",),
    )


def notifiers_for(alert: Alert, routes: list[Route]) -> tuple[str, ...]:
    """The notifiers an alert is owed to, in the order routing planned them."""
    return tuple(plan.notifier for plan in plans_for(alert, routes, now=0.0))


def test_every_matching_route_contributes_once() -> None:
    """An alert reaches every route that matches it, each notifier once."""
    routes = [Route(("console",)), Route(("ops", "console"), min_severity=Severity.HIGH)]
    assert notifiers_for(alert(), routes) == ("console", "ops")


def test_severity_below_the_minimum_is_not_routed() -> None:
    """min_severity filters out lesser alerts."""
    routes = [Route(("ops",), min_severity=Severity.CRITICAL)]
    assert notifiers_for(alert(Severity.HIGH), routes) == ()


def test_filters_on_rule_feed_and_tags() -> None:
    """Rule ids, feed names and rule or feed tags select routes."""
    assert notifiers_for(alert(), [Route(("a",), rules=("bombers",))]) == ("a",)
    assert notifiers_for(alert(), [Route(("a",), rules=("other",))]) == ()
    assert notifiers_for(alert(), [Route(("a",), feeds=("wire",))]) == ("a",)
    assert notifiers_for(alert(), [Route(("a",), tags=("americas",))]) == ("a",)
    assert notifiers_for(alert(), [Route(("a",), tags=("naval",))]) == ()


def test_continue_false_stops_later_routes() -> None:
    """A route with continue: false keeps its alerts from the routes after it."""
    routes = [Route(("pager",), tags=("air",), continue_=False), Route(("console",))]
    assert notifiers_for(alert(), routes) == ("pager",)
    assert notifiers_for(alert(tags=("naval",)), routes) == ("console",)
