"""Notifier settings from config.yaml: what is accepted, and errors that name file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.errors import ConfigError
from monitor.notify.settings import (
    AppriseSettings,
    EmailSettings,
    LogSettings,
    WebhookSettings,
)
from tests.notify_alerts import notifier_from_yaml


class TestWebhookSettings:
    def test_it_reads_a_full_webhook_entry(self) -> None:
        """URL, rotation secrets, timeout and extra headers all come through typed."""
        settings = notifier_from_yaml(
            "name: ops\n"
            "type: webhook\n"
            "url: https://hooks.example.org/alerts\n"
            "secret: [whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw, old-raw-secret]\n"
            "timeout: 15s\n"
            "headers: {X-Team: desk}\n"
        )
        assert settings == WebhookSettings(
            name="ops",
            url="https://hooks.example.org/alerts",
            secrets=("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "old-raw-secret"),
            timeout=15.0,
            headers=(("X-Team", "desk"),),
        )

    def test_an_empty_secret_means_unsigned(self) -> None:
        """`secret: "${WEBHOOK_SECRET:-}"` with the variable unset leaves the webhook unsigned."""
        settings = notifier_from_yaml('{name: ops, type: webhook, url: "http://h/x", secret: ""}')
        assert isinstance(settings, WebhookSettings)
        assert settings.secrets == ()
        assert settings.timeout == 20.0

    def test_a_malformed_whsec_secret_is_rejected_without_quoting_it(self) -> None:
        """The error explains the whsec_ format but never prints the secret."""
        with pytest.raises(ConfigError) as caught:
            notifier_from_yaml(
                "name: ops\ntype: webhook\nurl: http://h/x\nsecret: whsec_not*base64!\n"
            )
        assert "config.yaml:4:" in str(caught.value)
        assert "not*base64" not in str(caught.value)

    @pytest.mark.parametrize(
        ("entry", "line", "quoted"),
        [
            ("name: ops\ntype: webhook\nurl: ftp://h/x\n", 3, "'ftp://h/x'"),
            ("name: ops\ntype: webhook\nurl: http://h/x\ntimeout: 10m\n", 4, "'10m'"),
            (
                "name: ops\ntype: webhook\nurl: http://h/x\nheaders: {webhook-id: x}\n",
                4,
                "webhook-id",
            ),
            ("name: ops\ntype: webhook\n", 1, "'url'"),
            ("name: ops\ntype: webhook\nurl: http://h/x\nsecert: x\n", 4, "'secert'"),
            ("name: ops\ntype: pager\n", 2, "'pager'"),
        ],
    )
    def test_invalid_entries_name_the_line_and_the_value(
        self, entry: str, line: int, quoted: str
    ) -> None:
        """Each mistake is reported at its own line, quoting what was wrong."""
        with pytest.raises(ConfigError) as caught:
            notifier_from_yaml(entry)
        assert str(caught.value).startswith(f"config.yaml:{line}:")
        assert quoted in str(caught.value)


class TestEmailSettings:
    def test_it_reads_the_issue_example(self) -> None:
        """The email entry from the README parses, with the port defaulting by security."""
        settings = notifier_from_yaml(
            "name: desk\ntype: email\nhost: smtp.example.org\nsecurity: tls\n"
            "username: bot\npassword: hunter22\nfrom: monitor@example.org\n"
            "to: [desk@example.org, duty@example.org]\n"
        )
        assert isinstance(settings, EmailSettings)
        assert settings.port == 465
        assert settings.to == ("desk@example.org", "duty@example.org")
        assert settings.secret_values == ("hunter22",)

    def test_unset_credentials_mean_no_login(self) -> None:
        """`username: "${SMTP_USER:-}"` left unset means the server is used without login."""
        settings = notifier_from_yaml(
            'name: desk\ntype: email\nhost: smtp.example.org\nusername: ""\npassword: ""\n'
            "from: monitor@example.org\nto: desk@example.org\n"
        )
        assert isinstance(settings, EmailSettings)
        assert (settings.username, settings.password, settings.port) == (None, None, 587)

    def test_a_password_is_never_sent_in_clear_text_to_a_remote_host(self) -> None:
        """security: none with a password is refused unless the server is on this machine."""
        entry = (
            "name: desk\ntype: email\nhost: {host}\nsecurity: none\nusername: bot\n"
            "password: pw12\nfrom: a@example.org\nto: b@example.org\n"
        )
        with pytest.raises(ConfigError, match="clear text"):
            notifier_from_yaml(entry.format(host="smtp.example.org"))
        assert isinstance(notifier_from_yaml(entry.format(host="127.0.0.1")), EmailSettings)

    @pytest.mark.parametrize(
        ("entry", "quoted"),
        [
            ("security: ssl\n", "'ssl'"),
            ("port: 70000\n", "70000"),
            ("to: [not-an-address]\n", "'not-an-address'"),
            ('to: ["a@b.org\\r\\nBcc: x@evil.org"]\n', "one line"),
            ("ca_file: missing-ca.pem\n", "missing-ca.pem"),
            ("username: bot\n", "'password' is missing"),
        ],
    )
    def test_invalid_email_entries_are_explained(self, entry: str, quoted: str) -> None:
        """Bad security modes, ports, addresses and half-configured logins are config errors."""
        base = (
            "name: desk\ntype: email\nhost: h.example.org\nfrom: a@example.org\nto: b@example.org\n"
        )
        merged = "\n".join(
            {line.split(":")[0]: line for line in (base + entry).splitlines()}.values()
        )
        with pytest.raises(ConfigError) as caught:
            notifier_from_yaml(merged + "\n")
        assert quoted in str(caught.value)


class TestTemplatesInSettings:
    def test_a_template_file_is_read_relative_to_the_config(self, tmp_path: Path) -> None:
        """`template: body.json.j2` names a file beside config.yaml."""
        (tmp_path / "body.json.j2").write_text('{"text": {{ item.title | tojson }}}')
        settings = notifier_from_yaml(
            "{name: ops, type: webhook, url: 'http://h/x', template: body.json.j2}",
            tmp_path / "config.yaml",
        )
        assert isinstance(settings, WebhookSettings)
        assert settings.template is not None
        assert settings.template.text.startswith('{"text"')

    def test_a_template_syntax_error_names_the_template_file_and_line(self, tmp_path: Path) -> None:
        """A broken template stops `check` at the line of the template file that is wrong."""
        (tmp_path / "subject.txt").write_text("line one\n{{ rule.title }\n")
        with pytest.raises(ConfigError) as caught:
            notifier_from_yaml(
                "name: desk\ntype: email\nhost: h.example.org\nfrom: a@example.org\n"
                "to: b@example.org\nsubject_template: subject.txt\n",
                tmp_path / "config.yaml",
            )
        assert str(caught.value).startswith(f"{tmp_path / 'subject.txt'}:2:")

    def test_an_inline_template_error_names_the_config_line(self) -> None:
        """An inline template with a syntax error points at its key in config.yaml."""
        with pytest.raises(ConfigError) as caught:
            notifier_from_yaml(
                "name: chat\ntype: apprise\nurls: ['json://127.0.0.1:9/x']\ntemplate: '{% if %}'\n"
            )
        assert str(caught.value).startswith("config.yaml:4:")

    def test_a_missing_template_file_is_a_config_error(self) -> None:
        """A template path that does not exist is reported, not sent as literal text."""
        with pytest.raises(ConfigError, match="cannot read template file"):
            notifier_from_yaml("{name: ops, type: webhook, url: 'http://h/x', template: nope.j2}")


class TestOtherTypes:
    def test_log_needs_only_a_name(self) -> None:
        """`{name: console, type: log}` is a complete notifier."""
        assert notifier_from_yaml("{name: console, type: log}") == LogSettings("console")

    def test_apprise_urls_are_checked_by_apprise(self) -> None:
        """Known schemes pass; an unknown scheme is reported without printing the URL's token."""
        settings = notifier_from_yaml(
            "{name: chat, type: apprise, urls: ['json://127.0.0.1:9/x', 'ntfy://alerts']}"
        )
        assert isinstance(settings, AppriseSettings)
        assert settings.urls == ("json://127.0.0.1:9/x", "ntfy://alerts")
        with pytest.raises(ConfigError) as caught:
            notifier_from_yaml("{name: chat, type: apprise, urls: ['nosuch://tok3n']}")
        assert "'nosuch'" in str(caught.value)
        assert "tok3n" not in str(caught.value)


class TestConcurrency:
    @pytest.mark.parametrize(
        "entry",
        [
            "{name: ops, type: webhook, url: 'http://h/x'",
            "{name: desk, type: email, host: h, from: a@b.org, to: c@d.org",
            "{name: chat, type: apprise, urls: 'ntfy://alerts'",
            "{name: console, type: log",
        ],
    )
    def test_every_type_takes_a_bounded_concurrency(self, entry: str) -> None:
        """One message in flight unless the entry says more; 0, 17 or a word is refused on its
        line, saying what is allowed."""
        assert notifier_from_yaml(entry + "}").concurrency == 1
        assert notifier_from_yaml(entry + ", concurrency: 4}").concurrency == 4
        for bad in ("0", "17", "many"):
            with pytest.raises(ConfigError) as caught:
                notifier_from_yaml(entry + f",\n  concurrency: {bad}}}")
            assert "config.yaml:2:" in str(caught.value)
            assert "from 1 to 16" in str(caught.value)
