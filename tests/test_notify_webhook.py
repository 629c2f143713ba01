"""The webhook channel against a real receiver on 127.0.0.1 that verifies Standard Webhooks."""

from __future__ import annotations

import asyncio
import base64
import json
import socket
import time
from datetime import UTC, datetime
from email.utils import format_datetime

import pytest

from monitor.errors import DeliveryError
from monitor.httpclient import parse_retry_after
from monitor.models import Alert
from monitor.notify import build_notifier
from monitor.notify.settings import WebhookSettings
from tests.notify_alerts import make_alert
from tests.servers import WebhookReceiver, running

SECRET = "whsec_" + base64.b64encode(b"a-32-byte-signing-key-for-tests!").decode()
NEXT_SECRET = "whsec_" + base64.b64encode(b"the-next-key-after-the-rotation").decode()


def send(settings: WebhookSettings, *alerts: Alert) -> None:
    """Send each alert with a fresh notifier, closing it afterwards, as the daemon does."""

    async def run() -> None:
        notifier = build_notifier(settings)
        try:
            for alert in alerts:
                await notifier.send(alert)
        finally:
            await notifier.aclose()

    asyncio.run(run())


def failure(settings: WebhookSettings, alert: Alert | None = None) -> DeliveryError:
    with pytest.raises(DeliveryError) as caught:
        send(settings, alert or make_alert())
    return caught.value


class TestSignedDelivery:
    def test_a_signed_alert_verifies_and_carries_the_payload(
        self, webhook_receiver: WebhookReceiver
    ) -> None:
        """The receiver's standardwebhooks check passes and the body is the alert payload."""
        webhook_receiver.verify_secrets = [SECRET]
        alert = make_alert()
        send(WebhookSettings("ops", webhook_receiver.url(), secrets=(SECRET,)), alert)
        assert webhook_receiver.unverified == []
        [hook] = webhook_receiver.received
        assert hook.json() == alert.payload()
        assert hook.headers["webhook-id"] == alert.message_id
        assert hook.headers["content-type"] == "application/json"
        assert hook.headers["webhook-signature"].startswith("v1,")

    def test_during_rotation_both_old_and_new_secrets_verify(
        self, webhook_receiver: WebhookReceiver
    ) -> None:
        """With two secrets configured, a receiver holding either one accepts the alert."""
        webhook_receiver.verify_secrets = [SECRET, NEXT_SECRET]
        send(
            WebhookSettings("ops", webhook_receiver.url(), secrets=(SECRET, NEXT_SECRET)),
            make_alert(),
        )
        assert len(webhook_receiver.received) == 1
        assert len(webhook_receiver.received[0].headers["webhook-signature"].split(" ")) == 2

    def test_a_raw_text_secret_is_used_as_the_key_itself(
        self, webhook_receiver: WebhookReceiver
    ) -> None:
        """A secret without the whsec_ prefix signs with its UTF-8 bytes."""
        webhook_receiver.verify_secrets = [b"plain text secret"]
        send(
            WebhookSettings("ops", webhook_receiver.url(), secrets=("plain text secret",)),
            make_alert(),
        )
        assert len(webhook_receiver.received) == 1

    def test_a_wrong_secret_does_not_verify(self, webhook_receiver: WebhookReceiver) -> None:
        """The receiver's verification is real: a different key is refused (401, permanent)."""
        webhook_receiver.verify_secrets = [NEXT_SECRET]
        error = failure(WebhookSettings("ops", webhook_receiver.url(), secrets=(SECRET,)))
        assert error.permanent
        assert len(webhook_receiver.unverified) == 1

    def test_without_a_secret_the_id_and_timestamp_are_still_sent(
        self, webhook_receiver: WebhookReceiver
    ) -> None:
        """Unsigned webhooks still let the receiver deduplicate by webhook-id."""
        send(WebhookSettings("ops", webhook_receiver.url()), make_alert())
        [hook] = webhook_receiver.received
        assert hook.headers["webhook-id"] == make_alert().message_id
        assert abs(int(hook.headers["webhook-timestamp"]) - time.time()) < 300
        assert "webhook-signature" not in hook.headers

    def test_configured_headers_are_sent(self, webhook_receiver: WebhookReceiver) -> None:
        """Extra headers (for example a bearer token) go with every request."""
        settings = WebhookSettings(
            "ops", webhook_receiver.url(), headers=(("Authorization", "Bearer t0ken"),)
        )
        send(settings, make_alert())
        assert webhook_receiver.received[0].headers["Authorization"] == "Bearer t0ken"


