"""Where a poll's CPU work runs: parsing, text extraction and matching, in this process or in a
pool of worker processes, with the same functions on the same inputs either way.

Threads do not help here (one core at a time), processes do. `Crunch` runs each step in a thread
of this process until enough new items come in to pay for starting workers (a cold cycle, a burst
of busy feeds); then it starts one worker per CPU this process may use and sends them the work,
so the event loop only fetches and records. A steady cycle never pays for the start-up.

Workers load the rulebook themselves, the way this process did (`pinned_rulebook`: from its
cache when unchanged), once per digest, and check that what they read is what this process loaded;
when it is not (the files were edited since), that step runs here instead. At most two documents per worker wait in the
pool, so memory stays bounded whatever the cycle's size. Workers ignore SIGINT and SIGTERM (the
daemon stops them after its in-flight polls are done) and exit when this process is gone.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import select
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from monitor.errors import MonitorError, WorkerDied
from monitor.feeds.parse import Entry, read_entries
from monitor.models import Item
from monitor.rules import Rulebook, RulePin, pinned_rulebook
from monitor.stories.features import describe
from monitor.stories.tracker import Matched, event_time

if TYPE_CHECKING:
    from concurrent.futures import Future, ProcessPoolExecutor

log = logging.getLogger("monitor.crunch")

# New items within START_WINDOW seconds that pay for starting the workers: each worker imports
# the parser and loads the rulebook (about 0.5 s of CPU at 1,000 rules) before its first job.
START_ITEMS = 600
START_WINDOW = 10.0
QUEUED_PER_WORKER = 2  # documents waiting per worker: bounds the memory the pool holds
STOP_TIMEOUT = 10.0  # seconds a worker may take to finish its job when the pool stops
# Seconds without a step after which the workers stop: after a burst they hold 140-180 MB, and
# the next burst starts them again (from the rulebook cache, a fraction of a second each).
IDLE_STOP = 60.0

T = TypeVar("T")


@dataclass(frozen=True)
class Document:
    """One fetched feed body to read."""

    body: bytes
    feed_name: str
    base_url: str
    content_type: str | None


@dataclass(frozen=True)
class Window:
    """Which new items may alert: not older than `max_age`, nor (a new feed's first poll)
    published before `since`; `now` is when they were first seen."""

    now: float
    max_age: float | None
    since: float | None = None


@dataclass(frozen=True)
class Read:
    """A feed body read: its entries, or, read eagerly, every entry's item and matches."""

    entries: tuple[Entry, ...]
    items: tuple[Item, ...] | None = None
    matched: tuple[Matched, ...] | None = None


def is_stale(item: Item, now: float, max_age: float | None, since: float | None = None) -> bool:
    """Items published longer than `max_age` ago are recorded but never alert (e.g. on first start);
    with `since` (a new feed's first poll), neither do items published before it, nor undated ones."""
    if since is not None and (item.published is None or item.published.timestamp() < since):
        return True
    if max_age is None or item.published is None:
        return False
    return item.published.timestamp() < now - max_age


def matches_for(
    items: Sequence[Item],
    rulebook: Rulebook,
    now: float,
    max_age: float | None,
    since: float | None = None,
) -> list[Matched]:
    """The new items some rule matches, and those with words some rule needs (they may confirm
    a story), with what the story clusterer needs of them. Pure."""
    found: list[Matched] = []
    for item in items:
        if is_stale(item, now, max_age, since):
            continue
        matches, candidate = rulebook.triage(item)
        if matches or candidate:
            at = event_time(item, now)
            found.append(Matched(item, tuple(matches), describe(item, at), at))
    return found


def read_document(document: Document, rulebook: Rulebook, eager: Window | None) -> Read:
    """The entries of `document` (FeedParseError if it is no feed); with `eager`, every entry's
    item and the matches among them too (a feed never read before has no entry seen)."""
    entries = read_entries(
        document.body,
        feed_name=document.feed_name,
        base_url=document.base_url,
        content_type=document.content_type,
    )
    if eager is None:
        return Read(tuple(entries))
    items = [entry.item() for entry in entries]
    return Read((), tuple(items), tuple(_matched(items, rulebook, eager)))


def build_items(
    entries: Sequence[Entry], rulebook: Rulebook, window: Window | None
) -> tuple[list[Item], list[Matched] | None]:
    """The entries' items (their HTML made text) and, given a `window`, the matches among them."""
    items = [entry.item() for entry in entries]
    return items, None if window is None else _matched(items, rulebook, window)


def match_items(items: Sequence[Item], rulebook: Rulebook, window: Window) -> list[Matched]:
    return _matched(items, rulebook, window)


def _matched(items: Sequence[Item], rulebook: Rulebook, window: Window) -> list[Matched]:
    return matches_for(items, rulebook, window.now, window.max_age, window.since)


class RulesMoved(Exception):
    """A worker found rule files other than those this process loaded: run the step here."""


# -- in a worker process -----------------------------------------------------------------

_loaded: tuple[str, Rulebook] | None = None


def _worker_start(parent: int) -> None:
    # Ctrl-C reaches the whole process group: the parent stops the workers once its polls end.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    threading.Thread(target=_exit_with, args=(parent,), name="parent-watch", daemon=True).start()


def _exit_with(parent: int) -> None:
    """End this worker when `parent` ends (killed): nobody would read another result. Not its
    parent process: workers fork from a forkserver, which lives as long as they do."""
    try:
        handle = os.pidfd_open(parent)
    except (AttributeError, OSError):  # not Linux 5.3+: look once a second
        while True:
            time.sleep(1.0)
            try:
                os.kill(parent, 0)
            except ProcessLookupError:
                os._exit(0)
            except PermissionError:
                pass  # alive (the pid was reused by someone else's process at worst)
    select.select([handle], [], [])  # readable once the process has exited
    os._exit(0)


def _rulebook(pin: RulePin) -> Rulebook:
    global _loaded
    if _loaded is None or _loaded[0] != pin.digest:
        _loaded = None  # the old rulebook goes before the new one loads: one in memory at a time
        try:
            rulebook, loaded = pinned_rulebook(pin.paths, pin.cache)
        except MonitorError:
            raise RulesMoved() from None
        if loaded is None or loaded.digest != pin.digest:
            raise RulesMoved()
        _loaded = (pin.digest, rulebook)
    return _loaded[1]


def _run_warm(pin: RulePin) -> None:
    with contextlib.suppress(RulesMoved):  # the first step says so again, and runs here
        _rulebook(pin)


def _run_read(pin: RulePin, document: Document, eager: Window | None) -> Read:
    return read_document(document, _rulebook(pin), eager)


def _run_build(
    pin: RulePin, entries: Sequence[Entry], window: Window | None
) -> tuple[list[Item], list[Matched] | None]:
    return build_items(entries, _rulebook(pin), window)


def _run_match(pin: RulePin, items: Sequence[Item], window: Window) -> list[Matched]:
    return match_items(items, _rulebook(pin), window)


# -- in this process ---------------------------------------------------------------------


def _stop_forkserver() -> None:
    """End the forkserver too (about 60 MB with its imports); the next pool starts a new one.
    multiprocessing offers no public way: `_stop` is what its own tests use."""
    from multiprocessing import forkserver

    forkserver._forkserver._stop()  # type: ignore[attr-defined]


def _succeeded(warm_up: Future[None]) -> bool:
    return warm_up.done() and not warm_up.cancelled() and warm_up.exception() is None


def usable_cpus() -> int:
    """The CPUs this process may run on (its affinity mask, e.g. a container's cpuset)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class Crunch:
    """Runs the CPU steps of polls: in a thread here, or in worker processes once they pay.

    `workers`: how many worker processes (1 or fewer: never start any); `start_items`: new items
    within START_WINDOW seconds that start them (0: from the first step on); `idle_stop`: seconds
    without a step after which they stop.
    """

    def __init__(
        self,
        workers: int | None = None,
        start_items: int = START_ITEMS,
        idle_stop: float = IDLE_STOP,
    ) -> None:
        self.workers = usable_cpus() if workers is None else workers
        self.start_items = start_items
        self.idle_stop = idle_stop
        self._busy = 0  # steps sent to the workers and not yet answered
        self._last_step = 0.0  # time.monotonic() of the last step sent or answered
        self._idle: asyncio.Task[None] | None = None
        self._stopping = False  # idle workers and their forkserver are being stopped
        self._pool: ProcessPoolExecutor | None = None
        self._warming: list[Future[None]] = []
        self._slots = asyncio.Semaphore(max(1, self.workers) * QUEUED_PER_WORKER)
        self._recent: deque[tuple[float, int]] = deque()
        self._recent_items = 0
        self.started = 0  # how many times workers were started (for logs and tests)

    @property
    def running(self) -> bool:
        """Workers started and at least one of them ready (rules loaded): steps go to them."""
        return self._pool is not None and any(_succeeded(w) for w in self._warming)

    async def read(
        self, document: Document, rulebook: Rulebook, pin: RulePin | None, eager: Window | None
    ) -> Read:
        """Read a body (see read_document); `eager` only when the workers already run."""
        self._count(0, pin)
        if not self.running or pin is None:
            return await asyncio.to_thread(read_document, document, rulebook, None)
        return await self._run(
            _run_read, pin, (document, eager), lambda: read_document(document, rulebook, eager)
        )

    async def build(
        self,
        entries: Sequence[Entry],
        rulebook: Rulebook,
        pin: RulePin | None,
        window: Window | None,
    ) -> tuple[list[Item], list[Matched] | None]:
        """Items of new entries (see build_items); may start the workers."""
        self._count(len(entries), pin)
        if not self.running or pin is None:
            return await asyncio.to_thread(build_items, entries, rulebook, window)
        return await self._run(
            _run_build, pin, (entries, window), lambda: build_items(entries, rulebook, window)
        )

    async def match(
        self, items: Sequence[Item], rulebook: Rulebook, pin: RulePin | None, window: Window
    ) -> list[Matched]:
        if not self.running or pin is None:
            return await asyncio.to_thread(match_items, items, rulebook, window)
        return await self._run(
            _run_match, pin, (items, window), lambda: match_items(items, rulebook, window)
        )

    def _count(self, items: int, pin: RulePin | None) -> None:
        """Start the workers once START_WINDOW seconds bring `start_items` new items."""
        if self._pool is not None and not any(_succeeded(w) or not w.done() for w in self._warming):
            self._lost(self._pool)  # no worker came up (the forkserver died, say)
        if self._pool is not None or self._stopping or self.workers <= 1 or pin is None:
            return
        now = time.monotonic()
        if items:
            self._recent.append((now, items))
            self._recent_items += items
        while self._recent and self._recent[0][0] < now - START_WINDOW:
            self._recent_items -= self._recent.popleft()[1]
        if self._recent_items >= self.start_items:
            try:
                self._start(self._recent_items, pin)
            except OSError as exc:
                self._unable(exc)

    def _start(self, items: int, pin: RulePin) -> None:
        # Imported here: a cycle that never starts workers does not pay for multiprocessing.
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        context = multiprocessing.get_context("forkserver")
        # Workers fork from a server that imported only this module's dependencies: not this
        # process, whose threads and open files a plain fork would copy.
        context.set_forkserver_preload([__name__])
        self._pool = ProcessPoolExecutor(
            self.workers, mp_context=context, initializer=_worker_start, initargs=(os.getpid(),)
        )
        # Each worker imports and loads the rules before its first step; until one is ready,
        # steps go on here rather than wait.
        self._warming = [self._pool.submit(_run_warm, pin) for _ in range(self.workers)]
        self.started += 1
        self._last_step = time.monotonic()
        self._idle = asyncio.get_running_loop().create_task(self._stop_when_idle(self._pool))
        self._recent.clear()
        self._recent_items = 0
        log.info(
            "%d new items in %.0f s: %d worker processes started to read them",
            items,
            START_WINDOW,
            self.workers,
        )

    async def _run(
        self, job: Callable[..., T], pin: RulePin, args: tuple[object, ...], here: Callable[[], T]
    ) -> T:
        from concurrent.futures.process import BrokenProcessPool

        async with self._slots:
            pool = self._pool
            if pool is None:  # stopped while this step waited for a slot
                return await asyncio.to_thread(here)
            try:
                submitted = pool.submit(job, pin, *args)
            except OSError as exc:  # the first submit starts the forkserver and the workers
                self._unable(exc)
                return await asyncio.to_thread(here)
            self._busy += 1
            self._last_step = time.monotonic()
            try:
                return await asyncio.wrap_future(submitted)
            except RulesMoved:
                return await asyncio.to_thread(here)
            except BrokenProcessPool:
                self._lost(pool)
                raise WorkerDied(
                    "a worker process died while reading this feed (killed, or out of memory); "
                    "nothing of it was recorded, and it is read again at its next poll"
                ) from None
            finally:
                self._busy -= 1
                self._last_step = time.monotonic()

    async def _stop_when_idle(self, pool: ProcessPoolExecutor) -> None:
        """Stop `pool`'s workers once no step was sent to them for `idle_stop` seconds."""
        while self._pool is pool:
            if not all(w.done() for w in self._warming):
                self._last_step = time.monotonic()  # still loading the rules: not idle yet
            idle = time.monotonic() - self._last_step
            if self._busy == 0 and idle >= self.idle_stop:
                # No new pool until this one and its forkserver are gone: a worker forked from
                # a forkserver that then stops would look dead to its pool.
                self._stopping = True
                self._pool, self._warming = None, []
                log.info(
                    "no work for the worker processes in %.0f s: stopped (a burst of new items "
                    "starts them again)",
                    self.idle_stop,
                )
                try:
                    await self._shut(pool)
                    await asyncio.to_thread(_stop_forkserver)
                finally:
                    self._stopping = False
                return
            await asyncio.sleep(max(self.idle_stop - idle, 0.05))

    def _unable(self, exc: OSError) -> None:
        """No worker processes here (no writable temporary folder, no /dev/shm): stay in this one."""
        log.warning(
            "worker processes cannot start (%s): every feed is read in this process, on one "
            "core; give news-monitor a writable /tmp (or TMPDIR) and /dev/shm to use them all",
            exc,
        )
        self.workers = 0
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)

    def _lost(self, pool: ProcessPoolExecutor) -> None:
        if self._pool is pool:
            log.warning("a worker process died; workers start again when the work pays")
            self._pool = None
            pool.shutdown(wait=False, cancel_futures=True)

    async def aclose(self) -> None:
        """Stop the workers: each finishes its running step (within STOP_TIMEOUT seconds)."""
        pool, self._pool = self._pool, None
        if self._idle is not None:
            self._idle.cancel()
            self._idle = None
        if pool is not None:
            await self._shut(pool)

    @staticmethod
    async def _shut(pool: ProcessPoolExecutor) -> None:
        done = asyncio.to_thread(pool.shutdown, wait=True, cancel_futures=True)
        try:
            await asyncio.wait_for(done, STOP_TIMEOUT)
        except TimeoutError:
            # The executor has no public way to end a worker stuck in a step.
            for process in list(pool._processes.values()):
                process.kill()
            log.warning("worker processes still busy after %.0f s were killed", STOP_TIMEOUT)
