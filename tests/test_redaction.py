"""Secrets stay out of every output in whatever form a library prints them: the tokens of an
Apprise URL as Apprise rewrites it, and a feed URL's password in a command's table."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from monitor.logs import Redactor
from monitor.notify.settings import AppriseSettings
from tests.delivery_setup import sorties, write_config
from tests.feedgen import rss
from tests.servers import FeedServer, WebhookReceiver

TOKEN = "Tok3nAbc12345xyz"


def _run(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "monitor", *args, "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_apprise_tokens_are_redacted_in_the_urls_apprise_builds_from_them() -> None:
    """Telegram's bot token is logged by Apprise inside https://api.telegram.org/bot<token>/."""
    settings = AppriseSettings(
        name="chat",
        urls=("tgram://123456789:AAbbCCddEEff00/12345", "slack://T1A2B3C4D/B5E6F7G8H/x9y8z7w6v5u4"),
    )
    redact = Redactor()
    for value in settings.secret_values:
        redact.register(value)
    logged = (
        "Telegram POST URL: https://api.telegram.org/bot123456789:AAbbCCddEEff00/sendMessage; "
        "Slack POST URL: https://hooks.slack.com/services/T1A2B3C4D/B5E6F7G8H/x9y8z7w6v5u4"
    )
    assert redact(logged) == (
        "Telegram POST URL: https://api.telegram.org/bot***/sendMessage; "
        "Slack POST URL: https://hooks.slack.com/services/***/***/***"
    )


def test_a_token_in_an_apprise_url_never_reaches_the_debug_log(
    tmp_path: Path, feed_server: FeedServer, webhook_receiver: WebhookReceiver
) -> None:
    """At debug level Apprise and urllib3 log the request URL; the token in it is ***."""
    url = feed_server.serve("/wire.xml", rss(sorties(1)))
    config = write_config(tmp_path, url, webhook_receiver.url())
    chat = f"json://127.0.0.1:{webhook_receiver.port}/hooks/{TOKEN}"
    config.write_text(
        config.read_text()
        .replace("routes:\n", f'  - {{name: chat, type: apprise, urls: ["{chat}"]}}\nroutes:\n')
        .replace("notify: [ops", "notify: [ops, chat")
        + "log: {level: debug, format: json}\n"
    )
    done = _run(config, "once")
    assert done.returncode == 0, done.stderr
    assert any(hook.path == f"/hooks/{TOKEN}" for hook in webhook_receiver.received)
    assert "POST URL: http://127.0.0.1" in done.stderr  # Apprise did log the URL...
    assert TOKEN not in done.stdout + done.stderr  # ...without the token


def test_status_does_not_print_a_feed_password_from_its_last_error(
    tmp_path: Path, feed_server: FeedServer, webhook_receiver: WebhookReceiver
) -> None:
    """The fetch error quotes the feed URL; `status` shows it with the password as ***."""
    password = "S3cretPw99"
    url = f"http://reader:{password}@127.0.0.1:{feed_server.port}/private.xml"  # answers 404
    config = write_config(tmp_path, url, webhook_receiver.url())
    assert _run(config, "once").returncode == 3  # the only feed failed
    status = _run(config, "status")
    assert status.returncode == 0, status.stderr
    assert "reader:***@127.0.0.1" in status.stdout
    assert password not in status.stdout + status.stderr
