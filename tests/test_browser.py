"""The page in a real browser (Debian's chromium), served by the real daemon polling real feeds
on loopback: live updates without a reload, a failing feed's error, the actions and their
token, keyboard, phone width, dark mode. Also makes the README's screenshot.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select

from monitor.models import Alert, Item, RuleInfo, Severity, alert_id
from monitor.noise import DeliveryPlan
from monitor.store import QueuedAlert, Store
from tests.browser import chromium, require_browser
from tests.delivery_setup import RULE_ID, RULES
from tests.feedgen import BOMBERS, rss
from tests.servers import FeedServer, WebhookReceiver, free_port, wait_until
from tests.test_end_to_end import start_daemon, stop_daemon

TOKEN = "browser-test-token-0123456789"
# One rung is enough for a trend: the test's rule is the ladder's only rung.
LADDER = f"ladder:\n  id: theatre\n  title: Test theatre\n  rungs:\n    - {RULE_ID}\n"
SCREENSHOT = Path(__file__).resolve().parent.parent / "docs" / "page.png"


@pytest.fixture
def daemon_page(
    tmp_path: Path,
    feed_server: FeedServer,
    webhook_receiver: WebhookReceiver,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[str]:
    """The daemon on two local feeds (one answering 500) with the page on a free port; its URL.
    Its state is tmp_path/data/state.db."""
    require_browser()
    wire = feed_server.serve("/wire.xml", rss([]))
    broken = feed_server.serve("/broken.xml", "upstream is down", status=500)
    webhook_receiver.fail_next, webhook_receiver.fail_status = 10_000, 503
    port = free_port()
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "sorties.yaml").write_text(LADDER + RULES)
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
    """The text of the element with `element_id`, or "" while the page has none.

    Asked in one script: the page swaps its live part every few seconds, which would leave a
    Selenium element reference stale between finding it and reading it."""
    text: str = browser.execute_script(
        "var e = document.getElementById(arguments[0]); return e ? e.innerText : '';", element_id
    )
    return text


def page_facts(browser: WebDriver) -> dict[str, list[str]]:
    """Every bdi's text, every link's href and every script's src, read at one instant."""
    facts: dict[str, list[str]] = browser.execute_script(
        """const all = (sel, f) => Array.from(document.querySelectorAll(sel), f);
           return {texts: all("bdi", e => e.textContent), hrefs: all("a[href]", e => e.href),
                   scripts: all("script", e => e.src)};"""
    )
    return facts


def test_the_page_follows_the_daemon_live_and_its_actions_need_the_token(
    daemon_page: str, feed_server: FeedServer, tmp_path: Path
) -> None:
    """A person on watch opens the page once and sees a new alert and a broken feed appear,
    cannot act without the token, and silences the rule with it."""
    with chromium() as browser:
        browser.get(daemon_page + "/")
        browser.execute_script("window.loadedOnce = 'yes';")

        assert wait_until(lambda: "500" in text_of(browser, "feed-broken"), timeout=30)
        feeds = text_of(browser, "feeds")
        assert feeds.index("broken") < feeds.index("wire"), "the failing feed is not first"

        feed_server.serve("/wire.xml", rss([BOMBERS]))
        assert wait_until(lambda: BOMBERS.title in text_of(browser, "stories"), timeout=30)
        story = text_of(browser, "stories")
        assert "high" in story and "rung 1 of 1" in story and "step-up" in story.lower()
        assert "1 independent source" in story
        marked = browser.execute_script(
            "return Array.from(document.querySelectorAll('#stories mark'), m => m.textContent)"
        )
        assert {"B-52", "bombers", "Venezuela"} <= set(marked)
        today = datetime.now(UTC).date().isoformat()
        dots = browser.execute_script(
            "return Array.from(document.querySelectorAll('#trend-theatre circle'),"
            " c => c.dataset.day)"
        )
        assert today in dots, dots
        pending = text_of(browser, "outbox")
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
        assert "known exercise" in text_of(browser, "silences")
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


HOSTILE_TITLE = (
    'Bombers <script>window.pwned = "script"</script><img src=x onerror="window.pwned = \'img\'">'
    " \u202eevil\u202c over Venezuela"
)


def test_hostile_text_in_the_state_shows_as_text(daemon_page: str, tmp_path: Path) -> None:
    """A headline full of markup and a javascript: link, as a state written by anything else
    could hold them: the browser shows the characters, runs nothing, and links nowhere."""
    now = datetime.now(UTC)
    item = Item(feed="wire", key="hostile", title=HOSTILE_TITLE, link="javascript:window.pwned=1")
    rule = RuleInfo(RULE_ID, "US bomber sorties near Venezuela", Severity.HIGH)
    alert = Alert(alert_id(f"rule:{RULE_ID}", "story-hostile"), rule, item, ("Bombers",), now)
    with Store(tmp_path / "data" / "state.db") as store:
        state = store.feed_state("wire", "unused")
        plan = DeliveryPlan("ops", now.timestamp() + 3600)  # held: stays on the page
        store.record_poll(state, [], [QueuedAlert(alert, (plan,))], now.timestamp())
    with chromium() as browser:
        browser.get(daemon_page + "/")
        assert wait_until(lambda: "window.pwned" in text_of(browser, "outbox"), timeout=30)
        facts = page_facts(browser)
        assert HOSTILE_TITLE in facts["texts"]
        assert browser.execute_script("return window.pwned === undefined")
        assert not [h for h in facts["hrefs"] if h.lower().startswith("javascript:")]
        assert facts["scripts"] == [daemon_page + "/static/live.js"]
