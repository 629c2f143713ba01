"""Notifier settings: one frozen dataclass per channel type, and `parse_notifier` for config.yaml.

Values arrive with ${VAR} interpolation already applied. Errors name the file, the line of the
offending key, and quote the bad value, except secrets, which are never quoted.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from monitor.durations import parse_duration
from monitor.fields import Fields, http_url, text, texts
from monitor.notify.render import TemplateSource, load_template
from monitor.yamlfile import YamlMap

SECURITY_MODES = ("starttls", "tls", "none")
DEFAULT_PORTS = {"starttls": 587, "tls": 465, "none": 25}
WEBHOOK_TIMEOUT = 20.0
MAX_TIMEOUT = 120.0
# Messages one notifier may have in flight at once (its lane's width). One keeps them in order.
MAX_CONCURRENCY = 16
# Set by the webhook notifier itself; a config header must not forge them.
RESERVED_HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature", "content-type", "host")


@dataclass(frozen=True)
class WebhookSettings:
    """POST the alert as JSON, signed per Standard Webhooks when `secrets` is not empty."""

    name: str
    url: str
    secrets: tuple[str, ...] = ()  # several during rotation; each "whsec_<base64>" or raw text
    timeout: float = WEBHOOK_TIMEOUT
    headers: tuple[tuple[str, str], ...] = ()
    template: TemplateSource | None = None
    concurrency: int = 1

    @property
    def secret_values(self) -> tuple[str, ...]:
        """Values that must never appear in a log."""
        password = urlsplit(self.url).password
        return (*self.secrets, *([password] if password else []))


@dataclass(frozen=True)
class EmailSettings:
    """Send a text + HTML message over SMTP; `security` is never silently downgraded."""

    name: str
    host: str
    sender: str
    to: tuple[str, ...]
    security: str = "starttls"
    port: int = 587
    username: str | None = None
    password: str | None = None
    timeout: float = 30.0
    ca_file: Path | None = None  # trust this CA (PEM) instead of the system store
    subject_template: TemplateSource | None = None
    text_template: TemplateSource | None = None
    html_template: TemplateSource | None = None
    concurrency: int = 1

    @property
    def secret_values(self) -> tuple[str, ...]:
        return (self.password,) if self.password else ()


@dataclass(frozen=True)
class LogSettings:
    """Write each alert as one line to the `monitor.alerts` logger."""

    name: str
    concurrency: int = 1

    @property
    def secret_values(self) -> tuple[str, ...]:
        return ()


@dataclass(frozen=True)
class AppriseSettings:
    """Send through Apprise (Slack, Discord, Teams, Telegram, ntfy, Matrix, ...)."""

    name: str
    urls: tuple[str, ...]
    timeout: float = 30.0
    template: TemplateSource | None = None
    concurrency: int = 1

    @property
    def secret_values(self) -> tuple[str, ...]:
        # The whole URL, and each token in it: Apprise logs the URLs it builds from them
        # (https://api.telegram.org/bot<token>/...), which never contain the URL as written.
        return self.urls + tuple(part for url in self.urls for part in apprise_tokens(url))


NotifierSettings = WebhookSettings | EmailSettings | LogSettings | AppriseSettings

_KEYS: dict[str, set[str]] = {
    "webhook": {"url", "secret", "timeout", "headers", "template"},
    "email": {
        "host",
        "port",
        "security",
        "username",
        "password",
        "from",
        "to",
        "timeout",
        "ca_file",
        "subject_template",
        "text_template",
        "html_template",
    },
    "log": set(),
    "apprise": {"urls", "timeout", "template"},
}


def _texts(value: Any) -> tuple[str, ...]:
    values = texts(value)
    if not values:
        raise ValueError(f"expected one value or a list of them, got {value!r}")
    return values


def _timeout(value: Any) -> float:
    seconds = parse_duration(value)
    if not 0 < seconds <= MAX_TIMEOUT:
        raise ValueError(f"must be more than 0s and at most {MAX_TIMEOUT:g}s, got {value!r}")
    return seconds


def _concurrency(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_CONCURRENCY:
        return value
    raise ValueError(
        f"expected a whole number of messages in flight from 1 to {MAX_CONCURRENCY}, got {value!r}"
    )


def _secret(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("must be text (the value is not shown because it is a secret)")
    secret = value.strip()
    if secret.startswith("whsec_"):
        encoded = secret.removeprefix("whsec_")
        try:
            decoded = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
        except binascii.Error:
            decoded = b""
        if not decoded:
            raise ValueError(
                "a secret starting with whsec_ must continue with base64 (the value is not "
                "shown because it is a secret); write the secret without whsec_ to use raw text"
            )
    return secret


def _secrets(value: Any) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    # An empty entry is a ${VAR:-} left unset: it means "no secret", not an empty key.
    return tuple(_secret(v) for v in items if v not in (None, ""))


def _headers(value: Any) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, dict):
        raise ValueError(f"expected a mapping of header: value, got {value!r}")
    headers = []
    for name, header_value in value.items():
        if name.lower() in RESERVED_HEADERS:
            raise ValueError(f"header {name!r} is set by news-monitor and cannot be configured")
        if not name.replace("-", "").isalnum():
            raise ValueError(f"header name {name!r} must be letters, digits and dashes")
        headers.append((name, text(header_value)))
    return tuple(headers)


def _address(value: Any) -> str:
    address = text(value)
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain or any(c in address for c in ' <>,;"'):
        raise ValueError(f"expected a plain address such as alerts@example.org, got {address!r}")
    return address


def _addresses(value: Any) -> tuple[str, ...]:
    return tuple(_address(v) for v in _texts(value))


def _port(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 65536:
        return value
    raise ValueError(f"expected a port number from 1 to 65535, got {value!r}")


def _security(value: Any) -> str:
    if value in SECURITY_MODES:
        return str(value)
    raise ValueError(f"expected one of {', '.join(SECURITY_MODES)}, got {value!r}")


def _apprise_url(value: Any) -> str:
    import apprise  # 0.2 s to import: only configs with a chat notifier pay it

    url = text(value)
    # instantiate() checks the scheme and the service's own parameters, without any network.
    if apprise.Apprise.instantiate(url) is None:
        scheme = url.partition("://")[0] if "://" in url else "(none)"
        raise ValueError(
            f"Apprise does not accept this URL (scheme {scheme!r}); see the Apprise wiki for "
            "the format of each service (the full URL is not shown because it carries tokens)"
        )
    return url


_URL_DELIMITERS = re.compile(r"[/:@?&=#]+")


def looks_like_token(part: str) -> bool:
    """Random-looking, as API tokens are: long, with letters and digits (not 'general', 'chat'
    or a port)."""
    return len(part) >= 8 and any(c.isdigit() for c in part) and any(c.isalpha() for c in part)


def apprise_tokens(url: str) -> tuple[str, ...]:
    """The parts of an Apprise URL that are secret: those Apprise itself masks in its private
    form of the URL, the password, and any token-like path segment or query value."""
    import apprise  # imported only when a chat notifier is configured, as in _apprise_url

    parts = set(_URL_DELIMITERS.split(url.partition("://")[2]))
    plugin = apprise.Apprise.instantiate(url)
    if plugin is not None:
        # Apprise's plugin.url() carries no annotations.
        full = set(_URL_DELIMITERS.split(plugin.url(privacy=False)))  # type: ignore[no-untyped-call]
        masked = set(_URL_DELIMITERS.split(plugin.url(privacy=True)))  # type: ignore[no-untyped-call]
        parts |= full
        secret = full - masked
    else:
        secret = set()
    password = urlsplit(url).password
    if password:
        secret.add(password)
    secret |= {part for part in parts if looks_like_token(unquote(part))}
    return tuple(sorted(unquote(part) for part in secret if part))


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _template(fields: Fields, key: str) -> TemplateSource | None:
    if not fields.has(key):
        return None
    return load_template(
        fields.data[key],
        source=fields.source,
        line=fields.data.line_of(key),
        key=f"{fields.what}: {key}",
    )


def _webhook(fields: Fields, name: str) -> WebhookSettings:
    return WebhookSettings(
        name=name,
        url=fields.require("url", http_url),
        secrets=fields.get("secret", _secrets, ()),
        timeout=fields.get("timeout", _timeout, WEBHOOK_TIMEOUT),
        headers=fields.get("headers", _headers, ()),
        template=_template(fields, "template"),
        concurrency=fields.get("concurrency", _concurrency, 1),
    )


def _email(fields: Fields, name: str) -> EmailSettings:
    security = fields.get("security", _security, "starttls")
    host = fields.require("host", text)
    username = fields.get("username", text, None)
    password = fields.get("password", str, None)
    if (username is None) != (password is None):
        missing = "password" if password is None else "username"
        raise fields.fail(None, f"username and password go together; {missing!r} is missing")
    if password is not None and security == "none" and not _is_loopback(host):
        raise fields.fail(
            "security",
            f"security: none would send the password in clear text to {host!r}; "
            "use starttls or tls",
        )
    ca_file = fields.get("ca_file", lambda v: Path(text(v)), None)
    if ca_file is not None:
        if not ca_file.is_absolute():
            ca_file = Path(fields.source).parent / ca_file
        if not ca_file.is_file():
            raise fields.fail("ca_file", f"ca_file {str(ca_file)!r} is not a readable file")
    return EmailSettings(
        name=name,
        host=host,
        sender=fields.require("from", _address),
        to=fields.require("to", _addresses),
        security=security,
        port=fields.get("port", _port, DEFAULT_PORTS[security]),
        username=username,
        password=password,
        timeout=fields.get("timeout", _timeout, 30.0),
        ca_file=ca_file,
        subject_template=_template(fields, "subject_template"),
        text_template=_template(fields, "text_template"),
        html_template=_template(fields, "html_template"),
        concurrency=fields.get("concurrency", _concurrency, 1),
    )


def _apprise(fields: Fields, name: str) -> AppriseSettings:
    return AppriseSettings(
        name=name,
        urls=fields.require("urls", lambda v: tuple(_apprise_url(u) for u in _texts(v))),
        timeout=fields.get("timeout", _timeout, 30.0),
        template=_template(fields, "template"),
        concurrency=fields.get("concurrency", _concurrency, 1),
    )


def parse_notifier(raw: YamlMap, source: str) -> NotifierSettings:
    """Validate one entry of `notifiers:`; raises ConfigError naming `source` and the line."""
    fields = Fields(raw, source, "notifier")
    name = fields.require("name", text)
    fields.what = f"notifier {name!r}"
    kind = fields.require("type", text)
    if kind not in _KEYS:
        raise fields.fail("type", f"type must be one of {', '.join(_KEYS)}, got {kind!r}")
    allowed = _KEYS[kind] | {"name", "type", "concurrency"}
    for key in raw:
        if key not in allowed:
            known = ", ".join(sorted(allowed))
            raise fields.fail(key, f"unknown key {key!r} for type {kind} (known keys: {known})")
    if kind == "webhook":
        return _webhook(fields, name)
    if kind == "email":
        return _email(fields, name)
    if kind == "apprise":
        return _apprise(fields, name)
    return LogSettings(name=name, concurrency=fields.get("concurrency", _concurrency, 1))
