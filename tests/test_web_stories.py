"""Stories and the escalation trend on the page, over state the real pipeline recorded: feeds
served on loopback, polled by `news-monitor once`, alerts sent to a real webhook receiver."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from monitor.app import App
from monitor.config import load_config
from monitor.health import Health
from monitor.web import build_web_app
from tests.feedgen import Story
from tests.servers import FeedServer, WebhookReceiver
from tests.test_stories import STRIKE_A, STRIKE_B, once, serve, write_config

BUILDUP = Story(
    "n-1",
    "Warships gather in the Caribbean as Venezuela tensions rise",
    "Three destroyers joined the group near Venezuela on Saturday.",
    age=timedelta(days=3),
)


@pytest.fixture
def pages(
    tmp_path: Path,
    state: Path | str,
    feed_server: FeedServer,
    webhook_receiver: WebhookReceiver,
) -> Iterator[dict[str, str]]:
    """Two outlets report one boat strike (rung 2) today; a naval buildup (rung 1) three days
    ago, in a state on each backend. Yields each page's status and HTML by path, from the real
    app."""
    feeds = {
        "alpha": serve(feed_server, "alpha", [BUILDUP, STRIKE_A]),
        "beta": serve(feed_server, "beta", []),
    }
    config = write_config(tmp_path, feeds, webhook=webhook_receiver.url())
    if isinstance(state, str):
        config.write_text(config.read_text().replace("state: data/state.db", f"state: '{state}'"))
    assert once(config) == 0
    serve(feed_server, "beta", [STRIKE_B])
    assert once(config) == 0
    cache: dict[str, str] = {}

    async def fetch(paths: list[str]) -> None:
        async with App.open(load_config(config)) as app:
            web = build_web_app(Health(time.time(), ready=True), app)
            transport = httpx.ASGITransport(app=web)
            async with httpx.AsyncClient(transport=transport, base_url="http://x") as client:
                for path in paths:
                    response = await client.get(path)
                    cache[path] = f"{response.status_code}\n{response.text}"
                home = cache["/"]
                for story in re.findall(r'href="(/stories/[^"]+)"', home):
                    cache[story] = f"{(r := await client.get(story)).status_code}\n{r.text}"

    asyncio.run(
        fetch(
            [
                "/",
                "/?ladder=theatre",
                "/?severity=critical",
                "/?rule=boat-strike",
                "/?rule=naval-buildup",
                "/?since=24h",
                "/?since=all",
                "/stories/no-such-story",
            ]
        )
    )
    yield cache


def section(html: str, element_id: str) -> str:
    start = html.index(f'id="{element_id}"')
    return html[start : html.index("</section>", start)]


def story_items(html: str) -> list[str]:
    return re.findall(
        r'<li class="story[^"]*" id="story-[^"]+">.*?</li>', section(html, "stories"), re.S
    )


class TestStoriesList:
    def test_the_story_shows_severity_rung_sources_outlets_rules_and_step_up(
        self, pages: dict[str, str]
    ) -> None:
        [strike, buildup] = story_items(pages["/?since=all"])
        assert "kills three" in strike  # newest first
        assert "sev-high" in strike and "rung 2 of 3" in strike
        assert "2 independent sources" in strike
        assert "alpha.example" in strike and "beta.example" in strike
        assert "boat-strike" in strike
        assert 'class="story step-up"' in strike and "step-up</strong>" in strike
        assert "sev-medium" in buildup and "rung 1 of 3" in buildup
        assert "1 independent source" in buildup

    def test_matched_words_are_highlighted_in_the_headline(self, pages: dict[str, str]) -> None:
        [strike, _] = story_items(pages["/?since=all"])
        marked = re.findall(r"<mark>(.*?)</mark>", strike)
        assert {m.lower() for m in marked} >= {"strike", "boat"}

    def test_filters_by_ladder_severity_rule_and_time(self, pages: dict[str, str]) -> None:
        def titles(path: str) -> list[str]:
            return [
                ("kills three" in s and "strike") or "buildup" for s in story_items(pages[path])
            ]

        assert titles("/?since=all") == ["strike", "buildup"]
        assert titles("/?ladder=theatre") == ["strike", "buildup"]  # default: the last 7 days
        assert titles("/?severity=critical") == []
        assert titles("/?rule=boat-strike") == ["strike"]
        assert titles("/?rule=naval-buildup") == ["buildup"]
        assert titles("/?since=24h") == ["strike"]
        assert "No stories match these filters" in pages["/?severity=critical"]


class TestStoryPage:
    def test_a_story_opens_to_its_items_and_alert_history(self, pages: dict[str, str]) -> None:
        [strike_path] = [
            p
            for p, html in pages.items()
            if p.startswith("/stories/") and "kills three" in html and html.startswith("200")
        ]
        html = pages[strike_path]
        assert STRIKE_A.title in re.sub(r"</?mark>", "", html)
        assert STRIKE_B.title in re.sub(r"</?mark>", "", html)
        assert "Items (2)" in html
        history = html[html.index('id="history"') :]
        assert "created" in history and "updated" in history
        assert history.count(">ops<") >= 2 and "sent" in history

    def test_an_unknown_story_is_a_404_that_says_so(self, pages: dict[str, str]) -> None:
        assert pages["/stories/no-such-story"].startswith("404")
        assert "no story" in pages["/stories/no-such-story"]


class TestTrend:
    def test_today_and_three_days_ago_have_their_highest_rung(self, pages: dict[str, str]) -> None:
        trend = section(pages["/"], "trend")
        today = datetime.now(UTC).date()
        dots = dict(re.findall(r'data-day="([0-9-]+)"><title>[^<]*rung (\d) of 3', trend))
        assert dots[today.isoformat()] == "2"
        assert dots[(today - timedelta(days=3)).isoformat()] == "1"
        assert "today rung 2 of 3" in trend
