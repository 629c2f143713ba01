"""Benchmark 1: pipeline throughput (parse + text extraction + match + record), ours vs naive.

Ours is the daemon's own code path without the network: `App.poll` (read, unseen, text, match,
record) over every feed, `concurrency` at a time as a cycle polls, into a fresh SQLite file per
run so every item is new; `ours` starts worker processes as a cold cycle does (one per CPU),
`ours-one-core` keeps every step in its own process. The naive baseline is `bench.naive`. Each (implementation, rule count)
runs in its own process (see `bench.proc`) so its peak RSS is its own.

Run one measurement: `python -m bench.pipeline --impl ours --rules 1000 --feeds 100`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.corpus import FeedModel, default_epoch, story_pool, write_rulebook
from bench.proc import TreeSampler, cpu_seconds, emit, median


def corpus_bodies(feeds: int, seed: int = 1) -> list[tuple[str, bytes, str]]:
    """(feed name, body, content type) for `feeds` feeds of the generated corpus, all formats."""
    pool = story_pool(seed, 2000)
    epoch = default_epoch()
    bodies = []
    for n in range(feeds):
        model = FeedModel(n, pool, epoch)
        body, content_type = model.render(model.window)
        bodies.append((f"feed-{n}", body, content_type))
    return bodies


class MemoryFetcher:
    """Answers every fetch with the corpus body for that URL: the pipeline without the network."""

    def __init__(self, bodies: dict[str, tuple[bytes, str]]) -> None:
        self.bodies = bodies
        self.client = _NoClient()

    async def fetch(
        self, url: str, *, etag: str | None = None, last_modified: str | None = None, timeout: float
    ) -> Any:
        from monitor.feeds.fetch import FetchResult

        body, content_type = self.bodies[url]
        return FetchResult(200, body, None, None, url, content_type)


class _NoClient:
    async def aclose(self) -> None:
        return None


async def _ours_run(
    config_path: Path, bodies: dict[str, tuple[bytes, str]], workers: int | None
) -> tuple[int, int, float]:
    from monitor.app import App
    from monitor.config import load_config
    from monitor.crunch import Crunch

    config = load_config(config_path)
    app = App.open(config)
    await app.fetcher.client.aclose()
    app.fetcher = MemoryFetcher(bodies)  # type: ignore[assignment]
    app.crunch = Crunch(workers)
    limit = asyncio.Semaphore(config.concurrency)

    async def poll(feed: Any) -> Any:
        async with limit:
            return await app.poll(feed, respect_backoff=False)

    async with app:
        started = time.perf_counter()
        # As a cycle polls: `concurrency` feeds at once, so worker processes (once started)
        # read several feeds while the loop records others.
        outcomes = await asyncio.gather(*(poll(feed) for feed in config.feeds))
        elapsed = time.perf_counter() - started
    for outcome in outcomes:
        if outcome.status != "new":
            raise RuntimeError(f"{outcome.feed}: expected new items, got {outcome}")
    items = sum(o.items for o in outcomes)
    return items, sum(len(o.alerts) for o in outcomes), elapsed


def run_ours(
    rules_dir: Path,
    bodies: list[tuple[str, bytes, str]],
    runs: int,
    workdir: Path,
    workers: int | None = None,
) -> dict[str, Any]:
    """The daemon's own poll path (`App.poll`: parse, unseen, match, record) on in-memory bodies,
    `concurrency` feeds at a time; `workers`: worker processes (None: one per CPU, 1: none)."""
    from bench.cycle import write_config
    from monitor.rules import load_rulebook

    started = time.perf_counter()
    load_rulebook([rules_dir])
    load_seconds = time.perf_counter() - started
    by_url = {f"http://bench.invalid/{name}": (body, ctype) for name, body, ctype in bodies}
    rates, items, alerts = [], 0, 0
    for run in range(runs):
        rundir = workdir / f"ours-{run}"
        rundir.mkdir()
        config = write_config(rundir, list(by_url), rules_dir, hook_url="http://bench.invalid/hook")
        items, alerts, elapsed = asyncio.run(_ours_run(config, by_url, workers))
        rates.append(items / elapsed)
    return {
        "items_per_s": median(rates),
        "runs": rates,
        "items": items,
        "alerts": alerts,
        "load_s": load_seconds,
    }


def run_naive(
    rules_dir: Path,
    bodies: list[tuple[str, bytes, str]],
    runs: int,
    workdir: Path,
    max_seconds: float,
) -> dict[str, Any]:
    from bench.naive import NaivePipeline, load_rules

    started = time.perf_counter()
    rules = [r for path in sorted(rules_dir.glob("*.yaml")) for r in load_rules(path.read_text())]
    load_seconds = time.perf_counter() - started
    rates, items, alerts = [], 0, 0
    for run in range(runs):
        pipeline = NaivePipeline(rules, str(workdir / f"naive-{run}.db"))
        items = alerts = 0
        started = time.perf_counter()
        for name, body, content_type in bodies:
            found, matched = pipeline.process(name, body, content_type)
            items += found
            alerts += matched
            if time.perf_counter() - started > max_seconds:
                break  # slow at large rulebooks: a bounded sample gives the rate
        rates.append(items / (time.perf_counter() - started))
        pipeline.close()
    return {
        "items_per_s": median(rates),
        "runs": rates,
        "items": items,
        "alerts": alerts,
        "load_s": load_seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description="one pipeline throughput measurement")
    parser.add_argument("--impl", choices=("ours", "ours-one-core", "naive"), required=True)
    parser.add_argument("--rules", type=int, required=True)
    parser.add_argument("--feeds", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--max-seconds", type=float, default=20.0, help="naive: time bound per run")
    args = parser.parse_args()
    bodies = corpus_bodies(args.feeds)
    with tempfile.TemporaryDirectory(prefix="bench-pipeline-") as tmp:
        workdir = Path(tmp)
        rules_dir = workdir / "rules"
        write_rulebook(rules_dir, args.rules)
        cpu = cpu_seconds()
        with TreeSampler(os.getpid(), interval=0.25) as tree:
            if args.impl == "ours":
                result = run_ours(rules_dir, bodies, args.runs, workdir)
            elif args.impl == "ours-one-core":
                result = run_ours(rules_dir, bodies, args.runs, workdir, workers=1)
            else:
                result = run_naive(rules_dir, bodies, args.runs, workdir, args.max_seconds)
        result["cpu_s"] = cpu_seconds() - cpu + tree.descendants_cpu_s
        result["peak_tree_rss_mb"] = tree.peak_mb
        result["load_average"] = os.getloadavg()[0]
    result.update(impl=args.impl, rules=args.rules)
    emit(result)


if __name__ == "__main__":
    main()
