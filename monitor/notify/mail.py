"""The `email` channel: a text + HTML message over SMTP, with STARTTLS or implicit TLS.

TLS is never downgraded: with `security: starttls` a server that does not offer STARTTLS gets
nothing, not a plaintext message. Certificates are verified against the system store or `ca_file`.
`timeout` bounds each message whole (connect, greeting, TLS, login, send and answer): smtplib's
own timeout is per socket operation, which a server answering one line every few seconds never
trips, so past the deadline the socket is shut down and the send counts as failed.
"""

from __future__ import annotations

import contextlib
import logging
import smtplib
import socket
import ssl
from collections.abc import Sequence
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime

from monitor.errors import DeliveryError
from monitor.models import UPDATED, Alert
from monitor.notify.batch import batch_html, batch_subject, batch_text
from monitor.notify.blocking import BlockingRunner
from monitor.notify.render import (
    Template,
    clean_header,
    clean_text,
    email_html,
    email_subject,
    email_text,
)
from monitor.notify.settings import EmailSettings

log = logging.getLogger("monitor.notify")

# SMTP sessions one email notifier may have open at once, at least: one abandoned at its
# deadline must not keep the next message from starting.
SLOTS = 2


def smtp_error(exc: Exception) -> DeliveryError:
    """The delivery decision for an SMTP failure: 5xx replies are permanent, the rest retryable."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        refused = ", ".join(f"{rcpt} ({code})" for rcpt, (code, _) in exc.recipients.items())
        return DeliveryError(
            f"SMTP server refused every recipient: {refused}",
            permanent=all(500 <= code < 600 for code in codes),
        )
    if isinstance(exc, smtplib.SMTPResponseException):
        reply = (
            exc.smtp_error.decode(errors="replace")
            if isinstance(exc.smtp_error, bytes)
            else str(exc.smtp_error)
        )
        return DeliveryError(
            f"SMTP server answered {exc.smtp_code} {reply}",
            permanent=500 <= exc.smtp_code < 600,
        )
    if isinstance(exc, ssl.SSLCertVerificationError):
        return DeliveryError(f"SMTP server certificate not trusted: {exc.verify_message}")
    return DeliveryError(f"SMTP delivery failed: {type(exc).__name__}: {exc}")


class EmailNotifier:
    """Sends one message per alert message; the Message-ID is derived from the message id, so a
    retry after an uncertain failure carries the same Message-ID and mail clients can fold the
    duplicate. An update replies to the alert's first message, so a story reads as one thread."""

    def __init__(self, settings: EmailSettings) -> None:
        self.name = settings.name
        self.settings = settings
        what = f"email {self.name!r}"
        self._subject = Template(settings.subject_template, html=False, what=f"{what} subject")
        self._text = Template(settings.text_template, html=False, what=f"{what} text")
        self._html = Template(settings.html_template, html=True, what=f"{what} html")
        self._runner = BlockingRunner(f"email {self.name!r}", max(SLOTS, settings.concurrency))

    def message(self, alert: Alert, now: datetime) -> EmailMessage:
        """The complete message for `alert` (pure apart from rendering user templates)."""
        message = self._compose(
            alert.message_id,
            self._subject.render(alert, email_subject),
            self._text.render(alert, email_text),
            self._html.render(alert, email_html),
            now,
        )
        if alert.event == UPDATED:
            first = f"<{alert.first_message_id}@{self._domain}>"
            message["In-Reply-To"] = first
            message["References"] = first
        return message

    @property
    def _domain(self) -> str:
        return self.settings.sender.rpartition("@")[2]

    def batch_message(self, alerts: Sequence[Alert], batch_id: str, now: datetime) -> EmailMessage:
        """One message listing several alerts (a group window or digest); the id is the batch's."""
        return self._compose(
            batch_id, batch_subject(alerts), batch_text(alerts), batch_html(alerts), now
        )

    def _compose(
        self, message_id: str, subject: str, text: str, html: str, now: datetime
    ) -> EmailMessage:
        settings = self.settings
        message = EmailMessage(policy=SMTP)
        message["Subject"] = clean_header(subject)
        message["From"] = settings.sender
        message["To"] = ", ".join(settings.to)
        message["Date"] = format_datetime(now)
        message["Message-ID"] = f"<{message_id}@{self._domain}>"
        message["X-News-Monitor-Alert"] = message_id
        message.set_content(clean_text(text))
        message.add_alternative(clean_text(html), subtype="html")
        return message

    def _deliver(self, message: EmailMessage, opened: list[smtplib.SMTP]) -> None:
        settings = self.settings
        context = ssl.create_default_context(
            cafile=str(settings.ca_file) if settings.ca_file else None
        )
        client: smtplib.SMTP
        # Built unconnected and handed out first, so `_abort` can reach the socket even while
        # connect() is still waiting for the greeting.
        if settings.security == "tls":
            client = smtplib.SMTP_SSL(timeout=settings.timeout, context=context)
        else:
            client = smtplib.SMTP(timeout=settings.timeout)
        # smtplib records the TLS server name only when its constructor connects.
        client._host = settings.host  # type: ignore[attr-defined]
        opened.append(client)
        with client:
            code, greeting = client.connect(settings.host, settings.port)
            if code != 220:
                raise smtplib.SMTPConnectError(code, greeting)
            client.ehlo()
            if settings.security == "starttls":
                if not client.has_extn("starttls"):
                    raise DeliveryError(
                        f"SMTP server {settings.host}:{settings.port} does not offer STARTTLS; "
                        "refusing to send in clear text (set security: tls or fix the server)"
                    )
                client.starttls(context=context)
                client.ehlo()
            if settings.username is not None and settings.password is not None:
                client.login(settings.username, settings.password)
            refused = client.send_message(message, settings.sender, list(settings.to))
        if refused:
            # Some recipients got it; resending would duplicate it for them, so only report.
            log.warning(
                "notifier %s: SMTP server refused %s",
                self.name,
                ", ".join(f"{rcpt} ({code})" for rcpt, (code, _) in refused.items()),
                extra={"notifier": self.name},
            )

    async def send(self, alert: Alert) -> None:
        await self._send(self.message(alert, datetime.now(UTC)))

    async def send_batch(self, alerts: Sequence[Alert], batch_id: str) -> None:
        await self._send(self.batch_message(alerts, batch_id, datetime.now(UTC)))

    async def _send(self, message: EmailMessage) -> None:
        opened: list[smtplib.SMTP] = []

        def abort() -> None:
            for client in opened:
                if client.sock is not None:
                    with contextlib.suppress(OSError):
                        client.sock.shutdown(socket.SHUT_RDWR)

        try:
            await self._runner.run(
                lambda: self._deliver(message, opened), self.settings.timeout, abort
            )
        except DeliveryError:
            raise
        except (smtplib.SMTPException, OSError) as exc:
            raise smtp_error(exc) from None

    async def aclose(self) -> None:
        return None
