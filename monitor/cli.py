"""The command line: `news-monitor check | once | run | status | outbox | silence | migrate |
state | demo`, and for rule authors `test | backtest | evaluate`.

The only place where errors become exit codes: 0 success, 1 invalid config or rules (or another
problem the message explains), 2 wrong usage, 3 `once` could fetch no feed at all, 4 `once`
left deliveries undelivered (not those held on purpose: quiet hours, groups, digests).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import shutil
import sqlite3
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from monitor import __version__
from monitor.app import App, StateLock, register_secrets
from monitor.config import DEFAULT_RULES, Config, default_config_path, load_config
from monitor.db import connect
from monitor.durations import parse_duration
from monitor.errors import ConfigError, ConfigErrors, MonitorError
from monitor.health import (
    RunInfo,
    check_heartbeat,
    check_replica_heartbeats,
    heartbeat_path,
    heartbeat_trouble,
    lock_is_held,
    lock_path,
    read_run_info,
    replica_heartbeats,
    rulebook_cache_path,
    run_info_path,
    stale_heartbeat,
)
from monitor.logs import RedactedStream, configure_logging, redact
from monitor.migrations import current_version, migrate
from monitor.models import CREATED, Alert, Item
from monitor.noise import hold_reason
from monitor.rules import Ladder, Rulebook, load_rulebook
from monitor.statecopy import copy_state
from monitor.statefile import unreadable
from monitor.store import Delivery, Replica, Store, mixed_setups

log = logging.getLogger("monitor")

NO_FEED_FETCHED = 3  # exit code of `once` when every feed failed
DELIVERIES_LEFT = 4  # exit code of `once` when deliveries are still due after it


def _config_path(args: argparse.Namespace) -> Path:
    given = getattr(args, "config", None)
    return Path(given) if given else default_config_path()


def _config(args: argparse.Namespace) -> Config:
    """The validated config, its secrets registered so no output of this command shows them."""
    config = load_config(_config_path(args))
    register_secrets(config)
    return config


def _problems(exc: ConfigError) -> list[str]:
    return [str(e) for e in exc.errors] if isinstance(exc, ConfigErrors) else [str(exc)]


def cmd_check(args: argparse.Namespace) -> int:
    """Every mistake in config.yaml and the rule files in one run, one `file:line: what` each."""
    problems: list[str] = []
    config: Config | None = None
    rule_paths: tuple[Path, ...] | None = None
    try:
        config = _config(args)
        rule_paths = config.rules
    except ConfigError as exc:
        problems += _problems(exc)
        rule_paths = exc.rules if isinstance(exc, ConfigErrors) else None
    rulebook: Rulebook | None = None
    if rule_paths is not None:
        try:
            cache = None if config is None else rulebook_cache_path(config.state)
            rulebook = load_rulebook(rule_paths, cache)
        except ConfigError as exc:
            problems += _problems(exc)
        else:
            problems += rulebook.example_failures()
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    if problems or config is None or rulebook is None:
        noun = "error" if len(problems) == 1 else "errors"
        print(
            f"{len(problems)} {noun}: fix them and run `news-monitor check` again", file=sys.stderr
        )
        return 1
    print(
        f"ok: {config.path}: {len(config.feeds)} feeds, {len(rulebook.rules)} rules in "
        f"{len(rulebook.files)} files, {len(config.notifiers)} notifiers, {len(config.routes)} routes"
    )
    return 0


@contextmanager
def _state(config: Config) -> Iterator[Store]:
    """The store for one command; an SQLite error becomes a sentence naming the file."""
    try:
        with Store(config.state) as store:
            yield store
    except sqlite3.Error as exc:
        raise unreadable(config.state, exc) from None


def _load(args: argparse.Namespace) -> Config:
    config = _config(args)
    configure_logging(config.log_level, config.log_format)
    return config


async def _once(config: Config) -> int:
    async with App.open(config) as app:
        outcomes, report = await app.cycle()
        left = app.store.count_unheld(time.time())
    alerts = sum(len(o.alerts) for o in outcomes)
    failed = [o for o in outcomes if o.status == "error"]
    log.info(
        "cycle done: %d feeds polled (%d failed), %d new items, %d alerts; "
        "deliveries: %d sent, %d to retry, %d failed",
        len(outcomes),
        len(failed),
        sum(o.new_items for o in outcomes),
        alerts,
        report.sent,
        report.retried,
        report.failed,
    )
    if outcomes and len(failed) == len(outcomes):
        log.error(
            "no feed could be fetched (last error: %s); check the network, DNS or proxy",
            failed[-1].error,
        )
        return NO_FEED_FETCHED
    if left:
        log.error(
            "%d deliveries are still waiting (a receiver failed or the state could not be "
            "written, see above); `news-monitor outbox list` shows them, and the next `once` "
            "or the daemon retries them",
            left,
        )
        return DELIVERIES_LEFT
    return 0


def cmd_once(args: argparse.Namespace) -> int:
    return asyncio.run(_once(_load(args)))


async def _run(config: Config) -> int:
    from monitor.daemon import Daemon  # APScheduler: only `run` needs it

    app = App.open(config)
    try:
        return await Daemon(app).run()
    finally:
        await app.close()


def cmd_run(args: argparse.Namespace) -> int:
    return asyncio.run(_run(_load(args)))


def _ago(then: float | None, now: float) -> str:
    if then is None:
        return "never"
    seconds = now - then
    if seconds < 0:
        return f"in {_span(-seconds)}"
    return f"{_span(seconds)} ago"


def _span(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.0f}{unit}"
    return f"{seconds:.0f}s"


def _when(then: float) -> str:
    return datetime.fromtimestamp(then, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], *, wrap_last: bool = True) -> str:
    """Columns padded to their widest cell; the last one (an error, a reason) is wrapped to the
    terminal's width rather than cut, so the end of a message, where its cause is, shows."""
    widths = [
        max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)
    ]
    indent = sum(widths[:-1]) + 2 * (len(widths) - 1)
    room = max(30, shutil.get_terminal_size((120, 24)).columns - indent)

    def render(cells: Sequence[str]) -> list[str]:
        last = textwrap.wrap(cells[-1], room) if wrap_last and cells[-1] else [cells[-1]]
        first = "  ".join(c.ljust(w) for c, w in zip(cells[:-1], widths, strict=False))
        lines = [f"{first}  {last[0]}" if first else last[0]]
        lines += [" " * indent + more for more in last[1:]]
        return lines

    lines = render(headers)
    for row in rows:
        lines += render(row)
    return "\n".join(line.rstrip() for line in lines)


