"""`python -m bench`: every benchmark of issue 7, each comparison side by side in the same run,
medians of several runs, printed as tables (and optionally saved as JSON).

    python -m bench              # the full suite (about 12 minutes on 2 cores)
    python -m bench --quick      # smaller sizes, fewer runs (about 3 minutes)
    python -m bench --smoke      # tiny sizes, one run each (seconds: what the test suite runs)
    python -m bench --only pipeline,latency

Every measurement runs in a fresh process against a fresh bench server; everything started is
stopped, and every measurement has a time limit.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.cycle import admin
from bench.latency import measure_latency
from bench.proc import RESULT_PREFIX, ROOT, MeasurementError, run_measurement
from bench.server import ServerProcess

SECTIONS = (
    "pipeline",
    "polls",
    "matcher",
    "cycle",
    "peers",
    "transport",
    "latency",
    "page",
    "stories",
    "processes",
    "replicas",
    "lanes",
)


@dataclass(frozen=True)
class Sizes:
    pipeline_feeds: int
    pipeline_runs: int
    rule_counts: tuple[int, ...]
    naive_seconds: float
    cycle_scales: tuple[tuple[int, str], ...]  # (feeds, "cold" | "primed")
    cycle_runs: int
    cycle_rules: int
    peer_feeds: int
    peer_runs: int
    transport_feeds: int
    latency_feeds: int
    latency_probes: int
    latency_window: float
    latency_interval: float
    page_items: int = 100_000
    page_runs: int = 20
    stories_active: int = 10_000
    stories_probes: int = 500
    process_feeds: int = 500  # whole processes against reader
    process_naive: tuple[int, int] = (30, 1000)  # (feeds, rules) against the naive script
    process_runs: int = 3
    rule_loads: tuple[int, ...] = (1000, 10000)
    replica_feeds: int = 20_000
    replica_rules: int = 1000
    lanes_alerts: int = 600
    lanes_delay: float = 1.0  # seconds per request of the slow receiver
    lanes_concurrency: tuple[int, ...] = (1, 4)
    poll_feeds: int = 300  # polled one at a time, CPU per poll by outcome
    matcher_items: int = 2000  # a cold start's first items, then the same items warm
    matcher_rules: tuple[int, ...] = (10, 1000, 10000)


FULL = Sizes(
    pipeline_feeds=100,
    pipeline_runs=3,
    rule_counts=(10, 100, 1000, 10000),
    naive_seconds=20.0,
    cycle_scales=((1000, "cold"), (10000, "primed")),
    cycle_runs=3,
    cycle_rules=1000,
    peer_feeds=500,
    peer_runs=3,
    transport_feeds=1000,
    latency_feeds=100,
    latency_probes=30,
    latency_window=120.0,
    latency_interval=10.0,
)
QUICK = Sizes(
    pipeline_feeds=20,
    pipeline_runs=3,
    rule_counts=(10, 100, 1000, 10000),
    naive_seconds=5.0,
    cycle_scales=((1000, "primed"),),
    cycle_runs=2,
    cycle_rules=1000,
    peer_feeds=100,
    peer_runs=2,
    transport_feeds=500,
    latency_feeds=20,
    latency_probes=8,
    latency_window=20.0,
    latency_interval=10.0,
    stories_active=2_000,
    stories_probes=200,
    replica_feeds=2000,
    lanes_alerts=300,
)
SMOKE = Sizes(
    pipeline_feeds=2,
    pipeline_runs=1,
    rule_counts=(10, 100),
    naive_seconds=1.0,
    cycle_scales=((30, "cold"),),
    cycle_runs=1,
    cycle_rules=10,
    peer_feeds=10,
    peer_runs=1,
    transport_feeds=30,
    latency_feeds=3,
    latency_probes=2,
    latency_window=1.0,
    latency_interval=1.0,
    page_items=2_000,
    page_runs=2,
    stories_active=40,
    stories_probes=20,
    process_feeds=10,
    process_naive=(3, 10),
    process_runs=1,
    rule_loads=(10,),
    replica_feeds=30,
    replica_rules=10,
    lanes_alerts=20,
    lanes_delay=0.05,
    lanes_concurrency=(2,),
    poll_feeds=10,
    matcher_items=50,
    matcher_rules=(10,),
)


def _table(title: str, headers: list[str], rows: list[list[str]]) -> str:
    widths = [
        max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)
    ]
    lines = [f"\n## {title}", "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    return "\n".join(lines)


def _f(value: float, digits: int = 1) -> str:
    return f"{value:,.{digits}f}"


def bench_pipeline(sizes: Sizes) -> tuple[dict[str, Any], str]:
    results: dict[str, Any] = {}
    rows = []
    for rules in sizes.rule_counts:
        common = ["--rules", str(rules), "--feeds", str(sizes.pipeline_feeds)]
        ours = run_measurement(
            "bench.pipeline",
            ["--impl", "ours", *common, "--runs", str(sizes.pipeline_runs)],
            timeout=900,
        )
        one_core = run_measurement(
            "bench.pipeline",
            ["--impl", "ours-one-core", *common, "--runs", str(sizes.pipeline_runs)],
            timeout=900,
        )
        # The naive loop is slow at large rulebooks: a time-bounded sample, one run past 10 rules.
        naive_runs = sizes.pipeline_runs if rules <= 10 else 1
        naive = run_measurement(
            "bench.pipeline",
            [
                "--impl",
                "naive",
                *common,
                "--runs",
                str(naive_runs),
                "--max-seconds",
                str(sizes.naive_seconds),
            ],
            timeout=900,
        )
        results[str(rules)] = {"ours": ours, "ours_one_core": one_core, "naive": naive}
        rows.append(
            [
                f"{rules:,}",
                _f(ours["items_per_s"], 0),
                f"{_f(one_core['items_per_s'], 0)}, {_f(one_core['peak_tree_rss_mb'], 0)} MB",
                _f(naive["items_per_s"], 1),
                f"{ours['items_per_s'] / naive['items_per_s']:,.0f}x",
                f"{ours['alerts'] / max(ours['items'], 1):.3f} / {naive['alerts'] / max(naive['items'], 1):.3f}",
                _f(ours["load_s"], 2),
                _f(ours["peak_tree_rss_mb"], 0),
                _f(naive["peak_rss_mb"], 0),
                f"{ours['load_average']:.1f}",
            ]
        )
    base = results[str(sizes.rule_counts[0])]["ours"]["items_per_s"]
    top = results[str(sizes.rule_counts[-1])]["ours"]["items_per_s"]
    headers = [
        "rules",
        "ours items/s",
        "one core items/s, MB",
        "naive items/s",
        "speed-up",
        "alerts/item ours / naive",
        "rules load s",
        "ours MB (with workers)",
        "naive MB",
        "load avg",
    ]
    text = _table(
        f"Pipeline throughput (parse + extract + match + record; {sizes.pipeline_feeds} feeds, median of {sizes.pipeline_runs}; ours with worker processes, one core without)",
        headers,
        rows,
    )
    text += (
        f"\nours at {sizes.rule_counts[-1]:,} rules vs {sizes.rule_counts[0]:,}: {base / top:.2f}x slower"
        " (target: at most 1.3x at 10,000 vs 10)"
    )
    return results, text


def bench_cycle(sizes: Sizes) -> tuple[dict[str, Any], str]:
    results: dict[str, Any] = {}
    rows = []
    for feeds, start in sizes.cycle_scales:
        with ServerProcess(feeds) as server:
            args = [
                "--port",
                str(server.port),
                "--feeds",
                str(feeds),
                "--runs",
                str(sizes.cycle_runs),
            ]
            args += ["--start", start, "--rules", str(sizes.cycle_rules)]
            result = run_measurement("bench.cycle", args, timeout=1200)
        results[str(feeds)] = result
        if "cold" in result:
            cold = result["cold"]
            rows.append(
                [
                    f"{feeds:,}",
                    "cold",
                    _f(cold["wall_s"]),
                    _f(cold["feeds_per_s"], 0),
                    _f(cold["cpu_s"]),
                    "",
                    str(cold["new_items"]),
                ]
            )
        steady = result["steady"][0]
        rows.append(
            [
                f"{feeds:,}",
                "steady",
                _f(result["steady_wall_s"]),
                _f(result["steady_feeds_per_s"], 0),
                _f(result["steady_cpu_s"]),
                _f(result["peak_rss_mb"], 0),
                f"{steady['new_items']} ({steady['statuses']})",
            ]
        )
    text = _table(
        f"Poll cycle at scale (App.cycle, {sizes.cycle_rules:,} rules, median of {sizes.cycle_runs} steady runs)",
        ["feeds", "cycle", "wall s", "feeds/s", "CPU s", "peak RSS MB", "new items (outcomes)"],
        rows,
    )
    return results, text


def bench_peers(sizes: Sizes) -> tuple[dict[str, Any], str]:
    feeds, runs = sizes.peer_feeds, sizes.peer_runs
    results: dict[str, Any] = {}
    with ServerProcess(feeds) as server:
        args = [
            "--port",
            str(server.port),
            "--feeds",
            str(feeds),
            "--runs",
            str(runs),
            "--start",
            "cold",
            "--rules",
            "100",
        ]
        results["news-monitor"] = run_measurement("bench.cycle", args, timeout=1200)
    for peer in ("reader", "feed2exec"):
        with ServerProcess(feeds) as server:
            args = [
                "--peer",
                peer,
                "--port",
                str(server.port),
                "--feeds",
                str(feeds),
                "--runs",
                str(runs),
            ]
            results[peer] = run_measurement("bench.peers", args, timeout=1800)
    ours = results["news-monitor"]
    rows = []
    for name, result in results.items():
        cold, steady = result["cold"]["wall_s"], result["steady_wall_s"]
        rows.append(
            [
                name,
                _f(cold, 2),
                _f(steady, 2),
                _f(result["cold"]["cpu_s"], 1),
                _f(result["steady_cpu_s"], 2),
                _f(result["peak_rss_mb"], 0),
                f"{cold / ours['cold']['wall_s']:.2f}x",
                f"{steady / ours['steady_wall_s']:.2f}x",
            ]
        )
    text = _table(
        f"Against the peers ({feeds} feeds, same server; steady = median of {runs}; ratio = peer time / ours)",
        [
            "tool",
            "cold s",
            "steady s",
            "cold CPU s",
            "steady CPU s",
            "peak MB",
            "cold ratio",
            "steady ratio",
        ],
        rows,
    )
    text += "\nnews-monitor also matches 100 rules and records alerts; reader runs update_feeds(workers=16); feed2exec its CLI."
    return results, text


def bench_transport(sizes: Sizes) -> tuple[dict[str, Any], str]:
    results: dict[str, Any] = {}
    rows = []
    with ServerProcess(sizes.transport_feeds) as server:
        for client in ("httpx", "httpx-aiohttp", "aiohttp"):
            for concurrency in (16, 50):
                args = ["--port", str(server.port), "--feeds", str(sizes.transport_feeds)]
                args += ["--client", client, "--concurrency", str(concurrency), "--runs", "3"]
                result = run_measurement("bench.transport", args, timeout=600)
                results[f"{client}@{concurrency}"] = result
                rows.append(
                    [
                        client,
                        str(concurrency),
                        _f(result["feeds_per_s"], 0),
                        _f(result["cpu_s"], 2),
                        _f(result["peak_rss_mb"], 0),
                    ]
                )
    text = _table(
        f"Transport: conditional GETs of {sizes.transport_feeds} feeds (project Fetcher; bare aiohttp as the ceiling)",
        ["client", "concurrency", "feeds/s", "CPU s", "peak MB"],
        rows,
    )
    # The same question on a whole steady-state cycle (App.cycle with its fetcher's client swapped).
    rows = []
    for transport in ("httpx", "httpx-aiohttp"):
        with ServerProcess(sizes.transport_feeds) as server:
            args = [
                "--port",
                str(server.port),
                "--feeds",
                str(sizes.transport_feeds),
                "--runs",
                str(sizes.cycle_runs),
            ]
            args += [
                "--start",
                "primed",
                "--rules",
                str(sizes.cycle_rules),
                "--transport",
                transport,
            ]
            result = run_measurement("bench.cycle", args, timeout=1200)
        results[f"cycle:{transport}"] = result
        rows.append(
            [
                transport,
                _f(result["steady_wall_s"], 2),
                _f(result["steady_feeds_per_s"], 0),
                _f(result["steady_cpu_s"], 2),
            ]
        )
    text += "\n" + _table(
        f"Transport: steady-state App.cycle over {sizes.transport_feeds} feeds (median of {sizes.cycle_runs})",
        ["transport", "wall s", "feeds/s", "CPU s"],
        rows,
    )
    return results, text


def bench_latency(sizes: Sizes) -> tuple[dict[str, Any], str]:
    result = measure_latency(
        feeds=sizes.latency_feeds,
        probes=sizes.latency_probes,
        window=sizes.latency_window,
        interval=sizes.latency_interval,
    )
    row = [
        str(result["feeds"]),
        _f(result["interval_s"], 0),
        f"{result['received']}/{result['probes']}",
    ]
    if result["received"]:
        row += [
            _f(result["p50_s"], 2),
            _f(result["p99_s"], 2),
            _f(result["max_s"], 2),
            _f(result["target_s"], 0),
        ]
    else:
        row += ["-", "-", "-", "-"]
    text = _table(
        "Detection latency (news-monitor run; item published -> webhook received)",
        ["feeds", "interval s", "received", "p50 s", "p99 s", "max s", "target s"],
        [row],
    )
    return result, text


def bench_page(sizes: Sizes) -> tuple[dict[str, Any], str]:
    result = run_measurement(
        "bench.page",
        ["--items", str(sizes.page_items), "--runs", str(sizes.page_runs)],
        timeout=900,
    )
    rows = [
        [name, _f(r["median_ms"]), _f(r["max_ms"]), _f(r["kb"], 0)]
        for name, r in result["requests"].items()
    ]
    text = _table(
        f"The page at / over {result['items']:,} stored items (in-process, median of {sizes.page_runs})",
        ["request", "median ms", "max ms", "kB"],
        rows,
    )
    text += "".join(f"\nplan, {name}: {plan}" for name, plan in result["plans"].items())
    return result, text


def bench_stories(sizes: Sizes) -> tuple[dict[str, Any], str]:
    result = run_measurement(
        "bench.stories",
        ["--stories", str(sizes.stories_active), "--probes", str(sizes.stories_probes)],
        timeout=3600,
    )
    rows = [
        [
            label,
            str(result[label]["active"]),
            str(result[label]["matched"]),
            _f(result[label]["cpu_p50_ms"], 2),
            _f(result[label]["cpu_p95_ms"], 2),
            _f(result[label]["p50_ms"], 2),
            _f(result[label]["p95_ms"], 2),
            "5",
        ]
        for label in ("empty", "full")
    ]
    text = (
        _table(
            "Story step per matched item (cluster, record, decide, queue; SQLite on disk)",
            [
                "state",
                "active stories",
                "items",
                "CPU p50 ms",
                "CPU p95 ms",
                "wall p50 ms",
                "wall p95 ms",
                "target ms",
            ],
            rows,
        )
        + f"\npeak RSS {result['peak_rss_mb']:.0f} MB"
    )
    return result, text


def bench_processes(sizes: Sizes) -> tuple[dict[str, Any], str]:
    runs = str(sizes.process_runs)
    result: dict[str, Any] = {}
    naive_feeds, naive_rules = sizes.process_naive
    result["naive"] = run_measurement(
        "bench.processes",
        ["versus-naive", "--feeds", str(naive_feeds), "--rules", str(naive_rules), "--runs", runs],
        timeout=1800,
    )
    comparisons = [("naive", f"{naive_feeds} feeds, {naive_rules:,} rules")]
    if importlib.util.find_spec("reader"):
        result["peers"] = run_measurement(
            "bench.processes", ["peers", "--feeds", str(sizes.process_feeds), "--runs", runs], 3600
        )
        comparisons.insert(0, ("peers", f"{sizes.process_feeds} feeds, 100 rules"))
    rows = []
    for key, what in comparisons:
        measured = result[key]
        ours = measured["news-monitor"]
        for tool, figures in measured.items():
            if not isinstance(figures, dict):
                continue
            cold, steady = figures["cold"], figures["steady"]
            rows.append(
                [
                    what,
                    tool,
                    _f(cold["wall_s"], 2),
                    _f(cold["cpu_s"], 2),
                    _f(cold["peak_tree_rss_mb"], 0),
                    _f(steady["wall_s"], 2),
                    _f(steady["cpu_s"], 2),
                    _f(steady["peak_tree_rss_mb"], 0),
                    f"{cold['wall_s'] / ours['cold']['wall_s']:.2f}x",
                    f"{steady['wall_s'] / ours['steady']['wall_s']:.2f}x",
                    f"{cold['load_average']:.1f} / {steady['load_average']:.1f}",
                ]
            )
    text = _table(
        f"Whole processes (`news-monitor once` vs the others, fresh interpreters, interleaved, steady = median of {runs}; RSS: the process and its workers)",
        [
            "comparison",
            "tool",
            "cold s",
            "cold CPU s",
            "cold RSS MB",
            "steady s",
            "steady CPU s",
            "steady RSS MB",
            "cold: tool / ours",
            "steady: tool / ours",
            "load avg",
        ],
        rows,
    )
    loads = run_measurement(
        "bench.processes",
        ["rule-load", "--counts", ",".join(map(str, sizes.rule_loads)), "--runs", runs],
        timeout=1800,
    )
    result["rule_load"] = loads
    text += "\n" + _table(
        "Rulebook load (parse, validate, compile; fresh process each), then from the cache",
        [
            "rules",
            "load s",
            "CPU s",
            "CPU per 1,000",
            "RSS MB",
            "cached s",
            "CPU s",
            "CPU per 1,000",
            "RSS MB",
        ],
        [
            [
                f"{int(count):,}",
                _f(r["load_s"], 2),
                _f(r["load_cpu_s"], 2),
                _f(r["load_cpu_s"] * 1000 / int(count), 3),
                _f(r["peak_rss_mb"], 0),
                _f(r["cached_s"], 2),
                _f(r["cached_cpu_s"], 2),
                _f(r["cached_cpu_s"] * 1000 / int(count), 3),
                _f(r["cached_peak_rss_mb"], 0),
            ]
            for count, r in loads["counts"].items()
        ],
    )
    return result, text


def run_replicas(
    args: list[str], count: int, start_at: float, on_start: Callable[[], None] | None = None
) -> list[dict[str, Any]]:
    """`count` replica processes of bench.replicas, started together at `start_at` (when
    `on_start` is called too, in a thread)."""
    timer = threading.Timer(max(0.0, start_at - time.time()), on_start or (lambda: None))
    timer.start()
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bench.replicas",
                *args,
                "--start-at",
                str(start_at),
                "--index",
                str(n),
                "--of",
                str(count),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        for n in range(count)
    ]
    results = []
    for proc in procs:
        try:
            out, err = proc.communicate(timeout=1800)
        except subprocess.TimeoutExpired:
            for other in procs:
                other.kill()
            raise MeasurementError("a replica ran past 1800s") from None
        lines = [line for line in out.splitlines() if line.startswith(RESULT_PREFIX)]
        if not lines:
            raise MeasurementError("a replica failed:\n" + "\n".join(err.splitlines()[-15:]))
        results.append(json.loads(lines[-1].removeprefix(RESULT_PREFIX)))
    timer.join()
    return results


def bench_replicas(sizes: Sizes) -> tuple[dict[str, Any], str]:
    from bench.dbcost import SETTINGS, ServerCost, quiet_round_trip
    from tests.postgres import PostgresServer

    feeds = sizes.replica_feeds
    common = ["--feeds", str(feeds), "--rules", str(sizes.replica_rules)]
    results: dict[str, Any] = {}
    rows = []
    profiles: list[tuple[str, list[dict[str, Any]]]] = []

    def measure(
        label: str, port: int, state: str, count: int, cost: ServerCost | None = None
    ) -> None:
        from monitor.store import Store

        admin(port, "/admin/advance", post=True)
        with Store(Path(state) if not state.startswith("postgresql:") else state) as store:
            # Every feed due at the start of the cycle, as if its interval had just passed.
            store.db.execute("UPDATE feeds SET claimed_at = NULL, lease_until = NULL")
        quiet = quiet_round_trip(state) if cost is not None else None
        load = os.getloadavg()[0]
        start_at = time.time() + 5 + feeds / 1000  # time for each to load the config and rules
        runs = run_replicas(
            ["--port", str(port), "--state", state, *common],
            count,
            start_at,
            cost.start if cost is not None else None,
        )
        wall = max(run["wall_s"] for run in runs)
        polled = sum(run["polled"] for run in runs)
        per_feed = max(polled, 1)
        db_ms = sum(run["db_s"] for run in runs) / per_feed * 1000
        trips = sum(run["db_round_trips"] for run in runs) / per_feed
        result: dict[str, Any] = {
            "wall_s": wall,
            "polled": polled,
            "replicas": runs,
            "load_before": load,
            "load_after": os.getloadavg()[0],
            "db_ms_per_feed": db_ms,
            "round_trips_per_feed": trips,
        }
        decomposed = "-"
        if cost is not None and quiet is not None:
            server = cost.stop(polled)
            # The database's own cost: what the server spent executing, plus each round trip
            # at the speed of one on an idle connection (not the wait for a CPU around it).
            result.update(server, quiet_round_trip=quiet)
            result["decomposed_ms_per_feed"] = (
                server["server_exec_ms_per_feed"] + trips * quiet["fastest_tenth_ms"]
            )
            decomposed = (
                f"{result['decomposed_ms_per_feed']:.2f} = "
                f"{server['server_exec_ms_per_feed']:.2f} + "
                f"{trips:.1f} x {quiet['fastest_tenth_ms']:.3f}"
            )
            profiles.append((label, server["top"]))
        results[label] = result
        rows.append(
            [
                label,
                _f(wall),
                _f(polled / wall, 0),
                f"{db_ms:.2f}",
                decomposed,
                f"{result['lock_wait_ms_per_feed']:.2f}" if cost else "-",
                f"{result['cluster_cpu_ms_per_feed']:.2f}" if cost else "-",
                f"{trips:.1f}",
                " / ".join(str(run["polled"]) for run in runs),
                " / ".join(_f(run["cpu_s"]) for run in runs),
                " / ".join(_f(run["peak_rss_mb"], 0) for run in runs),
                f"{load:.1f}-{result['load_after']:.1f}",
            ]
        )

    with tempfile.TemporaryDirectory(prefix="bench-replicas-") as tmp:
        with ServerProcess(feeds) as server:
            state = str(Path(tmp) / "state.db")
            run_measurement(
                "bench.replicas",
                ["--port", str(server.port), "--state", state, *common, "--prime"],
                timeout=1800,
            )
            measure("SQLite, 1 process", server.port, state, 1)
        postgres = PostgresServer(durable=True, settings=SETTINGS).start()
        try:
            with ServerProcess(feeds) as server:
                state = postgres.url()
                run_measurement(
                    "bench.replicas",
                    ["--port", str(server.port), "--state", state, *common, "--prime"],
                    timeout=1800,
                )
                assert postgres.pid is not None
                cost = ServerCost(state, postgres.pid)
                for count in (1, 2, 3):
                    measure(f"PostgreSQL, {count} replicas", server.port, state, count, cost)
        finally:
            postgres.remove()
    text = _table(
        f"Replicas: one steady cycle over {feeds:,} feeds ({sizes.replica_rules:,} rules), shared by claims",
        [
            "state",
            "wall s",
            "feeds/s",
            "db ms/feed (measured at the seam)",
            "db ms/feed decomposed = server exec + round trips x quiet round trip",
            "waits for the recording lock, ms/feed",
            "server CPU ms/feed",
            "round trips/feed",
            "polled",
            "CPU s",
            "peak RSS MB",
            "load",
        ],
        rows,
    )
    for label, top in profiles:
        text += f"\n\n{label}: costliest statements (server execution, per polled feed)\n"
        text += "\n".join(
            f"  {entry['exec_ms_per_feed']:7.3f} ms  {entry['calls_per_feed']:5.2f} calls "
            f"({entry['ms_per_call']:.3f} ms each)  {entry['query']}"
            for entry in top
        )
    return results, text


def bench_lanes(sizes: Sizes) -> tuple[dict[str, Any], str]:
    results: dict[str, Any] = {}
    rows = []
    for concurrency in sizes.lanes_concurrency:
        result = run_measurement(
            "bench.lanes",
            [
                "--alerts",
                str(sizes.lanes_alerts),
                "--delay",
                str(sizes.lanes_delay),
                "--concurrency",
                str(concurrency),
            ],
            timeout=1200,
        )
        results[str(concurrency)] = result
        rows.append(
            [
                str(concurrency),
                str(result["alerts"]),
                _f(result["fast_all_s"]),
                str(result["slow_when_fast_done"]),
                _f(result["strike_to_fast_s"]),
                _f(result["strike_to_slow_s"]),
                str(result["slow_before_strike"]),
            ]
        )
    text = _table(
        f"Lanes: one receiver taking {sizes.lanes_delay:g} s per request, one instant; then a "
        "critical alert behind the backlog",
        [
            "slow concurrency",
            "alerts",
            "instant has all, s",
            "slow has then",
            "critical to instant, s",
            "critical to slow, s",
            "slow sent before it",
        ],
        rows,
    )
    return results, text


def bench_polls(sizes: Sizes) -> tuple[dict[str, Any], str]:
    """CPU per poll inside the daemon, by outcome (304, unchanged 200)."""
    found = run_measurement(
        "bench.polls", ["--feeds", str(sizes.poll_feeds), "--rounds", "3"], timeout=900
    )
    rows = [
        [
            status,
            str(r["polls"]),
            _f(r["median_ms"], 2),
            _f(r["mean_ms"], 2),
            _f(r["mean_system_ms"], 2),
        ]
        for status, r in sorted(found["by_status"].items())
    ]
    text = _table(
        f"CPU per poll inside App.poll, one feed at a time, {sizes.poll_feeds:,} feeds "
        f"(peak RSS {found['peak_rss_mb']:.0f} MB, load average {os.getloadavg()[0]:.1f})",
        ["outcome", "polls", "median CPU ms", "mean CPU ms", "of which kernel ms"],
        rows,
    )
    return found, text


def bench_matcher(sizes: Sizes) -> tuple[dict[str, Any], str]:
    """Matching alone, one fresh process per rulebook size: a cold start against the steady rate."""
    results: dict[str, Any] = {}
    rows = []
    for rules in sizes.matcher_rules:
        args = ["--cold", "--rules", str(rules), "--items", str(sizes.matcher_items)]
        found = run_measurement("bench.matcher", [*args, "--repeats", "3"], timeout=900)
        results[str(rules)] = found
        rows.append(
            [
                f"{rules:,}",
                _f(found["cold_items_per_s"], 0),
                _f(found["steady_items_per_s"], 0),
                f"{found['cold_over_steady']:.2f}x",
                _f(found["peak_rss_mb"], 0),
            ]
        )
    first = results[str(sizes.matcher_rules[0])]["steady_items_per_s"]
    last = results[str(sizes.matcher_rules[-1])]["steady_items_per_s"]
    text = _table(
        f"Matcher, one core, CPU time: the first {sizes.matcher_items:,} items of a cold start, "
        f"then the same items warm (load average {os.getloadavg()[0]:.1f})",
        ["rules", "cold items/s", "steady items/s", "cold / steady time", "peak RSS MB"],
        rows,
    )
    return results, text + f"\nlargest rulebook {first / last:.2f}x slower than the smallest"


RUNNERS: dict[str, Callable[[Sizes], tuple[dict[str, Any], str]]] = {
    "pipeline": bench_pipeline,
    "polls": bench_polls,
    "matcher": bench_matcher,
    "cycle": bench_cycle,
    "peers": bench_peers,
    "transport": bench_transport,
    "latency": bench_latency,
    "page": bench_page,
    "stories": bench_stories,
    "processes": bench_processes,
    "replicas": bench_replicas,
    "lanes": bench_lanes,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description="news-monitor benchmarks (issue 7)"
    )
    preset = parser.add_mutually_exclusive_group()
    preset.add_argument("--quick", action="store_true", help="smaller sizes, fewer runs")
    preset.add_argument(
        "--smoke", action="store_true", help="tiny sizes: checks that every benchmark runs"
    )
    parser.add_argument("--only", help=f"comma-separated sections of: {', '.join(SECTIONS)}")
    parser.add_argument("--json", type=Path, help="also write every figure to this JSON file")
    args = parser.parse_args(argv)
    sizes = SMOKE if args.smoke else QUICK if args.quick else FULL
    chosen = args.only.split(",") if args.only else list(SECTIONS)
    unknown = [name for name in chosen if name not in RUNNERS]
    if unknown:
        parser.error(f"unknown section(s) {', '.join(unknown)}; choose from {', '.join(SECTIONS)}")
    started = time.monotonic()
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    print(
        f"# news-monitor benchmarks, {stamp}; Python {platform.python_version()}, {os.cpu_count()} CPUs, {platform.machine()}"
    )
    report: dict[str, Any] = {
        "date": stamp,
        "cpus": os.cpu_count(),
        "preset": "smoke" if args.smoke else "quick" if args.quick else "full",
    }
    for name in chosen:
        section_started = time.monotonic()
        result, text = RUNNERS[name](sizes)
        report[name] = result
        print(text + f"\n({time.monotonic() - section_started:.0f}s)", flush=True)
    print(f"\ntotal {time.monotonic() - started:.0f}s")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
