"""Whole processes, as users run them: `news-monitor once` against lemon24/reader and against the
naive script, each a fresh interpreter (start-up, imports, config, rules, the cycle, exit).

Two comparisons, each run interleaved (one tool after the other, the server advancing one cycle
before each round) so that the machine's load, whatever it is, falls on all of them alike:
  - peers: N feeds (500 by default), `once` with 100 rules vs reader's `update_feeds`;
  - naive: 30 feeds and 1,000 rules, `once` vs the naive script (`feedparser.parse` of each URL,
    BeautifulSoup, one `re.search` per rule term), which has no state to make a cycle steady.
Wall time, CPU time and peak RSS are read for each child process alone (`os.wait4`).

Run one comparison: `python -m bench.processes peers --feeds 500 --runs 3` (it starts its own
bench server). `peers --baseline DIR` also runs news-monitor from another checkout DIR (with its
own virtualenv in DIR/.venv, e.g. a detached worktree of main), its children in the same rounds
against the same server, so a change is measured before and after side by side;
`rule-load --counts 1000,10000` times loading generated rulebooks, each in a fresh
process. The `reader`, `naive` and `load-rules` subcommands are the measured processes.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.corpus import write_rulebook
from bench.cycle import server_config
from bench.proc import ROOT, TreeSampler, emit, median, run_measurement
from bench.server import ServerProcess


def run_child(command: list[str], timeout: float = 1800, checkout: Path = ROOT) -> dict[str, float]:
    """Run one child of `checkout` to its end; its own wall time, CPU time and peak RSS."""
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    load_before = os.getloadavg()[0]
    # A file, not a pipe: a child logging more than a pipe holds would block on a full pipe.
    with tempfile.TemporaryFile() as log:
        started = time.perf_counter()
        child = subprocess.Popen(command, cwd=checkout, env=env, stdout=log, stderr=log)
        deadline = started + timeout
        with TreeSampler(child.pid) as tree:
            while True:
                pid, status, usage = os.wait4(child.pid, os.WNOHANG)
                if pid:
                    break
                if time.perf_counter() > deadline:
                    child.kill()
                    child.wait()
                    raise RuntimeError(f"{command} ran past {timeout:.0f}s")
                time.sleep(0.005)
        wall = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        log.seek(0)
        errors = log.read().decode(errors="replace")
    if child.returncode not in (0, 3):
        raise RuntimeError(f"{command} exited {child.returncode}: {errors[-2000:]}")
    return {
        "wall_s": wall,
        # The child's own CPU, that of the processes it waited for, and its workers' (sampled).
        "cpu_s": usage.ru_utime + usage.ru_stime + tree.descendants_cpu_s,
        # The largest process alone, and (sampled every 0.1 s) the child with its workers.
        "peak_rss_mb": usage.ru_maxrss / 1024,
        "peak_tree_rss_mb": max(tree.peak_mb, usage.ru_maxrss / 1024),
        "load_average": os.getloadavg()[0],
        "load_average_before": load_before,
    }


def _summary(runs: list[dict[str, float]]) -> dict[str, Any]:
    return {
        "runs": runs,
        "wall_s": median([r["wall_s"] for r in runs]),
        "cpu_s": median([r["cpu_s"] for r in runs]),
        "peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
        "peak_tree_rss_mb": max(r["peak_tree_rss_mb"] for r in runs),
        "load_average": median([r["load_average"] for r in runs]),
    }


@dataclass(frozen=True)
class Child:
    """A measured process: its command, run from `checkout` (whose bench/ and monitor/ it uses)."""

    command: list[str]
    checkout: Path = ROOT


def _once(config: Path, python: str = sys.executable) -> list[str]:
    return [python, "-m", "monitor", "once", "--config", str(config)]


def _once_one_core(config: Path, python: str = sys.executable) -> list[str]:
    """`once` with every step in its own process: news-monitor before worker processes."""
    return [python, "-m", "bench.processes", "once-one-core", "--config", str(config)]


def baseline_python(checkout: Path) -> str:
    """The interpreter of another checkout's own virtualenv (never this one's: its monitor/
    would be imported in place of the checkout's when installed in editable mode)."""
    python = checkout / ".venv" / "bin" / "python"
    if not python.is_file():
        raise SystemExit(
            f"{checkout}: no virtualenv at {checkout}/.venv; make one there with "
            f"`python3 -m venv .venv && .venv/bin/pip install -e '.[bench]'`"
        )
    return str(python)


