"""The email channel against real aiosmtpd servers: plain, STARTTLS and implicit TLS with a
certificate authority made here and trusted explicitly through `ca_file`."""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from monitor.errors import DeliveryError
from monitor.models import Alert
from monitor.notify import build_notifier
from monitor.notify.settings import EmailSettings
from tests.notify_alerts import make_alert
from tests.servers import free_port


@dataclass(frozen=True)
class Certificates:
    ca: Path  # what the client trusts
    cert: Path  # the server's certificate for 127.0.0.1, signed by `ca`
    key: Path


def make_certificates(directory: Path) -> Certificates:
    """A throwaway CA and a server certificate for 127.0.0.1 signed by it."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "news-monitor test CA")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    paths = Certificates(directory / "ca.pem", directory / "server.pem", directory / "server.key")
    paths.ca.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    paths.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return paths


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    return make_certificates(tmp_path_factory.mktemp("tls"))


@dataclass
class Mailbox:
    """What an SMTP test server accepted, and how it answers DATA."""

    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[list[str]] = field(default_factory=list)
    logins: list[tuple[bytes, bytes]] = field(default_factory=list)
    tls_seen: list[bool] = field(default_factory=list)
    reply: str = "250 OK"
    refuse: set[str] = field(default_factory=set)  # recipients answered 550
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 No such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.tls_seen.append(server.transport.get_extra_info("ssl_object") is not None)
            if self.reply.startswith("250"):
                parsed = BytesParser(policy=default_policy).parsebytes(envelope.content)
                assert isinstance(parsed, EmailMessage)
                self.messages.append(parsed)
                self.envelopes.append(list(envelope.rcpt_tos))
        return self.reply

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        with self.lock:
            self.logins.append((auth_data.login, auth_data.password))
        # handled=False: aiosmtpd itself answers 535 when the password is wrong.
        return AuthResult(success=auth_data.password == b"s3cret-pass", handled=False)


def server_context(certificates: Certificates) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certificates.cert, certificates.key)
    return context


@dataclass
class SmtpServer:
    mailbox: Mailbox
    port: int


def serve(**options: Any) -> Iterator[SmtpServer]:
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(
        mailbox,
        hostname="127.0.0.1",
        port=port,
        authenticator=mailbox.authenticate,
        auth_require_tls=True,
        **options,
    )
    controller.start()
    try:
        yield SmtpServer(mailbox, port)
    finally:
        controller.stop()


@pytest.fixture
def plain_server() -> Iterator[SmtpServer]:
    """No TLS at all (and so no STARTTLS offered)."""
    yield from serve()


@pytest.fixture
def starttls_server(certificates: Certificates) -> Iterator[SmtpServer]:
    yield from serve(tls_context=server_context(certificates), require_starttls=True)


@pytest.fixture
def tls_server(certificates: Certificates) -> Iterator[SmtpServer]:
    yield from serve(ssl_context=server_context(certificates))


def settings_for(server: SmtpServer, **changes: Any) -> EmailSettings:
    base = EmailSettings(
        name="desk",
        host="127.0.0.1",
        port=server.port,
        security="none",
        sender="monitor@example.org",
        to=("desk@example.org", "duty@example.org"),
        timeout=5.0,
    )
    return replace(base, **changes)


def send(settings: EmailSettings, alert: Alert | None = None) -> None:
    async def run() -> None:
        notifier = build_notifier(settings)
        try:
            await notifier.send(alert or make_alert())
        finally:
            await notifier.aclose()

    asyncio.run(run())


def failure(settings: EmailSettings) -> DeliveryError:
    with pytest.raises(DeliveryError) as caught:
        send(settings)
    return caught.value


class TestPlainDelivery:
    def test_an_alert_arrives_as_text_and_html(self, plain_server: SmtpServer) -> None:
        """Subject names severity, rule and item; both parts have the link and matched terms."""
        send(settings_for(plain_server), make_alert(values={"killed": 37}))
        [message] = plain_server.mailbox.messages
        assert message["Subject"] == (
            "[HIGH] US bombers near Venezuela: US B-52 bombers fly show of force near Venezuela"
        )
        assert plain_server.mailbox.envelopes == [["desk@example.org", "duty@example.org"]]
        text = message.get_body(("plain",))
        html = message.get_body(("html",))
        assert text is not None and html is not None
        for part in (text.get_content(), html.get_content()):
            assert "https://news.example.org/bombers-1" in part
            assert "B-52" in part and "Venezuela" in part
            assert "killed = 37" in part
        assert '<a href="https://news.example.org/bombers-1">' in html.get_content()

    def test_a_retry_carries_the_same_message_id(self, plain_server: SmtpServer) -> None:
        """The Message-ID comes from the message id, so a resend can be recognised."""
        send(settings_for(plain_server))
        send(settings_for(plain_server))
        ids = {m["Message-ID"] for m in plain_server.mailbox.messages}
        assert ids == {f"<{make_alert().message_id}@example.org>"}

    def test_a_5xx_reply_is_permanent(self, plain_server: SmtpServer) -> None:
        """554 means the server will never take this message."""
        plain_server.mailbox.reply = "554 5.7.1 Message rejected"
        error = failure(settings_for(plain_server))
        assert error.permanent
        assert "554" in str(error)

    def test_refused_recipients_are_permanent_only_when_all_are_refused(
        self, plain_server: SmtpServer, caplog: pytest.LogCaptureFixture
    ) -> None:
        """One unknown recipient is logged, the others still get the alert; all unknown fails."""
        plain_server.mailbox.refuse = {"duty@example.org"}
        send(settings_for(plain_server))
        assert plain_server.mailbox.envelopes == [["desk@example.org"]]
        assert "duty@example.org (550)" in caplog.text
        plain_server.mailbox.refuse = {"desk@example.org", "duty@example.org"}
        assert failure(settings_for(plain_server)).permanent

    def test_a_4xx_reply_is_retried(self, plain_server: SmtpServer) -> None:
        """451 is a temporary failure: the alert stays in the outbox."""
        plain_server.mailbox.reply = "451 4.3.0 Try again later"
        assert not failure(settings_for(plain_server)).permanent

    def test_a_server_that_is_down_is_retried(self) -> None:
        """Connection refused is a retryable failure."""
        error = failure(
            EmailSettings(
                "desk", "127.0.0.1", "a@example.org", ("b@example.org",), "none", free_port()
            )
        )
        assert not error.permanent


class TestTls:
    def test_starttls_with_a_trusted_ca_delivers_over_tls_and_logs_in(
        self, starttls_server: SmtpServer, certificates: Certificates
    ) -> None:
        """STARTTLS verifies the certificate against ca_file, then authenticates."""
        settings = settings_for(
            starttls_server,
            security="starttls",
            ca_file=certificates.ca,
            username="bot",
            password="s3cret-pass",
        )
        send(settings)
        assert starttls_server.mailbox.tls_seen == [True]
        assert starttls_server.mailbox.logins == [(b"bot", b"s3cret-pass")]
        assert len(starttls_server.mailbox.messages) == 1

    def test_a_wrong_password_is_permanent(
        self, starttls_server: SmtpServer, certificates: Certificates
    ) -> None:
        """535 authentication failed is an SMTP 5xx: retrying would not help."""
        settings = settings_for(
            starttls_server,
            security="starttls",
            ca_file=certificates.ca,
            username="bot",
            password="nope",
        )
        assert failure(settings).permanent
        assert starttls_server.mailbox.messages == []

    def test_implicit_tls_delivers(
        self, tls_server: SmtpServer, certificates: Certificates
    ) -> None:
        """security: tls speaks TLS from the first byte."""
        send(settings_for(tls_server, security="tls", ca_file=certificates.ca))
        assert tls_server.mailbox.tls_seen == [True]

    def test_an_untrusted_certificate_is_refused(self, starttls_server: SmtpServer) -> None:
        """Without ca_file the test CA is unknown, so nothing is sent (and it is retryable)."""
        error = failure(settings_for(starttls_server, security="starttls"))
        assert not error.permanent
        assert "certificate" in str(error)
        assert starttls_server.mailbox.messages == []

    def test_starttls_is_never_downgraded_to_plain_text(
        self, plain_server: SmtpServer, certificates: Certificates
    ) -> None:
        """A server that does not offer STARTTLS gets no message and no password."""
        settings = settings_for(
            plain_server,
            security="starttls",
            ca_file=certificates.ca,
            username="bot",
            password="s3cret-pass",
        )
        error = failure(settings)
        assert "STARTTLS" in str(error)
        assert plain_server.mailbox.messages == []
        assert plain_server.mailbox.logins == []
