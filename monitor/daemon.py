"""The long-running daemon: APScheduler polls each feed on its interval, the outbox drains
continuously, edits to config.yaml and rule files are applied live, SIGTERM stops gracefully.

Signal handlers only set flags; the loop does the work. The first SIGTERM/SIGINT stops new
polls, lets in-flight polls and deliveries finish within the grace period, and exits 0;
a second one exits at once.

APScheduler keeps its schedule in wall-clock time, so the watch loop, which sleeps on the
monotonic clock, compares the two on every tick: after a step of the system clock (an NTP
correction, a VM resumed, a manual `date -s`) every feed is rescheduled from now instead of
waiting out the jump. The same loop ticks the heartbeat and notices when polls stop starting.

The state file is watched too: SQLite errors in a row make /readyz and the health check fail with
the cause (after a quick integrity check), and when the state or lock file is deleted or replaced
under the running daemon, it stops polling and delivering and says why, rather than write to a
file nobody will read again or deliver beside a second daemon.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import random
import signal
import sqlite3
import time
from datetime import datetime, timedelta
from pathlib import Path

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from monitor import metrics
from monitor.activity import Activity
from monitor.app import App
from monitor.config import Config, FeedSettings, load_config
from monitor.db import StateUnavailableError
from monitor.dispatch import STATE_ERRORS, Lane
from monitor.errors import MonitorError
from monitor.health import (
    Health,
    RunInfo,
    forget_dead_replicas,
    heartbeat_path,
    polls_stalled,
    rulebook_cache_path,
    run_info_path,
    write_run_info,
)
from monitor.rules import Rulebook, RulePin, pinned_rulebook
from monitor.rules.load import rule_files
from monitor.statefile import Identity, damage, damaged_advice

log = logging.getLogger("monitor.daemon")

WATCH_INTERVAL = 2.0  # seconds between liveness ticks, each of which checks files for edits
LEASE_MARGIN = 30.0  # seconds a feed's lease outlasts its fetch deadline (parsing, recording)
CLOCK_JUMP = 10.0  # seconds the wall clock may drift from the monotonic one between two ticks
STATE_ERRORS_UNREADY = 3  # state errors in a row before the daemon reports itself not ready
DISPATCH_INTERVAL = 5.0  # seconds between outbox drains when nothing new was queued


def watched_files(config: Config) -> dict[Path, tuple[int, int]]:
    """(mtime, size) of config.yaml and of every rule file it names, including new files in rule folders."""
    paths = [config.path]
    for entry in config.rules:
        # A rule path that vanished is watched as missing, so its return triggers a reload too.
        paths.extend(rule_files([entry]) if entry.exists() else [entry])
    signature: dict[Path, tuple[int, int]] = {}
    for path in paths:
        try:
            info = path.stat()
        except OSError:
            signature[path] = (-1, -1)
        else:
            signature[path] = (info.st_mtime_ns, info.st_size)
    return signature


def _span(seconds: float) -> str:
    minutes = seconds / 60
    return f"{minutes:.0f} min" if minutes >= 1 else f"{seconds:.0f} s"


def _load(path: Path) -> tuple[Config, Rulebook, RulePin | None]:
    config = load_config(path)
    return config, *pinned_rulebook(config.rules, rulebook_cache_path(config.state))


class Daemon:
    """Runs an App on a schedule until stopped."""

    def __init__(self, app: App, *, grace: float = 25.0) -> None:
        self.app = app
        self.grace = grace
        self.scheduler = AsyncIOScheduler(timezone="UTC")
        self.stopping = asyncio.Event()
        self.queued = asyncio.Event()
        self.inflight: set[asyncio.Task[object]] = set()
        self.poll_slots = asyncio.Semaphore(app.config.concurrency)
        self.health = Health(time.monotonic(), heartbeat=heartbeat_path(app.config.state))
        self._last_poll = time.monotonic()  # when a poll job last started
        # The files this process opened; PostgreSQL has none to lose.
        self._files: tuple[Identity, Identity] | None = None
        if isinstance(app.config.state, Path) and app.lock is not None:
            self._files = (Identity.of(app.config.state), Identity.of(app.lock.path))
        self.halted: str | None = None  # why polling and delivery stopped for good
        self._state_errors = 0
        self.signals = 0
        self._signature = watched_files(app.config)
        self._reload_requested = False
        self.reachable = True  # the state database answered the last heartbeat
        self.started_at = time.time()
        # Where this process says what it runs: a file beside a SQLite state; for PostgreSQL
        # its row in the replicas table, written with each heartbeat.
        state = app.config.state  # a changed `state:` needs a restart
        self.run_info = run_info_path(state) if isinstance(state, Path) else None
        self.loaded = self._describe()
        self.activity = Activity()
        self._lanes: dict[str, Lane] = {}  # each notifier's current turn, to wake it

    # -- scheduling ------------------------------------------------------------

    def _schedule_feed(self, feed: FeedSettings, first_in: float) -> None:
        self.scheduler.add_job(
            self._poll_job,
            IntervalTrigger(seconds=feed.interval),
            args=[feed.name],
            id=f"feed:{feed.name}",
            name=f"poll {feed.name}",
            next_run_time=datetime.now().astimezone() + timedelta(seconds=first_in),
            max_instances=1,
            coalesce=True,
            misfire_grace_time=max(1, int(feed.interval)),
            replace_existing=True,
        )

    def _schedule_all(self, feeds: tuple[FeedSettings, ...]) -> None:
        for feed in feeds:
            # A short random stagger keeps many feeds from all connecting in the same instant.
            self._schedule_feed(feed, random.uniform(0, min(2.0, feed.interval)))

    def _reschedule(self, old: Config, new: Config) -> None:
        before = {f.name: f for f in old.feeds}
        after = {f.name: f for f in new.feeds}
        for name in before.keys() - after.keys():
            self.scheduler.remove_job(f"feed:{name}")
            log.info("feed %s removed", name, extra={"feed": name})
        for name, feed in after.items():
            if name not in before:
                self._schedule_feed(feed, 0.0)
                log.info("feed %s added", name, extra={"feed": name})
            elif before[name] != feed:
                self._schedule_feed(feed, 0.0)
                log.info("feed %s changed", name, extra={"feed": name})

    async def _poll_job(self, name: str) -> None:
        if self.stopping.is_set():
            return
        self._last_poll = time.monotonic()
        try:
            feed = self.app.config.feed(name)
        except KeyError:
            return  # removed by a reload while this run was already queued
        task = asyncio.current_task()
        assert task is not None
        self.inflight.add(task)
        if not self.reachable:
            return  # cut off from the database: polling now would record nothing
        try:
            async with self.poll_slots:
                # Replicas on one database each schedule every feed; the first to claim it polls.
                state = self.app.store.claim_feed(
                    feed.name,
                    feed.url,
                    self.app.replica.id,
                    interval=feed.interval,
                    lease=feed.timeout + LEASE_MARGIN,
                    now=time.time(),
                )
                if state is None:
                    return
                outcome = await self.app.poll(feed, state=state)
            self.activity.polled(outcome, time.time())
            if outcome.alerts:
                self.queued.set()
        except STATE_ERRORS as exc:
            await self._state_failed(exc, f"poll of {name}")
        except Exception:
            log.exception("poll of %s crashed; it will be tried again", name, extra={"feed": name})
        else:
            self._state_worked()
        finally:
            self.inflight.discard(task)

    async def _beat(self) -> None:
        """Tell the other replicas this one is alive; not ready while the database is away.

        In a thread: an unreachable database makes the call wait for its connect timeout,
        which must not stall the loop that answers /readyz.
        """
        try:
            replica = dataclasses.replace(self.app.replica, run=self.loaded)
            await asyncio.to_thread(self.app.store.beat, replica, time.time())
        except StateUnavailableError as exc:
            if self.reachable:
                log.error("not ready, polls and deliveries paused: %s", exc)
            self.reachable = self.health.ready = False
            return
        except sqlite3.Error as exc:
            # A SQLite file that cannot be written (a full disk) is counted like any state error.
            await self._state_failed(exc, "heartbeat")
            return
        if not self.reachable:
            log.info("ready: the state database answers again")
        self.reachable = self.health.ready = True

    async def _beat_loop(self) -> None:
        while not self.stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), timeout=WATCH_INTERVAL)
            await self._beat()

    async def _watch_loop(self) -> None:
        wall, mono = time.time(), time.monotonic()
        while not self.stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), timeout=WATCH_INTERVAL)
            now_wall, now_mono = time.time(), time.monotonic()
            jump = (now_wall - wall) - (now_mono - mono)
            wall, mono = now_wall, now_mono
            if abs(jump) > CLOCK_JUMP and not self.stopping.is_set():
                log.warning(
                    "the system clock jumped %+.0f s; every feed is rescheduled from now", jump
                )
                self._schedule_all(self.app.config.feeds)
                for job in self.scheduler.get_jobs():
                    if not job.id.startswith("feed:"):
                        job.modify(next_run_time=datetime.now().astimezone())
            try:
                await self._tick(now_mono, now_wall)
            except Exception:
                log.exception("watch tick crashed; it runs again in %.0f s", WATCH_INTERVAL)

    async def _tick(self, now: float, wall: float) -> None:
        self._check_files()
        feeds = self.app.config.feeds
        if feeds and self.halted is None:
            shortest = min(feed.interval for feed in feeds)
            self.health.stuck = polls_stalled(now - self._last_poll, shortest)
        self.health.tick(now, wall)
        if self._reload_requested:
            self._reload_requested = False
            await self.reload()
            return
        signature = await asyncio.to_thread(watched_files, self.app.config)
        if signature != self._signature:
            self._signature = signature
            await self.reload()

    def _summarise(self) -> None:
        """One line of what happened since the last one; a warning when no feed answers."""
        now = time.time()
        pending, _, _ = self.app.store.outbox_summary()
        summary = self.activity.summarise((f.name for f in self.app.config.feeds), pending)
        log.info(summary.line())
        since = summary.all_failing_since
        if since is not None and now - since >= self.app.config.log_summary:
            log.warning(
                "every feed has been failing for %s: check the network, DNS or proxy "
                "(last error: %s)",
                _span(now - since),
                summary.last_error,
            )

    # -- reload ------------------------------------------------------------------

    async def reload(self) -> bool:
        """Validate the edited config and rules, then swap them in; on any error keep the old set."""
        old = self.app.config
        try:
            # Loading a large rulebook takes seconds of CPU: off the loop, which keeps ticking.
            config, rulebook, pin = await asyncio.to_thread(_load, old.path)
        except MonitorError as exc:
            log.error("reload rejected, still running the last good config and rules: %s", exc)
            metrics.LAST_RELOAD_SUCCESS.set(0)
            return False
        if config.state != old.state:
            log.warning("state: changed in config; restart news-monitor to use the new state file")
        self.app.replace(config, rulebook, pin)
        self._reschedule(old, config)
        if config.log_summary != old.log_summary:
            self.scheduler.reschedule_job(
                "summary", trigger=IntervalTrigger(seconds=config.log_summary)
            )
        self._signature = watched_files(config)
        metrics.LAST_RELOAD_SUCCESS.set(1)
        metrics.RULES_LOADED.set(len(rulebook.rules))
        self._write_run_info()
        log.info(
            "reloaded: %d feeds, %d rules, %d notifiers",
            len(config.feeds),
            len(rulebook.rules),
            len(config.notifiers),
        )
        return True

    def _describe(self) -> RunInfo:
        config, rulebook = self.app.config, self.app.rulebook
        return RunInfo(
            pid=os.getpid(),
            started_at=self.started_at,
            loaded_at=time.time(),
            config=str(config.path.resolve()),
            rules=len(rulebook.rules),
            rule_files=tuple(str(path) for path in rulebook.files),
            feeds=len(config.feeds),
            notifiers=len(config.notifiers),
        )

    def _write_run_info(self) -> None:
        """Tell `news-monitor status` since when this daemon runs and what it runs on."""
        self.loaded = self._describe()
        if self.run_info is not None:
            write_run_info(self.run_info, self.loaded)

    # -- the state file ----------------------------------------------------------

    def _check_files(self) -> None:
        """Halt when the state or lock file is no longer the one this process opened."""
        if self.halted is not None or self._files is None:
            return
        state, lock = self._files
        if lost := state.lost():
            self._halt(
                f"the state file {state.path} was {lost} while news-monitor ran: polling and "
                "delivery have stopped, so nothing is recorded where it would be lost. Put the "
                "file back and restart news-monitor (until then this process holds the old file "
                f"open under /proc/{os.getpid()}/fd), or restart to begin from an empty state, "
                "in which case items still in the feeds alert again"
            )
        elif lost := lock.lost():
            self._halt(
                f"the lock file {lock.path} was {lost} while news-monitor ran, so a second "
                "news-monitor could start on the same state and send every alert twice: "
                "polling and delivery have stopped here. Make sure only one news-monitor runs, "
                "then restart it"
            )

    def _halt(self, reason: str) -> None:
        self.halted = reason
        self.health.problem = reason
        self.health.stuck = None
        self.scheduler.pause()
        log.error("%s", reason)

    async def _state_failed(self, exc: Exception, what: str) -> None:
        self._state_errors += 1
        state = self.app.config.state
        log.error("%s: the state database %s failed: %s", what, state, exc)
        if self._state_errors == 1 and isinstance(state, Path):
            finding = await asyncio.to_thread(damage, state)
            if finding is not None:
                self.health.problem = damaged_advice(state, finding)
                log.error("%s", self.health.problem)
        if self._state_errors >= STATE_ERRORS_UNREADY and self.health.problem is None:
            self.health.problem = (
                f"the state database {state} failed {self._state_errors} times in a row (last: "
                f"{exc}); alerts wait until it works again: check the disk or server it is on"
            )

    def _state_worked(self) -> None:
        if self._state_errors and self.halted is None:
            log.info("the state database works again after %d errors", self._state_errors)
            self.health.problem = None
        self._state_errors = 0

    # -- delivery ----------------------------------------------------------------

    def _no_more_sends(self) -> bool:
        return self.stopping.is_set() or self.halted is not None

    async def _dispatch_loop(self) -> None:
        """Wake on new alerts (or every DISPATCH_INTERVAL) and start a lane for each notifier
        with something due that has none running; a running lane is woken to read the outbox
        again, so a slow notifier's lane runs on its own time and a new alert can overtake."""
        lanes: dict[str, asyncio.Task[None]] = {}
        try:
            while not self.stopping.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.queued.wait(), timeout=DISPATCH_INTERVAL)
                self.queued.clear()
                self._check_files()
                if self._no_more_sends() or not self.reachable:
                    continue  # nothing to send from a lost state file, or a database away
                try:
                    names = self.app.store.due_notifiers(time.time())
                except STATE_ERRORS as exc:
                    await self._state_failed(exc, "delivery round")
                    continue
                for name, task in lanes.items():
                    if not task.done():
                        self._lanes[name].wake()
                for name in names:
                    if name not in lanes or lanes[name].done():
                        lanes[name] = asyncio.create_task(self._lane(name))
            await asyncio.gather(*lanes.values())  # the messages in flight finish
        finally:
            for lane in lanes.values():
                lane.cancel()  # the grace period ran out

    async def _lane(self, name: str) -> None:
        """Turn after turn of one notifier's lane while it has work and its receiver answers."""
        while not self._no_more_sends():
            lane = self._lanes[name] = self.app.lane(name, stopping=self._no_more_sends)
            try:
                report = await lane.turn()
                self.app.outbox.observe()
            except STATE_ERRORS as exc:
                await self._state_failed(exc, f"delivery to {name}")
                return
            except Exception:
                log.exception("delivery to %s crashed; its alerts stay in the outbox", name)
                return
            self.activity.delivered(report)
            if report.state_error is not None:
                await self._state_failed(report.state_error, f"delivery to {name}")
                return
            self._state_worked()
            if not report.more:
                return  # nothing due, or its receiver fails: wait for the next wake-up

    # -- lifecycle ---------------------------------------------------------------

    def _on_signal(self, signum: int) -> None:
        self.signals += 1
        if self.signals > 1:
            log.warning("second signal: exiting now; undelivered alerts stay in the outbox")
            os._exit(1)
        log.info("received %s: finishing in-flight work", signal.Signals(signum).name)
        self.stopping.set()
        self.queued.set()

    def _on_hangup(self) -> None:
        self._reload_requested = True

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, self._on_signal, signum)
        loop.add_signal_handler(signal.SIGHUP, self._on_hangup)
        if isinstance(self.app.config.state, str):
            forget_dead_replicas(self.app.config.state)
        await self._beat()  # before any poll: a first poll skipped would wait a whole interval
        self._schedule_all(self.app.config.feeds)
        self.scheduler.add_job(
            self._summarise,
            IntervalTrigger(seconds=self.app.config.log_summary),
            id="summary",
            max_instances=1,
        )
        self.scheduler.start()
        self.health.tick(time.monotonic(), time.time())
        metrics.RULES_LOADED.set(len(self.app.rulebook.rules))
        metrics.LAST_RELOAD_SUCCESS.set(1)
        self.queued.set()  # drain what an earlier run left in the outbox right away
        dispatcher = asyncio.create_task(self._dispatch_loop())
        beating = asyncio.create_task(self._beat_loop())
        watcher = asyncio.create_task(self._watch_loop())
        http = None
        if self.app.config.http_listen:
            # Imported here: only the daemon's listener needs the web stack (uvicorn, Starlette).
            from monitor.http import start_http_server

            http = await start_http_server(
                self.app.config.http_listen,
                self.health,
                self.app,
                on_change=self.queued.set,
                clock=time.monotonic,
            )
            log.info(
                "serving the page at / and /healthz, /readyz, /metrics on %s",
                self.app.config.http_listen,
            )
        self._write_run_info()
        log.info(
            "news-monitor running: %d feeds, %d rules, %d notifiers",
            len(self.app.config.feeds),
            len(self.app.rulebook.rules),
            len(self.app.config.notifiers),
        )
        await self.stopping.wait()
        self.scheduler.pause()  # no new polls; running ones finish below
        pending = [*self.inflight, dispatcher, watcher]
        _, late = await asyncio.wait(pending, timeout=self.grace)
        for task in late:
            task.cancel()
        if late:
            log.warning("%d tasks still running after the grace period were cancelled", len(late))
        self.scheduler.shutdown(wait=False)
        await beating
        if http is not None:
            await http.close()
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            loop.remove_signal_handler(signum)
        try:
            self.app.store.leave(self.app.replica.id)
        except StateUnavailableError as exc:
            log.warning("leases kept until they expire: %s", exc)
        if isinstance(self.app.config.state, str) and self.health.heartbeat is not None:
            # A replica that left is not one the health check of this host should wait for.
            self.health.heartbeat.unlink(missing_ok=True)
        log.info("news-monitor stopped")
        return 0