def once_one_core(config: Path) -> int:
    import monitor.crunch
    from monitor.cli import main

    monitor.crunch.usable_cpus = lambda: 1
    return main(["once", "--config", str(config)])


def compare(tools: dict[str, Child], server: ServerProcess, runs: int) -> dict[str, dict[str, Any]]:
    """A cold run of each tool, then `runs` interleaved steady rounds after a server advance."""
    cold = {name: run_child(tool.command, checkout=tool.checkout) for name, tool in tools.items()}
    steady: dict[str, list[dict[str, float]]] = {name: [] for name in tools}
    for _ in range(runs):
        server.admin("/admin/advance", post=True)
        for name, tool in tools.items():
            steady[name].append(run_child(tool.command, checkout=tool.checkout))
    return {name: {"cold": cold[name], "steady": _summary(steady[name])} for name in tools}


def peers(feeds: int, runs: int, workdir: Path, baseline: Path | None = None) -> dict[str, Any]:
    with ServerProcess(feeds) as server:
        config = server_config(workdir / "ours", server.port, feeds, 100, 50)
        urls = workdir / "urls.txt"
        urls.write_text("\n".join(server.feed_url(n) for n in range(feeds)) + "\n")
        db = workdir / "reader.sqlite"
        here = [sys.executable, "-m", "bench.processes"]
        run_child([*here, "reader", "--db", str(db), "--urls", str(urls), "--setup-only"])
        ours_state = f"state: {workdir / 'ours' / 'state'}"

        def state_copy(name: str) -> Path:
            # Each run polls its own state from the same config, so all see every cycle.
            (workdir / name).mkdir()
            copy = workdir / name / "config.yaml"
            text = config.read_text().replace(ours_state, f"state: {workdir / name / 'state'}")
            copy.write_text(text, encoding="utf-8")
            return copy

        tools = {
            "news-monitor": Child(_once(config)),
            "news-monitor, one core": Child(_once_one_core(state_copy("one-core"))),
        }
        if baseline is not None:
            python = baseline_python(baseline)
            tools["baseline"] = Child(_once(state_copy("baseline"), python), baseline)
            tools["baseline, one core"] = Child(
                _once_one_core(state_copy("baseline-one-core"), python), baseline
            )
        tools["reader"] = Child([*here, "reader", "--db", str(db), "--urls", str(urls)])
        result: dict[str, Any] = {"feeds": feeds, **compare(tools, server, runs)}
        if baseline is not None:
            result["baseline_checkout"] = str(baseline)
        return result


def naive(feeds: int, rules: int, runs: int, workdir: Path) -> dict[str, Any]:
    with ServerProcess(feeds) as server:
        config = server_config(workdir / "ours", server.port, feeds, rules, 50)
        urls = workdir / "urls.txt"
        urls.write_text("\n".join(server.feed_url(n) for n in range(feeds)) + "\n")
        rule_dir = workdir / "ours" / "rules"
        tools = {
            "news-monitor": Child(_once(config)),
            "naive": Child(
                [
                    *[sys.executable, "-m", "bench.processes", "naive"],
                    *["--urls", str(urls), "--rules", str(rule_dir)],
                    *["--db", str(workdir / "naive.sqlite")],
                ]
            ),
        }
        return {"feeds": feeds, "rules": rules, **compare(tools, server, runs)}


def reader_process(db: Path, urls: Path, workers: int, setup_only: bool) -> None:
    """reader as its users run it: one process that updates every feed and exits."""
    from reader import make_reader

    reader = make_reader(str(db))
    if setup_only:
        for url in urls.read_text().split():
            reader.add_feed(url, exist_ok=True)
        return
    reader.update_feeds(scheduled=False, workers=workers)


def naive_process(urls: Path, rules: Path, db: Path) -> None:
    """The naive script: fetch each URL in turn, parse, extract, match, record."""
    from bench.naive import NaivePipeline, load_rules

    loaded = [
        rule for path in sorted(rules.glob("*.yaml")) for rule in load_rules(path.read_text())
    ]
    pipeline = NaivePipeline(loaded, str(db))
    for url in urls.read_text().split():
        with urllib.request.urlopen(url, timeout=30) as response:
            body = response.read()
            content_type = response.headers.get("Content-Type", "")
        pipeline.process(url, body, content_type)
    pipeline.close()


