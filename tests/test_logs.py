"""Log output: JSON lines or text, the fields a user greps for, and no secret ever."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor.logs import (
    JsonFormatter,
    Redactor,
    TextFormatter,
    configure_logging,
    register_secret,
)


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def root_level() -> Iterator[None]:
    """Put the root logger's handlers and levels back after the test."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    chatty = {name: logging.getLogger(name).level for name in ("httpx", "httpcore", "apscheduler")}
    yield
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
    root.setLevel(level)
    for name, chatty_level in chatty.items():
        logging.getLogger(name).setLevel(chatty_level)


def json_lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


@pytest.mark.usefixtures("root_level")
class TestFormat:
    def test_it_writes_json_lines_when_not_on_a_terminal(self) -> None:
        """Off a terminal each record is one JSON object with the extra fields beside msg."""
        out = io.StringIO()
        configure_logging("INFO", "auto", stream=out)
        logging.getLogger("monitor.poll").info(
            "polled %s: %d new", "bbc-world", 3, extra={"feed": "bbc-world"}
        )
        [entry] = json_lines(out)
        assert entry["level"] == "INFO"
        assert entry["logger"] == "monitor.poll"
        assert entry["msg"] == "polled bbc-world: 3 new"
        assert entry["feed"] == "bbc-world"
        assert entry["ts"].endswith("+00:00")

    def test_it_writes_text_on_a_terminal(self) -> None:
        """On a terminal a person reads one line per record with the fields appended."""
        out = Terminal()
        configure_logging("INFO", "auto", stream=out)
        logging.getLogger("monitor.dispatch").warning(
            "delivery failed", extra={"notifier": "ops", "alert_id": "a1"}
        )
        line = out.getvalue().strip()
        assert "WARNING" in line
        assert "monitor.dispatch: delivery failed" in line
        assert "notifier=ops alert_id=a1" in line
        assert not line.startswith("{")

    def test_json_can_be_forced_on_a_terminal(self) -> None:
        """fmt=json wins over the terminal check, for log shippers attached to a tty."""
        out = Terminal()
        configure_logging("INFO", "json", stream=out)
        logging.getLogger("monitor").info("hello")
        assert json_lines(out)[0]["msg"] == "hello"

    def test_the_level_filters_and_reconfiguring_does_not_duplicate(self) -> None:
        """Configuring twice leaves one handler; DEBUG lines stay out at INFO."""
        first = io.StringIO()
        configure_logging("DEBUG", "json", stream=first)
        out = io.StringIO()
        configure_logging("INFO", "json", stream=out)
        log = logging.getLogger("monitor")
        log.debug("hidden")
        log.info("shown")
        assert [e["msg"] for e in json_lines(out)] == ["shown"]
        assert first.getvalue() == ""

    def test_library_request_chatter_shows_only_at_debug(self) -> None:
        """httpx's line per request would bury the daemon's own lines at INFO."""
        out = io.StringIO()
        configure_logging("INFO", "json", stream=out)
        logging.getLogger("httpx").info("HTTP Request: GET https://example.org/ 200 OK")
        logging.getLogger("httpx").warning("connection pool full")
        assert [e["msg"] for e in json_lines(out)] == ["connection pool full"]
        configure_logging("DEBUG", "json", stream=out)
        logging.getLogger("httpx").info("HTTP Request: GET https://example.org/ 304")
        assert json_lines(out)[-1]["msg"] == "HTTP Request: GET https://example.org/ 304"

    def test_an_exception_is_one_json_line_with_its_traceback(self) -> None:
        """A traceback stays inside the JSON object, so a line-based shipper keeps it whole."""
        out = io.StringIO()
        configure_logging("INFO", "json", stream=out)
        try:
            raise RuntimeError("boom")
        except RuntimeError:
            logging.getLogger("monitor").exception("poll crashed", extra={"feed": "f"})
        [entry] = json_lines(out)
        assert "RuntimeError: boom" in entry["exc"]

    def test_an_unknown_format_is_refused(self) -> None:
        """A typo in the format is quoted back."""
        with pytest.raises(ValueError, match="'jsn'"):
            configure_logging("INFO", "jsn", stream=io.StringIO())