def _inspect(args: argparse.Namespace) -> Config:
    """The config as commands that only read state need it: without the notifiers' secrets
    (the feeds' are registered, so no output shows them)."""
    config = load_config(_config_path(args), delivery=False)
    register_secrets(config)
    return config


def _daemon_report(state: Path, now: float) -> tuple[bool, list[str]]:
    """Whether a daemon (or a `once`) works on the SQLite `state`, and lines saying so for
    `status`."""
    held = lock_is_held(lock_path(state))
    info = read_run_info(run_info_path(state))
    beat = heartbeat_path(state)
    stalled = stale_heartbeat(beat, now)
    lines: list[str] = []
    if held and stalled is None and info is not None:
        lines.append(
            f"running (pid {info.pid}) since {_when(info.started_at)} "
            f"({_ago(info.started_at, now)}); loop ticked {_ago(beat.stat().st_mtime, now)}"
        )
        trouble = heartbeat_trouble(beat)
        if trouble:
            lines.append(f"but not working: {trouble}")
    elif held:
        lines.append(
            "busy: another process holds the state lock: a `news-monitor once`, or a daemon "
            f"whose loop does not tick ({stalled or 'no run info'})"
        )
    elif beat.exists():
        lines.append(
            f"stopped: the loop last ticked {_when(beat.stat().st_mtime)} "
            f"({_ago(beat.stat().st_mtime, now)})"
        )
    else:
        lines.append("stopped: no daemon has run on this state yet")
    if info is not None:
        verb = "runs on" if held else "ran on"
        lines.append(
            f"{verb} {info.config}: {info.feeds} feeds, {info.rules} rules from "
            f"{len(info.rule_files)} files, {info.notifiers} notifiers "
            f"(loaded {_when(info.loaded_at)}, {_ago(info.loaded_at, now)})"
        )
    return held, lines


