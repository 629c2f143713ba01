"""Escalation ladders: rules that are rungs of one ladder share one alert per story.

A rule file declares its ladder at the top, lowest rung first, so the whole ladder reads at a
glance:

    ladder:
      id: us-venezuela
      title: US military escalation toward Venezuela
      step_up_window: 14d          # a story above every rung of the last 14 days is a step-up
      rungs:
        - [naval-air-buildup, diplomatic-rupture]     # rung 1
        - [bomber-show-of-force, lethal-boat-strike]  # rung 2
        - strike-inside-target                        # rung 3: one rule or a list

Rules outside any ladder alert on their own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from monitor.durations import parse_duration
from monitor.errors import RuleError
from monitor.yamlfile import YamlList, YamlMap

DEFAULT_STEP_UP_WINDOW = 14 * 86400.0
LADDER_KEYS = ("id", "title", "rungs", "step_up_window")


@dataclass(frozen=True)
class Ladder:
    """One escalation ladder: its rules and their rungs (1 is the lowest)."""

    id: str
    title: str
    rungs: Mapping[str, int]  # rule id -> rung
    step_up_window: float = DEFAULT_STEP_UP_WINDOW
    path: str = ""
    line: int = 0
    lines: Mapping[str, int] = field(default_factory=dict)  # rule id -> line of its rung

    @property
    def top(self) -> int:
        return max(self.rungs.values(), default=0)


def parse_ladder(raw: object, path: str, line: int) -> Ladder:
    """A `ladder:` mapping -> Ladder; RuleError naming the line of what is wrong."""

    def error(at: int, message: str) -> RuleError:
        return RuleError(message, path=path, line=at or line)

    if not isinstance(raw, YamlMap):
        raise error(line, "ladder: must be a mapping with id, title and rungs")
    for key in raw:
        if key not in LADDER_KEYS:
            raise error(
                raw.line_of(key), f"unknown ladder key {key!r}; use {', '.join(LADDER_KEYS)}"
            )
    ladder_id = raw.get("id")
    if not isinstance(ladder_id, str) or not ladder_id.strip():
        raise error(raw.line_of("id"), "ladder: needs an id (text)")
    title = raw.get("title", ladder_id)
    if not isinstance(title, str):
        raise error(raw.line_of("title"), f"ladder title must be text, got {title!r}")
    rungs_raw = raw.get("rungs")
    if not isinstance(rungs_raw, YamlList) or not rungs_raw:
        raise error(raw.line_of("rungs"), "ladder rungs: must list the rungs, lowest first")
    rungs: dict[str, int] = {}
    lines: dict[str, int] = {}
    for index, rung in enumerate(rungs_raw):
        names = [rung] if isinstance(rung, str) else rung
        if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
            raise error(
                rungs_raw.line_of(index),
                f"a rung is a rule id or a list of rule ids, got {rung!r}",
            )
        for name in names:
            if name in rungs:
                raise error(rungs_raw.line_of(index), f"rule {name!r} is on two rungs")
            rungs[name] = index + 1
            lines[name] = rungs_raw.line_of(index)
    window = DEFAULT_STEP_UP_WINDOW
    if raw.get("step_up_window") is not None:
        try:
            window = parse_duration(raw["step_up_window"])
        except ValueError as exc:
            raise error(raw.line_of("step_up_window"), f"step_up_window: {exc}") from None
    return Ladder(ladder_id.strip(), title.strip(), rungs, window, path, raw.line_of("id"), lines)
