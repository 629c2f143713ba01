"""CPU per poll by outcome, inside the daemon: `App.poll` one feed at a time against the bench
server (a separate process), on a primed state, so each poll's CPU is its own.

The server's mix gives 304s (feeds with validators) and unchanged 200s (feeds without, which
resend the same body); the state is primed as a client that has just polled would remember it.
Run: `python -m bench.polls --feeds 300 --rounds 3` (add `--profile out.txt` for a cProfile,
`--transport httpx` for httpx's own transport instead of the aiohttp one the daemon uses).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import resource
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.cycle import prime, server_config, use_transport
from bench.proc import emit
from bench.server import ServerProcess


async def measure(
    port: int, feeds: int, rounds: int, workdir: Path, profile: Path | None, transport: str
) -> Any:
    from monitor.app import App
    from monitor.config import load_config

    config = load_config(server_config(workdir, port, feeds, rules=100, concurrency=1))
    cpu: dict[str, list[float]] = {}
    kernel: dict[str, float] = {}  # system CPU, summed: the kernel samples it by clock tick
    profiler = cProfile.Profile() if profile else None
    async with App.open(config) as app:
        await use_transport(app, transport)
        prime(app, port)
        for feed in config.feeds:  # one untimed round: connections open, caches warm
            await app.poll(feed, respect_backoff=False)
        for _ in range(rounds):
            for feed in config.feeds:
                if profiler:
                    profiler.enable()
                started = time.process_time()
                system = resource.getrusage(resource.RUSAGE_SELF).ru_stime
                outcome = await app.poll(feed, respect_backoff=False)
                spent = time.process_time() - started
                system = resource.getrusage(resource.RUSAGE_SELF).ru_stime - system
                if profiler:
                    profiler.disable()
                cpu.setdefault(outcome.status, []).append(spent)
                kernel[outcome.status] = kernel.get(outcome.status, 0.0) + system
    if profiler and profile:
        with profile.open("w") as out:
            pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(60)
    return {
        status: {
            "polls": len(spent),
            "median_ms": statistics.median(spent) * 1000,
            "mean_ms": statistics.fmean(spent) * 1000,
            # Mostly the loopback send, which runs the receiving side's TCP path too.
            "mean_system_ms": kernel[status] / len(spent) * 1000,
        }
        for status, spent in cpu.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", type=Path, help="write a cProfile of the timed polls here")
    parser.add_argument("--transport", choices=("httpx", "httpx-aiohttp"), default="httpx-aiohttp")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, ServerProcess(args.feeds) as server:
        found = asyncio.run(
            measure(server.port, args.feeds, args.rounds, Path(tmp), args.profile, args.transport)
        )
    emit({"feeds": args.feeds, "transport": args.transport, "by_status": found})


if __name__ == "__main__":
    main()
