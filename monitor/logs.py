"""Logging setup: JSON lines off a terminal, readable text on one, and no secret in either.

`configure_logging` installs one handler on the root logger. Its formatter redacts every secret
given to `register_secret` from the whole rendered record: message, arguments, `extra` fields
(feed=, rule=, notifier=, alert_id=) and exception tracebacks alike.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
from datetime import UTC, datetime
from typing import IO, Any
from urllib.parse import quote, unquote

__all__ = [
    "REDACTED",
    "SECRETS",
    "JsonFormatter",
    "RedactedStream",
    "Redactor",
    "TextFormatter",
    "configure_logging",
    "redact",
    "register_secret",
]

REDACTED = "***"
MIN_SECRET_LENGTH = 4  # shorter values ("", "no", "1") would blank out ordinary words

# Libraries that log every request or job run at INFO; their lines would bury ours.
_CHATTY = ("httpx", "httpcore", "apscheduler", "aiosmtpd", "mail.log")

# Attributes every LogRecord has; anything else on a record came from `extra=`.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class Redactor:
    """A set of secrets and the one regex that replaces them all."""

    def __init__(self) -> None:
        self._secrets: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self._lock = threading.Lock()

    def register(self, value: str) -> None:
        if len(value) < MIN_SECRET_LENGTH:
            return
        with self._lock:
            # As written, percent-encoded (as URLs print it), and decoded (a password taken
            # from a URL's userinfo arrives still encoded).
            forms = {value, quote(value, safe=""), unquote(value)}
            self._secrets.update(f for f in forms if len(f) >= MIN_SECRET_LENGTH)
            # Longest first, so a secret that contains another is replaced whole.
            alternatives = sorted(self._secrets, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(s) for s in alternatives))

    def __call__(self, text: str) -> str:
        pattern = self._pattern
        return text if pattern is None else pattern.sub(REDACTED, text)


SECRETS = Redactor()


def register_secret(value: str) -> None:
    """Redact `value`, and its percent-encoded and -decoded forms, from all log output."""
    SECRETS.register(value)


def redact(text: str) -> str:
    """`text` with every registered secret replaced by ***."""
    return SECRETS(text)


class RedactedStream:
    """A text stream that redacts every registered secret from what is written to it."""

    def __init__(self, inner: IO[str], redactor: Redactor = SECRETS) -> None:
        self.inner = inner
        self.redact = redactor

    def write(self, text: str) -> int:
        self.inner.write(self.redact(text))
        return len(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")}


def _clean(value: Any, redact: Redactor) -> Any:
    if value is None or isinstance(value, bool | int | float):
        return value
    return redact(value if isinstance(value, str) else str(value))


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, msg, the `extra` fields, and exc if any."""

    def __init__(self, redactor: Redactor = SECRETS) -> None:
        super().__init__()
        self.redact = redactor

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": self.redact(record.getMessage()),
        }
        for key, value in _extras(record).items():
            entry.setdefault(key, _clean(value, self.redact))
        if record.exc_info:
            entry["exc"] = self.redact(self.formatException(record.exc_info))
        elif record.exc_text:
            entry["exc"] = self.redact(record.exc_text)
        if record.stack_info:
            entry["stack"] = self.redact(self.formatStack(record.stack_info))
        return json.dumps(entry, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """`time LEVEL logger: message key=value ...` for a person at a terminal."""

    def __init__(self, redactor: Redactor = SECRETS) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%H:%M:%S")
        self.redact = redactor

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        extras = _extras(record)
        if extras:
            fields = " ".join(f"{k}={v}" for k, v in extras.items())
            head, newline, rest = text.partition("\n")
            text = f"{head}  [{fields}]{newline}{rest}"
        return self.redact(text)


def configure_logging(
    level: str = "INFO", fmt: str = "auto", stream: IO[str] | None = None
) -> logging.Handler:
    """Send all logging to `stream` (stderr) as JSON lines ("json"), text ("text"), or text only
    when the stream is a terminal ("auto"). Calling it again replaces the handler it installed."""
    if fmt not in ("auto", "json", "text"):
        raise ValueError(f"fmt must be auto, json or text, got {fmt!r}")
    out = sys.stderr if stream is None else stream
    use_json = fmt == "json" or (fmt == "auto" and not out.isatty())
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter() if use_json else TextFormatter())
    handler.set_name("news-monitor")
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == "news-monitor"]:
        root.removeHandler(old)
        old.close()
    root.addHandler(handler)
    root.setLevel(level.upper())
    use_debug = root.level <= logging.DEBUG
    for name in _CHATTY:
        # At debug level everything shows; otherwise only their warnings.
        logging.getLogger(name).setLevel(logging.NOTSET if use_debug else logging.WARNING)
    return handler
