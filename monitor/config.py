"""config.yaml -> validated, typed settings. The one place configuration is read and checked.

Relative paths in the file (state, rules) are resolved against the folder of config.yaml, so the
same file works wherever the daemon is started from. `${VAR}` and `${VAR:-default}` in any string
value are read from the environment, so secrets never need to sit in the file.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, time, tzinfo
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from monitor import yamlfile
from monitor.durations import parse_duration
from monitor.errors import Collector, ConfigError, ConfigErrors
from monitor.fields import Fields, boolean, http_url, positive_duration, text, texts
from monitor.models import Severity
from monitor.noise import QuietHours
from monitor.notify.settings import NotifierSettings, parse_notifier
from monitor.yamlfile import YamlList, YamlMap

DEFAULT_CONFIG = "config.yaml"
CONFIG_ENV = "NEWS_MONITOR_CONFIG"
FULL_TEXT_MODES = ("off", "always", "candidates")
DEFAULT_RULES: tuple[str, ...] = ("rules",)

_T = TypeVar("_T")

# A feed polled more often than every second floods its server and the log; one polled less
# often than weekly is not news monitoring. Both bounds are checked by `news-monitor check`.
MIN_INTERVAL = 1.0
MAX_INTERVAL = 7 * 86400.0
MAX_FEED_TIMEOUT = 600.0  # a fetch's total deadline; a longer one would hold a poll slot for ages

_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


@dataclass(frozen=True)
class FeedSettings:
    """One feed to poll."""

    name: str
    url: str
    interval: float
    timeout: float
    tags: tuple[str, ...] = ()
    full_text: str = "off"  # off | always | candidates
    allow_private: bool = False
    backfill: float | None = None  # seconds: a feed added later alerts on items this recent


@dataclass(frozen=True)
class Route:
    """Which alerts go to which notifiers. Empty filters match everything."""

    notify: tuple[str, ...]
    min_severity: Severity = Severity.INFO
    rules: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    feeds: tuple[str, ...] = ()
    continue_: bool = True  # false: alerts this route takes are not offered to later routes
    escalation: str | None = None  # "step_up": only alerts whose story lifted its ladder
    group: float | None = None  # seconds: batch alerts per window into one message per notifier
    digest: time | None = None  # wall-clock time of a daily digest, in `timezone`
    timezone: tzinfo = UTC
    quiet_hours: QuietHours | None = None


@dataclass(frozen=True)
class Config:
    """Everything the daemon needs, validated."""

    path: Path
    state: Path | str  # a SQLite file, or a postgresql:// URL shared by replicas
    rules: tuple[Path, ...]
    max_age: float | None
    feeds: tuple[FeedSettings, ...]
    notifiers: tuple[NotifierSettings, ...]
    routes: tuple[Route, ...]
    concurrency: int = 16
    workers: int | None = None  # worker processes for bursts of new items; None: one per CPU
    http_listen: str | None = None
    http_token: str | None = None  # enables the page's actions; None: the page is read-only
    log_level: str = "INFO"
    log_format: str = "auto"
    log_summary: float = 300.0  # seconds between the daemon's summary lines

    def feed(self, name: str) -> FeedSettings:
        """The feed called `name` (KeyError if none): every poll asks, so by index, not by scan."""
        return self._feeds_by_name[name]

    @functools.cached_property
    def _feeds_by_name(self) -> dict[str, FeedSettings]:
        return {feed.name: feed for feed in self.feeds}


def default_config_path() -> Path:
    return Path(os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG)


def interpolate(value: str, env: Mapping[str, str]) -> str:
    """Replace ${VAR} and ${VAR:-default}; a missing variable without default is a KeyError."""

    def substitute(found: re.Match[str]) -> str:
        name, default = found.group(1), found.group(2)
        if name in env and (env[name] != "" or default is None):
            return env[name]
        if default is not None:
            return default
        raise KeyError(name)

    return _ENV_REF.sub(substitute, value)


def _interpolate_tree(
    node: Any,
    env: Mapping[str, str],
    source: str,
    line: int,
    problems: Collector,
    tainted: set[int],
) -> tuple[Any, bool]:
    """`node` with ${VAR} replaced, and whether a variable in it was missing. Each missing one
    is an error in `problems` and reads as an empty value; the mappings and lists that held one
    go into `tainted`, so their other complaints (a "needs 'url'" it caused) are not reported."""
    if isinstance(node, YamlMap):
        missing = False
        for key in list(node):
            node[key], lost = _interpolate_tree(
                node[key], env, source, node.line_of(key), problems, tainted
            )
            missing |= lost
    elif isinstance(node, YamlList):
        missing = False
        for index, child in enumerate(node):
            node[index], lost = _interpolate_tree(
                child, env, source, node.line_of(index), problems, tainted
            )
            missing |= lost
    elif isinstance(node, str):
        try:
            return interpolate(node, env), False
        except KeyError as absent:
            problems.errors.append(
                ConfigError(
                    f"environment variable {absent.args[0]} is not set; set it, or write "
                    f"${{{absent.args[0]}:-default}} to give a default",
                    path=source,
                    line=line,
                )
            )
            return "", True
    else:
        return node, False
    if missing:
        tainted.add(id(node))
    return node, missing


def _full_text(value: Any) -> str:
    if value is True:
        return "always"
    if value is False:
        return "off"
    if value in FULL_TEXT_MODES:
        return str(value)
    raise ValueError(f"must be true, false or 'candidates', got {value!r}")


def _severity(value: Any) -> Severity:
    return Severity.parse(value)


def _escalation(value: Any) -> str:
    if value != "step_up":
        raise ValueError(f"the only escalation a route can select is step_up, got {value!r}")
    return "step_up"


def _mapping(node: Any, source: str, line: int, what: str) -> YamlMap:
    if not isinstance(node, YamlMap):
        raise ConfigError(
            f"{what} must be a mapping of key: value, got {node!r}", path=source, line=line
        )
    return node


def _list(node: Any, source: str, line: int, what: str) -> YamlList:
    if node is None:
        return YamlList.empty(line)
    if not isinstance(node, YamlList):
        raise ConfigError(f"{what} must be a list, got {node!r}", path=source, line=line)
    return node


def _section(root: YamlMap, source: str, key: str, allowed: set[str]) -> Fields:
    line = root.line_of(key)
    node = root.get(key)
    if node is None:
        node = YamlMap.empty(line)
    section = Fields(_mapping(node, source, line, key), source, key)
    section.reject_unknown(allowed)
    return section


def _interval(value: Any) -> float:
    seconds = parse_duration(value)
    if not MIN_INTERVAL <= seconds <= MAX_INTERVAL:
        raise ValueError(
            f"must be between 1s and 7d, got {value!r} (more often than every second floods "
            "the feed's server and the log)"
        )
    return seconds


def _feed_timeout(value: Any) -> float:
    seconds = positive_duration(value)
    if seconds > MAX_FEED_TIMEOUT:
        raise ValueError(f"must be at most 10m, got {value!r}")
    return seconds


def _parse_feeds(
    doc: Fields, defaults: Fields, problems: Collector, tainted: set[int]
) -> tuple[FeedSettings, ...]:
    default_interval, default_timeout = 300.0, 20.0
    with problems:
        default_interval = defaults.get("interval", _interval, default_interval)
    with problems:
        default_timeout = defaults.get("timeout", _feed_timeout, default_timeout)
    nodes = _list(doc.data.get("feeds"), doc.source, doc.data.line_of("feeds"), "feeds")
    feeds: list[FeedSettings] = []
    seen: set[str] = set()
    for index, node in enumerate(nodes):
        quiet = Collector()  # a feed whose ${VAR} is missing: that one error is enough
        with problems if id(node) not in tainted else quiet:
            where = _mapping(node, doc.source, nodes.line_of(index), "a feed")
            raw = Fields(where, doc.source, "feed")
            found = problems if id(node) not in tainted else quiet
            feed = _parse_feed(raw, seen, default_interval, default_timeout, found)
            if feed is not None:
                feeds.append(feed)
    return tuple(feeds)


def _parse_feed(
    raw: Fields, seen: set[str], interval: float, timeout: float, problems: Collector
) -> FeedSettings | None:
    """One feed; each of its mistakes is collected (None when one was found)."""
    before = len(problems.errors)
    with problems:
        raw.reject_unknown(
            {
                "name",
                "url",
                "interval",
                "timeout",
                "tags",
                "full_text",
                "allow_private",
                "backfill",
            }
        )
    name = raw.require("name", text)
    if name in seen:
        raise raw.fail("name", f"feed name {name!r} is used twice; feed names must be unique")
    seen.add(name)
    raw.what = f"feed {name!r}"
    settings: dict[str, Any] = {}
    no_tags: tuple[str, ...] = ()
    for key, read in (
        ("url", lambda: raw.require("url", http_url)),
        ("interval", lambda: raw.get("interval", _interval, interval)),
        ("timeout", lambda: raw.get("timeout", _feed_timeout, timeout)),
        ("tags", lambda: raw.get("tags", texts, no_tags)),
        ("full_text", lambda: raw.get("full_text", _full_text, "off")),
        ("allow_private", lambda: raw.get("allow_private", boolean, False)),
        ("backfill", lambda: raw.get("backfill", positive_duration, None)),
    ):
        with problems:
            settings[key] = read()
    if len(problems.errors) > before:
        return None
    return FeedSettings(name=name, **settings)


def _parse_notifiers(
    doc: Fields, problems: Collector, tainted: set[int]
) -> tuple[tuple[NotifierSettings, ...], set[str]]:
    """The notifiers that parsed, and the names of all (so routes naming a broken one do not
    add a second error)."""
    nodes = _list(doc.data.get("notifiers"), doc.source, doc.data.line_of("notifiers"), "notifiers")
    notifiers: list[NotifierSettings] = []
    names: set[str] = set()
    for index, node in enumerate(nodes):
        with problems if id(node) not in tainted else Collector():
            raw = _mapping(node, doc.source, nodes.line_of(index), "a notifier")
            if isinstance(raw.get("name"), str):
                names.add(raw["name"])
            settings = parse_notifier(raw, doc.source)
            if any(n.name == settings.name for n in notifiers):
                raise ConfigError(
                    f"notifier name {settings.name!r} is used twice; notifier names must be unique",
                    path=doc.source,
                    line=raw.line_of("name"),
                )
            notifiers.append(settings)
    return tuple(notifiers), names


ROUTE_TIMING_KEYS = {"group", "digest", "timezone", "quiet_hours"}


def _clock(value: Any) -> time:
    # Unquoted 22:00 is YAML 1.1 base-60 for 1320 (minutes), so whole minutes of a day count too.
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 1440:
        return time(value // 60, value % 60)
    try:
        return time.fromisoformat(text(value))
    except ValueError:
        raise ValueError(f'expected a time of day such as "08:00", got {value!r}') from None


def _zone(value: Any) -> tzinfo:
    name = text(value)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r}; use a name such as Europe/Berlin") from None


def _route_timing(raw: Fields) -> dict[str, Any]:
    """The keys of a route that hold alerts back: group, digest, timezone, quiet_hours."""
    if "group" in raw.data and "digest" in raw.data:
        raise raw.fail("digest", "a route takes group: or digest:, not both")
    utc: tzinfo = UTC
    zone = raw.get("timezone", _zone, utc)
    quiet = None
    if raw.data.get("quiet_hours") is not None:
        line = raw.data.line_of("quiet_hours")
        window = Fields(
            _mapping(raw.data["quiet_hours"], raw.source, line, "quiet_hours"),
            raw.source,
            "quiet_hours",
        )
        window.reject_unknown({"from", "to", "timezone", "except_severity"})
        try:
            quiet = QuietHours(
                start=window.require("from", _clock),
                end=window.require("to", _clock),
                zone=window.get("timezone", _zone, zone),
                pierce=window.get("except_severity", _severity, None),
            )
        except ValueError as exc:
            raise window.fail(None, f"quiet_hours: {exc}") from None
    return {
        "group": raw.get("group", positive_duration, None),
        "digest": raw.get("digest", _clock, None),
        "timezone": zone,
        "quiet_hours": quiet,
    }


def _parse_routes(
    doc: Fields, notifier_names: set[str], problems: Collector, tainted: set[int]
) -> tuple[Route, ...]:
    nodes = _list(doc.data.get("routes"), doc.source, doc.data.line_of("routes"), "routes")
    routes: list[Route] = []
    for index, node in enumerate(nodes):
        with problems if id(node) not in tainted else Collector():
            raw = Fields(
                _mapping(node, doc.source, nodes.line_of(index), "a route"), doc.source, "route"
            )
            with problems:
                raw.reject_unknown(
                    {"notify", "min_severity", "rules", "tags", "feeds", "continue", "escalation"}
                    | ROUTE_TIMING_KEYS
                )
            notify = raw.require("notify", texts)
            for name in notify:
                if name not in notifier_names:
                    known = ", ".join(sorted(notifier_names)) or "none are configured"
                    raise raw.fail(
                        "notify", f"route names notifier {name!r}, which does not exist ({known})"
                    )
            routes.append(
                Route(
                    notify=notify,
                    min_severity=raw.get("min_severity", _severity, Severity.INFO),
                    rules=raw.get("rules", texts, ()),
                    tags=raw.get("tags", texts, ()),
                    feeds=raw.get("feeds", texts, ()),
                    continue_=raw.get("continue", boolean, True),
                    escalation=raw.get("escalation", _escalation, None),
                    **_route_timing(raw),
                )
            )
    if not routes and notifier_names:
        # Without routes, every alert goes to every notifier: the least surprising default.
        routes.append(Route(notify=tuple(sorted(notifier_names))))
    return tuple(routes)


DELIVERY_SECTIONS = ("notifiers", "routes")
TOP_LEVEL_KEYS = {
    "state",
    "rules",
    "max_age",
    "defaults",
    "feeds",
    "notifiers",
    "routes",
    "concurrency",
    "workers",
    "http",
    "log",
}


def parse_config(
    document: str,
    path: Path,
    env: Mapping[str, str] | None = None,
    *,
    delivery: bool = True,
) -> Config:
    """Validate config text; `path` names the file in errors and anchors relative paths.

    `delivery=False` leaves notifiers and routes out, unread: commands that only inspect state
    then work in a shell without the notifiers' secrets in its environment.
    """
    source = str(path)
    data = yamlfile.loads(document, source)
    if data is None:
        data = YamlMap.empty(1)
    root = _mapping(data, source, 1, "config.yaml")
    if not delivery:
        for key in DELIVERY_SECTIONS:
            root.pop(key, None)
    problems = Collector()
    tainted: set[int] = set()
    _interpolate_tree(
        root, os.environ if env is None else env, source, root.line, problems, tainted
    )
    doc = Fields(root, source, "config")
    with problems:
        doc.reject_unknown(TOP_LEVEL_KEYS)
    base = path.resolve().parent

    def section(key: str, allowed: set[str]) -> Fields:
        with problems:
            return _section(root, source, key, allowed)
        return Fields(YamlMap.empty(root.line_of(key)), source, key)

    defaults = section("defaults", {"interval", "timeout"})
    http = section("http", {"listen", "token"})
    log = section("log", {"level", "format", "summary"})

    def read(fields: Fields, key: str, convert: Callable[[Any], _T], default: _T) -> _T:
        with problems:
            return fields.get(key, convert, default)
        return default

    rules = tuple(base / p for p in read(doc, "rules", texts, DEFAULT_RULES))
    notifiers, names = _parse_notifiers(doc, problems, tainted)
    config = Config(
        path=path,
        state=_state(read(doc, "state", text, "data/news-monitor.db"), base),
        rules=rules,
        max_age=read(doc, "max_age", parse_duration, 86400.0) or None,
        feeds=_parse_feeds(doc, defaults, problems, tainted),
        notifiers=notifiers,
        routes=_parse_routes(doc, names, problems, tainted),
        concurrency=read(doc, "concurrency", _positive_int, 16),
        workers=read(doc, "workers", _positive_int, None),
        http_listen=read(http, "listen", _listen_address, None),
        http_token=read(http, "token", _token, None) or None,
        log_level=read(log, "level", _log_level, "INFO"),
        log_format=read(log, "format", _log_format, "auto"),
        log_summary=read(log, "summary", positive_duration, 300.0),
    )
    if problems.errors:
        raise ConfigErrors(sorted(problems.errors, key=lambda e: e.line or 0), rules=rules)
    return config


def _state(value: str, base: Path) -> Path | str:
    """A postgresql:// URL as it is; a path relative to config.yaml's folder."""
    return value if value.startswith(("postgresql://", "postgres://")) else base / value


