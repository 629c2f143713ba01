"""Alerts for the notifier tests, and the config snippets that build notifiers from YAML."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from monitor import yamlfile
from monitor.models import Alert, Item, RuleInfo, Severity
from monitor.notify.settings import NotifierSettings, parse_notifier
from monitor.yamlfile import YamlMap


def make_alert(
    title: str = "US B-52 bombers fly show of force near Venezuela",
    *,
    link: str = "https://news.example.org/bombers-1",
    summary: str = "Two Stratofortress bombers flew along the Venezuelan coast.",
    severity: Severity = Severity.HIGH,
    key: str = "bombers-1",
    values: dict[str, float] | None = None,
) -> Alert:
    item = Item(
        feed="wire",
        key=key,
        title=title,
        link=link,
        summary=summary,
        published=datetime(2025, 10, 15, 12, 0, tzinfo=UTC),
    )
    return Alert(
        id=f"alert_{key}",
        rule=RuleInfo("bomber-flights-venezuela", "US bombers near Venezuela", severity, ("air",)),
        item=item,
        matched=("B-52", "Venezuela"),
        detected_at=datetime(2025, 10, 15, 12, 5, tzinfo=UTC),
        values=values or {},
    )


def notifier_from_yaml(text: str, source: Path | str = "config.yaml") -> NotifierSettings:
    """Parse one notifier written as a YAML mapping, as config.yaml's `notifiers:` entries are."""
    raw = yamlfile.loads(text, str(source))
    assert isinstance(raw, YamlMap)
    return parse_notifier(raw, str(source))
