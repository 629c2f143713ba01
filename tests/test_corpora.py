"""Every real-world feed file in ../shared/corpora, served over HTTP and ingested like a poll.

The corpus (3,000+ files from other projects' test suites and captured news feeds) stays outside
the repository; the test skips with a message when it is absent. Files are fetched concurrently
through one client and parsed in this process (in a worker thread), each under its own
deadline; feedparser's own entry count for each file is computed on the other core meanwhile,
to compare against.
"""

from __future__ import annotations

import asyncio
import io
import json
import multiprocessing
import re
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import feedparser
import pytest

from monitor.errors import FeedParseError, FetchError
from monitor.feeds.decompress import GZIP_MAGIC, gunzip
from monitor.feeds.fetch import Fetcher, make_client
from monitor.feeds.parse import parse_feed
from monitor.models import Item
from tests.servers import FeedServer

CORPORA = Path(__file__).resolve().parents[2] / "shared" / "corpora"
PER_FILE_DEADLINE = 30.0  # seconds for fetch + parse of one file; the largest takes about 2
CONCURRENCY = 4  # at most the test server's listen backlog (5), or connects time out under load
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def reference_count(body: bytes) -> int | None:
    """How many entries feedparser itself finds (JSON: the items list); None when unknown."""
    if body.startswith(GZIP_MAGIC):
        body = gunzip(body, 64 * 1024 * 1024)
    if body.lstrip()[:1] == b"{":
        try:
            document = json.loads(body)
        except ValueError:
            return None
        items = document.get("items") if isinstance(document, dict) else None
        return sum(isinstance(i, dict) for i in items) if isinstance(items, list) else None
    return len(feedparser.parse(io.BytesIO(body)).entries)


@dataclass
class Outcome:
    path: str
    items: list[Item] | None = None  # None: FeedParseError
    problem: str | None = None  # anything the test must fail on


def content_type_for(path: Path) -> str:
    if path.suffix == ".json":
        return "application/feed+json"
    if path.suffix in (".html", ".htm"):
        return "text/html"
    return "application/xml"


async def ingest(fetcher: Fetcher, server: FeedServer, name: str) -> Outcome:
    try:
        async with asyncio.timeout(PER_FILE_DEADLINE):
            result = await fetcher.fetch(server.url(name), timeout=PER_FILE_DEADLINE)
            try:
                # In a thread, as the daemon should: parsing a 2 MB feed for seconds on the
                # event loop would time out the other tasks' connects.
                items = await asyncio.to_thread(
                    parse_feed,
                    result.body,
                    feed_name="corpus",
                    base_url=result.url,
                    content_type=result.content_type,
                )
            except FeedParseError:
                return Outcome(name)
            return Outcome(name, items)
    except TimeoutError:
        return Outcome(name, problem=f"over the {PER_FILE_DEADLINE}s deadline")
    except FetchError as exc:
        return Outcome(name, problem=f"fetch failed: {exc}")
    except Exception as exc:  # the point of the test: nothing else may escape
        return Outcome(name, problem=f"{type(exc).__name__}: {exc}")


async def ingest_all(server: FeedServer, names: list[str]) -> list[Outcome]:
    slots = asyncio.Semaphore(CONCURRENCY)

    async def one(name: str) -> Outcome:
        async with slots:
            return await ingest(fetcher, server, name)

    async with make_client() as client:
        fetcher = Fetcher(client)
        return await asyncio.gather(*(one(name) for name in names))


def problems_with(outcome: Outcome, reference: int | None) -> list[str]:
    if outcome.problem:
        return [outcome.problem]
    if outcome.items is None:
        return [f"not a feed, but feedparser finds {reference} entries"] if reference else []
    found: list[str] = []
    keys = [item.key for item in outcome.items]
    if not all(keys):
        found.append("an empty key")
    if len(set(keys)) != len(keys):
        found.append("duplicate keys")
    if reference is not None and not (min(reference, 1) <= len(keys) <= reference):
        found.append(f"{len(keys)} items where feedparser finds {reference}")
    for item in outcome.items:
        if _CONTROL.search(item.title):
            found.append(f"control character in title {item.title!r}")
        if item.link and not item.link.startswith(("http://", "https://")):
            found.append(f"non-web link {item.link!r}")
        if item.published is not None and item.published.utcoffset() is None:
            found.append("naive published date")
    return found


@pytest.mark.skipif(not CORPORA.is_dir(), reason=f"corpus not found at {CORPORA} (see README)")
def test_every_corpus_file_is_ingested_sanely() -> None:
    """No exception but FeedParseError, each file within its deadline, keys and counts sane."""
    files = sorted(path for path in CORPORA.rglob("*") if path.is_file())
    names = ["/" + quote(str(path.relative_to(CORPORA))) for path in files]
    bodies = [path.read_bytes() for path in files]

    # Started before any server thread exists, on the second core.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        references: list[Future[int | None]] = [pool.submit(reference_count, b) for b in bodies]
        server = FeedServer().start()
        try:
            for name, path, body in zip(names, files, bodies, strict=True):
                server.serve(name, body, content_type=content_type_for(path))
            outcomes = asyncio.run(ingest_all(server, names))
        finally:
            server.stop()
        counts = [future.result(timeout=PER_FILE_DEADLINE) for future in references]

    failures = {
        outcome.path: found
        for outcome, count in zip(outcomes, counts, strict=True)
        if (found := problems_with(outcome, count))
    }
    assert not failures, "\n".join(f"{path}: {found}" for path, found in failures.items())
    parsed = [o for o in outcomes if o.items is not None]
    assert len(parsed) > 0.95 * len(files)
    assert sum(len(o.items or ()) for o in parsed) > 8000
