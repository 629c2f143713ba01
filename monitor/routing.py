"""Which notifiers an alert goes to, and when: the routes in config.yaml, applied in order. Pure."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from monitor.config import Route
from monitor.models import Alert
from monitor.noise import DeliveryPlan, hold_for


def route_matches(route: Route, alert: Alert) -> bool:
    """A route takes an alert when every filter it sets is satisfied (unset filters match all)."""
    if alert.rule.severity < route.min_severity:
        return False
    if route.escalation is not None and alert.escalation != route.escalation:
        return False
    if route.rules and alert.rule.id not in route.rules:
        return False
    if route.feeds and alert.item.feed not in route.feeds:
        return False
    if route.tags:
        tags = set(alert.rule.tags) | set(alert.feed_tags)
        if not tags.intersection(route.tags):
            return False
    return True


def matching_routes(alert: Alert, routes: Sequence[Route]) -> Iterator[Route]:
    """Every route that takes `alert`, in order; one with `continue: false` ends the walk."""
    for route in routes:
        if route_matches(route, alert):
            yield route
            if not route.continue_:
                return


def plans_for(alert: Alert, routes: Sequence[Route], now: float) -> tuple[DeliveryPlan, ...]:
    """One plan per notifier; the first matching route that names a notifier sets its timing
    (so an earlier route can send critical alerts at once and a later one batch the rest)."""
    plans: dict[str, DeliveryPlan] = {}
    for route in matching_routes(alert, routes):
        hold = hold_for(
            alert.rule.severity,
            now,
            group=route.group,
            digest=route.digest,
            zone=route.timezone,
            # A step-up is the news the watch exists for: it pierces quiet hours like critical.
            quiet=None if alert.step_up else route.quiet_hours,
        )
        for name in route.notify:
            plans.setdefault(name, DeliveryPlan(name, hold.until, hold.group))
    return tuple(plans.values())