def _loaded(run: RunInfo | None, now: float) -> str:
    if run is None:
        return "?"
    return (
        f"{run.feeds} feeds, {run.rules} rules, {run.notifiers} notifiers "
        f"({_ago(run.loaded_at, now)})"
    )


def _replica_report(replicas: Sequence[Replica], now: float) -> str:
    """The replicas table, and what they run (from the database: every host's replicas)."""
    if not replicas:
        return "none: no `news-monitor run` works on this database"
    rows = [
        [
            r.id,
            _ago(r.started_at, now),
            _ago(r.heartbeat_at, now),
            str(r.leases),
            _loaded(r.run, now),
            "alive" if r.alive(now) else "silent (stopped or cut off?)",
        ]
        for r in replicas
    ]
    lines = [_table(["replica", "started", "heartbeat", "feeds polling", "loaded", "state"], rows)]
    runs = [(r.id, r.run) for r in replicas if r.alive(now) and r.run is not None]
    if mixed_setups(replicas, now):
        lines.append(
            "warning: the alive replicas do not run the same config and rules: "
            + "; ".join(f"{rid} runs {run.config}: {_loaded(run, now)}" for rid, run in runs)
            + ". Give every replica the same config.yaml and rule files, then reload them"
        )
    elif runs:
        lines.append(f"every alive replica runs {runs[0][1].config}")
    return "\n".join(lines)


def cmd_status(args: argparse.Namespace) -> int:
    config = _inspect(args)
    try:
        rulebook: Rulebook | None = load_rulebook(config.rules, rulebook_cache_path(config.state))
        broken = None
    except MonitorError as exc:
        # The daemon keeps running on its last good rules; the operator still needs the rest.
        rulebook, broken = None, str(exc)
    if isinstance(config.state, Path) and not config.state.exists():
        print(
            f"no state yet at {config.state}: run `news-monitor once` or `news-monitor run` first"
        )
        return 0
    now = time.time()
    if broken is not None:
        print(
            f"warning: the rule files do not load: {broken}\n"
            "  (a running daemon keeps its last good rules; `news-monitor check` lists every "
            "error)\n"
        )
    with _state(config) as store:
        if isinstance(config.state, Path):
            running, daemon = _daemon_report(config.state, now)
            print("DAEMON")
            print("\n".join(daemon))
        else:
            replicas = store.replicas(now)
            running = any(r.alive(now) for r in replicas)
            print("REPLICAS")
            print(_replica_report(replicas, now))
        states = {s.name: s for s in store.feed_states()}
        rows = []
        for feed in config.feeds:
            state = states.get(feed.name)
            if state is None:
                rows.append([feed.name, "never", "0", "at start" if running else "-", "0", ""])
                continue
            next_poll = state.retry_at or ((state.last_polled_at or now) + feed.interval)
            rows.append(
                [
                    feed.name,
                    _ago(state.last_success_at, now),
                    str(state.consecutive_failures),
                    _ago(next_poll, now) if running else "- (stopped)",
                    str(state.items_seen),
                    redact(state.last_error or ""),
                ]
            )
        print("\nFEEDS")
        print(
            _table(
                ["name", "last success", "failures", "next poll", "items", "last error"],
                rows,
                wrap_last=not args.wide,
            )
        )
        matches = store.matches_by_rule(now - 86400)
        print("\nRULES (matches in the last 24 h)")
        if rulebook is not None:
            rule_rows = [
                [r.info.id, r.info.severity.label, str(matches.get(r.info.id, 0))]
                for r in rulebook.rules
            ]
        else:
            rule_rows = [[rule, "?", str(count)] for rule, count in sorted(matches.items())]
        print(_table(["id", "severity", "matches"], rule_rows))
        if rulebook is not None and rulebook.ladders:
            print("\nLADDERS (highest rung in each one's step-up window; trend: one mark a day)")
            for line in ladder_lines(store, rulebook.ladders, now):
                print(line)
        pending, failed, oldest = store.outbox_summary()
        print("\nOUTBOX")
        print(f"pending {pending}, failed {failed}, oldest pending {_ago(oldest, now)}")
    return 0


