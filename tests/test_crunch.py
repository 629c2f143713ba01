"""Worker processes read, extract and match exactly as this process does.

The same feeds (RSS, Atom and JSON Feed from the bench corpus, served over loopback) are polled
into two fresh states, once with every step in this process and once in worker processes started
from the first step; the stored items and the queued alerts must be the same, in the same order.
Hostile documents go through the workers too, and give the items or the error they give here.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import zlib
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from bench.corpus import FeedModel, default_epoch, story_pool, write_rulebook
from monitor.app import App
from monitor.config import load_config
from monitor.crunch import Crunch, Document
from monitor.errors import FeedParseError
from monitor.poll import PollOutcome
from monitor.rules import pinned_rulebook
from tests.feedgen import BOMBERS, rss
from tests.servers import FeedServer, wait_until

FEEDS = 12


class Corpus:
    """FEEDS feeds of the bench corpus on a loopback server; `advance` publishes new items."""

    def __init__(self, server: FeedServer, epoch: datetime | None = None) -> None:
        self.server = server
        self.pool = pool = story_pool(1, 500)
        self.epoch = epoch or default_epoch()
        self.models = [FeedModel(n, pool, self.epoch) for n in range(FEEDS)]
        self.published = [model.window for model in self.models]
        self.urls = [self.serve(n) for n in range(FEEDS)]

    def serve(self, n: int) -> str:
        body, content_type = self.models[n].render(self.published[n])
        return self.server.serve(f"/feed-{n}", body, headers={"Content-Type": content_type})

    def advance(self, items: int) -> None:
        for n in range(FEEDS):
            self.published[n] += items
            self.serve(n)


@pytest.fixture
def corpus(feed_server: FeedServer) -> Corpus:
    return Corpus(feed_server)


def write_config(directory: Path, urls: list[str], rules: Path, concurrency: int = 1) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    lines = [
        "state: state.db",
        f"rules: [{rules}]",
        "max_age: 3650d",
        "defaults: {interval: 1h, timeout: 10s}",
        f"concurrency: {concurrency}",
        "feeds:",
        *(f"  - {{name: feed-{n}, url: '{url}'}}" for n, url in enumerate(urls)),
        "notifiers:",
        "  - {name: console, type: log}",
        "routes:",
        "  - {notify: [console]}",
    ]
    path = directory / "config.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def poll_all(config_path: Path, crunch: Crunch, corpus: Corpus | None = None) -> list[Any]:
    """Poll each feed once (twice, with `corpus`: again after it published 8 new items each),
    without delivering; the outcomes of each round."""

    async def cycles() -> list[Any]:
        app = App.open(load_config(config_path))
        app.crunch = crunch
        rounds = []
        async with app:
            for _ in range(1 if corpus is None else 2):
                outcomes = []
                for feed in app.config.feeds:
                    outcomes.append(await app.poll(feed, respect_backoff=False))
                    if crunch.started and not crunch.running:
                        await until_ready(crunch)  # the first poll started them
                rounds.append(outcomes)
                if corpus is not None:
                    corpus.advance(8)
        return rounds

    return asyncio.run(cycles())


async def until_ready(crunch: Crunch) -> None:
    """Until a worker has loaded the rules (steps run here until then), at most 60 s."""
    for _ in range(1200):
        if crunch.running:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("no worker process was ready within 60 s")


def stored(config_path: Path) -> list[tuple[Any, ...]]:
    with sqlite3.connect(config_path.parent / "state.db") as db:
        return db.execute(
            "SELECT feed, key, title, link, summary, content, published FROM items "
            "ORDER BY feed, key"
        ).fetchall()


def alerts(outcomes: list[PollOutcome]) -> list[tuple[Any, ...]]:
    return [
        (o.feed, a.event, a.id, a.rule.id, a.item, a.matched, a.story.id if a.story else None)
        for o in outcomes
        for a in o.alerts
    ]


def counts(outcomes: list[PollOutcome]) -> list[tuple[str, str, int, int]]:
    return [(o.feed, o.status, o.items, o.new_items) for o in outcomes]


@pytest.fixture(scope="module")
def rules(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("rules")
    write_rulebook(directory, 1000)
    return directory


def test_workers_store_and_alert_what_this_process_does(
    feed_server: FeedServer, rules: Path, tmp_path: Path
) -> None:
    """A first poll (read, built and matched in one step) and a second one after new items
    (read, then only the new entries built and matched)."""
    inline_crunch, pool_crunch = Crunch(workers=0), Crunch(workers=2, start_items=0)
    corpus = Corpus(feed_server)
    here = write_config(tmp_path / "here", corpus.urls, rules)
    inline = poll_all(here, inline_crunch, corpus)
    corpus = Corpus(feed_server, corpus.epoch)  # the same feeds again, from their first state
    there = write_config(tmp_path / "there", corpus.urls, rules)
    pooled = poll_all(there, pool_crunch, corpus)
    assert (inline_crunch.started, pool_crunch.started) == (0, 1)
    assert [o.status for o in pooled[0] + pooled[1]] == ["new"] * FEEDS * 2
    assert [o.new_items for o in pooled[1]] == [8] * FEEDS
    assert [counts(r) for r in pooled] == [counts(r) for r in inline]
    assert len(stored(there)) == sum(o.new_items for r in inline for o in r) > 0
    assert stored(there) == stored(here)
    assert all(alerts(r) for r in inline), "the generated rules match items of both rounds"
    assert [alerts(r) for r in pooled] == [alerts(r) for r in inline]


def test_rules_edited_under_the_workers_are_not_used_before_a_reload(
    corpus: Corpus, rules: Path, tmp_path: Path
) -> None:
    """A worker that finds other rule files than those loaded leaves the step to this process."""
    edited = tmp_path / "rules"
    write_rulebook(edited, 1000)
    [reference] = poll_all(write_config(tmp_path / "here", corpus.urls, rules), Crunch(workers=0))

    async def cycle() -> list[PollOutcome]:
        app = App.open(load_config(write_config(tmp_path / "there", corpus.urls, edited)))
        app.crunch = crunch = Crunch(workers=2, start_items=0)
        async with app:
            outcomes = [await app.poll(app.config.feeds[0], respect_backoff=False)]
            await until_ready(crunch)
            for path in edited.glob("*.yaml"):
                path.write_text("rules: []\n")  # rules the workers would match nothing with
            for feed in app.config.feeds[1:]:
                outcomes.append(await app.poll(feed, respect_backoff=False))
            return outcomes

    assert alerts(reference)
    assert alerts(asyncio.run(cycle())) == alerts(reference)


def test_a_steady_trickle_never_starts_workers(corpus: Corpus, rules: Path, tmp_path: Path) -> None:
    crunch = Crunch(workers=2)
    [outcomes] = poll_all(write_config(tmp_path, corpus.urls[:3], rules), crunch)
    assert sum(o.new_items for o in outcomes) > 0
    assert crunch.started == 0


def test_workers_1_keeps_every_step_in_the_daemon(
    corpus: Corpus, rules: Path, tmp_path: Path
) -> None:
    config = write_config(tmp_path, corpus.urls, rules)
    config.write_text(config.read_text() + "workers: 1\n")

    async def cycle() -> Crunch:
        async with App.open(load_config(config)) as app:
            app.crunch.start_items = 0  # any burst would start them
            for feed in app.config.feeds:
                await app.poll(feed, respect_backoff=False)
            return app.crunch

    crunch = asyncio.run(cycle())
    assert (crunch.workers, crunch.started) == (1, 0)


def test_a_burst_of_new_items_starts_workers_once(
    corpus: Corpus, rules: Path, tmp_path: Path
) -> None:
    crunch = Crunch(workers=2, start_items=60)
    [outcomes] = poll_all(write_config(tmp_path, corpus.urls, rules), crunch)
    assert sum(o.new_items for o in outcomes) > 60
    assert crunch.started == 1


def _gzip(data: bytes) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    return packer.compress(data) + packer.flush()


LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa">'
    + "".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(8))
    + ']>\n<rss version="2.0"><channel><item><guid>1</guid><title>&i;</title></item>'
    "</channel></rss>"
).encode()
HOSTILE = {
    "billion laughs": LAUGHS,
    "quadratic blowup": (
        f'<?xml version="1.0"?>\n<!DOCTYPE rss [<!ENTITY x "{"x" * 50_000}">]>\n'
        f'<rss version="2.0"><channel><item><guid>1</guid><title>{"&x;" * 5_000}</title>'
        "</item></channel></rss>"
    ).encode(),
    "external entity": (
        b'<?xml version="1.0"?>\n<!DOCTYPE rss [<!ENTITY e SYSTEM "file:///etc/passwd">]>\n'
        b'<rss version="2.0"><channel><item><guid>1</guid><title>&e;</title></item>'
        b"</channel></rss>"
    ),
    "an html page": b"<!doctype html><html><body><p>not a feed</p></body></html>",
    "gzip bomb": _gzip(bytes(64 << 20)),
    "deep nesting": (
        b'<rss version="2.0"><channel><item><guid>1</guid><description>'
        + b"&lt;div&gt;" * 100_000
        + b"deep</description></item></channel></rss>"
    ),
    "broken json": b'{"version": "https://jsonfeed.org/version/1.1", "items": [',
    "a healthy feed": rss([BOMBERS]).encode(),
}


async def read_through(crunch: Crunch, document: Document, rules: Path) -> Any:
    """What a poll gets from `document`: its items, or the FeedParseError's message."""
    rulebook, pin = pinned_rulebook([rules])
    healthy = Document(HOSTILE["a healthy feed"], "warm-up", "http://127.0.0.1/", None)
    try:
        await crunch.read(healthy, rulebook, pin, None)  # starts the workers (start_items=0)
        if crunch.workers > 1:
            await until_ready(crunch)
        read = await crunch.read(document, rulebook, pin, None)
        items, _ = await crunch.build(read.entries, rulebook, pin, None)
        return items
    except FeedParseError as exc:
        return f"FeedParseError: {exc}"
    finally:
        await crunch.aclose()


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_documents_read_in_workers_as_here(name: str, rules: Path) -> None:
    document = Document(HOSTILE[name], "hostile", "http://127.0.0.1/feed", None)
    here = asyncio.run(read_through(Crunch(workers=0), document, rules))
    pool = Crunch(workers=2, start_items=0)
    there = asyncio.run(read_through(pool, document, rules))
    assert pool.started == 1
    assert there == here