@pytest.mark.usefixtures("root_level")
class TestRedaction:
    def test_a_secret_in_the_message_and_its_arguments_is_redacted(self) -> None:
        """A password logged by mistake shows as *** in the message."""
        register_secret("hunter2-smtp-pass")
        out = io.StringIO()
        configure_logging("INFO", "json", stream=out)
        logging.getLogger("monitor").info("login with %s failed", "hunter2-smtp-pass")
        assert "hunter2-smtp-pass" not in out.getvalue()
        assert json_lines(out)[0]["msg"] == "login with *** failed"

    def test_a_secret_inside_an_exception_never_appears(self) -> None:
        """An exception whose message carries the secret is redacted in msg and traceback."""
        register_secret("tok-4f1c9e77")
        for fmt in ("json", "text"):
            out = io.StringIO()
            configure_logging("INFO", fmt, stream=out)
            try:
                raise ConnectionError("auth rejected for token tok-4f1c9e77")
            except ConnectionError as exc:
                logging.getLogger("monitor").exception("delivery failed: %s", exc)
            assert "tok-4f1c9e77" not in out.getvalue()
            assert "***" in out.getvalue()

    def test_userinfo_in_a_url_is_redacted_even_percent_encoded(self) -> None:
        """A password in a URL, raw or percent-encoded as httpx prints it, never appears."""
        register_secret("p@ss/w0rd")
        out = io.StringIO()
        configure_logging("INFO", "json", stream=out)
        url = httpx.URL("https://bob:p%40ss%2Fw0rd@hooks.example.org/x")
        log = logging.getLogger("monitor.notify")
        log.warning("posting to %s", url, extra={"url": str(url)})
        log.warning("posting to https://bob:p@ss/w0rd@hooks.example.org/x")
        text = out.getvalue()
        assert "p@ss/w0rd" not in text
        assert "p%40ss%2Fw0rd" not in text
        assert "bob:***@hooks.example.org" in text

    def test_a_password_taken_encoded_from_a_url_is_redacted_decoded_too(self) -> None:
        """urlsplit() leaves userinfo encoded; the decoded password must not leak either."""
        password = httpx.URL("https://bob:s3cr%3At%21x@example.org/").password  # decoded by httpx
        register_secret("s3cr%3At%21x")  # what urlsplit(url).password gives
        out = io.StringIO()
        configure_logging("INFO", "json", stream=out)
        logging.getLogger("monitor").error("auth failed with %s", password)
        assert password == "s3cr:t!x"
        assert "s3cr:t!x" not in out.getvalue()

    def test_a_secret_in_an_extra_field_is_redacted(self) -> None:
        """Fields passed with extra= go through the same filter as the message."""
        register_secret("webhook-secret-xyz")
        out = io.StringIO()
        configure_logging("INFO", "json", stream=out)
        logging.getLogger("monitor").info("sent", extra={"notifier": "webhook-secret-xyz"})
        assert "webhook-secret-xyz" not in out.getvalue()

    def test_short_values_are_not_treated_as_secrets(self) -> None:
        """An empty or tiny secret (an unset ${VAR:-}) would otherwise blank ordinary words."""
        register_secret("")
        register_secret("on")
        out = io.StringIO()
        configure_logging("INFO", "json", stream=out)
        logging.getLogger("monitor").info("connection ok")
        assert json_lines(out)[0]["msg"] == "connection ok"

    @given(
        secret=st.text(
            alphabet=st.characters(
                codec="utf-8", exclude_characters="*", exclude_categories=("Cs", "Cc")
            ),
            min_size=4,
            max_size=24,
        ),
        before=st.text(max_size=20),
        after=st.text(max_size=20),
    )
    def test_no_registered_secret_survives_in_any_field(
        self, secret: str, before: str, after: str
    ) -> None:
        """Whatever the secret's characters, it is absent from every rendered field."""
        redactor = Redactor()  # its own set, so generated secrets never redact other tests' logs
        redactor.register(secret)
        record = logging.LogRecord("monitor", logging.ERROR, __file__, 1, "%s%s%s", None, None)
        record.args = (before, secret, after)
        record.feed = f"{before}{secret}"
        assert secret not in TextFormatter(redactor).format(record)
        entry = json.loads(JsonFormatter(redactor).format(record))
        assert secret not in entry["msg"]
        assert secret not in entry["feed"]