class TestFailures:
    def test_a_retry_carries_the_same_webhook_id(self, webhook_receiver: WebhookReceiver) -> None:
        """A receiver that failed twice gets the alert on the third try under the same id."""
        webhook_receiver.verify_secrets = [SECRET]
        webhook_receiver.fail_next = 2
        settings = WebhookSettings("ops", webhook_receiver.url(), secrets=(SECRET,))
        alert = make_alert()
        for _ in range(2):
            error = failure(settings, alert)
            assert not error.permanent
        send(settings, alert)
        ids = {
            h.headers["webhook-id"]
            for h in [*webhook_receiver.rejected, *webhook_receiver.received]
        }
        assert ids == {alert.message_id}
        assert len(webhook_receiver.received) == 1

    def test_429_with_retry_after_seconds_is_honoured(
        self, webhook_receiver: WebhookReceiver
    ) -> None:
        """Too Many Requests is retryable and passes the receiver's wait on."""
        webhook_receiver.fail_next = 1
        webhook_receiver.fail_status = 429
        webhook_receiver.fail_headers = {"Retry-After": "120"}
        error = failure(WebhookSettings("ops", webhook_receiver.url()))
        assert (error.permanent, error.retry_after) == (False, 120.0)

    def test_503_with_retry_after_as_a_date_is_honoured(
        self, webhook_receiver: WebhookReceiver
    ) -> None:
        """Retry-After may be an HTTP date; it becomes seconds from now."""
        webhook_receiver.fail_next = 1
        webhook_receiver.fail_headers = {
            "Retry-After": format_datetime(datetime.now(UTC), usegmt=True)
        }
        error = failure(WebhookSettings("ops", webhook_receiver.url()))
        assert not error.permanent
        assert error.retry_after is not None and error.retry_after <= 1

    def test_410_gone_disables_the_notifier(self, webhook_receiver: WebhookReceiver) -> None:
        """A removed endpoint stops the notifier instead of being retried forever."""
        webhook_receiver.fail_next = 1
        webhook_receiver.fail_status = 410
        error = failure(WebhookSettings("ops", webhook_receiver.url()))
        assert error.disable and error.permanent

    @pytest.mark.parametrize(
        ("status", "permanent"),
        [(400, True), (404, True), (408, False), (409, False), (425, False), (500, False)],
    )
    def test_client_errors_are_permanent_except_the_retryable_ones(
        self, webhook_receiver: WebhookReceiver, status: int, permanent: bool
    ) -> None:
        """4xx means the receiver will never take it, except 408, 409, 425 and 429."""
        webhook_receiver.fail_next = 1
        webhook_receiver.fail_status = status
        assert failure(WebhookSettings("ops", webhook_receiver.url())).permanent is permanent

    def test_redirects_are_not_followed(self, webhook_receiver: WebhookReceiver) -> None:
        """A 302 elsewhere is a retryable failure naming the target; nothing is posted there."""
        with running(WebhookReceiver()) as elsewhere:
            webhook_receiver.fail_next = 1
            webhook_receiver.fail_status = 302
            webhook_receiver.fail_headers = {"Location": elsewhere.url()}
            error = failure(WebhookSettings("ops", webhook_receiver.url()))
            assert not error.permanent
            assert elsewhere.url() in str(error)
            assert elsewhere.attempts == 0

    def test_a_receiver_that_never_answers_is_cut_off_at_the_timeout(self) -> None:
        """A socket that accepts and stays silent costs one timeout, then a retryable failure."""
        with socket.create_server(("127.0.0.1", 0)) as silent:
            port = silent.getsockname()[1]
            error = failure(WebhookSettings("ops", f"http://127.0.0.1:{port}/hook", timeout=0.5))
        assert not error.permanent

    def test_an_unreachable_receiver_is_retryable(self) -> None:
        """Connection refused is a failure to retry later, not a crash."""
        with running(WebhookReceiver()) as receiver:
            url = receiver.url()
        error = failure(WebhookSettings("ops", url, timeout=2.0))
        assert not error.permanent


class TestTemplates:
    def test_a_body_template_shapes_the_json(self, webhook_receiver: WebhookReceiver) -> None:
        """A Slack-style body can be written as a template; tojson keeps it valid JSON."""
        from monitor.notify.render import TemplateSource

        template = TemplateSource('{"text": {{ (rule.title ~ ": " ~ item.title) | tojson }}}', "t")
        send(
            WebhookSettings("ops", webhook_receiver.url(), template=template),
            make_alert('He said "go"\n'),
        )
        assert webhook_receiver.payloads() == [
            {"text": 'US bombers near Venezuela: He said "go"\n'}
        ]

    def test_a_template_that_does_not_render_json_falls_back_to_the_payload(
        self, webhook_receiver: WebhookReceiver, caplog: pytest.LogCaptureFixture
    ) -> None:
        """A template whose output is not JSON never reaches the receiver; the default does."""
        from monitor.notify.render import TemplateSource

        template = TemplateSource('{"text": "{{ item.title }}"}', "body.j2")
        alert = make_alert('quote " breaks it')
        send(WebhookSettings("ops", webhook_receiver.url(), template=template), alert)
        assert webhook_receiver.payloads() == [json.loads(json.dumps(alert.payload()))]
        assert "body.j2" in caplog.text


class TestRetryAfter:
    @pytest.mark.parametrize(
        ("value", "seconds"),
        [("30", 30.0), (" 5 ", 5.0), ("soon", None), ("", None), (None, None), ("-1", None)],
    )
    def test_delta_seconds(self, value: str | None, seconds: float | None) -> None:
        """Whole seconds are read; anything unreadable is ignored."""
        assert parse_retry_after(value, now=0.0) == seconds

    def test_an_http_date_in_the_past_means_now(self) -> None:
        """A date that already passed asks for no extra wait."""
        assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=time.time()) == 0.0