def _positive_int(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    raise ValueError(f"expected a whole number above zero, got {value!r}")


def _listen_address(value: Any) -> str:
    address = text(value)
    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"expected host:port such as 127.0.0.1:8080, got {address!r}")
    return address


MIN_TOKEN = 16


def _token(value: Any) -> str:
    token = text(value)
    if token and len(token) < MIN_TOKEN:
        raise ValueError(
            f"must be at least {MIN_TOKEN} characters (it guards the page's actions), got "
            f"{len(token)}; make one with: python3 -c 'import secrets; print(secrets.token_urlsafe())'"
        )
    return token


def _log_level(value: Any) -> str:
    level = text(value).upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ValueError(f"expected debug, info, warning or error, got {value!r}")
    return level


def _log_format(value: Any) -> str:
    if value in ("auto", "json", "text"):
        return str(value)
    raise ValueError(f"expected auto, json or text, got {value!r}")


def load_config(
    path: Path, env: Mapping[str, str] | None = None, *, delivery: bool = True
) -> Config:
    """Read and validate config.yaml; raises ConfigError naming file and line.

    `delivery=False`: without notifiers and routes (see `parse_config`).
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            "config file not found; pass --config PATH or set NEWS_MONITOR_CONFIG", path=str(path)
        ) from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file: {exc.strerror}", path=str(path)) from None
    return parse_config(text, path, env, delivery=delivery)
