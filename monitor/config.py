"""config.yaml -> validated, typed settings. The one place configuration is read and checked.

Relative paths in the file (state, rules) are resolved against the folder of config.yaml, so the
same file works wherever the daemon is started from. `${VAR}` and `${VAR:-default}` in any string
value are read from the environment, so secrets never need to sit in the file.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, time, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from monitor import yamlfile
from monitor.durations import parse_duration
from monitor.errors import ConfigError
from monitor.fields import Fields, boolean, http_url, positive_duration, text, texts
from monitor.models import Severity
from monitor.noise import QuietHours
from monitor.notify.settings import NotifierSettings, parse_notifier
from monitor.yamlfile import YamlList, YamlMap

DEFAULT_CONFIG = "config.yaml"
CONFIG_ENV = "NEWS_MONITOR_CONFIG"
FULL_TEXT_MODES = ("off", "always", "candidates")
DEFAULT_RULES: tuple[str, ...] = ("rules",)

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


@dataclass(frozen=True)
class Route:
    """Which alerts go to which notifiers. Empty filters match everything."""

    notify: tuple[str, ...]
    min_severity: Severity = Severity.INFO
    rules: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    feeds: tuple[str, ...] = ()
    continue_: bool = True  # false: alerts this route takes are not offered to later routes
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
    http_listen: str | None = None
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


def _interpolate_tree(node: Any, env: Mapping[str, str], source: str, line: int) -> Any:
    if isinstance(node, YamlMap):
        for key in list(node):
            node[key] = _interpolate_tree(node[key], env, source, node.line_of(key))
        return node
    if isinstance(node, YamlList):
        for index, child in enumerate(node):
            node[index] = _interpolate_tree(child, env, source, node.line_of(index))
        return node
    if isinstance(node, str):
        try:
            return interpolate(node, env)
        except KeyError as missing:
            raise ConfigError(
                f"environment variable {missing.args[0]} is not set; set it, or write "
                f"${{{missing.args[0]}:-default}} to give a default",
                path=source,
                line=line,
            ) from None
    return node


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


def _parse_feeds(doc: Fields, defaults: Fields) -> tuple[FeedSettings, ...]:
    default_interval = defaults.get("interval", positive_duration, 300.0)
    default_timeout = defaults.get("timeout", positive_duration, 20.0)
    nodes = _list(doc.data.get("feeds"), doc.source, doc.data.line_of("feeds"), "feeds")
    feeds: list[FeedSettings] = []
    seen: set[str] = set()
    for index, node in enumerate(nodes):
        line = nodes.line_of(index)
        raw = Fields(_mapping(node, doc.source, line, "a feed"), doc.source, "feed")
        raw.reject_unknown(
            {"name", "url", "interval", "timeout", "tags", "full_text", "allow_private"}
        )
        name = raw.require("name", text)
        if name in seen:
            raise raw.fail("name", f"feed name {name!r} is used twice; feed names must be unique")
        seen.add(name)
        raw.what = f"feed {name!r}"
        feeds.append(
            FeedSettings(
                name=name,
                url=raw.require("url", http_url),
                interval=raw.get("interval", positive_duration, default_interval),
                timeout=raw.get("timeout", positive_duration, default_timeout),
                tags=raw.get("tags", texts, ()),
                full_text=raw.get("full_text", _full_text, "off"),
                allow_private=raw.get("allow_private", boolean, False),
            )
        )
    return tuple(feeds)


def _parse_notifiers(doc: Fields) -> tuple[NotifierSettings, ...]:
    nodes = _list(doc.data.get("notifiers"), doc.source, doc.data.line_of("notifiers"), "notifiers")
    notifiers: list[NotifierSettings] = []
    seen: set[str] = set()
    for index, node in enumerate(nodes):
        raw = _mapping(node, doc.source, nodes.line_of(index), "a notifier")
        settings = parse_notifier(raw, doc.source)
        if settings.name in seen:
            raise ConfigError(
                f"notifier name {settings.name!r} is used twice; notifier names must be unique",
                path=doc.source,
                line=raw.line_of("name"),
            )
        seen.add(settings.name)
        notifiers.append(settings)
    return tuple(notifiers)


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


def _parse_routes(doc: Fields, notifier_names: set[str]) -> tuple[Route, ...]:
    nodes = _list(doc.data.get("routes"), doc.source, doc.data.line_of("routes"), "routes")
    routes: list[Route] = []
    for index, node in enumerate(nodes):
        raw = Fields(
            _mapping(node, doc.source, nodes.line_of(index), "a route"), doc.source, "route"
        )
        raw.reject_unknown(
            {"notify", "min_severity", "rules", "tags", "feeds", "continue"} | ROUTE_TIMING_KEYS
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
                **_route_timing(raw),
            )
        )
    if not routes and notifier_names:
        # Without routes, every alert goes to every notifier: the least surprising default.
        routes.append(Route(notify=tuple(sorted(notifier_names))))
    return tuple(routes)


DELIVERY_SECTIONS = ("notifiers", "routes")


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
    _interpolate_tree(root, os.environ if env is None else env, source, root.line)
    doc = Fields(root, source, "config")
    doc.reject_unknown(
        {
            "state",
            "rules",
            "max_age",
            "defaults",
            "feeds",
            "notifiers",
            "routes",
            "concurrency",
            "http",
            "log",
        }
    )
    base = path.resolve().parent

    defaults = _section(root, source, "defaults", {"interval", "timeout"})
    http = _section(root, source, "http", {"listen"})
    log = _section(root, source, "log", {"level", "format", "summary"})

    notifiers = _parse_notifiers(doc)
    config = Config(
        path=path,
        state=_state(doc.get("state", text, "data/news-monitor.db"), base),
        rules=tuple(base / p for p in doc.get("rules", texts, DEFAULT_RULES)),
        max_age=doc.get("max_age", parse_duration, 86400.0) or None,
        feeds=_parse_feeds(doc, defaults),
        notifiers=notifiers,
        routes=_parse_routes(doc, {n.name for n in notifiers}),
        concurrency=doc.get("concurrency", _positive_int, 16),
        http_listen=http.get("listen", _listen_address, None),
        log_level=log.get("level", _log_level, "INFO"),
        log_format=log.get("format", _log_format, "auto"),
        log_summary=log.get("summary", positive_duration, 300.0),
    )
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
