"""The exception tree of news-monitor.

    MonitorError                 anything the user can act on
    ├── ConfigError              config.yaml or a rule file is invalid (message starts "file:line:")
    │   ├── ConfigErrors         several of those, found in one pass (`errors`, one per line)
    │   └── RuleError            a rule file is invalid
    │       └── RuleErrors       several of those
    ├── StateError               the state file cannot be used (read-only, damaged, gone)
    ├── FetchError               a feed could not be fetched (retry_after: seconds the server asked for)
    ├── FeedParseError           a body is not a feed we can read
    ├── WorkerDied               the worker process reading a feed died (the feed is read again)
    └── DeliveryError            a notifier could not deliver (permanent: never retry;
                                 retry_after: seconds the receiver asked for; disable: stop the notifier)

Decisions live in fields, not in message text.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path


class MonitorError(Exception):
    """Base class for errors whose message tells the user what to do."""


class ConfigError(MonitorError):
    """config.yaml (or a file it names) is invalid; the message names file and line."""

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None) -> None:
        self.path = path
        self.line = line
        where = ""
        if path is not None:
            where = f"{path}:{line}: " if line is not None else f"{path}: "
        super().__init__(f"{where}{message}")


class RuleError(ConfigError):
    """A rule file is invalid; the message names file and line."""


def _flatten(errors: Iterable[ConfigError]) -> tuple[ConfigError, ...]:
    flat: dict[str, ConfigError] = {}  # one problem reached twice is reported once
    for error in errors:
        for single in error.errors if isinstance(error, ConfigErrors) else (error,):
            flat.setdefault(str(single), single)
    return tuple(flat.values())


class ConfigErrors(ConfigError):
    """Every problem found in config.yaml in one pass, so one `check` run lists them all.

    Reads like the first error (its path and line) followed by the others, one per line.
    `rules` holds the rule paths when they could be read, so rule files can be checked too.
    """

    def __init__(self, errors: Iterable[ConfigError], rules: tuple[Path, ...] | None = None):
        self.errors = _flatten(errors)
        self.rules = rules
        first = self.errors[0]
        Exception.__init__(self, "\n".join(str(e) for e in self.errors))
        self.path, self.line = first.path, first.line


class RuleErrors(RuleError, ConfigErrors):
    """Every problem found in the rule files in one pass; see ConfigErrors."""


class Collector:
    """Gathers ConfigErrors instead of stopping at the first: `with collector: ...` per part."""

    def __init__(self) -> None:
        self.errors: list[ConfigError] = []

    def __enter__(self) -> Collector:
        return self

    def __exit__(self, exc_type: object, exc: BaseException | None, tb: object) -> bool:
        if isinstance(exc, ConfigError):
            self.errors.append(exc)
            return True  # carry on with the next part
        return False


class StateError(MonitorError):
    """The state file cannot be used as it is; the message names it and says what to do."""


class FetchError(MonitorError):
    """A feed could not be fetched."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class FeedParseError(MonitorError):
    """A response body is not a feed (RSS, Atom or JSON Feed) that can be read."""


class WorkerDied(MonitorError):
    """A worker process died in the middle of a feed's parsing, text or matching."""


class DeliveryError(MonitorError):
    """A notifier could not deliver an alert."""

    def __init__(
        self,
        message: str,
        *,
        permanent: bool = False,
        retry_after: float | None = None,
        disable: bool = False,
    ) -> None:
        super().__init__(message)
        self.permanent = permanent or disable
        self.retry_after = retry_after
        self.disable = disable
