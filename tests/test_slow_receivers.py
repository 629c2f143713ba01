"""Receivers that answer a byte at a time: each send is held to its notifier's total deadline,
other notifiers and the feed polls keep going, and SIGTERM is not held up."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from monitor.errors import DeliveryError
from monitor.notify import build_notifier
from monitor.notify.settings import AppriseSettings, EmailSettings
from tests.delivery_setup import RULES, SECRET, sorties
from tests.feedgen import rss
from tests.hostile_servers import ScriptedServer, drip_headers, smtp_drip
from tests.notify_alerts import make_alert
from tests.servers import FeedServer, WebhookReceiver, running, wait_until
from tests.test_end_to_end import start_daemon, stop_daemon


def _config(tmp_path: Path, feed: str, hook: str, notifiers: str, names: str) -> Path:
    (tmp_path / "rules").mkdir(exist_ok=True)
    (tmp_path / "rules" / "sorties.yaml").write_text(RULES)
    config = tmp_path / "config.yaml"
    config.write_text(
        f"""\
state: data/state.db
rules: [rules/]
defaults: {{interval: 1s, timeout: 5s}}
feeds:
  - {{name: wire, url: "{feed}"}}
notifiers:
  - {{name: ops, type: webhook, url: "{hook}", secret: "{SECRET}", timeout: 10s}}
{notifiers}
routes:
  - {{notify: [ops, {names}]}}
log: {{format: json}}
"""
    )
    return config


def test_an_smtp_server_that_drips_neither_stops_the_webhook_nor_shutdown(
    tmp_path: Path, feed_server: FeedServer, webhook_receiver: WebhookReceiver
) -> None:
    """Email gives up each message at its 2 s deadline and retries later; the webhook gets every
    alert meanwhile, and SIGTERM ends the daemon with exit 0 inside the grace period."""
    with running(ScriptedServer(smtp_drip(0.5))) as smtp:
        url = feed_server.serve("/wire.xml", rss(sorties(3)))
        mail = (
            f"  - {{name: desk, type: email, host: 127.0.0.1, port: {smtp.port}, security: none,"
            " from: monitor@example.org, to: [desk@example.org], timeout: 2s}"
        )
        config = _config(tmp_path, url, webhook_receiver.url(), mail, "desk")
        log = tmp_path / "daemon.log"
        daemon = start_daemon(config, log)
        try:
            assert wait_until(lambda: len(webhook_receiver.received) >= 3, timeout=30), (
                log.read_text()
            )
            assert wait_until(lambda: "no answer within 2s" in log.read_text(), timeout=30)
            # The feed changes while email is still stuck: the new alert reaches the webhook too.
            feed_server.serve("/wire.xml", rss(sorties(4)))
            assert wait_until(lambda: len(webhook_receiver.received) >= 4, timeout=30)
        finally:
            asked = time.monotonic()
            code = stop_daemon(daemon)
            took = time.monotonic() - asked
        assert code == 0, log.read_text()
        assert "tasks still running after the grace period" not in log.read_text()
        print(f"SIGTERM to exit with a dripping SMTP server: {took:.1f}s")


def test_apprise_services_that_drip_keep_their_threads_away_from_the_loops_executor() -> None:
    """Three Apprise notifiers to a service that drips its headers: each send fails at its 1 s
    deadline, the threads it leaves behind are its own, and the default executor (which parses
    feeds and ticks the heartbeat) still runs work at once."""

    async def scenario(url: str) -> tuple[list[str], bool, int]:
        notifiers = [
            build_notifier(AppriseSettings(name=f"chat{n}", urls=(url,), timeout=1.0))
            for n in range(3)
        ]
        sends = [
            asyncio.create_task(notifier.send(make_alert(f"bombers {n} {k} near Venezuela")))
            for n, notifier in enumerate(notifiers)
            for k in range(4)
        ]
        await asyncio.sleep(0.3)  # every send is now waiting on the dripping service
        chore = asyncio.create_task(asyncio.to_thread(lambda: None))
        done, _ = await asyncio.wait([chore, *sends], return_when=asyncio.FIRST_COMPLETED)
        results = await asyncio.gather(*sends, return_exceptions=True)
        errors = [str(r) for r in results if isinstance(r, DeliveryError)]
        busy = sum(n._runner.busy for n in notifiers)  # type: ignore[attr-defined]
        return errors, done == {chore}, busy

    with running(ScriptedServer(drip_headers(0.2))) as service:
        started = time.monotonic()
        errors, chore_first, busy = asyncio.run(scenario(f"json://127.0.0.1:{service.port}/x"))
        took = time.monotonic() - started
    assert chore_first  # the default executor was free while every send was stuck
    assert len(errors) == 12, errors
    assert all("did not accept" in e for e in errors)
    assert busy <= 3 * 4  # never more stuck threads than the notifiers' slots
    print(f"12 dripping Apprise sends failed in {took:.1f}s; {busy} threads still stuck")


def test_an_email_send_is_cut_at_its_deadline_whatever_the_server_keeps_sending() -> None:
    """smtplib's timeout is per read; the notifier's is for the whole message."""

    async def send(port: int) -> tuple[str, float]:
        notifier = build_notifier(
            EmailSettings(
                name="desk",
                host="127.0.0.1",
                port=port,
                security="none",
                sender="monitor@example.org",
                to=("desk@example.org",),
                timeout=1.5,
            )
        )
        started = time.monotonic()
        try:
            await notifier.send(make_alert())
        except DeliveryError as exc:
            return str(exc), time.monotonic() - started
        return "sent", time.monotonic() - started

    with running(ScriptedServer(smtp_drip(0.2))) as smtp:
        outcome, took = asyncio.run(send(smtp.port))
    assert outcome == "no answer within 1.5s"
    print(f"dripping SMTP send gave up after {took:.2f}s")
