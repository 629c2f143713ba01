"""Benchmark 3: the Python peers on the same feeds from the same server: reader and feed2exec.

Each peer runs in its own measurement process, as its users run it:
  - reader (lemon24/reader): `make_reader(db)`, `add_feed` per feed, `update_feeds(scheduled=False, workers=W)`;
  - feed2exec: its own CLI, `feed2exec --config INI --database DB fetch`, `null` output plugin.
A cold cycle (empty state) then steady-state cycles (the server advanced one cycle before each).
Our side of the comparison is `bench.cycle` on the same server and feed count.

Run one measurement: `python -m bench.peers --peer reader --port P --feeds 500 --runs 3`.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.cycle import admin
from bench.proc import cpu_seconds, emit, median


def _children_cpu() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def reader_cycle_factory(urls: list[str], workdir: Path, workers: int) -> Callable[[], None]:
    from reader import make_reader

    reader = make_reader(str(workdir / "reader.sqlite"))
    for url in urls:
        reader.add_feed(url)

    def cycle() -> None:
        # scheduled=False: poll every feed now, as a cycle means (not only those due).
        reader.update_feeds(scheduled=False, workers=workers)

    return cycle


def feed2exec_cycle_factory(urls: list[str], workdir: Path) -> Callable[[], None]:
    ini = workdir / "feed2exec.ini"
    ini.write_text(
        "".join(
            f"[feed-{n}]\nurl = {url}\noutput = feed2exec.plugins.null\n\n"
            for n, url in enumerate(urls)
        )
    )
    command = [
        sys.executable, "-m", "feed2exec", "--quiet", "--config", str(ini),
        "--database", str(workdir / "feed2exec.db"), "fetch",
    ]  # fmt: skip

    def cycle() -> None:
        done = subprocess.run(command, timeout=1800, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"feed2exec exited {done.returncode}: {done.stderr[-2000:]}")

    return cycle


def timed(cycle: Callable[[], None]) -> dict[str, float]:
    cpu = cpu_seconds() + _children_cpu()
    started = time.perf_counter()
    cycle()
    wall = time.perf_counter() - started
    return {"wall_s": wall, "cpu_s": cpu_seconds() + _children_cpu() - cpu}


def main() -> None:
    parser = argparse.ArgumentParser(description="one peer measurement")
    parser.add_argument("--peer", choices=("reader", "feed2exec"), required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--feeds", type=int, default=500)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=16, help="reader: update_feeds(workers=)")
    args = parser.parse_args()
    urls = [f"http://127.0.0.1:{args.port}/feed/{n}" for n in range(args.feeds)]
    result: dict[str, Any] = {"peer": args.peer, "feeds": args.feeds}
    with tempfile.TemporaryDirectory(prefix="bench-peer-") as tmp:
        workdir = Path(tmp)
        if args.peer == "reader":
            cycle = reader_cycle_factory(urls, workdir, args.workers)
            result["workers"] = args.workers
        else:
            cycle = feed2exec_cycle_factory(urls, workdir)
        result["cold"] = timed(cycle)
        runs = []
        for _ in range(args.runs):
            admin(args.port, "/admin/advance", post=True)
            runs.append(timed(cycle))
    result["steady"] = runs
    result["steady_wall_s"] = median([run["wall_s"] for run in runs])
    result["steady_cpu_s"] = median([run["cpu_s"] for run in runs])
    emit(result)


if __name__ == "__main__":
    main()
