"""The transport question: the project's Fetcher on httpx's own transport vs on the
`httpx-aiohttp` transport it uses (and bare aiohttp as a ceiling), fetching the same feeds.

Each client runs in its own measurement process. A first, untimed pass learns every feed's
validators; each timed pass then does what a steady-state cycle does on the wire: conditional
GETs of every feed (70% 304, 30% full bodies), `concurrency` at a time.

Run one measurement: `python -m bench.transport --port P --feeds 1000 --client httpx`.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from bench.proc import cpu_seconds, emit, median

CLIENTS = ("httpx", "httpx-aiohttp", "aiohttp")
Fetch = Callable[[str, str | None, str | None], Awaitable[tuple[int, str | None, str | None]]]


async def _passes(
    fetch: Fetch, urls: list[str], concurrency: int, runs: int
) -> list[dict[str, float]]:
    validators: dict[str, tuple[str | None, str | None]] = {}
    limit = asyncio.Semaphore(concurrency)

    async def one(url: str) -> int:
        async with limit:
            etag, modified = validators.get(url, (None, None))
            status, etag, modified = await fetch(url, etag, modified)
            validators[url] = (etag, modified)
            return status

    await asyncio.gather(*(one(url) for url in urls))  # learn the validators
    results = []
    for _ in range(runs):
        cpu = cpu_seconds()
        started = time.perf_counter()
        statuses = await asyncio.gather(*(one(url) for url in urls))
        wall = time.perf_counter() - started
        results.append(
            {
                "wall_s": wall,
                "cpu_s": cpu_seconds() - cpu,
                "feeds_per_s": len(urls) / wall,
                "not_modified": statuses.count(304),
            }
        )
    return results


async def measure(
    client: str, urls: list[str], concurrency: int, runs: int
) -> list[dict[str, float]]:
    if client == "aiohttp":
        import aiohttp

        connector = aiohttp.TCPConnector(limit=100)
        async with aiohttp.ClientSession(connector=connector, auto_decompress=False) as session:

            async def bare(
                url: str, etag: str | None, modified: str | None
            ) -> tuple[int, str | None, str | None]:
                headers = {}
                if etag:
                    headers["If-None-Match"] = etag
                if modified:
                    headers["If-Modified-Since"] = modified
                async with session.get(url, headers=headers) as response:
                    await response.read()
                    return (
                        response.status,
                        response.headers.get("ETag"),
                        response.headers.get("Last-Modified"),
                    )

            return await _passes(bare, urls, concurrency, runs)

    from bench.cycle import client_on
    from monitor.feeds.fetch import Fetcher

    fetcher = Fetcher(client_on(client))

    async def project(
        url: str, etag: str | None, modified: str | None
    ) -> tuple[int, str | None, str | None]:
        result = await fetcher.fetch(url, etag=etag, last_modified=modified, timeout=20.0)
        return result.status, result.etag, result.last_modified

    try:
        return await _passes(project, urls, concurrency, runs)
    finally:
        await fetcher.client.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description="one transport measurement")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--client", choices=CLIENTS, required=True)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    urls = [f"http://127.0.0.1:{args.port}/feed/{n}" for n in range(args.feeds)]
    runs = asyncio.run(measure(args.client, urls, args.concurrency, args.runs))
    result: dict[str, Any] = {"client": args.client, "concurrency": args.concurrency, "runs": runs}
    for key in ("wall_s", "cpu_s", "feeds_per_s"):
        result[key] = median([run[key] for run in runs])
    emit(result)


if __name__ == "__main__":
    main()
