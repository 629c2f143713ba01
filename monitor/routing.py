"""Which notifiers an alert goes to: the routes in config.yaml, applied in order. Pure."""

from __future__ import annotations

from collections.abc import Sequence

from monitor.config import Route
from monitor.models import Alert


def route_matches(route: Route, alert: Alert) -> bool:
    """A route takes an alert when every filter it sets is satisfied (unset filters match all)."""
    if alert.rule.severity < route.min_severity:
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


def notifiers_for(alert: Alert, routes: Sequence[Route]) -> tuple[str, ...]:
    """Notifier names for `alert`, each once, in route order.

    Every matching route contributes its notifiers; a matching route with `continue: false`
    ends the walk, so later routes never see the alert.
    """
    names: dict[str, None] = {}
    for route in routes:
        if not route_matches(route, alert):
            continue
        names.update(dict.fromkeys(route.notify))
        if not route.continue_:
            break
    return tuple(names)
