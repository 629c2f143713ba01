"""`news-monitor stories`: stories as text or one JSON object per line. Reads the store only."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from monitor.store import Store, StoryRow


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat()


def story_document(store: Store, story: StoryRow) -> dict[str, Any]:
    """A story with its items, outlets, independent sources, rules and alerts."""
    reports = store.story_reports(story.id)
    alerts = store.story_alerts(story.id)
    rules = list(dict.fromkeys(rule for r in reports for rule in r.rules))
    return {
        "id": story.id,
        "title": story.title,
        "sources": story.sources,
        "outlets": sorted({r.outlet for r in reports}),
        "independent": sorted({r.source for r in reports}),
        "rules": rules,
        "first_seen": _iso(story.first_at),
        "last_seen": _iso(story.last_at),
        "items": [
            {
                "title": r.title,
                "link": r.link,
                "feed": r.feed,
                "outlet": r.outlet,
                "source": r.source,
                "published": r.published,
                "rules": list(r.rules),
            }
            for r in reports
        ],
        "alerts": [
            {
                "id": alert_id,
                "scope": scope,
                "rule": state.rule,
                "severity": state.severity.label,
                "rung": state.rung,
                "version": state.version,
                "status": "held (waiting for sources)" if state.version == 0 else "sent",
            }
            for alert_id, scope, state in alerts
        ],
    }


def story_lines(store: Store, *, since: float, rule: str | None, as_json: bool) -> Iterator[str]:
    stories = store.stories(since=since, rule=rule, limit=10_000)
    if not stories and not as_json:
        yield "no stories in that time"
        return
    for story in stories:
        document = story_document(store, story)
        if as_json:
            yield json.dumps(document, ensure_ascii=False)
            continue
        yield (
            f"{document['last_seen'][:16]}  {story.sources} source"
            f"{'s' if story.sources != 1 else ''}  {story.title}"
        )
        yield f"    {story.id}  rules: {', '.join(document['rules'])}"
        for alert in document["alerts"]:
            rung = f" rung {alert['rung']}" if alert["rung"] else ""
            yield (
                f"    alert {alert['id']} {alert['scope']}: {alert['rule']} "
                f"[{alert['severity']}{rung}] v{alert['version']} {alert['status']}"
            )
        for item in document["items"]:
            yield f"    - [{item['source']}] {item['title']}  <{item['link']}>"
