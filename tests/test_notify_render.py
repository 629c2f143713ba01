"""Rendering alerts: hostile feed text never injects a header, breaks JSON or becomes a link."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import UTC, datetime
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default as default_policy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.models import Severity
from monitor.notify import build_notifier
from monitor.notify.mail import EmailNotifier
from monitor.notify.render import (
    Template,
    TemplateSource,
    chat_body,
    clean_header,
    email_html,
    email_text,
    log_line,
    safe_link,
    webhook_body,
)
from monitor.notify.settings import EmailSettings, LogSettings
from tests.notify_alerts import make_alert

HEADERS = {
    "subject",
    "from",
    "to",
    "date",
    "message-id",
    "x-news-monitor-alert",
    "content-type",
    "mime-version",
}
INJECTIONS = [
    "\r\nBcc: evil@example.org",
    "\nX-Injected: yes",
    "=?utf-8?q?=0D=0ABcc:_evil@example.org?=",
    "=?utf-8?b?DQpCY2M6IGV2aWxAZXhhbXBsZS5vcmc=?=",
    " =?iso-8859-1?q?a=0Ab?= ",
    "\u2028X-Injected: yes",
    "\x00\x1b[31m\x7f",
]
feed_text = st.lists(st.one_of(st.text(), st.sampled_from(INJECTIONS)), max_size=6).map("".join)

MAILER = EmailNotifier(
    EmailSettings("desk", "127.0.0.1", "monitor@example.org", ("desk@example.org",), "none", 25)
)


def parse(message: EmailMessage) -> EmailMessage:
    parsed = BytesParser(policy=default_policy).parsebytes(message.as_bytes())
    assert isinstance(parsed, EmailMessage)
    return parsed


class TestHostileFeedText:
    @settings(max_examples=150, deadline=None)
    @given(title=feed_text, summary=feed_text, link=feed_text)
    def test_feed_text_never_adds_an_email_header(
        self, title: str, summary: str, link: str
    ) -> None:
        """Whatever the title says, the message has exactly our headers and a one-line subject."""
        alert = make_alert(title, summary=summary, link=link)
        parsed = parse(MAILER.message(alert, datetime(2025, 10, 15, tzinfo=UTC)))
        assert {name.lower() for name in parsed} == HEADERS
        subject = str(parsed["Subject"])
        assert not any(c in subject for c in "\r\n\x00\u2028")
        assert parsed["To"] == "desk@example.org"

    @settings(max_examples=150, deadline=None)
    @given(title=feed_text, summary=feed_text)
    def test_feed_text_always_gives_valid_json(self, title: str, summary: str) -> None:
        """The webhook body is JSON that gives back the exact title, however odd."""
        body = webhook_body(make_alert(title, summary=summary))
        data = json.loads(body)
        assert data["item"]["title"] == title
        assert data["item"]["summary"] == summary

    @settings(max_examples=100, deadline=None)
    @given(title=feed_text)
    def test_a_log_line_stays_one_line(self, title: str) -> None:
        """Feed text cannot forge a second log line."""
        assert "\n" not in log_line(make_alert(title)) and "\r" not in log_line(make_alert(title))

    @pytest.mark.parametrize(
        "link",
        [
            "javascript:alert(1)",
            "JaVaScRiPt:alert(1)",
            " javascript:x",
            "data:text/html,<b>x</b>",
            "//evil.example/x",
            "vbscript:x",
        ],
    )
    def test_unsafe_links_are_never_rendered_as_links(self, link: str) -> None:
        """Only http(s) links become <a href>; others are shown as escaped text."""
        html = email_html(make_alert(link=link))
        assert "href" not in html
        assert safe_link(link) is None

    def test_html_is_escaped(self) -> None:
        """Markup in a title or summary is shown, never interpreted."""
        html = email_html(make_alert("<script>alert(1)</script>", summary="<img src=x onerror=y>"))
        assert "<script>" not in html and "<img" not in html
        assert "&lt;script&gt;" in html

    def test_http_links_are_kept(self) -> None:
        """An ordinary article link is clickable."""
        assert safe_link("https://news.example.org/a?b=c") == "https://news.example.org/a?b=c"
        assert '<a href="https://news.example.org/bombers-1">' in email_html(make_alert())

    def test_header_cleaning_breaks_encoded_words(self) -> None:
        """An encoded word is shown as text so the mail library cannot decode a CR/LF from it."""
        assert clean_header("a =?utf-8?q?x=0D=0A?= b") == "a = ?utf-8?q?x=0D=0A?= b"
        assert len(clean_header("x" * 1000)) == 250


class TestDefaults:
    def test_text_body_has_link_terms_and_values(self) -> None:
        """The plain-text email names everything a reader needs to act."""
        text = email_text(make_alert(values={"killed": 37.0}))
        assert "https://news.example.org/bombers-1" in text
        assert "Matched: B-52, Venezuela" in text
        assert "Values: killed = 37" in text

    def test_chat_body_is_short(self) -> None:
        """A chat message is headline, link and terms."""
        assert chat_body(make_alert()).splitlines() == [
            "US B-52 bombers fly show of force near Venezuela",
            "https://news.example.org/bombers-1",
            "Matched: B-52, Venezuela",
        ]


class TestUserTemplates:
    def test_a_template_sees_the_payload_fields(self) -> None:
        """Templates use the same names as the webhook payload."""
        template = Template(
            TemplateSource(
                "{{ rule.severity | upper }} {{ item.feed }} {{ matched | join('+') }}", "t"
            ),
            html=False,
            what="test",
        )
        assert template.render(make_alert(), email_text) == "HIGH wire B-52+Venezuela"

    def test_a_runtime_error_falls_back_to_the_default_and_says_why(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        """A misspelt variable sends the default rendering and logs the template's origin."""
        template = Template(
            TemplateSource("{{ item.titel }}", "subject.txt"), html=False, what="subject"
        )
        alert = make_alert()
        assert template.render(alert, email_text) == email_text(alert)
        assert "subject.txt" in caplog.text and "titel" in caplog.text

    def test_the_sandbox_blocks_attribute_escapes(self, caplog: pytest.LogCaptureFixture) -> None:
        """A template cannot reach Python internals; the default is sent instead."""
        template = Template(
            TemplateSource("{{ item.__class__.__mro__ }}", "evil.j2"), html=False, what="body"
        )
        assert template.render(make_alert(), chat_body) == chat_body(make_alert())
        assert "evil.j2" in caplog.text

    def test_html_templates_autoescape_and_blank_unsafe_links(self) -> None:
        """A user HTML template writing href from the item link cannot produce javascript:."""
        template = Template(
            TemplateSource('<a href="{{ item.link }}">{{ item.title }}</a>', "h.html"),
            html=True,
            what="html",
        )
        html = template.render(make_alert("<b>x</b>", link="javascript:alert(1)"), email_html)
        assert html == '<a href="">&lt;b&gt;x&lt;/b&gt;</a>'


class TestLogChannel:
    def test_an_alert_is_one_warning_line_for_high_severity(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        """`type: log` writes to monitor.alerts; high and critical at WARNING."""
        notifier = build_notifier(LogSettings("console"))
        with caplog.at_level(logging.INFO, logger="monitor.alerts"):
            asyncio.run(notifier.send(make_alert("Line one\nLine two")))
            asyncio.run(notifier.send(make_alert(severity=Severity.LOW)))
        high, low = caplog.records
        assert high.name == "monitor.alerts"
        assert (high.levelno, low.levelno) == (logging.WARNING, logging.INFO)
        assert high.getMessage().startswith("[HIGH] US bombers near Venezuela: Line one Line two")
        assert high.alert_id == "alert_bombers-1"
