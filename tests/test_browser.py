"""The page in a real browser (Debian's chromium), served by the real daemon polling real feeds
on loopback: live updates without a reload, a failing feed's error, the actions and their
token, keyboard, phone width, dark mode. Also makes the README's screenshot.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select

from tests.browser import chromium, require_browser
from tests.delivery_setup import RULE_ID, RULES
from tests.feedgen import BOMBERS, rss
from tests.servers import FeedServer, WebhookReceiver, free_port, wait_until
from tests.test_end_to_end import start_daemon, stop_daemon

TOKEN = "browser-test-token-0123456789"
SCREENSHOT = Path(__file__).resolve().parent.parent / "docs" / "page.png"


@pytest.fixture
def daemon_page(
    tmp_path: Path,
    feed_server: FeedServer,
    webhook_receiver: WebhookReceiver,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[str]:
    """The daemon on two local feeds (one answering 500) with the page on a free port; its URL."""
    require_browser()
    wire = feed_server.serve("/wire.xml", rss([]))
    broken = feed_server.serve("/broken.xml", "upstream is down", status=500)
    webhook_receiver.fail_next, webhook_receiver.fail_status = 10_000, 503
    port = free_port()
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "sorties.yaml").write_text(RULES)
    config = tmp_path / "config.yaml"
    config.write_text(
        f"""\
state: data/state.db
rules: [rules/]
defaults: {{interval: 1s, timeout: 5s}}
feeds:
  - {{name: wire, url: "{wire}"}}
  - {{name: broken, url: "{broken}"}}
notifiers:
  - {{name: ops, type: webhook, url: "{webhook_receiver.url()}", timeout: 5s}}
http: {{listen: "127.0.0.1:{port}", token: "${{NM_UI_TOKEN}}"}}
"""
    )
    monkeypatch.setenv("NM_UI_TOKEN", TOKEN)
    log = tmp_path / "daemon.log"
    daemon = start_daemon(config, log)
    base = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        try:
            return httpx.get(f"{base}/readyz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        assert wait_until(ready, timeout=60), log.read_text()
        yield base
    finally:
        assert stop_daemon(daemon) == 0, log.read_text()


def text_of(browser: WebDriver, element_id: str) -> str:
    """The text of the element with `element_id`, or "" while the page has none."""
    found = browser.find_elements(By.ID, element_id)
    return found[0].text if found else ""


def test_the_page_follows_the_daemon_live_and_its_actions_need_the_token(
    daemon_page: str, feed_server: FeedServer, tmp_path: Path
) -> None:
    """A person on watch opens the page once and sees a new alert and a broken feed appear,
    cannot act without the token, and silences the rule with it."""
    with chromium() as browser:
        browser.get(daemon_page + "/")
        browser.execute_script("window.loadedOnce = 'yes';")

        def broken_feed_shows_its_error() -> bool:
            row = browser.find_elements(By.ID, "feed-broken")
            return bool(row) and "500" in row[0].text

        assert wait_until(broken_feed_shows_its_error, timeout=30)
        assert (
            browser.find_element(By.ID, "feed-broken").location["y"]
            < (browser.find_element(By.ID, "feed-wire").location["y"])
        )

        feed_server.serve("/wire.xml", rss([BOMBERS]))
        assert wait_until(lambda: BOMBERS.title in browser.page_source, timeout=30)
        pending = browser.find_element(By.ID, "outbox").text
        assert RULE_ID in pending and "retry backoff" in pending
        assert browser.execute_script("return window.loadedOnce") == "yes", "the page reloaded"

        shot = tmp_path / "page.png"
        assert browser.save_screenshot(str(shot))
        if os.environ.get("NM_UPDATE_SCREENSHOT"):
            SCREENSHOT.parent.mkdir(exist_ok=True)
            shutil.copyfile(shot, SCREENSHOT)

        refused = httpx.post(
            f"{daemon_page}/actions/silence", data={"rule": RULE_ID, "duration": "1h"}, timeout=10
        )
        assert refused.status_code == 403
        assert "None." in text_of(browser, "silences")

        browser.find_element(By.ID, "token").send_keys("wrong-token-wrong-token")
        browser.find_element(By.CSS_SELECTOR, "form[action='/unlock'] button").click()
        assert wait_until(lambda: "wrong token" in text_of(browser, "refused"), timeout=10)
        browser.get(daemon_page + "/")
        browser.find_element(By.ID, "token").send_keys(TOKEN)
        browser.find_element(By.CSS_SELECTOR, "form[action='/unlock'] button").click()
        assert wait_until(lambda: bool(browser.find_elements(By.ID, "silence-form")), timeout=10)

        Select(browser.find_element(By.ID, "silence-rule")).select_by_value(RULE_ID)
        duration = browser.find_element(By.ID, "silence-duration")
        duration.clear()
        duration.send_keys("2h")
        browser.find_element(By.ID, "silence-comment").send_keys("known exercise")
        browser.find_element(By.CSS_SELECTOR, "#silence-form button").click()
        assert wait_until(lambda: RULE_ID in text_of(browser, "silences"), timeout=10), (
            browser.page_source
        )
        assert "known exercise" in browser.find_element(By.ID, "silences").text
        assert wait_until(lambda: "Silenced (1)" in browser.page_source, timeout=10)


def test_the_page_works_by_keyboard_on_a_phone_and_in_the_dark(daemon_page: str) -> None:
    """Tab reaches the skip link first; at phone width nothing overflows sideways; a dark
    setting gives a dark page."""
    with chromium(width=390, height=844) as browser:
        browser.get(daemon_page + "/")
        browser.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
        assert browser.switch_to.active_element.text == "Skip to content"
        overflow = browser.execute_script(
            "return document.documentElement.scrollWidth - window.innerWidth"
        )
        assert overflow <= 0, f"the page is {overflow} px wider than a phone"
        light = browser.execute_script("return getComputedStyle(document.body).backgroundColor")
        browser.execute_cdp_cmd(
            "Emulation.setEmulatedMedia",
            {"features": [{"name": "prefers-color-scheme", "value": "dark"}]},
        )
        dark = browser.execute_script("return getComputedStyle(document.body).backgroundColor")
        assert light == "rgb(255, 255, 255)" and dark == "rgb(18, 18, 18)"
