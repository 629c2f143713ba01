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
    author: str = ""  # author / dc:creator, as the feed gives it
    source: str = ""  # RSS <source>: the outlet an aggregator took the item from

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


def alert_id(scope: str, story_id: str) -> str:
    """One alert per story and scope (a ladder, or a rule outside any ladder), for good."""
    digest = hashlib.sha256(f"{scope}\x00{story_id}".encode()).hexdigest()
    return f"alert_{digest[:32]}"


def message_id(alert: str, version: int) -> str:
    """Each message about an alert (created, then each update) has its own id: the webhook-id,
    the same on every retry of that message."""
    digest = hashlib.sha256(f"{alert}\x00{version}".encode()).hexdigest()
    return f"msg_{digest[:32]}"


@dataclass(frozen=True)
class StoryReport:
    """One item of a story, as a message lists it."""

    title: str
    link: str
    feed: str
    outlet: str
    source: str  # the independent source it counts for (a wire agency for copies)
    published: datetime | None = None

    def payload(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "link": self.link,
            "feed": self.feed,
            "outlet": self.outlet,
            "source": self.source,
            "published": self.published.isoformat() if self.published else None,
        }


@dataclass(frozen=True)
class StoryInfo:
    """The story an alert is about: one real-world occurrence, as told by every outlet."""

    id: str
    title: str
    sources: int  # independent sources: syndicated copies count once
    first_seen: datetime
    last_seen: datetime
    items: tuple[StoryReport, ...] = ()

    @property
    def outlets(self) -> list[str]:
        return sorted({report.source for report in self.items})

    def payload(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "sources": self.sources,
            "outlets": self.outlets,
            "first_seen": self.first_seen.isoformat(),
            "last_seen": self.last_seen.isoformat(),
            "items": [report.payload() for report in self.items],
        }

    @classmethod
    def from_payload(cls, data: Mapping[str, Any]) -> StoryInfo:
        return cls(
            id=data["id"],
            title=data.get("title", ""),
            sources=int(data.get("sources", 1)),
            first_seen=datetime.fromisoformat(data["first_seen"]),
            last_seen=datetime.fromisoformat(data["last_seen"]),
            items=tuple(
                StoryReport(
                    title=r.get("title", ""),
                    link=r.get("link", ""),
                    feed=r.get("feed", ""),
                    outlet=r.get("outlet", ""),
                    source=r.get("source", ""),
                    published=datetime.fromisoformat(r["published"])
                    if r.get("published")
                    else None,
                )
                for r in data.get("items", ())
            ),
        )


@dataclass(frozen=True)
class LadderInfo:
    """Where an alert stands on its escalation ladder."""

    id: str
    title: str
    rung: int
    rungs: int  # how many rungs the ladder has

    def payload(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "rung": self.rung, "rungs": self.rungs}


CREATED = "alert.created"
UPDATED = "alert.updated"
STEP_UP = "step_up"


@dataclass(frozen=True)
class Alert:
    """One message about one alert, ready to deliver.

    `id` names the alert (one per story and ladder or rule) and never changes; `message_id`
    names this message (the created one, or one update) and is what receivers use to tell a
    retry from a new message.
    """

    id: str
    rule: RuleInfo
    item: Item  # the report that triggered this message
    matched: tuple[str, ...]
    detected_at: datetime
    values: Mapping[str, float] = field(default_factory=dict)
    feed_tags: tuple[str, ...] = ()
    patterns: tuple[str, ...] = ()  # the rule terms that matched (`matched` has the words)
    event: str = CREATED
    version: int = 1
    story: StoryInfo | None = None
    rules: tuple[str, ...] = ()  # every rule of the alert's scope the story matched, top first
    ladder: LadderInfo | None = None
    escalation: str | None = None  # "step_up": the story lifted its ladder above recent rungs
    changes: tuple[str, ...] = ()  # what an update changed, in words
    message_id: str = ""  # derived from id and version unless given (messages of old releases)

    def __post_init__(self) -> None:
        if not self.message_id:
            object.__setattr__(self, "message_id", message_id(self.id, self.version))

    @property
    def first_message_id(self) -> str:
        return message_id(self.id, 1)

    @property
    def sources(self) -> int:
        return self.story.sources if self.story is not None else 1

    @property
    def step_up(self) -> bool:
        return self.escalation == STEP_UP

    def payload(self) -> dict[str, Any]:
        """The JSON document a webhook receives (and what the outbox stores)."""
        return {
            "id": self.id,
            "message_id": self.message_id,
            "event": self.event,
            "version": self.version,
            "rule": {
                "id": self.rule.id,
                "title": self.rule.title,
                "severity": self.rule.severity.label,
                "tags": list(self.rule.tags),
            },
            "rules": list(self.rules) or [self.rule.id],
            "ladder": self.ladder.payload() if self.ladder else None,
            "escalation": self.escalation,
            "item": {
                "title": self.item.title,
                "link": self.item.link,
                "published": self.item.published.isoformat() if self.item.published else None,
                "feed": self.item.feed,
                "summary": self.item.summary,
                "key": self.item.key,
            },
            "story": self.story.payload() if self.story else None,
            "matched": list(self.matched),
            "patterns": list(self.patterns),
            "values": {name: _number(value) for name, value in self.values.items()},
            "changes": list(self.changes),
            "feed_tags": list(self.feed_tags),
            "detected_at": self.detected_at.isoformat(),
        }

    @classmethod
    def from_payload(cls, data: Mapping[str, Any]) -> Alert:
        """Rebuild an alert from its stored payload (the outbox survives rule edits and restarts)."""
        rule = data["rule"]
        item = data["item"]
        published = item.get("published")
        ladder = data.get("ladder")
        story = data.get("story")
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
            feed_tags=tuple(data.get("feed_tags", ())),
            event=data.get("event", CREATED),
            version=int(data.get("version", 1)),
            story=StoryInfo.from_payload(story) if story else None,
            rules=tuple(data.get("rules", ())),
            ladder=LadderInfo(**ladder) if ladder else None,
            escalation=data.get("escalation"),
            changes=tuple(data.get("changes", ())),
            message_id=data.get("message_id", ""),
        )


def _number(value: float) -> float | int:
    """Whole numbers go out as integers ("killed": 5, not 5.0)."""
    return int(value) if float(value).is_integer() else value
