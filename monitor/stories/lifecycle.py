"""When a story's alert is created, updated or left alone. Pure: state in, decision out.

One alert per story and scope. The scope is a ladder (every rule of one escalation ladder shares
one alert, at the highest rung that matched) or a single rule outside any ladder. A rule with
`min_sources` counts only once that many independent sources report the story. The first time a
scope has a rule that counts, the alert is created; later reports update it only when something a
reader cares about changes: the sources reach the next step of SOURCE_STEPS, a value rises (a death
toll from 27 to 37), the severity or the rung rises. Whether a hit is confirmed (its rule's
`min_sources` reached within its window) is decided by the caller, who knows the story's reports.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from monitor.models import Severity

SOURCE_STEPS = (1, 2, 3, 5, 10, 20, 50, 100, 200, 500, 1000)

CREATED = "alert.created"
UPDATED = "alert.updated"


@dataclass(frozen=True)
class RuleHit:
    """One rule matching one item of the story."""

    rule: str
    severity: Severity
    rung: int | None  # its rung on the scope's ladder; None outside a ladder
    confirmed: bool  # enough independent sources for the rule's `min_sources`
    values: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Announced:
    """What the alert last told its receivers (version 0: nothing yet, held for confirmation)."""

    version: int
    rule: str
    severity: Severity
    rung: int | None
    sources: int
    values: Mapping[str, float]
    rules: tuple[str, ...]


@dataclass(frozen=True)
class Decision:
    """What to record, and the message to send (`event` None: nothing to send)."""

    state: Announced
    event: str | None
    changes: tuple[str, ...] = ()


def _step(sources: int) -> int:
    return sum(1 for step in SOURCE_STEPS if sources >= step)


def _merge_values(hits: Sequence[RuleHit]) -> dict[str, float]:
    values: dict[str, float] = {}
    for hit in hits:
        for name, value in hit.values.items():
            values[name] = max(values.get(name, value), value)
    return values


def _value_text(value: float) -> str:
    return f"{value:g}"


def decide(previous: Announced | None, hits: Sequence[RuleHit], sources: int) -> Decision | None:
    """The next state of one alert, given every rule hit of its story and the story's sources.

    None: no rule of this scope counts yet and nothing was recorded before.
    """
    counting = [hit for hit in hits if hit.confirmed]
    if not counting:
        if previous is not None:
            return None
        top = max(hits, key=lambda h: (h.rung or 0, h.severity))
        held = Announced(0, top.rule, top.severity, top.rung, sources, {}, ())
        return Decision(held, None)
    top = max(counting, key=lambda h: (h.rung or 0, h.severity))
    state = Announced(
        version=1 if previous is None or previous.version == 0 else previous.version,
        rule=top.rule,
        severity=max(hit.severity for hit in counting),
        rung=top.rung,
        sources=sources,
        values=_merge_values(counting),
        rules=tuple(dict.fromkeys(hit.rule for hit in sorted(counting, key=_rank, reverse=True))),
    )
    if previous is None or previous.version == 0:
        return Decision(state, CREATED)
    changes = _changes(previous, state)
    if not changes:
        # Nothing worth a message; keep what was announced (the sources shown stay comparable).
        quiet = Announced(
            previous.version,
            previous.rule,
            previous.severity,
            previous.rung,
            previous.sources,
            previous.values,
            tuple(dict.fromkeys((*previous.rules, *state.rules))),
        )
        return Decision(quiet, None)
    bumped = Announced(
        previous.version + 1,
        state.rule,
        max(state.severity, previous.severity),
        max(state.rung or 0, previous.rung or 0) or None,
        sources,
        {**previous.values, **state.values},
        tuple(dict.fromkeys((*state.rules, *previous.rules))),
    )
    return Decision(bumped, UPDATED, changes)


def _rank(hit: RuleHit) -> tuple[int, int]:
    return (hit.rung or 0, int(hit.severity))


def _changes(previous: Announced, state: Announced) -> tuple[str, ...]:
    changes: list[str] = []
    if _step(state.sources) > _step(previous.sources):
        changes.append(f"sources {previous.sources} -> {state.sources}")
    for name, value in state.values.items():
        before = previous.values.get(name)
        if before is None or value > before:
            old = "none" if before is None else _value_text(before)
            changes.append(f"{name} {old} -> {_value_text(value)}")
    if state.severity > previous.severity:
        changes.append(f"severity {previous.severity.label} -> {state.severity.label}")
    if (state.rung or 0) > (previous.rung or 0):
        changes.append(f"rung {previous.rung or 0} -> {state.rung} ({state.rule})")
    return tuple(changes)


def is_step_up(rung: int | None, recent_highest: int | None) -> bool:
    """A story lifts its ladder when its rung is above every rung the ladder reached recently."""
    return rung is not None and rung > (recent_highest or 0)
