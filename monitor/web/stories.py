"""Stories as the page shows them, pure: one card per story from its stored row and the latest
message of each of its alerts, and the filters a reader can set, read from the query string.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from monitor.models import Alert, LadderInfo, Severity
from monitor.store import StoryRow

SINCE = {"6h": 6 * 3600.0, "24h": 86400.0, "7d": 7 * 86400.0, "30d": 30 * 86400.0, "all": None}
DEFAULT_SINCE = "7d"


@dataclass(frozen=True)
class Source:
    """One independent source of a story and the outlets that carried it (copies count once)."""

    name: str
    outlets: tuple[str, ...]


@dataclass(frozen=True)
class StoryCard:
    """What one line of the stories list says."""

    id: str
    title: str
    first_at: float
    last_at: float
    sources: int
    outlets: tuple[Source, ...]
    rules: tuple[str, ...]
    matched: tuple[str, ...]
    severity: Severity | None  # None: no alert yet (e.g. waiting for min_sources)
    ladder: LadderInfo | None
    step_up: bool


def story_card(row: StoryRow, history: Sequence[Alert]) -> StoryCard:
    """A card for `row` from the messages about its alerts (oldest first): what the latest
    message of each alert says, and whether any of them announced a step-up."""
    messages = list({m.id: m for m in history}.values())
    severity = max((m.rule.severity for m in messages), default=None)
    laddered = [m.ladder for m in messages if m.ladder is not None]
    ladder = max(laddered, key=lambda info: info.rung, default=None)
    rules: dict[str, None] = {}
    matched: dict[str, None] = {}
    for message in sorted(messages, key=lambda m: -int(m.rule.severity)):
        rules.update(dict.fromkeys(message.rules or (message.rule.id,)))
        matched.update(dict.fromkeys(message.matched))
    outlets: dict[str, dict[str, None]] = {}
    latest = max(messages, key=lambda m: m.detected_at, default=None)
    if latest is not None and latest.story is not None:
        for report in latest.story.items:
            outlets.setdefault(report.source or report.outlet, {})[report.outlet] = None
    return StoryCard(
        id=row.id,
        title=row.title,
        first_at=row.first_at,
        last_at=row.last_at,
        sources=row.sources,
        outlets=tuple(Source(name, tuple(o)) for name, o in sorted(outlets.items())),
        rules=tuple(rules),
        matched=tuple(matched),
        severity=severity,
        ladder=ladder,
        step_up=any(m.step_up for m in history),
    )


@dataclass(frozen=True)
class StoryFilters:
    """The stories a reader asked for; unknown values fall back to showing everything."""

    ladder: str | None = None
    severity: Severity | None = None
    rule: str | None = None
    since: str = DEFAULT_SINCE

    @classmethod
    def read(
        cls, query: Mapping[str, str], ladders: Sequence[str], rules: Sequence[str]
    ) -> StoryFilters:
        severity = None
        if query.get("severity"):
            try:
                severity = Severity.parse(query["severity"])
            except ValueError:
                severity = None
        since = query.get("since", DEFAULT_SINCE)
        return cls(
            ladder=query.get("ladder") if query.get("ladder") in ladders else None,
            severity=severity,
            rule=query.get("rule") if query.get("rule") in rules else None,
            since=since if since in SINCE else DEFAULT_SINCE,
        )

    def since_time(self, now: float) -> float | None:
        span = SINCE[self.since]
        return None if span is None else now - span
