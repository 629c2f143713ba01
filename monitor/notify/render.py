"""What an alert says on each channel: default renderings (pure) and user Jinja2 templates.

Feed text is hostile input. Every rendering here is safe by construction: header values lose
control characters and RFC 2047 encoded-word openers (an encoded CR/LF would otherwise become a
real line break once the email library decodes it), HTML is autoescaped, and only http(s) links
are ever rendered as links. User templates run in Jinja2's sandbox; one that fails at render time
falls back to the default rendering and the reason is logged.
"""

from __future__ import annotations

import functools
import json
import logging
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    import jinja2
    from jinja2.sandbox import SandboxedEnvironment

from monitor.errors import ConfigError
from monitor.models import UPDATED, Alert

log = logging.getLogger("monitor.notify")

MAX_SUBJECT = 250  # characters; long subjects get folded and clipped by mail clients anyway
TEMPLATE_SUFFIXES = (".j2", ".jinja", ".jinja2", ".tmpl", ".txt", ".html", ".json")

# Line breaks Python's str.splitlines() honours beyond C0 controls; any of them in a header or a
# log line could be read as the start of a new one.
_BREAKS = "\x85\u2028\u2029"


@dataclass(frozen=True)
class TemplateSource:
    """A user template's text and where it came from (for error messages)."""

    text: str
    origin: str
    line: int = 1


def _is_control(char: str) -> bool:
    return unicodedata.category(char) == "Cc" or char in _BREAKS


def clean_line(text: str) -> str:
    """One line of plain text: every control character or line break becomes a space."""
    cleaned = "".join(" " if _is_control(c) else c for c in text)
    return " ".join(cleaned.split())


def clean_header(text: str, limit: int = MAX_SUBJECT) -> str:
    """A value safe for an email header: one line, no encoded words, at most `limit` characters."""
    value = clean_line(text).replace("=?", "= ?")
    if len(value) > limit:
        value = value[: limit - 1].rstrip() + "…"
    return value


