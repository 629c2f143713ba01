"""The page at `/` and its actions, through the real Starlette app over a real SQLite store.

Requests go through httpx's ASGI transport (no socket): the browser tests in test_browser.py
cover the same page over the daemon's real listener.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markupsafe import escape

from monitor.app import App
from monitor.config import load_config
from monitor.errors import ConfigError
from monitor.health import Health
from monitor.models import Alert, Item, RuleInfo, Severity, alert_id
from monitor.noise import DeliveryPlan
from monitor.store import Delivery, FeedState, QueuedAlert
from monitor.web import build_web_app
from monitor.web.views import Page, feed_rows, release

TOKEN = "correct-horse-battery-staple"
RULE = "bomber-sorties"
RULES = f"""\
rules:
  - id: {RULE}
    title: US bomber sorties near Venezuela
    severity: high
    match: {{any: [bombers]}}
"""


def write_config(root: Path, *, token: str | None) -> Path:
    (root / "rules.yaml").write_text(RULES)
    http = f"http: {{listen: '127.0.0.1:8080', token: '{token}'}}\n" if token else ""
    config = root / "config.yaml"
    config.write_text(
        "state: state.db\nrules: [rules.yaml]\n"
        "feeds:\n  - {name: wire, url: 'http://127.0.0.1:9/wire.xml'}\n"
        "  - {name: broken, url: 'http://127.0.0.1:9/broken.xml'}\n"
        "notifiers:\n  - {name: ops, type: log}\n" + http
    )
    return config


def queue(app: App, title: str, link: str, now: float, key: str = "k1") -> str:
    """Record one item of feed `wire` whose alert is owed to notifier `ops`; returns the id of
    its message (what the outbox and the page's actions name)."""
    item = Item(feed="wire", key=key, title=title, link=link)
    rule = RuleInfo(RULE, "US bomber sorties near Venezuela", Severity.HIGH)
    alert = Alert(
        alert_id(f"rule:{RULE}", f"story-{key}"),
        rule,
        item,
        ("bombers",),
        datetime.fromtimestamp(now, UTC),
    )
    state = app.store.feed_state("wire", "http://127.0.0.1:9/wire.xml")
    app.store.record_poll(state, [item], [QueuedAlert(alert, (DeliveryPlan("ops", now),))], now)
    return alert.message_id


Client = Callable[[httpx.AsyncClient, App], Awaitable[None]]


@asynccontextmanager
async def page_client(
    root: Path, token: str | None
) -> AsyncIterator[tuple[httpx.AsyncClient, App]]:
    async with App.open(load_config(write_config(root, token=token))) as app:
        web = build_web_app(Health(time.time(), ready=True), app)
        transport = httpx.ASGITransport(app=web)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            yield client, app


def run(root: Path, scenario: Client, token: str | None = TOKEN) -> None:
    async def main() -> None:
        async with page_client(root, token) as (client, app):
            await scenario(client, app)

    asyncio.run(main())


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', html)
    assert found, "no CSRF token in the page"
    return found.group(1)


async def unlock(client: httpx.AsyncClient) -> str:
    """Unlock the actions with the token; returns the CSRF token the forms now carry."""
    response = await client.post("/unlock", data={"token": TOKEN})
    assert response.status_code == 303
    return csrf_of((await client.get("/")).text)


class TestReading:
    def test_failing_feeds_come_first_with_their_error_in_full(self, tmp_path: Path) -> None:
        """A feed failing three times in a row is listed before healthy ones, its error whole."""
        error = "HTTP 500 from http://127.0.0.1:9/broken.xml: " + "the upstream said no. " * 8

        async def scenario(client: httpx.AsyncClient, app: App) -> None:
            now = time.time()
            state = FeedState("broken", "http://127.0.0.1:9/broken.xml", consecutive_failures=2)
            app.store.record_failure(state, error, now + 600, now)
            queue(app, "Bombers fly near Venezuela", "https://news.example.org/a", now)
            html = (await client.get("/")).text
            assert html.index('id="feed-broken"') < html.index('id="feed-wire"')
            assert error.strip() in html
            assert "1 failing feed" in html

        run(tmp_path, scenario)

    def test_pending_deliveries_show_when_they_go_out_and_why(self, tmp_path: Path) -> None:
        """A delivery in retry backoff is listed with its release time and the last error."""

        async def scenario(client: httpx.AsyncClient, app: App) -> None:
            now = time.time()
            alert = queue(app, "Bombers fly near Venezuela", "https://news.example.org/a", now)
            app.store.mark_retry([alert], "ops", "HTTP 503 from receiver", now + 3600, now)
            html = (await client.get("/")).text
            assert "Pending (1)" in html
            assert "retry backoff after 1 failed attempts: HTTP 503 from receiver" in html
            assert "in 1 h" in html

        run(tmp_path, scenario)

    def test_a_failed_delivery_shows_its_reason(self, tmp_path: Path) -> None:
        async def scenario(client: httpx.AsyncClient, app: App) -> None:
            now = time.time()
            alert = queue(app, "Bombers fly near Venezuela", "https://news.example.org/a", now)
            app.store.mark_failed([alert], "ops", "HTTP 400: bad payload", now)
            html = (await client.get("/")).text
            assert "Failed (1)" in html and "HTTP 400: bad payload" in html

        run(tmp_path, scenario)

    def test_the_live_part_is_served_alone_for_the_script(self, tmp_path: Path) -> None:
        """The page's script asks with X-Live and gets only the part it swaps in."""

        async def scenario(client: httpx.AsyncClient, app: App) -> None:
            live = await client.get("/", headers={"X-Live": "1"})
            assert live.status_code == 200
            assert 'id="feeds"' in live.text and "<html" not in live.text

        run(tmp_path, scenario)

    def test_the_page_forbids_foreign_scripts(self, tmp_path: Path) -> None:
        """A Content-Security-Policy allows only the page's own script and styles."""

        async def scenario(client: httpx.AsyncClient, app: App) -> None:
            policy = (await client.get("/")).headers["content-security-policy"]
            assert "script-src 'self'" in policy and "default-src 'none'" in policy

        run(tmp_path, scenario)

    def test_the_bundled_script_and_styles_are_served(self, tmp_path: Path) -> None:
        """Nothing comes from a CDN: the container runs offline."""

        async def scenario(client: httpx.AsyncClient, app: App) -> None:
            html = (await client.get("/")).text
            for asset in re.findall(r'(?:src|href)="(/static/[^"]+)"', html):
                assert (await client.get(asset)).status_code == 200
            assert "http" not in "".join(re.findall(r"<(?:script|link)[^>]*>", html))

        run(tmp_path, scenario)

    def test_listings_are_paginated(self, tmp_path: Path) -> None:
        """120 failed deliveries are shown 50 at a time, with a link to the next page."""

        async def scenario(client: httpx.AsyncClient, app: App) -> None:
            now = time.time()
            for n in range(120):
                alert = queue(
                    app, f"Bombers sortie {n}", "https://news.example.org/a", now, f"k{n}"
                )
                app.store.mark_failed([alert], "ops", "HTTP 400", now + n)
            html = (await client.get("/")).text
            assert "Bombers sortie 119" in html and "Bombers sortie 69" not in html
            assert "page 1 of 3 (120)" in html
            second = (await client.get("/?failed=2")).text
            assert "Bombers sortie 69" in second and "Bombers sortie 119" not in second

        run(tmp_path, scenario)


class TestActions:
    def test_without_a_token_the_page_is_read_only(self, tmp_path: Path) -> None:
        """No http.token: no action forms, and an action posted anyway is refused."""

        async def scenario(client: httpx.AsyncClient, app: App) -> None:
            html = (await client.get("/")).text
            assert "Read-only" in html and 'action="/actions/' not in html
            response = await client.post("/actions/silence", data={"rule": RULE, "duration": "1h"})
            assert response.status_code == 403 and "http.token" in response.text
            assert app.store.silences(time.time()) == []

        run(tmp_path, scenario, token=None)

    def test_a_wrong_token_does_not_unlock(self, tmp_path: Path) -> None:
        async def scenario(client: httpx.AsyncClient, app: App) -> None:
            response = await client.post("/unlock", data={"token": "not-the-token-at-all"})
            assert response.status_code == 403
            assert "nm_session" not in response.headers.get("set-cookie", "")

        run(tmp_path, scenario)

    def test_an_action_without_the_session_is_refused(self, tmp_path: Path) -> None:
        """The token configured but never given: silencing is refused."""

        async def scenario(client: httpx.AsyncClient, app: App) -> None:
            response = await client.post("/actions/silence", data={"rule": RULE, "duration": "1h"})
            assert response.status_code == 403 and "unlock" in response.text
            assert app.store.silences(time.time()) == []

        run(tmp_path, scenario)

    def test_an_action_without_the_csrf_token_is_refused(self, tmp_path: Path) -> None:
        """A form posted from another site carries the cookie but not the CSRF token."""

        async def scenario(client: httpx.AsyncClient, app: App) -> None:
            await unlock(client)
            forged = {"rule": RULE, "duration": "1h", "csrf": "0" * 64}
            assert (await client.post("/actions/silence", data=forged)).status_code == 403
            assert app.store.silences(time.time()) == []

        run(tmp_path, scenario)

    def test_an_action_from_another_origin_is_refused(self, tmp_path: Path) -> None:
        async def scenario(client: httpx.AsyncClient, app: App) -> None:
            csrf = await unlock(client)
            response = await client.post(
                "/actions/silence",
                data={"rule": RULE, "duration": "1h", "csrf": csrf},
                headers={"Origin": "https://evil.example"},
            )
            assert response.status_code == 403
            assert app.store.silences(time.time()) == []

        run(tmp_path, scenario)

    def test_silencing_a_rule_takes_its_waiting_deliveries_out(self, tmp_path: Path) -> None:
        """With the token and the form's CSRF token, a silence is added and shown."""

        async def scenario(client: httpx.AsyncClient, app: App) -> None:
            now = time.time()
            queue(app, "Bombers fly near Venezuela", "https://news.example.org/a", now)
            csrf = await unlock(client)
            response = await client.post(
                "/actions/silence",
                data={"rule": RULE, "duration": "2h", "comment": "exercise", "csrf": csrf},
            )
            assert response.status_code == 303
            silences = app.store.silences(time.time())
            assert [(s.rule, s.comment) for s in silences] == [(RULE, "exercise")]
            assert 7100 < silences[0].ends_at - now < 7300
            html = (await client.get("/")).text
            assert "Silenced (1)" in html and "Pending (0)" in html

        run(tmp_path, scenario)

    def test_an_unknown_rule_or_bad_duration_is_refused_clearly(self, tmp_path: Path) -> None:
        async def scenario(client: httpx.AsyncClient, app: App) -> None:
            csrf = await unlock(client)
            bad_rule = await client.post(
                "/actions/silence", data={"rule": "nope", "duration": "1h", "csrf": csrf}
            )
            assert bad_rule.status_code == 400 and "no rule with id" in bad_rule.text
            bad_time = await client.post(
                "/actions/silence", data={"rule": RULE, "duration": "soon", "csrf": csrf}
            )
            assert bad_time.status_code == 400 and "duration" in bad_time.text

        run(tmp_path, scenario)

    def test_retry_puts_a_failed_delivery_back_and_retry_all_every_one(
        self, tmp_path: Path
    ) -> None:
        async def scenario(client: httpx.AsyncClient, app: App) -> None:
            now = time.time()
            first = queue(app, "Bombers one", "https://news.example.org/1", now, "k1")
            second = queue(app, "Bombers two", "https://news.example.org/2", now, "k2")
            third = queue(app, "Bombers three", "https://news.example.org/3", now, "k3")
            app.store.mark_failed([first, second, third], "ops", "HTTP 400", now)
            csrf = await unlock(client)
            one = await client.post(
                "/actions/retry", data={"alert": first, "notifier": "ops", "csrf": csrf}
            )
            assert one.status_code == 303
            assert app.store.delivery_counts()["failed"] == 2
            every = await client.post("/actions/retry-failed", data={"csrf": csrf})
            assert every.status_code == 303
            assert app.store.delivery_counts() == {
                "pending": 3,
                "failed": 0,
                "silenced": 0,
                "cooldown": 0,
            }

        run(tmp_path, scenario)


class _Page(HTMLParser):
    """What a browser would build from the HTML: elements, attributes, text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.scripts: list[dict[str, str | None]] = []
        self.hrefs: list[str] = []
        self.handlers: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script":
            self.scripts.append(dict(attrs))
        for name, value in attrs:
            if name.startswith("on"):
                self.handlers.append(name)
            if name == "href" and value is not None:
                self.hrefs.append(value)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


HOSTILE = st.one_of(
    st.text(max_size=80),
    st.sampled_from(
        [
            "<script>alert(1)</script>",
            '"><img src=x onerror=alert(1)>',
            "\u202eevil\u202c headline",
            "</bdi></td></tr></table><script>x()</script>",
            "{{ 7*7 }} {% raw %}",
        ]
    ),
)
LINKS = st.sampled_from(
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        " javascript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        'https://news.example.org/a"onmouseover="x',
        "https://news.example.org/ok",
        "",
    ]
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(title=st.lists(HOSTILE, min_size=1, max_size=3).map(" ".join), link=LINKS)
def test_hostile_headlines_and_links_render_as_text(
    tmp_path_factory: pytest.TempPathFactory, title: str, link: str
) -> None:
    """Whatever a feed puts in a title or link, the page shows it as text: no script runs, no
    handler attribute appears, and only http(s) links become links."""
    root = tmp_path_factory.mktemp("page")

    async def scenario(client: httpx.AsyncClient, app: App) -> None:
        now = time.time()
        alert = queue(app, title, link, now)
        app.store.mark_failed([alert], "ops", title, now)
        html = (await client.get("/")).text
        page = _Page()
        page.feed(html)
        assert page.scripts == [{"src": "/static/live.js", "defer": None}]
        assert page.handlers == []
        for href in page.hrefs:
            assert href.startswith(("/", "#", "https://news.example.org/")), href
        shown = "".join(page.text)
        for line in title.splitlines() or [""]:
            assert line.strip() in shown
        assert html.count(f"<bdi>{_escaped(title)}</bdi>") >= 2  # the headline and the reason

    run(root, scenario)


def _escaped(text: str) -> str:
    return str(escape(text))


def delivery(**fields: object) -> Delivery:
    alert = Alert(
        "alert_x",
        RuleInfo(RULE, "t", Severity.HIGH),
        Item(feed="wire", key="k", title="t", link=""),
        (),
        datetime.fromtimestamp(0, UTC),
    )
    base = Delivery(alert, "ops", "pending", 0, 0.0, None, 0.0)
    return dataclasses.replace(base, **fields)  # type: ignore[arg-type]


class TestViews:
    def test_a_digest_hold_is_named(self) -> None:
        """A delivery held for a digest says so, with the release time."""
        held = delivery(hold_until=2000.0, group="digest 08:00 UTC until 2000")
        assert release(held, now=1000.0).reason == "daily digest"
        assert release(held, now=1000.0).at == 2000.0

    def test_quiet_hours_without_a_group(self) -> None:
        assert release(delivery(hold_until=5000.0), now=1000.0).reason == "quiet hours"

    def test_pages_are_clamped(self) -> None:
        """A page number past the end, or not a number, shows a page that exists."""
        assert Page.of("99", total=120).number == 3
        assert Page.of("x", total=120).number == 1
        assert Page.of("0", total=0).number == 1

    def test_never_polled_feeds_are_listed_as_such(self) -> None:
        from monitor.config import FeedSettings

        rows = feed_rows([FeedSettings("new", "http://x/", 60, 10)], {}, now=1000.0)
        assert rows[0].next_poll is None and rows[0].items_seen == 0


class TestTokenConfig:
    def test_a_short_token_is_refused_with_file_and_line(self, tmp_path: Path) -> None:
        """A guessable token is an error naming where it is, without echoing it."""
        config = write_config(tmp_path, token="short-secret")
        with pytest.raises(ConfigError) as error:
            load_config(config)
        assert f"{config}:8:" in str(error.value) and "16 characters" in str(error.value)
        assert "short-secret" not in str(error.value)

    def test_an_unset_variable_with_an_empty_default_means_read_only(self, tmp_path: Path) -> None:
        config = write_config(tmp_path, token=None)
        config.write_text(
            config.read_text() + "http: {listen: '127.0.0.1:8080', token: '${NM_UNSET_TOKEN:-}'}\n"
        )
        assert load_config(config, env={}).http_token is None