TREND_DAYS = 14


def ladder_lines(store: Store, ladders: Sequence[Ladder], now: float) -> list[str]:
    """Each ladder's current rung and the highest rung of each of the last 14 days."""
    lines = []
    for ladder in ladders:
        top = store.ladder_top(ladder.id, now - ladder.step_up_window)
        current = f"rung {top[0]} of {ladder.top} ({top[1]})" if top else "quiet"
        days = store.ladder_days(ladder.id, now - TREND_DAYS * 86400)
        today = datetime.fromtimestamp(now, UTC).date()
        trend = " ".join(
            str(days.get((today - timedelta(days=back)).isoformat(), "."))
            for back in range(TREND_DAYS - 1, -1, -1)
        )
        lines.append(f"{ladder.id} ({ladder.title}): {current}")
        lines.append(f"  last 14 days: {trend}  (today last)")
    return lines


def _waiting(delivery: Delivery, now: float) -> str:
    """What a pending delivery waits for, and until when; nothing for the others."""
    if delivery.status != "pending":
        return ""
    if delivery.hold_until > now:
        return (
            f"{hold_reason(delivery.group)} until {_when(delivery.hold_until)} "
            f"({_ago(delivery.hold_until, now)})"
        )
    if delivery.next_attempt_at > now:
        return (
            f"retry backoff after {delivery.attempts} attempts until "
            f"{_when(delivery.next_attempt_at)} ({_ago(delivery.next_attempt_at, now)})"
        )
    return "due now"


def cmd_outbox_list(args: argparse.Namespace) -> int:
    config = _inspect(args)
    with _state(config) as store:
        now = time.time()
        deliveries = store.deliveries("failed" if args.failed else None)
        rows = [
            [
                d.alert.id,
                "created" if d.alert.version == 1 else f"update {d.alert.version}",
                d.notifier,
                d.status,
                _waiting(d, now),
                str(d.attempts),
                d.alert.rule.id,
                d.alert.item.title[:50],
                redact(d.last_error or ""),
            ]
            for d in deliveries
        ]
        headers = ["id", "message", "notifier", "status", "waiting for", "attempts", "rule"]
        print(_table([*headers, "item", "last error / why"], rows))
    return 0


_WHAT_WAS = {
    "failed": "failed",
    "pending": "waiting out a retry backoff",
    "silenced": "silenced",
    "cooldown": "held back by a rule cooldown",
}


def cmd_outbox_retry(args: argparse.Namespace) -> int:
    if not (args.all or args.id or args.notifier):
        print("error: give an alert id, --notifier NAME, or --all", file=sys.stderr)
        return 2
    config = _inspect(args)
    with _state(config) as store:
        done = store.requeue(args.id, args.notifier, time.time())
    moved = sum(done.moved.values())
    if moved:
        what = ", ".join(f"{n} {_WHAT_WAS[status]}" for status, n in sorted(done.moved.items()))
        print(
            f"{moved} deliveries will be sent now ({what}); a running daemon sends them within "
            "seconds, or run `news-monitor once`"
        )
    else:
        print("nothing to retry: no failed delivery, and none waiting out a retry backoff")
    if done.held:
        print(
            f"{done.held} held on purpose (quiet hours, a group window or a digest) go out at "
            "their time; `news-monitor outbox list` shows when"
        )
    if done.kept_back:
        print(
            f"{done.kept_back} silenced or held back by a cooldown are left alone; "
            "give an alert id to send one anyway"
        )
    return 0