def rule_load(counts: list[int], runs: int, workdir: Path) -> dict[str, Any]:
    """Seconds to load (parse, validate, compile) generated rulebooks, each in a fresh process."""
    results: dict[str, Any] = {}
    for count in counts:
        directory = workdir / f"rules-{count}"
        write_rulebook(directory, count)
        load = ["load-rules", "--dir", str(directory)]
        measured = [run_measurement("bench.processes", load, 600) for _ in range(runs)]
        # With the compiled-rulebook cache beside a state: one load writes it, the runs read it.
        cached = [*load, "--cache", str(workdir / f"state-{count}.db.rulebook")]
        run_measurement("bench.processes", cached, 600)
        hits = [run_measurement("bench.processes", cached, 600) for _ in range(runs)]
        results[str(count)] = {
            "load_s": median([m["load_s"] for m in measured]),
            "load_cpu_s": median([m["cpu_s"] for m in measured]),
            "peak_rss_mb": max(m["peak_rss_mb"] for m in measured),
            "cached_s": median([m["load_s"] for m in hits]),
            "cached_cpu_s": median([m["cpu_s"] for m in hits]),
            "cached_peak_rss_mb": max(m["peak_rss_mb"] for m in hits),
        }
    return {"counts": results}


def load_rules_once(directory: Path, cache: Path | None) -> None:
    from monitor.rules import load_rulebook

    started = time.perf_counter()
    cpu = time.process_time()
    rulebook = load_rulebook([directory], cache=cache)
    elapsed = time.perf_counter() - started
    emit({"load_s": elapsed, "cpu_s": time.process_time() - cpu, "rules": len(rulebook.rules)})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    peers_args = commands.add_parser("peers")
    peers_args.add_argument("--feeds", type=int, default=500)
    peers_args.add_argument("--runs", type=int, default=3)
    peers_args.add_argument(
        "--baseline",
        type=Path,
        help="another checkout (with its own .venv) whose news-monitor runs in the same rounds",
    )
    naive_args = commands.add_parser("versus-naive")
    naive_args.add_argument("--feeds", type=int, default=30)
    naive_args.add_argument("--rules", type=int, default=1000)
    naive_args.add_argument("--runs", type=int, default=3)
    reader_args = commands.add_parser("reader")
    reader_args.add_argument("--db", type=Path, required=True)
    reader_args.add_argument("--urls", type=Path, required=True)
    reader_args.add_argument("--workers", type=int, default=16)
    reader_args.add_argument("--setup-only", action="store_true")
    script_args = commands.add_parser("naive")
    script_args.add_argument("--urls", type=Path, required=True)
    script_args.add_argument("--rules", type=Path, required=True)
    script_args.add_argument("--db", type=Path, required=True)
    rules_args = commands.add_parser("rule-load")
    rules_args.add_argument("--counts", default="1000,10000")
    rules_args.add_argument("--runs", type=int, default=3)
    load_args = commands.add_parser("load-rules")
    load_args.add_argument("--dir", type=Path, required=True)
    one_core_args = commands.add_parser("once-one-core")
    one_core_args.add_argument("--config", type=Path, required=True)
    load_args.add_argument("--cache", type=Path, help="the compiled-rulebook cache file to use")
    args = parser.parse_args()
    if args.command == "once-one-core":
        sys.exit(once_one_core(args.config))
    if args.command == "load-rules":
        load_rules_once(args.dir, args.cache)
        return
    if args.command == "reader":
        reader_process(args.db, args.urls, args.workers, args.setup_only)
        return
    if args.command == "naive":
        naive_process(args.urls, args.rules, args.db)
        return
    with tempfile.TemporaryDirectory(prefix="bench-processes-") as tmp:
        workdir = Path(tmp)
        if args.command == "peers":
            baseline = args.baseline.resolve() if args.baseline else None
            emit(peers(args.feeds, args.runs, workdir, baseline))
        elif args.command == "rule-load":
            counts = [int(c) for c in args.counts.split(",")]
            emit(rule_load(counts, args.runs, workdir))
        else:
            emit(naive(args.feeds, args.rules, args.runs, workdir))


if __name__ == "__main__":
    main()