def descendants(pid: int) -> set[int]:
    """Every live process below `pid` (workers fork from a forkserver, a child of the daemon)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[0] != "Z":
                parents[int(entry.name)] = int(fields[1])
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier}
        found |= frontier
    return found


def alive(pids: set[int]) -> set[int]:
    """Those of `pids` still running (an exited worker nobody reaped yet is a zombie: gone)."""
    running = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            running.add(pid)
    return running


def start_daemon(
    tmp_path: Path, corpus: Corpus, rules: Path
) -> tuple[subprocess.Popen[bytes], Path]:
    """A daemon over the corpus: its first cycle brings enough new items to start workers."""
    config = write_config(tmp_path, corpus.urls, rules, concurrency=8)
    log = tmp_path / "daemon.log"
    with log.open("ab") as out:
        daemon = subprocess.Popen(
            [sys.executable, "-m", "monitor", "run", "--config", str(config)],
            cwd=tmp_path,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    started = wait_until(lambda: "worker processes started" in log.read_text(), timeout=60)
    if not started:
        daemon.kill()
        daemon.wait()
    assert started, log.read_text()[-3000:]
    return daemon, log


@pytest.fixture
def big_corpus(feed_server: FeedServer) -> Corpus:
    corpus = Corpus(feed_server)
    for n in range(FEEDS, 3 * FEEDS):  # 36 feeds, about 1,200 items: over START_ITEMS
        corpus.models.append(FeedModel(n, corpus.pool, corpus.epoch))
        corpus.published.append(corpus.models[n].window)
        corpus.urls.append(corpus.serve(n))
    return corpus


def test_sigterm_stops_the_workers_after_the_polls(
    big_corpus: Corpus, rules: Path, tmp_path: Path
) -> None:
    daemon, log = start_daemon(tmp_path, big_corpus, rules)
    try:
        assert wait_until(lambda: len(descendants(daemon.pid)) >= 3, timeout=30)  # server + 2
        workers = descendants(daemon.pid)
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(timeout=60) == 0
    finally:
        if daemon.poll() is None:
            daemon.kill()
            daemon.wait()
    assert wait_until(lambda: not alive(workers), 15), alive(workers)
    text = log.read_text()
    assert "Traceback" not in text and "news-monitor stopped" in text
    with sqlite3.connect(tmp_path / "state.db") as db:
        [(items,)] = db.execute("SELECT count(*) FROM items").fetchall()
    assert items > 0


def test_workers_exit_when_the_daemon_is_killed(
    big_corpus: Corpus, rules: Path, tmp_path: Path
) -> None:
    daemon, _ = start_daemon(tmp_path, big_corpus, rules)
    try:
        assert wait_until(lambda: len(descendants(daemon.pid)) >= 3, timeout=30)
        workers = descendants(daemon.pid)
    finally:
        daemon.kill()
        daemon.wait()
    assert wait_until(lambda: not alive(workers), 15), alive(workers)


def forkserver_workers() -> dict[int, int]:
    """pid -> resident set size in bytes of each worker process of this test process: the
    children of its forkserver."""
    workers = {}
    for pid in descendants(os.getpid()):
        try:
            parent = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
            server = Path(f"/proc/{parent}/cmdline").read_bytes()
            pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if b"multiprocessing.forkserver" in server:
            workers[pid] = pages * os.sysconf("SC_PAGE_SIZE")
    return workers


def cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


async def until_stopped(pids: set[int]) -> None:
    """Until none of `pids` runs, at most 60 s, with the event loop free to stop them."""
    for _ in range(1200):
        if not alive(pids):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"worker processes {alive(pids)} still run after 60 s")


def test_idle_workers_stop_and_the_next_burst_starts_them_again(
    feed_server: FeedServer, rules: Path, tmp_path: Path
) -> None:
    """The memory the workers and their forkserver hold is given back once they have no work;
    the next burst starts new ones, which store and alert exactly what this process alone does."""
    corpus = Corpus(feed_server)
    reference = poll_all(write_config(tmp_path / "here", corpus.urls, rules), Crunch(0), corpus)
    corpus = Corpus(feed_server, corpus.epoch)
    there = write_config(tmp_path / "there", corpus.urls, rules)
    crunch = Crunch(workers=2, start_items=0, idle_stop=1.0)
    held: list[dict[int, int]] = []

    async def cycles() -> list[list[PollOutcome]]:
        app = App.open(load_config(there))
        app.crunch = crunch
        rounds = []
        async with app:
            for burst in range(2):
                outcomes = []
                for feed in app.config.feeds:
                    outcomes.append(await app.poll(feed, respect_backoff=False))
                    if crunch.started > burst and not crunch.running:
                        await until_ready(crunch)  # this burst's first poll started them
                rounds.append(outcomes)
                held.append(forkserver_workers())
                servers = {p for p in descendants(os.getpid()) if b"forkserver" in cmdline(p)}
                await until_stopped(set(held[-1]) | servers)
                assert not crunch.running
                corpus.advance(8)
        return rounds

    pooled = asyncio.run(cycles())
    assert crunch.started == 2
    assert [len(workers) for workers in held] == [2, 2]
    assert not set(held[0]) & set(held[1]), "the second burst has workers of its own"
    assert all(rss > 20 * 2**20 for workers in held for rss in workers.values())
    assert [o.new_items for o in pooled[1]] == [8] * FEEDS
    assert [counts(r) for r in pooled] == [counts(r) for r in reference]
    assert [alerts(r) for r in pooled] == [alerts(r) for r in reference]
    assert stored(there) == stored(tmp_path / "here" / "config.yaml")


def test_a_cycle_runs_in_the_daemon_when_workers_cannot_start(
    big_corpus: Corpus, rules: Path, tmp_path: Path
) -> None:
    """A forkserver that cannot start (here: its socket path in TMPDIR is too long for a Unix
    socket) leaves every step to `once`, which stores what it stores without workers."""
    stores = {}
    for name, workers in (("one-core", 1), ("no-forkserver", 2)):
        config = write_config(tmp_path / name, big_corpus.urls, rules, concurrency=8)
        config.write_text(config.read_text() + f"workers: {workers}\n")
        temporary = tmp_path / name / ("t" * 110)
        temporary.mkdir()
        done = subprocess.run(
            [sys.executable, "-m", "monitor", "once", "--config", str(config)],
            cwd=config.parent,
            capture_output=True,
            text=True,
            timeout=300,
            env={**os.environ, "TMPDIR": str(temporary)},
            check=False,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        assert "Traceback" not in done.stderr
        stores[name] = (stored(config), done.stderr)
    assert "worker processes cannot start (AF_UNIX path too long)" in stores["no-forkserver"][1]
    assert "cannot start" not in stores["one-core"][1]
    assert len(stores["one-core"][0]) > 600  # enough new items to start workers
    assert stores["no-forkserver"][0] == stores["one-core"][0]
