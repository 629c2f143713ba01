"""Two replicas ingesting two outlets' reports of one strike at the same instant, through the real
poll path on one PostgreSQL database: one story, one `alert.created` (then one update for the
second source), and the story counts both sources.

Each replica is a Store of its own (its own connections) polling its own feed in a thread of
its own; both reach the recording transaction together (a barrier at its start), so without the
advisory lock that recording takes first, both would look for a matching story before either had
written one, and make two.
"""

from __future__ import annotations

import asyncio
import threading
from contextlib import AbstractContextManager
from pathlib import Path

from monitor.config import load_config
from monitor.crunch import Crunch
from monitor.feeds.fetch import Fetcher, make_client
from monitor.poll import PollOutcome, poll_feed
from monitor.rules import load_rulebook
from monitor.store import Store
from tests.conftest import fresh_schema
from tests.postgres import PostgresServer
from tests.servers import FeedServer
from tests.test_stories import STRIKE_A, STRIKE_B, serve, write_config

ROUNDS = 3  # each on a fresh database: a race lost by chance once is unlikely thrice


class RacingStore(Store):
    """A replica's store whose recording transaction starts only when the other's does."""

    def __init__(self, state: str, start: threading.Barrier) -> None:
        super().__init__(state)
        self.start = start

    def transaction(self) -> AbstractContextManager[None]:
        self.start.wait(timeout=60)
        return super().transaction()


def replica(config: Path, state: str, feed: str, start: threading.Barrier) -> PollOutcome:
    settings = load_config(config)
    rulebook = load_rulebook(list(settings.rules))

    async def run() -> PollOutcome:
        async with make_client() as client:
            with RacingStore(state, start) as store:
                return await poll_feed(
                    settings.feed(feed),
                    fetcher=Fetcher(client),
                    store=store,
                    rulebook=rulebook,
                    routes=settings.routes,
                    max_age=settings.max_age,
                    crunch=Crunch(1),  # parse and match here: the race is in the recording
                )

    return asyncio.run(run())


def race(config: Path, state: str, feeds: list[str]) -> dict[str, PollOutcome]:
    """Each feed polled by a replica of its own, their recordings started together."""
    start = threading.Barrier(len(feeds))
    outcomes: dict[str, PollOutcome] = {}
    errors: list[BaseException] = []

    def poll(feed: str) -> None:
        try:
            outcomes[feed] = replica(config, state, feed, start)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=poll, args=(feed,)) for feed in feeds]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    return outcomes


def test_two_replicas_ingesting_one_story_at_once_make_one_story_and_one_alert(
    tmp_path: Path, feed_server: FeedServer, postgres_server: PostgresServer
) -> None:
    """Alpha's and beta's reports land together: the second to record joins the first's story."""
    feeds = {
        "alpha": serve(feed_server, "alpha", [STRIKE_A]),
        "beta": serve(feed_server, "beta", [STRIKE_B]),
    }
    config = write_config(tmp_path, feeds, webhook="http://127.0.0.1:9/hook")
    for _ in range(ROUNDS):
        state = fresh_schema(postgres_server)
        Store(state).close()  # migrated before the race: migrations are not what it is about
        outcomes = race(config, state, list(feeds))
        assert {feed: outcome.status for feed, outcome in outcomes.items()} == {
            "alpha": "new",
            "beta": "new",
        }

        with Store(state) as store:
            stories = store.stories()
            assert len(stories) == 1, [(s.id, s.sources) for s in stories]
            story = stories[0]
            assert story.sources == 2
            assert {report.feed for report in store.story_reports(story.id)} == set(feeds)
            messages = store.messages_of([story.id])[story.id]
        assert sorted((m.event, m.rule.id, m.sources) for m in messages) == [
            ("alert.created", "boat-strike", 1),
            ("alert.updated", "boat-strike", 2),
        ]
        assert len({m.id for m in messages}) == 1  # one alert, told twice
