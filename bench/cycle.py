"""Benchmark 2: a full poll cycle at scale through the daemon's own `App.cycle`.

One measurement process per scale: it writes a config.yaml for N feeds of the bench server
(a webhook notifier to the server's receiver, a generated rulebook), opens the real App, then
either runs a measured cold cycle (empty state) or primes the state from what the server says
a client would remember (validators, body hashes, item keys: a cold cycle over 10,000 feeds would
take minutes and is not what issue 7 asks for). Then each steady-state run advances the server
one cycle (10% of feeds get 1-3 new items) and times `App.cycle()`: wall, CPU, outcomes.

Run one measurement: `python -m bench.cycle --port P --feeds 1000 --runs 3 --start cold`.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from bench.corpus import write_rulebook
from bench.proc import cpu_seconds, emit, median


def write_config(
    workdir: Path,
    feed_urls: list[str],
    rules_dir: Path,
    *,
    hook_url: str,
    concurrency: int = 50,
    interval: str = "5m",
) -> Path:
    """A config.yaml for feeds `feed-0`... at `feed_urls`, the rules in `rules_dir`, every alert
    to the webhook `hook_url`, state in `workdir/state/`."""
    lines = [
        f"state: {workdir / 'state' / 'news-monitor.db'}",
        f"rules: [{rules_dir}]",
        "max_age: 24h",
        f"defaults: {{interval: {interval}, timeout: 20s}}",
        f"concurrency: {concurrency}",
        "feeds:",
        *(f'  - {{name: feed-{n}, url: "{url}"}}' for n, url in enumerate(feed_urls)),
        "notifiers:",
        f'  - {{name: hook, type: webhook, url: "{hook_url}"}}',
        "routes:",
        "  - {notify: [hook]}",
    ]
    path = workdir / "config.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def server_config(workdir: Path, port: int, feeds: int, rules: int, concurrency: int) -> Path:
    """A config for `feeds` feeds of the bench server on `port`, alerts to its receiver."""
    base = f"http://127.0.0.1:{port}"
    urls = [f"{base}/feed/{n}" for n in range(feeds)]
    write_rulebook(workdir / "rules", rules)
    return write_config(
        workdir, urls, workdir / "rules", hook_url=f"{base}/hook", concurrency=concurrency
    )


def admin(port: int, path: str, *, post: bool = False) -> Any:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        method="POST" if post else "GET",
        data=b"" if post else None,
    )
    with urllib.request.urlopen(request, timeout=300) as response:
        return json.loads(response.read())


def prime(app: Any, port: int) -> None:
    """Record what a client that has just polled every feed would remember."""
    from monitor.models import Item
    from monitor.store import FeedState

    now = time.time()
    for entry in admin(port, "/admin/state"):
        feed = app.config.feeds[entry["feed"]]
        state = FeedState(
            name=feed.name,
            url=feed.url,
            etag=entry["etag"],
            last_modified=entry["last_modified"],
            body_hash=entry["body_sha256"],
        )
        items = [Item(feed=feed.name, key=guid, title=guid, link=guid) for guid in entry["guids"]]
        app.store.record_poll(state, items, [], now)


async def timed_cycle(app: Any) -> dict[str, Any]:
    cpu = cpu_seconds()
    started = time.perf_counter()
    outcomes, report = await app.cycle()
    wall = time.perf_counter() - started
    statuses = collections.Counter(outcome.status for outcome in outcomes)
    return {
        "wall_s": wall,
        "cpu_s": cpu_seconds() - cpu,
        "feeds_per_s": len(outcomes) / wall,
        "statuses": dict(statuses),
        "new_items": sum(outcome.new_items for outcome in outcomes),
        "alerts": sum(len(outcome.alerts) for outcome in outcomes),
        "report": repr(report),
    }


async def profiled(work: Any, output: Path) -> Any:
    """Await `work` under pyinstrument and write its call tree to `output` (text)."""
    from pyinstrument import Profiler

    profiler = Profiler(interval=0.001, async_mode="enabled")
    profiler.start()
    result = await work
    profiler.stop()
    output.write_text(profiler.output_text(unicode=False, color=False, show_all=False))
    return result


def client_on(transport: str) -> Any:
    """A client of the one HTTP seam on `transport`: "httpx-aiohttp" (what the daemon uses) or
    "httpx" (httpx's own transport, httpcore and h11, for comparison)."""
    import httpx

    from monitor.httpclient import CLIENT_LIMITS, make_client

    if transport == "httpx":
        return make_client(transport=httpx.AsyncHTTPTransport(limits=CLIENT_LIMITS))
    return make_client()


async def use_transport(app: Any, transport: str) -> None:
    """Swap the App's fetch client for one on `transport` (same Fetcher)."""
    from monitor.feeds.fetch import Fetcher

    await app.fetcher.client.aclose()
    app.fetcher = Fetcher(client_on(transport))


async def measure(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    from monitor.app import App
    from monitor.config import load_config

    config = load_config(
        server_config(workdir, args.port, args.feeds, args.rules, args.concurrency)
    )
    result: dict[str, Any] = {
        "feeds": args.feeds,
        "rules": args.rules,
        "concurrency": args.concurrency,
    }
    async with App.open(config) as app:
        await use_transport(app, args.transport)
        if args.start == "cold":
            result["cold"] = await timed_cycle(app)
            # The cold cycle's alerts exceed one delivery batch: drain them before the steady runs.
            for _ in range(1000):
                report = await app.deliver(force=True)
                if report.sent + report.retried + report.failed == 0:
                    break
        else:
            started = time.perf_counter()
            prime(app, args.port)
            result["prime_s"] = time.perf_counter() - started
        runs = []
        for _ in range(args.runs):
            admin(args.port, "/admin/advance", post=True)
            if args.profile:
                runs.append(await profiled(timed_cycle(app), Path(args.profile)))
            else:
                runs.append(await timed_cycle(app))
    result["steady"] = runs
    for key in ("wall_s", "cpu_s", "feeds_per_s"):
        result[f"steady_{key}"] = median([run[key] for run in runs])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description="one poll-cycle measurement")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--feeds", type=int, required=True)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rules", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--start", choices=("cold", "primed"), default="cold")
    parser.add_argument("--transport", choices=("httpx", "httpx-aiohttp"), default="httpx-aiohttp")
    parser.add_argument("--profile", help="write a pyinstrument profile of the steady runs here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-cycle-") as tmp:
        result = asyncio.run(measure(args, Path(tmp)))
    emit(result)


if __name__ == "__main__":
    main()
