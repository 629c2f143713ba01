"""Human durations in config and on the command line: "90s", "5m", "24h", "7d", or plain seconds."""

from __future__ import annotations

import re

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?\s*$")


def parse_duration(value: object) -> float:
    """Seconds in `value`; raises ValueError quoting the value when it is not a duration."""
    if isinstance(value, bool):
        raise ValueError(f"expected a duration such as 30s, 5m, 24h or 7d, got {value!r}")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError(f"a duration cannot be negative, got {value!r}")
        return float(value)
    if isinstance(value, str):
        found = _DURATION.match(value)
        if found:
            return float(found.group(1)) * _UNITS[found.group(2) or "s"]
    raise ValueError(f"expected a duration such as 30s, 5m, 24h or 7d, got {value!r}")
