"""One alert per story, against real servers: outlets and copies, updates, restarts, retries,
`min_sources`, opinion, the escalation step-up, and what `stories` shows."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from monitor.cli import main
from tests.feedgen import Story, rss
from tests.servers import FeedServer, SmtpSink, WebhookReceiver

RULES = """\
ladder:
  id: theatre
  title: Test theatre
  rungs:
    - naval-buildup
    - boat-strike
    - strike-inside
rules:
  - id: naval-buildup
    title: Warships massing
    severity: medium
    match:
      all:
        - any: [warship, warships, destroyer, destroyers]
        - any: [Venezuela, Caribbean]
  - id: boat-strike
    title: Lethal strike on a boat
    severity: high
    match:
      all:
        - any: [strike, struck]
        - any: [boat, vessel]
        - any: [killed, kills, dead]
  - id: strike-inside
    title: Strike on the target's soil
    severity: critical
    match:
      all:
        - any: [airstrike, airstrikes]
        - any: [airfield, base]
  - id: confirmed-strike
    title: Strike confirmed by three outlets
    severity: high
    min_sources: 3
    match:
      all:
        - any: [strike, struck]
        - any: [boat, vessel]
"""

STRIKE_A = Story(
    "a-1",
    "US military strike on a drug boat in the Caribbean kills three",
    "The Pentagon said the vessel was struck in international waters on Tuesday.",
    age=timedelta(hours=2),
)
STRIKE_B = Story(
    "b-1",
    "Three dead after American forces hit a suspected smuggling boat off Venezuela",
    "Defense officials confirmed the Caribbean strike, carried out on Tuesday.",
    age=timedelta(hours=1),
)
STRIKE_C = Story(
    "c-1",
    "Hegseth confirms Caribbean boat strike that killed three",
    "The defense secretary said the boat was destroyed on Tuesday by US forces.",
    age=timedelta(minutes=30),
)
WIRE_TEXT = (
    "WASHINGTON (AP) — The U.S. military struck a boat in the Caribbean on Tuesday, killing "
    "three people aboard a vessel officials said was carrying drugs toward the United States."
)


def write_config(tmp_path: Path, feeds: dict[str, str], *, webhook: str, extra: str = "") -> Path:
    rules = tmp_path / "rules"
    rules.mkdir(exist_ok=True)
    (rules / "theatre.yaml").write_text(RULES)
    lines = [
        "state: data/state.db",
        "rules: [rules/]",
        "max_age: 7d",
        "defaults: {interval: 1s, timeout: 2s}",
        "feeds:",
        *(f"  - {{name: {name}, url: '{url}'}}" for name, url in feeds.items()),
        "notifiers:",
        f"  - {{name: ops, type: webhook, url: '{webhook}'}}",
    ]
    path = tmp_path / "config.yaml"
    path.write_text("\n".join(lines) + "\n" + extra)
    return path


def once(config: Path) -> int:
    return main(["once", "--config", str(config)])


def ladder_messages(receiver: WebhookReceiver) -> list[dict[str, Any]]:
    return [p for p in receiver.payloads() if p["ladder"] is not None]


def serve(feed_server: FeedServer, name: str, stories: list[Story]) -> str:
    return feed_server.serve(f"/{name}.xml", rss(stories, site=f"{name}.example"))


class TestOneAlertPerStory:
    def test_two_outlets_reporting_one_strike_give_one_alert_and_one_update(
        self, tmp_path: Path, feed_server: FeedServer, webhook_receiver: WebhookReceiver
    ) -> None:
        """The second outlet's report updates the alert (same id, new webhook-id, 2 sources)."""
        feeds = {
            "alpha": serve(feed_server, "alpha", [STRIKE_A]),
            "beta": serve(feed_server, "beta", []),
        }
        config = write_config(tmp_path, feeds, webhook=webhook_receiver.url())
        assert once(config) == 0
        serve(feed_server, "beta", [STRIKE_B])
        assert once(config) == 0

        created, updated = ladder_messages(webhook_receiver)
        assert (created["event"], updated["event"]) == ("alert.created", "alert.updated")
        assert created["id"] == updated["id"]
        assert created["message_id"] != updated["message_id"]
        hooks = [h for h in webhook_receiver.received if h.json()["ladder"]]
        assert [h.headers["webhook-id"] for h in hooks] == [
            created["message_id"],
            updated["message_id"],
        ]
        assert (created["story"]["sources"], updated["story"]["sources"]) == (1, 2)
        assert updated["changes"] == ["sources 1 -> 2"]
        assert {i["outlet"] for i in updated["story"]["items"]} == {"alpha.example", "beta.example"}

    def test_one_once_run_places_reports_in_the_order_they_were_published(
        self, tmp_path: Path, feed_server: FeedServer, webhook_receiver: WebhookReceiver
    ) -> None:
        """Two outlets read in one run: the alert is created by the report published first and
        updated by the later one, though the later one's feed answered first (a day of news
        read by one `once` clusters as live polling would have)."""
        feeds = {
            "alpha": serve(feed_server, "alpha", [STRIKE_B]),
            "beta": feed_server.serve("/beta.xml", rss([STRIKE_A], site="beta.example"), delay=1.0),
        }
        config = write_config(tmp_path, feeds, webhook=webhook_receiver.url())
        assert once(config) == 0

        created, updated = ladder_messages(webhook_receiver)
        assert (created["event"], updated["event"]) == ("alert.created", "alert.updated")
        assert (created["item"]["title"], updated["item"]["title"]) == (
            STRIKE_A.title,
            STRIKE_B.title,
        )
        assert (created["story"]["sources"], updated["story"]["sources"]) == (1, 2)

    def test_a_report_no_rule_matched_still_counts_as_a_confirming_outlet(
        self, tmp_path: Path, feed_server: FeedServer, webhook_receiver: WebhookReceiver
    ) -> None:
        """An outlet whose wording no rule catches (no "killed") still confirms the strike: the
        alert is updated to two sources; a report of something else stays out."""
        feeds = {
            "alpha": serve(feed_server, "alpha", [STRIKE_A]),
            "beta": serve(feed_server, "beta", []),
        }
        config = write_config(tmp_path, feeds, webhook=webhook_receiver.url())
        assert once(config) == 0
        unmatched = Story(
            "b-2",
            "Pentagon confirms US military attack on a drug boat in the Caribbean",
            "The Pentagon said the vessel was hit in international waters on Tuesday; three aboard.",
            age=timedelta(hours=1),
        )
        elsewhere = Story(
            "b-3",
            "Caribbean cruise lines add a boat to their winter fleet",
            "A new vessel joins the fleet in the Caribbean in December.",
            age=timedelta(minutes=50),
        )
        serve(feed_server, "beta", [unmatched, elsewhere])
        assert once(config) == 0

        created, updated = ladder_messages(webhook_receiver)
        assert (created["event"], updated["event"]) == ("alert.created", "alert.updated")
        assert created["id"] == updated["id"]
        assert updated["story"]["sources"] == 2
        assert updated["changes"] == ["sources 1 -> 2"]
        titles = {i["title"] for i in updated["story"]["items"]}
        assert titles == {STRIKE_A.title, unmatched.title}

    def test_two_strikes_with_the_same_toll_on_different_days_are_two_alerts(
        self, tmp_path: Path, feed_server: FeedServer, webhook_receiver: WebhookReceiver
    ) -> None:
        """Same wording, same toll, three days apart: two occurrences, two alerts."""
        earlier = Story(
            "old",
            "US strike on a boat in the Caribbean kills three",
            "The military said the vessel was struck on Saturday in international waters.",
            age=timedelta(days=3),
        )
        later = Story(
            "new",
            "US strike on a boat in the Caribbean kills three",
            "The military said the vessel was struck on Tuesday in international waters.",
            age=timedelta(minutes=5),
        )
        feeds = {"wire": serve(feed_server, "wire", [earlier, later])}
        config = write_config(tmp_path, feeds, webhook=webhook_receiver.url())
        assert once(config) == 0
        messages = ladder_messages(webhook_receiver)
        assert [m["event"] for m in messages] == ["alert.created", "alert.created"]
        assert len({m["id"] for m in messages}) == 2
        assert len({m["story"]["id"] for m in messages}) == 2

    def test_an_archive_replayed_today_clusters_by_when_it_was_published(
        self, tmp_path: Path, feed_server: FeedServer, webhook_receiver: WebhookReceiver
    ) -> None:
        """Two outlets on one strike seven months ago, and a look-alike strike five months ago,
        replayed through `once` today: two stories, as live polling would have made them, not
        one because all three were first seen today."""
        first = Story(
            "old-1",
            "US strike on a boat in the Caribbean kills three",
            "The military said the vessel was hit in international waters.",
            age=timedelta(days=210),
        )
        confirmed = Story(
            "old-2",
            "Three killed as US forces strike a boat in the Caribbean",
            "Officials said the vessel was hit in international waters.",
            age=timedelta(days=210) - timedelta(hours=3),
        )
        lookalike = Story(
            "later-1",
            "US strike on a boat in the Caribbean kills three",
            "The military said the vessel was hit in international waters.",
            age=timedelta(days=150),
        )
        feeds = {
            "wire": serve(feed_server, "wire", [first, lookalike]),
            "daily": serve(feed_server, "daily", [confirmed]),
        }
        config = write_config(tmp_path, feeds, webhook=webhook_receiver.url())
        config.write_text(config.read_text().replace("max_age: 7d", "max_age: 3650d"))
        assert once(config) == 0
        sources: dict[str, int] = {}
        for message in ladder_messages(webhook_receiver):
            story = message["story"]
            sources[story["id"]] = max(sources.get(story["id"], 0), story["sources"])
        assert sorted(sources.values()) == [1, 2]

    def test_three_copies_of_one_wire_story_count_as_one_source(
        self, tmp_path: Path, feed_server: FeedServer, webhook_receiver: WebhookReceiver
    ) -> None:
        """Credited copies and one whose credit line was cut: one source, one alert, no update."""
        stripped = WIRE_TEXT.removeprefix("WASHINGTON (AP) — ")
        feeds = {
            "first": serve(
                feed_server, "first", [Story("w1", "US strike on drug boat kills 3", WIRE_TEXT)]
            ),
            "second": serve(
                feed_server, "second", [Story("w2", "Boat strike kills three, US says", WIRE_TEXT)]
            ),
            "third": serve(
                feed_server,
                "third",
                [Story("w3", "US military boat strike leaves 3 dead", stripped)],
            ),
        }
        config = write_config(tmp_path, feeds, webhook=webhook_receiver.url())
        assert once(config) == 0
        [message] = ladder_messages(webhook_receiver)
        assert message["event"] == "alert.created"
        story = json.loads(stories_json(tmp_path, config)[0])
        assert story["sources"] == 1
        assert story["independent"] == ["AP"]
        assert len(story["items"]) == 3

    def test_a_restart_in_the_middle_of_a_story_neither_forgets_nor_resends(
        self, tmp_path: Path, feed_server: FeedServer, webhook_receiver: WebhookReceiver
    ) -> None:
        """Each `once` is a new process on the same state file: the story carries on."""
        feeds = {
            "alpha": serve(feed_server, "alpha", [STRIKE_A]),
            "beta": serve(feed_server, "beta", []),
        }
        config = write_config(tmp_path, feeds, webhook=webhook_receiver.url())
        assert once(config) == 0
        assert once(config) == 0  # nothing new: nothing sent again
        assert len(ladder_messages(webhook_receiver)) == 1
        serve(feed_server, "beta", [STRIKE_B])
        assert once(config) == 0
        created, updated = ladder_messages(webhook_receiver)
        assert updated["event"] == "alert.updated" and updated["id"] == created["id"]
        assert updated["version"] == 2

    def test_a_failed_update_is_retried_under_its_own_webhook_id(
        self, tmp_path: Path, feed_server: FeedServer, webhook_receiver: WebhookReceiver
    ) -> None:
        """The update's retry carries the update's webhook-id, never the creation's."""
        feeds = {
            "alpha": serve(feed_server, "alpha", [STRIKE_A]),
            "beta": serve(feed_server, "beta", []),
        }
        config = write_config(tmp_path, feeds, webhook=webhook_receiver.url())
        assert once(config) == 0
        serve(feed_server, "beta", [STRIKE_B])
        webhook_receiver.fail_next = 1
        assert once(config) == 4  # the update meets a 503 and waits for its retry
        assert once(config) == 0  # `once` sends what waits for a retry at once
        [failed] = [h for h in webhook_receiver.rejected if h.json()["ladder"]]
        created, retried = (h for h in webhook_receiver.received if h.json()["ladder"])
        assert failed.json()["event"] == retried.json()["event"] == "alert.updated"
        assert failed.headers["webhook-id"] == retried.headers["webhook-id"]
        assert retried.headers["webhook-id"] != created.headers["webhook-id"]
        assert failed.body == retried.body

    def test_a_min_sources_rule_waits_for_three_independent_sources(
        self, tmp_path: Path, feed_server: FeedServer, webhook_receiver: WebhookReceiver
    ) -> None:
        """`min_sources: 3` sends nothing for one or two outlets, and one alert at the third."""
        feeds = {name: serve(feed_server, name, []) for name in ("alpha", "beta", "gamma")}
        config = write_config(tmp_path, feeds, webhook=webhook_receiver.url())
        for name, story in (("alpha", STRIKE_A), ("beta", STRIKE_B)):
            serve(feed_server, name, [story])
            assert once(config) == 0
        confirmed = [
            p for p in webhook_receiver.payloads() if p["rule"]["id"] == "confirmed-strike"
        ]
        assert confirmed == []
        serve(feed_server, "gamma", [STRIKE_C])
        assert once(config) == 0
        confirmed = [
            p for p in webhook_receiver.payloads() if p["rule"]["id"] == "confirmed-strike"
        ]
        assert [(p["event"], p["story"]["sources"]) for p in confirmed] == [("alert.created", 3)]

    def test_opinion_never_joins_a_story_nor_alerts(
        self, tmp_path: Path, feed_server: FeedServer, webhook_receiver: WebhookReceiver
    ) -> None:
        """A column retelling the strike is not a report: no story, no source, no message."""
        column = Story(
            "op-1",
            "Opinion: The US strike that killed three on a boat was a mistake",
            "Killing people on a vessel without trial should worry everyone.",
        )
        feeds = {
            "alpha": serve(feed_server, "alpha", [STRIKE_A]),
            "views": serve(feed_server, "views", [column]),
        }
        config = write_config(tmp_path, feeds, webhook=webhook_receiver.url())
        assert once(config) == 0
        assert [p["item"]["title"] for p in webhook_receiver.payloads()] == [STRIKE_A.title]
        [story] = [json.loads(line) for line in stories_json(tmp_path, config)]
        assert story["sources"] == 1


