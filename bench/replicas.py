"""Benchmark: one steady poll cycle shared by 1, 2 or 3 replicas on PostgreSQL, beside SQLite.

Each replica is a fresh process that opens the real App on the shared state and, at a common
start time, walks every feed the way the daemon's poll jobs do: claim it (the same
`Store.claim_feed`), poll it if the claim was granted, then drain the outbox with claims. The
cycle is over when every replica finished; its wall time is the slowest replica's. Time spent
inside the database seam, and its round trips, are summed per replica, so "database time per
polled feed" covers every claim (granted or refused), the state reads, the recording and the
outbox drain.

One replica: `python -m bench.replicas --port P --state URL --start-at T --index 0 --of 1`.
Priming the state: `python -m bench.replicas --port P --state URL --prime`.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.corpus import write_rulebook
from bench.cycle import prime, write_config
from bench.proc import cpu_seconds, emit

INTERVAL = "1h"  # no feed comes due twice within one measured cycle
LEASE = 50.0


def config_for(workdir: Path, port: int, feeds: int, rules: int, state: str) -> Path:
    base = f"http://127.0.0.1:{port}"
    write_rulebook(workdir / "rules", rules)
    path = write_config(
        workdir,
        [f"{base}/feed/{n}" for n in range(feeds)],
        workdir / "rules",
        hook_url=f"{base}/hook",
        interval=INTERVAL,
    )
    text = path.read_text().splitlines()
    text[0] = f'state: "{state}"'
    path.write_text("\n".join(text) + "\n")
    return path


def timed_database(db: Any) -> dict[str, float]:
    """Wrap the seam so the time spent in it, and its round trips to the database, add up in
    the returned dict: each statement, batch (one round trip however many statements) and
    executemany (pipelined), and each transaction's begin and commit. Checks the connection
    pool makes of idle connections are not counted as round trips (their time is)."""
    spent = {"seconds": 0.0, "round_trips": 0}

    def count(started: float) -> None:
        spent["seconds"] += time.perf_counter() - started
        spent["round_trips"] += 1

    for name in ("execute", "executemany", "batch"):
        call = getattr(db, name)

        def timed(*args: Any, _call: Any = call, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return _call(*args, **kwargs)
            finally:
                count(started)

        setattr(db, name, timed)
    transaction = db.transaction

    @contextmanager
    def timed_transaction(*args: Any, **kwargs: Any) -> Iterator[None]:
        started = time.perf_counter()
        with transaction(*args, **kwargs):
            count(started)  # BEGIN
            yield
            started = time.perf_counter()
        count(started)  # COMMIT

    db.transaction = timed_transaction
    return spent


async def replica_cycle(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    from monitor.app import App
    from monitor.config import load_config

    config = load_config(config_for(workdir, args.port, args.feeds, args.rules, args.state))
    async with App.open(config) as app:
        if args.prime:
            started = time.perf_counter()
            with app.store.transaction():  # one commit for every feed, not one each
                prime(app, args.port)
            return {"prime_s": time.perf_counter() - started}
        spent = timed_database(app.store.db)
        feeds = list(config.feeds)
        shift = len(feeds) * args.index // args.of  # replicas start at different feeds
        feeds = feeds[shift:] + feeds[:shift]
        limit = asyncio.Semaphore(config.concurrency)
        polled = 0

        async def one(feed: Any) -> None:
            nonlocal polled
            async with limit:
                state = app.store.claim_feed(
                    feed.name,
                    feed.url,
                    app.replica.id,
                    interval=feed.interval,
                    lease=LEASE,
                    now=time.time(),
                )
                if state is not None:
                    polled += 1
                    await app.poll(feed, respect_backoff=False, state=state)

        await asyncio.sleep(max(0.0, args.start_at - time.time()))
        cpu = cpu_seconds()
        spent.update(seconds=0.0, round_trips=0)
        await asyncio.gather(*(one(feed) for feed in feeds))
        report = await app.deliver(force=True)
        ended = time.time()
        return {
            "wall_s": ended - args.start_at,
            "cpu_s": cpu_seconds() - cpu,
            "polled": polled,
            "db_s": spent["seconds"],
            "db_round_trips": spent["round_trips"],
            "sent": report.sent,
        }


def main() -> None:
    parser = argparse.ArgumentParser(description="one replica of a shared poll cycle")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--feeds", type=int, required=True)
    parser.add_argument("--rules", type=int, default=1000)
    parser.add_argument("--state", required=True, help="postgresql:// URL or SQLite path")
    parser.add_argument("--prime", action="store_true")
    parser.add_argument("--start-at", type=float, default=0.0, help="unix time to start")
    parser.add_argument("--index", type=int, default=0)
    parser.add_argument("--of", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-replica-") as tmp:
        emit(asyncio.run(replica_cycle(args, Path(tmp))))


if __name__ == "__main__":
    main()
