"""Value objects passed between the stages: Item, Severity, RuleInfo, Match, Alert. No I/O."""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

TEXT_FIELDS = ("title", "summary", "content")


class Severity(enum.IntEnum):
    """How urgent an alert is; ordered so that routes can say `min_severity`."""

    INFO = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4

    @classmethod
    def parse(cls, value: object) -> Severity:
        if isinstance(value, str) and value.upper() in cls.__members__:
            return cls[value.upper()]
        names = ", ".join(m.name.lower() for m in cls)
        raise ValueError(f"severity must be one of {names}, got {value!r}")

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclass(frozen=True)
class Item:
    """One feed entry, reduced to plain text. `key` is stable across polls of the same feed."""

    feed: str
    key: str
    title: str
    link: str
    summary: str = ""
    content: str = ""
    published: datetime | None = None  # always timezone-aware when set
    categories: tuple[str, ...] = ()

    def text(self, field_name: str) -> str:
        if field_name not in TEXT_FIELDS:
            raise ValueError(f"unknown text field {field_name!r}; use one of {TEXT_FIELDS}")
        value: str = getattr(self, field_name)
        return value


@dataclass(frozen=True)
class RuleInfo:
    """What an alert says about the rule that fired."""

    id: str
    title: str
    severity: Severity
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Match:
    """One rule matching one item: the words found (as the item writes them), the rule's terms
    that found them, and any numbers extracted on the way (int when the text wrote a whole number).
    """

    rule: RuleInfo
    matched: tuple[str, ...]
    values: Mapping[str, float] = field(default_factory=dict)
    patterns: tuple[str, ...] = ()


def alert_id(rule_id: str, feed: str, item_key: str) -> str:
    """The same rule on the same item always gives the same id, across retries and restarts."""
    digest = hashlib.sha256(f"{rule_id}\x00{feed}\x00{item_key}".encode()).hexdigest()
    return f"alert_{digest[:32]}"


@dataclass(frozen=True)
class Alert:
    """A match ready to deliver. `id` is what receivers use to tell a retry from a new alert."""

    id: str
    rule: RuleInfo
    item: Item
    matched: tuple[str, ...]
    detected_at: datetime
    values: Mapping[str, float] = field(default_factory=dict)
    feed_tags: tuple[str, ...] = ()
    patterns: tuple[str, ...] = ()

    @classmethod
    def from_match(
        cls, match: Match, item: Item, detected_at: datetime, feed_tags: tuple[str, ...] = ()
    ) -> Alert:
        return cls(
            id=alert_id(match.rule.id, item.feed, item.key),
            rule=match.rule,
            item=item,
            matched=match.matched,
            detected_at=detected_at,
            values=dict(match.values),
            feed_tags=feed_tags,
            patterns=match.patterns,
        )

    def payload(self) -> dict[str, Any]:
        """The JSON document a webhook receives (and what the outbox stores)."""
        return {
            "id": self.id,
            "rule": {
                "id": self.rule.id,
                "title": self.rule.title,
                "severity": self.rule.severity.label,
                "tags": list(self.rule.tags),
            },
            "item": {
                "title": self.item.title,
                "link": self.item.link,
                "published": self.item.published.isoformat() if self.item.published else None,
                "feed": self.item.feed,
                "summary": self.item.summary,
                "key": self.item.key,
            },
            "matched": list(self.matched),
            "patterns": list(self.patterns),
            "values": dict(self.values),
            "detected_at": self.detected_at.isoformat(),
        }

    @classmethod
    def from_payload(cls, data: Mapping[str, Any]) -> Alert:
        """Rebuild an alert from its stored payload (the outbox survives rule edits and restarts)."""
        rule = data["rule"]
        item = data["item"]
        published = item.get("published")
        return cls(
            id=data["id"],
            rule=RuleInfo(
                id=rule["id"],
                title=rule["title"],
                severity=Severity.parse(rule["severity"]),
                tags=tuple(rule.get("tags", ())),
            ),
            item=Item(
                feed=item["feed"],
                key=item.get("key", ""),
                title=item["title"],
                link=item["link"],
                summary=item.get("summary", ""),
                published=datetime.fromisoformat(published) if published else None,
            ),
            matched=tuple(data.get("matched", ())),
            detected_at=datetime.fromisoformat(data["detected_at"]),
            values=dict(data.get("values", {})),
            patterns=tuple(data.get("patterns", ())),
        )