def cmd_silence_add(args: argparse.Namespace) -> int:
    config = _inspect(args)
    try:
        seconds = parse_duration(args.duration)
    except ValueError as exc:
        print(f"error: --for: {exc}", file=sys.stderr)
        return 2
    if seconds <= 0:
        print(f"error: --for must be longer than zero, got {args.duration!r}", file=sys.stderr)
        return 2
    if args.feed is not None and args.feed not in {f.name for f in config.feeds}:
        print(f"error: no feed named {args.feed!r} in {config.path}", file=sys.stderr)
        return 1
    try:
        rule_ids = {
            rule.info.id
            for rule in load_rulebook(config.rules, rulebook_cache_path(config.state)).rules
        }
    except MonitorError as exc:
        # Silencing must work in the middle of an incident, even while a rule file is broken.
        print(f"warning: cannot check the rule id, the rules do not load: {exc}", file=sys.stderr)
    else:
        if args.rule not in rule_ids:
            print(f"error: no rule with id {args.rule!r} in the rulebook", file=sys.stderr)
            return 1
    with _state(config) as store:
        now = time.time()
        silence, count = store.add_silence(args.rule, args.feed, now + seconds, args.comment, now)
    until = datetime.fromtimestamp(silence.ends_at, UTC).strftime("%Y-%m-%d %H:%M UTC")
    print(f"{silence.describe()} until {until}; {count} waiting deliveries silenced")
    return 0


def cmd_silence_list(args: argparse.Namespace) -> int:
    config = _inspect(args)
    with _state(config) as store:
        now = time.time()
        rows = [
            [
                str(s.id),
                s.rule,
                s.feed or "(any)",
                datetime.fromtimestamp(s.ends_at, UTC).strftime("%Y-%m-%d %H:%M UTC"),
                _span(s.ends_at - now),
                s.comment,
            ]
            for s in store.silences(now)
        ]
    print(_table(["id", "rule", "feed", "until", "left", "comment"], rows))
    return 0


def cmd_silence_remove(args: argparse.Namespace) -> int:
    config = _inspect(args)
    with _state(config) as store:
        removed = store.remove_silence(args.id)
    if not removed:
        print(f"error: no silence with id {args.id}", file=sys.stderr)
        return 1
    print(f"silence {args.id} removed; new alerts of its rule are sent again")
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    config = _config(args)
    db = connect(config.state)
    try:
        applied = migrate(db)
        version = current_version(db)
    finally:
        db.close()
    for migration in applied:
        print(f"applied migration {migration.version}: {migration.name}")
    print(f"schema at version {version}" + ("" if applied else " (nothing to do)"))
    return 0


def cmd_state_copy(args: argparse.Namespace) -> int:
    config = _inspect(args)
    if not args.to.startswith(("postgresql://", "postgres://")):
        print("error: --to takes a postgresql:// URL (the database to switch to)", file=sys.stderr)
        return 2
    if isinstance(config.state, Path) and not config.state.exists():
        print(f"error: no state at {config.state}: nothing to copy", file=sys.stderr)
        return 1
    lock = StateLock(config.state) if isinstance(config.state, Path) else None
    if lock is not None:
        lock.acquire()  # a daemon writing meanwhile would make the copy miss its last rows
    try:
        with Store(config.state) as source, Store(args.to) as target:
            copied = copy_state(source, target)
    finally:
        if lock is not None:
            lock.release()
    print("copied " + ", ".join(f"{rows} {table}" for table, rows in copied.items()))
    print(
        'now set `state:` to the new database (its URL, or "${DATABASE_URL}") and start news-monitor'
    )
    return 0


