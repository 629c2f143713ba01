"""The exception tree of news-monitor.

    MonitorError                 anything the user can act on
    ├── ConfigError              config.yaml or a rule file is invalid (message starts "file:line:")
    │   └── RuleError            a rule file is invalid
    ├── FetchError               a feed could not be fetched (retry_after: seconds the server asked for)
    ├── FeedParseError           a body is not a feed we can read
    └── DeliveryError            a notifier could not deliver (permanent: never retry;
                                 retry_after: seconds the receiver asked for; disable: stop the notifier)

Decisions live in fields, not in message text.
"""

from __future__ import annotations


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


class FetchError(MonitorError):
    """A feed could not be fetched."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class FeedParseError(MonitorError):
    """A response body is not a feed (RSS, Atom or JSON Feed) that can be read."""


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
