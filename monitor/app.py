"""The working parts of a run, built from a Config: store, rulebook, fetcher, channels.

`App` is shared by `news-monitor once` (one full cycle) and the daemon (scheduled cycles), so
both poll, match, record and deliver the same way.
"""

from __future__ import annotations

import asyncio
import fcntl
import hashlib
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from urllib.parse import parse_qsl, urlsplit

from monitor.config import Config, FeedSettings
from monitor.crunch import Crunch
from monitor.dispatch import Channel, DispatchReport, Lane, Outbox, deliver_due
from monitor.errors import ConfigError, MonitorError, StateError
from monitor.feeds.article import ArticleFetcher
from monitor.feeds.fetch import Fetcher, make_client
from monitor.health import lock_path, rulebook_cache_path
from monitor.logs import register_secret
from monitor.notify import build_notifier
from monitor.notify.settings import NotifierSettings, looks_like_token
from monitor.poll import FeedRead, PollOutcome, observe, read_feed, record_reads
from monitor.rules import Rulebook, RulePin, pinned_rulebook
from monitor.statefile import check_intact, ensure_writable
from monitor.store import FeedState, Replica, Store

log = logging.getLogger("monitor")

# New items a `once` cycle holds, read but unrecorded, to place them in time order across feeds.
ORDERED_ITEMS = 5000


class StateLockedError(MonitorError):
    """Another news-monitor process uses the same state file."""


def fingerprint(settings: NotifierSettings) -> str:
    """Changes whenever a notifier's settings change (a 410-disabled notifier comes back then)."""
    return hashlib.sha256(repr(settings).encode()).hexdigest()[:16]


def register_secrets(config: Config) -> None:
    """Every password, token and signing secret in the config is redacted from all logs and
    command output: a feed URL's password and token-like query values (`?key=...`) included."""
    for settings in config.notifiers:
        for value in settings.secret_values:
            register_secret(value)
    if config.http_token:
        register_secret(config.http_token)
    urls = [feed.url for feed in config.feeds]
    if isinstance(config.state, str):
        urls.append(config.state)
    for url in urls:
        parts = urlsplit(url)
        if parts.password:
            register_secret(parts.password)
        for _, value in parse_qsl(parts.query):
            if looks_like_token(value):
                register_secret(value)


def build_channel(settings: NotifierSettings) -> Channel:
    return Channel(build_notifier(settings), fingerprint(settings), settings.concurrency)


def build_channels(settings: tuple[NotifierSettings, ...]) -> dict[str, Channel]:
    return {s.name: build_channel(s) for s in settings}