def cmd_healthcheck(args: argparse.Namespace) -> int:
    config = _inspect(args)
    if isinstance(config.state, str):
        problem = check_replica_heartbeats(config.state, time.time())
        # This host's replicas only, as a container's health check wants; `status` lists
        # every host's replicas from the database.
        pids = ", ".join(map(str, sorted(replica_heartbeats(config.state))))
        healthy = f"the loop of every replica on this host is ticking (pids {pids})"
    else:
        problem = check_heartbeat(heartbeat_path(config.state), time.time())
        healthy = "the daemon's loop is ticking"
    if problem:
        print(f"unhealthy: {problem}", file=sys.stderr)
        return 1
    print(f"healthy: {healthy}")
    return 0


def _rule_paths(args: argparse.Namespace) -> list[Path]:
    """The rules named on the command line, else those config.yaml names, else ./rules."""
    if args.rules:
        return [Path(p) for p in args.rules]
    config_path = _config_path(args)
    if config_path.exists():
        return list(load_config(config_path, delivery=False).rules)
    return [Path(p) for p in DEFAULT_RULES]


def cmd_test(args: argparse.Namespace) -> int:
    from monitor.rules.tool import describe_item, read_items

    rulebook = load_rulebook(_rule_paths(args))
    items = read_items(args.input)
    matched = fired = 0
    for item in items:
        hits = len(rulebook.match(item))
        matched += hits > 0
        fired += hits
        if args.explain or hits:
            print(describe_item(rulebook, item, explain=args.explain))
    print(
        f"{matched} of {len(items)} items matched ({fired} matches in all), "
        f"with a rulebook of {len(rulebook.rules)} rules"
    )
    return 0


def cmd_backtest(args: argparse.Namespace) -> int:
    from monitor.rules.tool import backtest

    try:
        seconds = parse_duration(args.since)
    except ValueError as exc:
        print(f"error: --since: {exc}", file=sys.stderr)
        return 2
    config = _inspect(args)
    rulebook = load_rulebook(config.rules, rulebook_cache_path(config.state))
    if isinstance(config.state, Path) and not config.state.exists():
        print(f"no state yet at {config.state}: nothing stored to backtest")
        return 0
    with _state(config) as store:
        since = time.time() - seconds
        total = store.count_items(since)

        def progress(done: int) -> None:
            if sys.stderr.isatty() and (done % 200 == 0 or done == total):
                filled = int(30 * done / max(total, 1))
                bar = "#" * filled + " " * (30 - filled)
                print(f"\r[{bar}] {done}/{total}", end="", file=sys.stderr, flush=True)

        count, per_rule, alerted, explained = backtest(
            rulebook, store.iter_items(since), progress, explain=args.explain
        )
        sent = _replay_stories(rulebook, store.iter_seen(since))
    if sys.stderr.isatty() and count:
        print(file=sys.stderr)
    for report in explained:
        print(report)
    if not args.explain:
        for item, fired in alerted:
            print(f"{', '.join(fired)}: [{item.feed}] {item.title}")
    print(f"{count} items since {args.since} ago; {len(alerted)} would have alerted")
    for rule in rulebook.rules:
        print(f"  {rule.info.id:<32} {per_rule.get(rule.info.id, 0)}")
    created = [a for a in sent if a.event == CREATED]
    print(
        f"as stories, once per story: {len(created)} alerts created,"
        f" {len(sent) - len(created)} updates"
    )
    latest = {alert.id: alert for alert in sent}  # each alert as its last message left it
    for first in created:
        last = latest[first.id]
        sources = last.story.sources if last.story else 1
        print(
            f"  {last.rule.id}: [{first.item.feed}] {first.item.title}"
            f" ({sources} sources, {last.version - 1} updates)"
        )
    return 0


def _replay_stories(rulebook: Rulebook, seen: Iterable[tuple[Item, float]]) -> list[Alert]:
    """The messages `run` would have sent for these items: matched and grouped into stories in
    the order they were first seen, on a throwaway state (the real one is only read)."""
    from monitor.stories.replay import Seen, replay_items

    with (
        tempfile.TemporaryDirectory(prefix="news-monitor-backtest-") as tmp,
        Store(Path(tmp) / "replay.db") as scratch,
    ):
        return replay_items(scratch, rulebook, (Seen(item, at) for item, at in seen))


