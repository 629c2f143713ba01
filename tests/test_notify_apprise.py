"""The Apprise channel, posting through Apprise's json:// service to a real local receiver."""

from __future__ import annotations

import asyncio

from monitor.errors import DeliveryError
from monitor.models import Alert, Severity
from monitor.notify import build_notifier
from monitor.notify.base import Notifier
from monitor.notify.render import TemplateSource
from monitor.notify.settings import AppriseSettings
from tests.notify_alerts import make_alert
from tests.servers import WebhookReceiver, running


def apprise_url(receiver: WebhookReceiver, path: str = "/chat") -> str:
    return f"json://127.0.0.1:{receiver.port}{path}"


def send_all(notifier: Notifier, *alerts: Alert) -> list[DeliveryError]:
    """Send each alert in turn, collecting failures instead of stopping at the first."""

    async def run() -> list[DeliveryError]:
        errors = []
        for alert in alerts:
            try:
                await notifier.send(alert)
            except DeliveryError as exc:
                errors.append(exc)
        await notifier.aclose()
        return errors

    return asyncio.run(run())


class TestApprise:
    def test_an_alert_reaches_the_service_with_title_and_body(
        self, webhook_receiver: WebhookReceiver
    ) -> None:
        """Apprise's JSON service receives the severity and rule as title, the headline as body."""
        notifier = build_notifier(AppriseSettings("chat", (apprise_url(webhook_receiver),)))
        assert send_all(notifier, make_alert(severity=Severity.CRITICAL)) == []
        [payload] = webhook_receiver.payloads()
        assert payload["title"] == "[CRITICAL] US bombers near Venezuela"
        assert payload["message"].startswith("US B-52 bombers fly show of force near Venezuela\n")
        assert payload["type"] == "failure"

    def test_a_template_writes_the_chat_text(self, webhook_receiver: WebhookReceiver) -> None:
        """`template` replaces the message body."""
        template = TemplateSource("{{ item.title }} ({{ item.feed }})", "inline")
        settings = AppriseSettings("chat", (apprise_url(webhook_receiver),), template=template)
        send_all(build_notifier(settings), make_alert())
        assert webhook_receiver.payloads()[0]["message"] == (
            "US B-52 bombers fly show of force near Venezuela (wire)"
        )

    def test_a_failing_service_is_retryable(self, webhook_receiver: WebhookReceiver) -> None:
        """A service answering 500 makes the send fail so the outbox retries it."""
        webhook_receiver.fail_next = 1
        webhook_receiver.fail_status = 500
        notifier = build_notifier(AppriseSettings("chat", (apprise_url(webhook_receiver),)))
        [error] = send_all(notifier, make_alert())
        assert not error.permanent

    def test_a_retry_after_partial_failure_skips_services_that_have_it(
        self, webhook_receiver: WebhookReceiver
    ) -> None:
        """With two services and one down, the retry goes only to the one that missed it."""
        with running(WebhookReceiver()) as flaky:
            flaky.fail_next = 1
            flaky.fail_status = 500
            notifier = build_notifier(
                AppriseSettings("chat", (apprise_url(webhook_receiver), apprise_url(flaky)))
            )
            alert = make_alert()
            errors = send_all(notifier, alert, alert)
            assert len(errors) == 1 and "1 of 2" in str(errors[0])
            assert len(webhook_receiver.received) == 1
            assert len(flaky.received) == 1