class StateLock:
    """An exclusive lock beside the state file: two processes never deliver the same outbox."""

    def __init__(self, state: Path) -> None:
        self.path = lock_path(state)
        self._fd: int | None = None

    def acquire(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise StateError(
                f"cannot open the lock file {self.path} ({exc.strerror}): make it and its folder "
                "writable by the user news-monitor runs as"
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise StateLockedError(
                f"another news-monitor process is using {self.path.parent}; stop it first "
                "(two processes on one state file would deliver alerts twice)"
            ) from None
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


@dataclass
class App:
    """Everything one configuration needs at run time. Use as an async context manager."""

    config: Config
    rulebook: Rulebook
    store: Store
    fetcher: Fetcher
    articles: ArticleFetcher
    channels: dict[str, Channel]
    lock: StateLock | None  # SQLite only: PostgreSQL is shared by replicas on purpose
    replica: Replica
    pin: RulePin | None  # the rule files as loaded, for worker processes (None: match here)
    crunch: Crunch  # where parsing, text and matching run; `workers:` is read at start only
    outbox: Outbox
    _closing: list[Channel] = field(default_factory=list)

    @classmethod
    def open(cls, config: Config) -> App:
        """Load the rules, lock the state file and open it; raises StateError with a sentence
        when the state file cannot be written or is damaged."""
        register_secrets(config)
        rulebook, pin = pinned_rulebook(config.rules, rulebook_cache_path(config.state))
        lock = None
        if isinstance(config.state, Path):
            ensure_writable(config.state)
            lock = StateLock(config.state)
            lock.acquire()
            try:
                check_intact(config.state)
            except MonitorError:
                lock.release()
                raise
        try:
            store = Store(config.state)
        except MonitorError:
            if lock is not None:
                lock.release()
            raise
        except Exception as exc:
            if lock is not None:
                lock.release()
            raise ConfigError(f"cannot open state file: {exc}", path=str(config.state)) from None
        if lock is not None:
            store.release_leases()  # the lock says no other process is sending
        client = make_client()
        now = time.time()
        try:
            store.add_feeds(((f.name, f.url) for f in config.feeds), now)
        except BaseException:
            store.close()
            if lock is not None:
                lock.release()
            raise
        replica = Replica.this_process(now)
        return cls(
            config=config,
            rulebook=rulebook,
            store=store,
            fetcher=Fetcher(client),
            articles=ArticleFetcher(client),
            channels=build_channels(config.notifiers),
            lock=lock,
            replica=replica,
            outbox=Outbox(store, replica.id),
            pin=pin,
            crunch=Crunch(config.workers),
        )

    async def __aenter__(self) -> App:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        await self.crunch.aclose()
        for channel in [*self.channels.values(), *self._closing]:
            await channel.notifier.aclose()
        await self.articles.aclose()
        await self.fetcher.client.aclose()
        self.store.close()
        if self.lock is not None:
            self.lock.release()

    def replace(self, config: Config, rulebook: Rulebook, pin: RulePin | None) -> None:
        """Swap in a new validated config and rulebook; notifiers whose settings changed are rebuilt.

        Running worker processes keep running: they load the new rule files (`pin`) at their
        next step."""
        register_secrets(config)
        channels: dict[str, Channel] = {}
        for settings in config.notifiers:
            old = self.channels.get(settings.name)
            if old is not None and old.fingerprint == fingerprint(settings):
                channels[settings.name] = old
            else:
                channels[settings.name] = build_channel(settings)
        self._closing.extend(c for name, c in self.channels.items() if channels.get(name) is not c)
        self.store.add_feeds(((f.name, f.url) for f in config.feeds), time.time())
        self.config, self.rulebook, self.pin, self.channels = config, rulebook, pin, channels

    async def poll(
        self, feed: FeedSettings, *, respect_backoff: bool = True, state: FeedState | None = None
    ) -> PollOutcome:
        """Poll one feed; `state` is the feed's stored state when a claim just read it."""
        read, seconds = await self._read(feed, respect_backoff=respect_backoff, state=state)
        if isinstance(read, FeedRead):
            started = time.monotonic()
            [read] = record_reads([read], self.store, self.rulebook, self.config.routes)
            seconds += time.monotonic() - started
        observe(read, seconds)
        return read

    async def _read(
        self, feed: FeedSettings, *, respect_backoff: bool, state: FeedState | None = None
    ) -> tuple[FeedRead | PollOutcome, float]:
        """Fetch and read one feed, recording nothing of its items yet; the seconds it took."""
        started = time.monotonic()
        read = await read_feed(
            feed,
            fetcher=self.fetcher,
            store=self.store,
            rulebook=self.rulebook,
            max_age=self.config.max_age,
            crunch=self.crunch,
            pin=self.pin,
            articles=self.articles,
            respect_backoff=respect_backoff,
            state=state,
        )
        return read, time.monotonic() - started

    async def deliver(
        self, *, force: bool = False, stopping: Callable[[], bool] | None = None
    ) -> DispatchReport:
        """Drain every notifier's lane until nothing is due or its receiver fails."""
        return await deliver_due(self.outbox, self.channels, force=force, stopping=stopping)

    def lane(self, name: str, stopping: Callable[[], bool]) -> Lane:
        """One turn of notifier `name`'s lane, with the channel the current config gives it."""
        return Lane(self.outbox, name, self.channels.get(name), stopping=stopping)

    async def cycle(self) -> tuple[list[PollOutcome], DispatchReport]:
        """Poll every feed once (ignoring backoff: the user asked for it now), then deliver all
        that is due, however many turns that takes.

        What the feeds read is recorded together, up to ORDERED_ITEMS new items at a time, so
        that reports are placed in stories in the order of their occurrences across feeds (a
        cycle that reads a day of news places it as live polling would have), not in the order
        the fetches finished; memory stays bounded by the same count."""
        limit = asyncio.Semaphore(self.config.concurrency)

        async def bounded(feed: FeedSettings) -> tuple[FeedRead | PollOutcome, float]:
            async with limit:
                return await self._read(feed, respect_backoff=False)

        outcomes: dict[str, PollOutcome] = {}
        waiting: list[tuple[FeedRead, float]] = []
        waiting_items = 0

        def record() -> None:
            nonlocal waiting_items
            reads = [read for read, _ in waiting]
            for outcome, (_, seconds) in zip(
                record_reads(reads, self.store, self.rulebook, self.config.routes),
                waiting,
                strict=True,
            ):
                observe(outcome, seconds)
                outcomes[outcome.feed] = outcome
            waiting.clear()
            waiting_items = 0

        for finished in asyncio.as_completed([bounded(feed) for feed in self.config.feeds]):
            read, seconds = await finished
            if isinstance(read, PollOutcome):
                observe(read, seconds)
                outcomes[read.feed] = read
                continue
            waiting.append((read, seconds))
            waiting_items += len(read.new_items)
            if waiting_items >= ORDERED_ITEMS:
                record()
        if waiting:
            record()
        report = await self.deliver(force=True)
        return [outcomes[feed.name] for feed in self.config.feeds], report