def clean_text(text: str) -> str:
    """Multi-line plain text: keeps newlines and tabs, drops every other control character."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return "".join(c for c in text if c in "\n\t" or not _is_control(c))


def safe_link(url: str) -> str | None:
    """`url` if it is an absolute http(s) URL, else None (never render javascript: or data:)."""
    candidate = url.strip()
    if any(_is_control(c) or c.isspace() for c in candidate):
        return None
    try:
        parts = urlsplit(candidate)
    except ValueError:
        return None
    if parts.scheme.lower() in ("http", "https") and parts.netloc:
        return candidate
    return None


def _values_text(alert: Alert) -> str:
    return ", ".join(f"{name} = {value:g}" for name, value in alert.values.items())


def context(alert: Alert, *, html: bool = False) -> dict[str, Any]:
    """Variables a template sees: the webhook payload's keys, plus `alert` (the whole payload).

    For HTML templates `item.link` is blanked unless it is an http(s) URL, so even a user template
    writing `<a href="{{ item.link }}">` cannot produce a javascript: link.
    """
    payload = alert.payload()
    if html:
        payload["item"]["link"] = safe_link(alert.item.link) or ""
    return {**payload, "alert": payload}


def _tojson(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


@functools.cache
def _environment(*, html: bool) -> SandboxedEnvironment:
    # Jinja2 is imported on first use: a config with neither templates nor email never pays it.
    import jinja2
    from jinja2.sandbox import SandboxedEnvironment

    env = SandboxedEnvironment(
        autoescape=html,
        undefined=jinja2.StrictUndefined,  # a typo in a variable name is an error, not silence
        keep_trailing_newline=True,
    )
    if not html:
        # Jinja's own tojson escapes for HTML attributes; in a JSON body plain JSON is wanted.
        env.filters["tojson"] = _tojson
    return env


def load_template(value: object, *, source: str, line: int, key: str) -> TemplateSource:
    """A template from config: inline text, or a file path ending in a template suffix.

    The text is compiled once here so a syntax error stops `check` with file and line.
    """
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(
            f"{key} must be template text or a file path, got {value!r}", path=source, line=line
        )
    looks_like_path = (
        "{" not in value and "\n" not in value and value.strip().endswith(TEMPLATE_SUFFIXES)
    )
    if looks_like_path:
        path = Path(value.strip())
        if not path.is_absolute():
            path = Path(source).parent / path
        try:
            template = TemplateSource(path.read_text(encoding="utf-8"), str(path), 1)
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(
                f"{key}: cannot read template file {str(path)!r}: {exc}", path=source, line=line
            ) from None
    else:
        template = TemplateSource(value, source, line)
    import jinja2

    try:
        _environment(html=False).parse(template.text)
    except jinja2.TemplateSyntaxError as exc:
        raise ConfigError(
            f"{key}: template syntax error: {exc.message}",
            path=template.origin,
            line=template.line + (exc.lineno or 1) - 1,
        ) from None
    return template


class Template:
    """A user template compiled for one purpose, falling back to a default rendering on error."""

    def __init__(self, source: TemplateSource | None, *, html: bool, what: str) -> None:
        self.source = source
        self.html = html
        self.what = what
        self._compiled: jinja2.Template | None = (
            _environment(html=html).from_string(source.text) if source is not None else None
        )

    def render(
        self,
        alert: Alert,
        default: Callable[[Alert], str],
        check: Callable[[str], object] | None = None,
    ) -> str:
        """The user template's output for `alert`, or `default(alert)` if there is none or it fails.

        `check` validates the output (for example, that a webhook body is JSON); whatever it
        raises counts as a failure of the template.
        """
        if self._compiled is None or self.source is None:
            return default(alert)
        try:
            text = self._compiled.render(context(alert, html=self.html))
            if check is not None:
                check(text)
            return text
        except Exception as exc:
            # A template bug must not lose the alert: send the default and say why.
            log.warning(
                "%s template from %s failed, sent the default instead: %s: %s",
                self.what,
                self.source.origin,
                type(exc).__name__,
                exc,
                extra={"alert_id": alert.id},
            )
            return default(alert)


# --- Default renderings (pure) -------------------------------------------------------------------


def _story_note(alert: Alert) -> str:
    """`3 independent sources`, with the step-up when there is one."""
    note = f"{alert.sources} independent source{'s' if alert.sources != 1 else ''}"
    if alert.step_up:
        note += ", ESCALATION STEP-UP"
    return note


def email_subject(alert: Alert) -> str:
    """`[HIGH] US bombers near Venezuela: <story title>`; an update says `Re: ` and what changed
    (mail clients then thread it under the first message)."""
    title = alert.story.title if alert.story else alert.item.title
    subject = f"[{alert.rule.severity.name}] {alert.rule.title}: {title}"
    if alert.event == UPDATED:
        return f"Re: {subject} (update: {'; '.join(alert.changes) or 'new reports'})"
    return subject


def _story_lines(alert: Alert) -> list[str]:
    if alert.story is None:
        return []
    lines = ["", f"Story: {_story_note(alert)}"]
    if alert.ladder is not None:
        lines.append(
            f"Ladder: {alert.ladder.title}, rung {alert.ladder.rung} of {alert.ladder.rungs}"
        )
    if len(alert.rules) > 1:
        lines.append(f"Also matched: {', '.join(alert.rules[1:])}")
    for report in alert.story.items[-10:]:
        lines.append(f"- [{report.source}] {report.title} {report.link}".rstrip())
    return lines


def email_text(alert: Alert) -> str:
    """The plain-text email body: headline, link, matched terms, extracted values."""
    heading = f"{alert.rule.severity.name}: {alert.rule.title}"
    if alert.event == UPDATED:
        heading = f"UPDATE {alert.version}: {heading}"
    lines = [heading]
    if alert.changes:
        lines.append(f"What changed: {'; '.join(alert.changes)}")
    lines += ["", alert.item.title, alert.item.link]
    if alert.item.published is not None:
        lines.append(f"Published: {alert.item.published.isoformat()}")
    lines.append(f"Feed: {alert.item.feed}")
    if alert.item.summary:
        lines += ["", alert.item.summary]
    lines += ["", f"Matched: {', '.join(alert.matched)}"]
    if alert.values:
        lines.append(f"Values: {_values_text(alert)}")
    lines += _story_lines(alert)
    lines += ["", f"Rule: {alert.rule.id}    Alert: {alert.id}    Message: {alert.message_id}"]
    return "\n".join(lines) + "\n"


@functools.cache
def _default_html() -> jinja2.Template:
    return _environment(html=True).from_string(_DEFAULT_HTML)


_DEFAULT_HTML = """\
<!doctype html>
<html><body>
<p><strong>{{ rule.severity | upper }}</strong>: {{ rule.title }}</p>
<h2>{% if item.link %}<a href="{{ item.link }}">{{ item.title }}</a>{% else %}{{ item.title }}{% endif %}</h2>
{% if not item.link and raw_link %}<p>Link (not http/https, shown as text): <code>{{ raw_link }}</code></p>
{% endif %}<p>Feed: {{ item.feed }}{% if item.published %} &middot; published {{ item.published }}{% endif %}</p>
{% if item.summary %}<p>{{ item.summary }}</p>
{% endif %}<p>Matched: {% for term in matched %}<code>{{ term }}</code>{% if not loop.last %}, {% endif %}{% endfor %}</p>
{% if values_text %}<p>Values: {{ values_text }}</p>
{% endif %}{% if story %}<p>Story: {{ story_note }}{% if ladder %} &middot; {{ ladder.title }}, rung {{ ladder.rung }} of {{ ladder.rungs }}{% endif %}</p>
<ul>{% for report in story['items'][-10:] %}<li>[{{ report.source }}] {% if report.safe_link %}<a href="{{ report.safe_link }}">{{ report.title }}</a>{% else %}{{ report.title }}{% endif %}</li>{% endfor %}</ul>
{% endif %}{% if changes %}<p>What changed: {{ changes | join("; ") }}</p>
{% endif %}<p style="color:#777">Rule {{ rule.id }} &middot; alert {{ id }} &middot; message {{ message_id }}</p>
</body></html>
"""


def email_html(alert: Alert) -> str:
    """The HTML email body: everything autoescaped; a link only when it is http(s)."""
    variables = context(alert, html=True)
    variables["raw_link"] = clean_line(alert.item.link)
    variables["values_text"] = _values_text(alert)
    variables["story_note"] = _story_note(alert)
    if variables.get("story"):
        for report in variables["story"]["items"]:
            report["safe_link"] = safe_link(report["link"]) or ""
    return _default_html().render(variables)


def chat_title(alert: Alert) -> str:
    """The title of a chat message (Apprise): severity and rule; an update says so."""
    prefix = "Update: " if alert.event == UPDATED else ""
    return clean_line(f"{prefix}[{alert.rule.severity.name}] {alert.rule.title}")


def chat_body(alert: Alert) -> str:
    """The text of a chat message: headline, link, matched terms; an update is one short line."""
    if alert.event == UPDATED:
        title = alert.story.title if alert.story else alert.item.title
        return clean_line(
            f"{title}: {'; '.join(alert.changes) or 'new reports'} ({_story_note(alert)}) "
            f"{alert.item.link}"
        )
    lines = [clean_line(alert.item.title), clean_line(alert.item.link)]
    if alert.story is not None:
        lines.append(clean_line(_story_note(alert)))
    lines.append(f"Matched: {clean_line(', '.join(alert.matched))}")
    if alert.values:
        lines.append(f"Values: {_values_text(alert)}")
    return "\n".join(lines)


def log_line(alert: Alert) -> str:
    """The alert as one log line (feed text cannot start a new line in the log)."""
    text = (
        f"[{alert.rule.severity.name}] {alert.rule.title}: {alert.item.title} "
        f"<{alert.item.link}> matched {', '.join(alert.matched)}"
    )
    if alert.event == UPDATED:
        text = f"update {alert.version}: {text}"
    if alert.story is not None:
        text += f" ({_story_note(alert)})"
    if alert.changes:
        text += f" changed: {'; '.join(alert.changes)}"
    if alert.values:
        text += f" values {_values_text(alert)}"
    return clean_line(text)


def webhook_body(alert: Alert) -> str:
    """The default webhook body: the alert payload as JSON."""
    return json.dumps(alert.payload(), ensure_ascii=False)
