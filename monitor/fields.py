"""Typed reads of one YAML mapping from a config file, with errors that name file, line and key.

Shared by config.yaml's sections and the notifier settings, so every mistake a user can make in
the file is reported the same way: `config.yaml:12: feed 'wire': url: must be an http:// ...`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any, TypeVar
from urllib.parse import urlsplit

from monitor.durations import parse_duration
from monitor.errors import ConfigError, ConfigErrors
from monitor.yamlfile import YamlMap

_T = TypeVar("_T")


class Fields:
    """One mapping of a config file. Empty values (a `${VAR:-}` left unset) count as absent."""

    def __init__(self, data: YamlMap, source: str, what: str) -> None:
        self.data = data
        self.source = source
        self.what = what

    def fail(self, key: str | None, message: str) -> ConfigError:
        line = self.data.line_of(key) if key else self.data.line
        return ConfigError(f"{self.what}: {message}", path=self.source, line=line)

    def reject_unknown(self, allowed: Iterable[str]) -> None:
        """Every key not in `allowed` is an error (all of them are named at once)."""
        known = set(allowed)
        names = ", ".join(sorted(known))
        unknown = [
            self.fail(key, f"unknown key {key!r} (known keys: {names})")
            for key in self.data
            if key not in known
        ]
        if unknown:
            raise ConfigErrors(unknown)

    def has(self, key: str) -> bool:
        return self.data.get(key) not in (None, "")

    def get(self, key: str, convert: Callable[[Any], _T], default: _T) -> _T:
        return self._convert(key, convert) if self.has(key) else default

    def require(self, key: str, convert: Callable[[Any], _T]) -> _T:
        if not self.has(key):
            raise self.fail(None, f"needs {key!r}")
        return self._convert(key, convert)

    def _convert(self, key: str, convert: Callable[[Any], _T]) -> _T:
        try:
            return convert(self.data[key])
        except (TypeError, ValueError) as exc:
            raise self.fail(key, f"{key}: {exc}") from None


# C0, DEL and C1 control characters, found in one regex pass rather than a loop per character.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def text(value: Any) -> str:
    """One line of text (numbers are read as text); surrounding blanks are dropped."""
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        line = str(value).strip()
        if _CONTROL.search(line):
            raise ValueError(f"must be one line without control characters, got {line!r}")
        return line
    raise ValueError(f"expected text, got {value!r}")


def texts(value: Any) -> tuple[str, ...]:
    """One text or a list of them (possibly empty)."""
    if isinstance(value, str):
        return (text(value),)
    if isinstance(value, list):
        return tuple(text(v) for v in value)
    raise ValueError(f"expected one value or a list of them, got {value!r}")


def boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise ValueError(f"expected true or false, got {value!r}")


def positive_duration(value: Any) -> float:
    seconds = parse_duration(value)
    if seconds <= 0:
        raise ValueError(f"must be more than zero, got {value!r}")
    return seconds


def http_url(value: Any) -> str:
    url = text(value)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"must be an http:// or https:// URL, got {url!r}")
    return url
