"""Benchmark: the page at `/` over a state of 100,000 stored items.

Fills a real SQLite state (items, alerts, deliveries in every status, failing and healthy feeds),
then times requests to the real Starlette app in-process (no socket, so the figure is the
server's own cost: queries plus rendering), and prints the query plan of each listing's query
so an unindexed scan shows up.

Run one measurement: `python -m bench.page --items 100000 --runs 20`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bench.proc import emit
from monitor.app import App
from monitor.config import load_config
from monitor.health import Health
from monitor.models import (
    Alert,
    Item,
    LadderInfo,
    RuleInfo,
    Severity,
    StoryInfo,
    StoryReport,
    alert_id,
)
from monitor.web import build_web_app

FEEDS = 200
STATUSES = (
    ("sent", 0.80),
    ("pending", 0.05),
    ("failed", 0.08),
    ("silenced", 0.05),
    ("cooldown", 0.02),
)
RUNGS = 5
RULES = (
    "ladder:\n  id: theatre\n  title: Bench theatre\n  rungs:\n"
    + "".join(f"    - rung-{r}\n" for r in range(1, RUNGS + 1))
    + "rules:\n"
    + "".join(
        f"  - id: rung-{r}\n    title: Rung {r}\n    severity: {Severity(min(r, 4)).label}\n"
        f"    match: {{any: [word{r}]}}\n"
        for r in range(1, RUNGS + 1)
    )
)
PER_STORY = 5  # items per story: 100,000 items are 20,000 stories


def fill(app: App, items: int, now: float) -> dict[str, int]:
    """`items` items over FEEDS feeds, PER_STORY to a story, each story one alert message on
    the ladder (rung by story), its delivery in a weighted status; the trend's marks."""
    db = app.store.db
    item_rows, story_rows, member_rows, alert_rows, delivery_rows, mark_rows = (
        [],
        [],
        [],
        [],
        [],
        [],
    )
    counts = {status: 0 for status, _ in STATUSES}
    cut = [0.0]
    for _, share in STATUSES:
        cut.append(cut[-1] + share)
    stories = items // PER_STORY
    for s in range(stories):
        story_id = f"story_{s:08d}"
        first = now - (stories - s) * 30.0  # a story every 30 s: 20,000 stories are a week
        reports = []
        for m in range(PER_STORY):
            n = s * PER_STORY + m
            feed = f"feed-{n % FEEDS}"
            item = Item(
                feed,
                f"key-{n}",
                f"US bombers fly sortie {s} near the coast, report {m}",
                f"https://news.example.org/{n}",
            )
            seen = first + m
            item_rows.append((feed, item.key, item.title, item.link, "", "", None, seen))
            rung = 1 + s % RUNGS
            member_rows.append(
                (
                    feed,
                    item.key,
                    story_id,
                    item.title,
                    item.link,
                    f"outlet{n % 40}.example",
                    f"outlet{n % 40}.example",
                    seen,
                    None,
                    "{}",
                    "[]",
                    f",rung-{rung},",
                    seen,
                )
            )
            reports.append(
                StoryReport(
                    item.title,
                    item.link,
                    feed,
                    f"outlet{n % 40}.example",
                    f"outlet{n % 40}.example",
                )
            )
        rung = 1 + s % RUNGS
        rule = RuleInfo(f"rung-{rung}", f"Rung {rung}", Severity(min(rung, 4)))
        last = first + PER_STORY - 1
        story_rows.append((story_id, reports[0].title, first, last, PER_STORY, first, last))
        mark_rows.append(("theatre", story_id, rung, rule.id, first))
        alert = Alert(
            alert_id("ladder:theatre", story_id),
            rule,
            item,
            ("bombers",),
            datetime.fromtimestamp(last, UTC),
            story=StoryInfo(
                story_id,
                reports[0].title,
                PER_STORY,
                datetime.fromtimestamp(first, UTC),
                datetime.fromtimestamp(last, UTC),
                tuple(reports),
            ),
            rules=(rule.id,),
            ladder=LadderInfo("theatre", "Bench theatre", rung, RUNGS),
            escalation="step_up" if s % 50 == 0 else None,
        )
        alert_rows.append(
            (
                alert.message_id,
                rule.id,
                int(rule.severity),
                item.feed,
                item.key,
                json.dumps(alert.payload()),
                last,
                alert.id,
                story_id,
                alert.event,
            )
        )
        position = s / stories
        status = next(
            st
            for (st, _), low, high in zip(STATUSES, cut, cut[1:], strict=True)
            if low <= position < high
        )
        counts[status] += 1
        error = {
            "failed": "HTTP 400 from receiver",
            "silenced": "silence 1: rule rung-1",
            "cooldown": "cooldown of rule rung-1",
        }.get(status)
        delivery_rows.append(
            (alert.message_id, "ops", status, 1, now + 60, error, last, last, last, None)
        )
    with app.store.transaction():
        db.executemany(
            "INSERT INTO items (feed, key, title, link, summary, content, published,"
            " first_seen_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            item_rows,
        )
        db.executemany(
            "INSERT INTO stories (id, title, first_at, last_at, sources, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            story_rows,
        )
        db.executemany(
            """INSERT INTO story_items (feed, item_key, story_id, title, link, outlet, source, at,
                   published, features, hits, rules, added_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            member_rows,
        )
        db.executemany(
            "INSERT INTO ladder_marks (ladder, story_id, rung, rule_id, at) VALUES (?, ?, ?, ?, ?)",
            mark_rows,
        )
        db.executemany(
            """INSERT INTO alerts (id, rule_id, severity, feed, item_key, payload, created_at,
                   alert_key, story_id, event) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            alert_rows,
        )
        db.executemany(
            """INSERT INTO deliveries (alert_id, notifier, status, attempts, next_attempt_at, last_error,
                   created_at, updated_at, hold_until, group_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            delivery_rows,
        )
        db.executemany(
            # Opening the app already made the configured feeds known: fill in their health.
            """INSERT INTO feeds (name, url, last_polled_at, last_success_at, consecutive_failures,
                   last_error, items_seen) VALUES (?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (name) DO UPDATE SET url = excluded.url,
                   last_polled_at = excluded.last_polled_at,
                   last_success_at = excluded.last_success_at,
                   consecutive_failures = excluded.consecutive_failures,
                   last_error = excluded.last_error, items_seen = excluded.items_seen""",
            [
                (
                    f"feed-{f}",
                    f"http://127.0.0.1:9/{f}.xml",
                    now - 30,
                    now - 30 - (f % 7) * 600,
                    3 if f % 7 == 0 else 0,
                    "HTTP 503 from upstream" if f % 7 == 0 else None,
                    items // FEEDS,
                )
                for f in range(FEEDS)
            ],
        )
    db.execute("ANALYZE")
    return counts


def plans(app: App) -> dict[str, str]:
    """SQLite's plan for each listing query of the page, as one line each."""
    queries = {
        "pending page": (
            "SELECT d.*, a.payload FROM deliveries d JOIN alerts a ON a.id = d.alert_id WHERE d.status = 'pending' ORDER BY d.hold_until, d.next_attempt_at LIMIT 50 OFFSET 0",
            (),
        ),
        "failed page": (
            "SELECT d.*, a.payload FROM deliveries d JOIN alerts a ON a.id = d.alert_id WHERE d.status = 'failed' ORDER BY d.updated_at DESC, d.alert_id DESC, d.notifier DESC LIMIT 50 OFFSET 0",
            (),
        ),
        "stories of one rule": (
            "SELECT s.id FROM stories s WHERE s.last_at >= ? AND EXISTS (SELECT 1 FROM story_items i WHERE i.story_id = s.id AND i.rules LIKE ?) ORDER BY s.last_at DESC, s.id DESC LIMIT 51 OFFSET 0",
            (0, "%,rung-3,%"),
        ),
        "critical stories": (
            "SELECT s.id FROM stories s WHERE EXISTS (SELECT 1 FROM alerts a WHERE a.story_id = s.id AND a.severity >= 4) ORDER BY s.last_at DESC, s.id DESC LIMIT 51 OFFSET 0",
            (),
        ),
        "trend": (
            "SELECT CAST(at AS BIGINT) / 86400 AS day, max(rung), count(*) FROM ladder_marks WHERE ladder = 'theatre' AND at >= 0 GROUP BY 1",
            (),
        ),
        "count by status": ("SELECT count(*) FROM deliveries WHERE status = 'failed'", ()),
    }
    return {
        name: "; ".join(
            row["detail"] for row in app.store.db.execute("EXPLAIN QUERY PLAN " + sql, params)
        )
        for name, (sql, params) in queries.items()
    }


async def time_requests(app: App, runs: int) -> dict[str, Any]:
    web = build_web_app(Health(time.time(), ready=True), app)
    transport = httpx.ASGITransport(app=web)
    results: dict[str, Any] = {}
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        for name, url, headers in (
            ("page", "/", {}),
            ("live part", "/", {"X-Live": "1"}),
            ("failed, page 100", "/?failed=100", {}),
            ("stories of one rule", "/?rule=rung-3&since=all", {}),
            ("critical stories", "/?severity=critical&since=all", {}),
            ("stories, page 200", "/?since=all&stories=200", {}),
            ("one story", "/stories/story_00000100", {}),
        ):
            await client.get(url, headers=headers)  # templates compiled, caches warm
            samples = []
            size = 0
            for _ in range(runs):
                started = time.perf_counter()
                response = await client.get(url, headers=headers)
                samples.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, response.status_code
                size = len(response.content)
            results[name] = {
                "median_ms": statistics.median(samples),
                "max_ms": max(samples),
                "kb": size / 1024,
            }
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "rules.yaml").write_text(RULES)
        feeds = "".join(
            f"  - {{name: feed-{f}, url: 'http://127.0.0.1:9/{f}.xml'}}\n" for f in range(FEEDS)
        )
        (root / "config.yaml").write_text(
            "state: state.db\nrules: [rules.yaml]\nfeeds:\n"
            + feeds
            + "notifiers:\n  - {name: ops, type: log}\n"
        )
        app = App.open(load_config(root / "config.yaml"))
        try:
            now = time.time()
            started = time.perf_counter()
            counts = fill(app, args.items, now)
            fill_s = time.perf_counter() - started
            timings = asyncio.run(time_requests(app, args.runs))
            query_plans = plans(app)
        finally:
            asyncio.run(app.close())
    emit(
        {
            "items": args.items,
            "deliveries": counts,
            "fill_s": fill_s,
            "requests": timings,
            "plans": query_plans,
        }
    )


if __name__ == "__main__":
    main()