def cmd_evaluate(args: argparse.Namespace) -> int:
    from monitor.rules.evaluate import evaluate, read_labelled

    rulebook = load_rulebook(_rule_paths(args))
    print(evaluate(rulebook, read_labelled(Path(args.file))).report())
    return 0


def cmd_evaluate_stories(args: argparse.Namespace) -> int:
    from monitor.stories.evaluate import read_story_set, score

    rulebook = load_rulebook([Path(p) for p in args.rules])
    print(score(rulebook, read_story_set(Path(args.file))).report(details=args.details))
    return 0


def cmd_stories(args: argparse.Namespace) -> int:
    from monitor.stories.listing import story_lines

    config = load_config(_config_path(args))
    try:
        seconds = parse_duration(args.since)
    except ValueError as exc:
        print(f"error: --since: {exc}", file=sys.stderr)
        return 2
    if isinstance(config.state, Path) and not config.state.exists():
        print(f"no state yet at {config.state}: no stories")
        return 0
    with Store(config.state) as store:
        for line in story_lines(
            store, since=time.time() - seconds, rule=args.rule, as_json=args.json
        ):
            print(line)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from monitor.demo import run_demo

    config_path = _config_path(args)
    rules = (
        load_config(config_path, delivery=False).rules if config_path.exists() else (Path("rules"),)
    )
    configure_logging("WARNING")
    return asyncio.run(run_demo(rules))


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config",
        metavar="PATH",
        default=argparse.SUPPRESS,
        help="config file (default: ./config.yaml, or $NEWS_MONITOR_CONFIG)",
    )
    parser = argparse.ArgumentParser(
        prog="news-monitor",
        description="Poll news feeds, match new items against YAML rules, alert once per story.",
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=f"news-monitor {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, help_text: str) -> argparse.ArgumentParser:
        return commands.add_parser(name, help=help_text, description=help_text, parents=[common])

    add("check", "validate config.yaml and every rule file; exit 1 naming file:line").set_defaults(
        handler=cmd_check
    )
    add("once", "poll every feed once, deliver what is due, exit").set_defaults(handler=cmd_once)
    add("run", "run the daemon until SIGTERM").set_defaults(handler=cmd_run)
    status = add("status", "show the daemon, feed health, rule matches and the outbox")
    status.add_argument("--wide", action="store_true", help="errors on one line, never wrapped")
    status.set_defaults(handler=cmd_status)
    add(
        "migrate", "bring the state database's schema up to date (run also does it at start)"
    ).set_defaults(handler=cmd_migrate)
    state = add("state", "move the state to another database")
    state_commands = state.add_subparsers(dest="state_command", required=True, metavar="ACTION")
    copying = state_commands.add_parser(
        "copy", help="copy this state into an empty PostgreSQL database", parents=[common]
    )
    copying.add_argument("--to", required=True, metavar="URL", help="postgresql://...")
    copying.set_defaults(handler=cmd_state_copy)
    add(
        "healthcheck",
        "exit 0 if a running daemon's loop ticked in the last minute (container probe)",
    ).set_defaults(handler=cmd_healthcheck)
    add("demo", "replay bundled sample feeds through the rules, offline").set_defaults(
        handler=cmd_demo
    )

    testing = add("test", "run rules over a feed file, URL or JSON-lines items and show why")
    testing.add_argument(
        "rules",
        nargs="*",
        metavar="RULES_OR_DIR",
        help="rule files or folders (default: the rules config.yaml names)",
    )
    testing.add_argument("--input", required=True, metavar="FILE_OR_URL", help="items to test")
    testing.add_argument("--explain", action="store_true", help="also near misses and numbers")
    testing.set_defaults(handler=cmd_test)
    backtesting = add("backtest", "re-run the current rules over stored items")
    backtesting.add_argument("--since", default="7d", metavar="DURATION", help="e.g. 24h, 7d")
    backtesting.add_argument(
        "--explain", action="store_true", help="show what decided each item (cue, role, number)"
    )
    backtesting.set_defaults(handler=cmd_backtest)
    evaluating = add("evaluate", "precision and recall of rules on a labelled JSON-lines set")
    evaluating.add_argument(
        "file", metavar="FILE.jsonl", help='lines of {"title","summary","label","category"}'
    )
    evaluating.add_argument(
        "--rules",
        nargs="+",
        metavar="PATH",
        help="rule files or folders (default: the rules config.yaml names)",
    )
    evaluating.set_defaults(handler=cmd_evaluate)
    story_eval = add(
        "evaluate-stories",
        "B-cubed precision/recall of story clustering and source counts on a labelled set",
    )
    story_eval.add_argument(
        "file", metavar="FILE.jsonl", help='lines of {"title","summary","published","event",...}'
    )
    story_eval.add_argument(
        "--rules", nargs="+", default=["rules"], metavar="PATH", help="default: rules/"
    )
    story_eval.add_argument("--details", action="store_true", help="list split and merged events")
    story_eval.set_defaults(handler=cmd_evaluate_stories)
    listing_stories = add("stories", "list stories: their reports, outlets, sources and rules")
    listing_stories.add_argument("--since", default="7d", metavar="DURATION", help="e.g. 24h, 7d")
    listing_stories.add_argument("--rule", metavar="ID", help="only stories this rule matched")
    listing_stories.add_argument("--json", action="store_true", help="one JSON object per line")
    listing_stories.set_defaults(handler=cmd_stories)

    outbox = add("outbox", "inspect and replay undelivered alerts")
    outbox_commands = outbox.add_subparsers(dest="outbox_command", required=True, metavar="ACTION")
    listing = outbox_commands.add_parser("list", help="list deliveries", parents=[common])
    listing.add_argument("--failed", action="store_true", help="only dead letters")
    listing.set_defaults(handler=cmd_outbox_list)
    retry = outbox_commands.add_parser(
        "retry",
        help="send failed deliveries, and those waiting out a retry backoff, now",
        parents=[common],
    )
    retry.add_argument("id", nargs="?", help="alert id (also replays it if silenced)")
    retry.add_argument("--notifier", metavar="NAME", help="only this notifier's deliveries")
    retry.add_argument("--all", action="store_true", help="every notifier's")
    retry.set_defaults(handler=cmd_outbox_retry)

    silence = add("silence", "keep a rule's alerts from being sent for a while (still recorded)")
    silence_commands = silence.add_subparsers(
        dest="silence_command", required=True, metavar="ACTION"
    )
    adding = silence_commands.add_parser(
        "add", help="silence a rule, also for alerts already waiting", parents=[common]
    )
    adding.add_argument("--rule", required=True, metavar="ID", help="rule id")
    adding.add_argument("--feed", metavar="NAME", help="only alerts from this feed")
    adding.add_argument(
        "--for", dest="duration", required=True, metavar="DURATION", help="e.g. 30m, 6h, 2d"
    )
    adding.add_argument("--comment", default="", help="why (shown by `silence list`)")
    adding.set_defaults(handler=cmd_silence_add)
    silence_commands.add_parser("list", help="silences in force", parents=[common]).set_defaults(
        handler=cmd_silence_list
    )
    removing = silence_commands.add_parser("remove", help="end a silence now", parents=[common])
    removing.add_argument("id", type=int, help="silence id (from `silence list`)")
    removing.set_defaults(handler=cmd_silence_remove)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # Whatever a command prints passes the log redaction: a feed's last error may quote its URL.
    streams = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = RedactedStream(sys.stdout), RedactedStream(sys.stderr)
    try:
        return _run_command(args)
    finally:
        sys.stdout, sys.stderr = streams


def _run_command(args: argparse.Namespace) -> int:
    try:
        code: int = args.handler(args)
    except ConfigError as exc:
        for problem in _problems(exc):
            print(f"error: {problem}", file=sys.stderr)
        return 1
    except MonitorError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `news-monitor outbox list | head`: the reader left; that is not an error.
        sys.stderr.close()
        return 0
    return code
