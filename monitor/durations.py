"""Human durations in config and on the command line: "90s", "5m", "24h", "7d", or plain seconds."""

from __future__ import annotations

import re

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?\s*$")
# Longer than anyone means, and short enough that adding it to a date never overflows.
MAX_DURATION = 3650 * 86400.0


def parse_duration(value: object) -> float:
    """Seconds in `value` (at most ten years); raises ValueError quoting the value when it is
    not a duration."""
    seconds = _seconds(value)
    if seconds > MAX_DURATION:
        raise ValueError(f"durations are limited to ten years (3650d), got {value!r}")
    return seconds


def _seconds(value: object) -> float:
    if isinstance(value, bool):
        raise ValueError(f"expected a duration such as 30s, 5m, 24h or 7d, got {value!r}")
    if isinstance(value, int | float):
        if not value >= 0:  # also refuses NaN
            raise ValueError(f"a duration cannot be negative, got {value!r}")
        return float(value)
    if isinstance(value, str):
        found = _DURATION.match(value)
        if found:
            return float(found.group(1)) * _UNITS[found.group(2) or "s"]
    raise ValueError(f"expected a duration such as 30s, 5m, 24h or 7d, got {value!r}")
