"""The command line: `news-monitor check | once | run | status | outbox | demo`.

The only place where errors become exit codes: 0 success, 1 invalid config or rules (or another
problem the message explains), 2 wrong usage.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from monitor import __version__
from monitor.app import App
from monitor.config import Config, default_config_path, load_config
from monitor.daemon import Daemon
from monitor.errors import MonitorError
from monitor.health import check_heartbeat, heartbeat_path
from monitor.logs import configure_logging
from monitor.rules import load_rulebook
from monitor.store import Store

log = logging.getLogger("monitor")


def _config_path(args: argparse.Namespace) -> Path:
    given = getattr(args, "config", None)
    return Path(given) if given else default_config_path()


def cmd_check(args: argparse.Namespace) -> int:
    config = load_config(_config_path(args))
    rulebook = load_rulebook(list(config.rules))
    failures = rulebook.example_failures()
    for failure in failures:
        print(f"error: {failure}", file=sys.stderr)
    if failures:
        return 1
    print(
        f"ok: {config.path}: {len(config.feeds)} feeds, {len(rulebook.rules)} rules in "
        f"{len(rulebook.files)} files, {len(config.notifiers)} notifiers, {len(config.routes)} routes"
    )
    return 0


def _load(args: argparse.Namespace) -> Config:
    config = load_config(_config_path(args))
    configure_logging(config.log_level, config.log_format)
    return config


async def _once(config: Config) -> int:
    async with App.open(config) as app:
        outcomes, report = await app.cycle()
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
    return 0


def cmd_once(args: argparse.Namespace) -> int:
    return asyncio.run(_once(_load(args)))


async def _run(config: Config) -> int:
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


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [
        max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)
    ]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    return "\n".join(line.rstrip() for line in lines)


def cmd_status(args: argparse.Namespace) -> int:
    config = load_config(_config_path(args))
    rulebook = load_rulebook(list(config.rules))
    if not config.state.exists():
        print(
            f"no state yet at {config.state}: run `news-monitor once` or `news-monitor run` first"
        )
        return 0
    store = Store(config.state)
    try:
        now = time.time()
        states = {s.name: s for s in store.feed_states()}
        rows = []
        for feed in config.feeds:
            state = states.get(feed.name)
            if state is None:
                rows.append([feed.name, "never", "0", "at start", "0", ""])
                continue
            next_poll = state.retry_at or ((state.last_polled_at or now) + feed.interval)
            rows.append(
                [
                    feed.name,
                    _ago(state.last_success_at, now),
                    str(state.consecutive_failures),
                    _ago(next_poll, now),
                    str(state.items_seen),
                    (state.last_error or "")[:60],
                ]
            )
        print("FEEDS")
        print(
            _table(["name", "last success", "failures", "next poll", "items", "last error"], rows)
        )
        matches = store.matches_by_rule(now - 86400)
        print("\nRULES (matches in the last 24 h)")
        print(
            _table(
                ["id", "severity", "matches"],
                [
                    [r.info.id, r.info.severity.label, str(matches.get(r.info.id, 0))]
                    for r in rulebook.rules
                ],
            )
        )
        pending, failed, oldest = store.outbox_summary()
        print("\nOUTBOX")
        print(f"pending {pending}, failed {failed}, oldest pending {_ago(oldest, now)}")
    finally:
        store.close()
    return 0


def cmd_outbox_list(args: argparse.Namespace) -> int:
    config = load_config(_config_path(args))
    store = Store(config.state)
    try:
        deliveries = store.deliveries("failed" if args.failed else None)
        rows = [
            [
                d.alert.id,
                d.notifier,
                d.status,
                str(d.attempts),
                d.alert.rule.id,
                d.alert.item.title[:50],
                (d.last_error or "")[:60],
            ]
            for d in deliveries
        ]
        print(_table(["id", "notifier", "status", "attempts", "rule", "item", "last error"], rows))
    finally:
        store.close()
    return 0


def cmd_outbox_retry(args: argparse.Namespace) -> int:
    if not args.all and not args.id:
        print("error: give an alert id, or --all", file=sys.stderr)
        return 2
    config = load_config(_config_path(args))
    store = Store(config.state)
    try:
        count = store.requeue(None if args.all else args.id, time.time())
    finally:
        store.close()
    print(f"{count} failed deliveries put back in the outbox; the daemon (or `once`) sends them")
    return 0


def cmd_healthcheck(args: argparse.Namespace) -> int:
    config = load_config(_config_path(args))
    problem = check_heartbeat(heartbeat_path(config.state), time.time())
    if problem:
        print(f"unhealthy: {problem}", file=sys.stderr)
        return 1
    print("healthy: the daemon's loop is ticking")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from monitor.demo import run_demo

    config_path = _config_path(args)
    rules = load_config(config_path).rules if config_path.exists() else (Path("rules"),)
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
        description="Poll news feeds, match new items against YAML rules, alert once per event.",
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
    add("status", "show feed health, rule matches and the outbox").set_defaults(handler=cmd_status)
    add(
        "healthcheck",
        "exit 0 if a running daemon's loop ticked in the last minute (container probe)",
    ).set_defaults(handler=cmd_healthcheck)
    add("demo", "replay bundled sample feeds through the rules, offline").set_defaults(
        handler=cmd_demo
    )

    outbox = add("outbox", "inspect and replay undelivered alerts")
    outbox_commands = outbox.add_subparsers(dest="outbox_command", required=True, metavar="ACTION")
    listing = outbox_commands.add_parser("list", help="list deliveries", parents=[common])
    listing.add_argument("--failed", action="store_true", help="only dead letters")
    listing.set_defaults(handler=cmd_outbox_list)
    retry = outbox_commands.add_parser("retry", help="put failed deliveries back", parents=[common])
    retry.add_argument("id", nargs="?", help="alert id")
    retry.add_argument("--all", action="store_true", help="every failed delivery")
    retry.set_defaults(handler=cmd_outbox_retry)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.handler(args)
    except MonitorError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return code
