"""Several alerts as one message (a route's group window or daily digest): its stable id and its
default rendering on each channel. Pure; built from the single-alert renderings in render.py,
so a batch is exactly as safe against hostile feed text as one alert is.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import jinja2

from monitor.models import Alert
from monitor.notify.render import clean_line, email_text, safe_link

_SHOWN_IN_SUBJECT = 3


def batch_id(alert_ids: Iterable[str]) -> str:
    """Derived from the member alert ids (in any order): a retry of the same batch has the same id."""
    digest = hashlib.sha256("\x00".join(sorted(alert_ids)).encode()).hexdigest()
    return f"batch_{digest[:32]}"


def _ordered(alerts: Sequence[Alert]) -> list[Alert]:
    """Each alert once, at its latest message (a story that grew during the window shows its
    latest state); most severe first, then in the order they were detected."""
    latest: dict[str, Alert] = {}
    for alert in alerts:
        if alert.id not in latest or alert.version > latest[alert.id].version:
            latest[alert.id] = alert
    return sorted(latest.values(), key=lambda a: (-a.rule.severity, a.detected_at))


def batch_payload(alerts: Sequence[Alert], message_id: str) -> dict[str, Any]:
    """The JSON document a webhook receives for a batch: {"id", "alerts": [alert payloads]}."""
    return {"id": message_id, "alerts": [a.payload() for a in _ordered(alerts)]}


def batch_webhook_body(alerts: Sequence[Alert], message_id: str) -> str:
    return json.dumps(batch_payload(alerts, message_id), ensure_ascii=False)


def _headline(alert: Alert) -> str:
    return clean_line(f"[{alert.rule.severity.name}] {alert.item.title}")


def batch_subject(alerts: Sequence[Alert]) -> str:
    """`3 alerts: [CRITICAL] title; [HIGH] title; ...` (the caller cleans and clips it)."""
    ordered = _ordered(alerts)
    shown = "; ".join(_headline(a) for a in ordered[:_SHOWN_IN_SUBJECT])
    more = (
        f" (+{len(ordered) - _SHOWN_IN_SUBJECT} more)" if len(ordered) > _SHOWN_IN_SUBJECT else ""
    )
    noun = "alert" if len(ordered) == 1 else "alerts"
    return f"{len(ordered)} {noun}: {shown}{more}"


def batch_text(alerts: Sequence[Alert]) -> str:
    """The plain-text body: each alert's usual text, separated by a rule line."""
    return ("\n" + "-" * 60 + "\n\n").join(email_text(a) for a in _ordered(alerts))


@functools.cache
def _html() -> jinja2.Template:
    import jinja2  # on first use: only email sends batches as HTML

    return jinja2.Environment(autoescape=True).from_string(_HTML)


_HTML = """\
<!doctype html>
<html><body>
<p><strong>{{ alerts | length }} alerts</strong></p>
<ul>
{% for a in alerts %}<li><strong>{{ a.severity }}</strong> {{ a.rule }}:
{% if a.link %}<a href="{{ a.link }}">{{ a.title }}</a>{% else %}{{ a.title }}{% endif %}
<br>Feed: {{ a.feed }} &middot; matched: {{ a.matched }} &middot; <span style="color:#777">{{ a.id }}</span></li>
{% endfor %}</ul>
</body></html>
"""


def batch_html(alerts: Sequence[Alert]) -> str:
    """The HTML body: a list, everything autoescaped, links only when they are http(s)."""
    rows = [
        {
            "severity": a.rule.severity.name,
            "rule": a.rule.title,
            "title": a.item.title,
            "link": safe_link(a.item.link) or "",
            "feed": a.item.feed,
            "matched": ", ".join(a.matched),
            "id": a.id,
        }
        for a in _ordered(alerts)
    ]
    return _html().render(alerts=rows)


def batch_chat_title(alerts: Sequence[Alert]) -> str:
    top = _ordered(alerts)[0].rule.severity.name
    return f"{len(alerts)} alerts (highest: {top})"


def batch_chat_body(alerts: Sequence[Alert]) -> str:
    """One line per alert: severity, headline, link."""
    return "\n".join(
        f"- {_headline(a)} {clean_line(a.item.link)}".rstrip() for a in _ordered(alerts)
    )