class TestEscalation:
    def test_a_story_above_every_recent_rung_is_a_step_up(
        self, tmp_path: Path, feed_server: FeedServer, webhook_receiver: WebhookReceiver
    ) -> None:
        """Buildup then strike step up the ladder; another buildup does not; routes can select it."""
        buildup = Story("n1", "Three US destroyers sail into the Caribbean near Venezuela", "")
        buildup_again = Story(
            "n2", "A fourth warship joins the flotilla off Venezuela", "The cruiser arrived Friday."
        )
        feeds = {"wire": serve(feed_server, "wire", [buildup])}
        extra = (
            "  - {name: duty, type: webhook, url: '" + webhook_receiver.url("/duty") + "'}\n"
            "routes:\n  - {notify: [ops]}\n  - {notify: [duty], escalation: step_up}\n"
        )
        config = write_config(tmp_path, feeds, webhook=webhook_receiver.url(), extra=extra)
        assert once(config) == 0
        serve(feed_server, "wire", [buildup, STRIKE_A])
        assert once(config) == 0
        serve(feed_server, "wire", [buildup, STRIKE_A, buildup_again])
        assert once(config) == 0
        ops = [h.json() for h in webhook_receiver.received if h.path == "/hook"]
        steps = [(p["ladder"]["rung"], p["escalation"]) for p in ops if p["ladder"]]
        assert steps == [(1, "step_up"), (2, "step_up"), (1, None)]
        duty = [h.json()["ladder"]["rung"] for h in webhook_receiver.received if h.path == "/duty"]
        assert duty == [1, 2]

    def test_status_shows_each_ladder_and_its_trend(
        self,
        tmp_path: Path,
        feed_server: FeedServer,
        webhook_receiver: WebhookReceiver,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        """`status` names the ladder's current rung and a two-week trend."""
        config = write_config(
            tmp_path,
            {"alpha": serve(feed_server, "alpha", [STRIKE_A])},
            webhook=webhook_receiver.url(),
        )
        assert once(config) == 0
        capsys.readouterr()
        assert main(["status", "--config", str(config)]) == 0
        out = capsys.readouterr().out
        assert "theatre (Test theatre): rung 2 of 3 (boat-strike)" in out
        assert "last 14 days" in out


class TestEmailThreads:
    def test_an_update_replies_to_the_first_message(
        self, tmp_path: Path, feed_server: FeedServer, smtp_sink: SmtpSink
    ) -> None:
        """Mail clients thread a story: the update's In-Reply-To is the creation's Message-ID."""
        feeds = {
            "alpha": serve(feed_server, "alpha", [STRIKE_A]),
            "beta": serve(feed_server, "beta", []),
        }
        extra = (
            "  - {name: desk, type: email, host: 127.0.0.1, port: "
            f"{smtp_sink.port}, security: none, from: monitor@example.org, to: [desk@example.org]}}\n"
            "routes:\n  - {notify: [desk], rules: [boat-strike]}\n"
        )
        config = write_config(tmp_path, feeds, webhook="http://127.0.0.1:9/unused", extra=extra)
        assert once(config) == 0
        serve(feed_server, "beta", [STRIKE_B])
        assert once(config) == 0
        first, update = smtp_sink.messages
        assert update["In-Reply-To"] == first["Message-ID"]
        assert update["References"] == first["Message-ID"]
        assert update["Subject"].startswith("Re: ")
        assert "sources 1 -> 2" in update["Subject"]


def stories_json(tmp_path: Path, config: Path) -> list[str]:
    out = tmp_path / "stories.jsonl"
    import contextlib
    import io

    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        assert main(["stories", "--config", str(config), "--json", "--since", "30d"]) == 0
    out.write_text(buffer.getvalue())
    return [line for line in buffer.getvalue().splitlines() if line.strip()]
