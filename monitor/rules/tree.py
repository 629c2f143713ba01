"""The condition tree of one rule, evaluated over an item's scanned fields. Pure.

Every node adds evidence (terms, spans, values) only when it holds, so what a rule reports as
matched is exactly what made it fire. `why_not` says in words why a node did not hold.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property

from monitor.rules.numbers import Number, find_numbers
from monitor.rules.text import Tokens

Hits = dict[int, list[tuple[int, int]]]  # term id -> [(first token, end token)]
Describe = Callable[[Sequence[int]], str]  # term ids -> "'a', 'b' or 'c'"
Cost = Callable[[frozenset[int]], float]


@dataclass(frozen=True)
class Cues:
    """Term ids of the denial cues and of the phrases that undo a denial ("not rule out")."""

    denial: tuple[int, ...]
    not_denial: tuple[int, ...]


class FieldScan:
    """One text field of one item: its tokens and where each term occurs."""

    def __init__(self, name: str, tokens: Tokens, hits: Hits, cues: Cues) -> None:
        self.name = name
        self.tokens = tokens
        self.hits = hits
        self._cues = cues

    def _sentences_with(self, terms: Sequence[int]) -> set[int]:
        sentences = self.tokens.sentences
        return {sentences[start] for t in terms for start, _ in self.hits.get(t, ())}

    @cached_property
    def denied(self) -> frozenset[int]:
        """Sentences that deny ("denied", "no plans to", "descartó") and do not undo it."""
        denied = self._sentences_with(self._cues.denial)
        if denied:
            denied -= self._sentences_with(self._cues.not_denial)
        return frozenset(denied)

    @cached_property
    def numbers(self) -> list[Number]:
        return find_numbers(self.tokens)

    def sentence_of(self, start: int) -> int:
        return self.tokens.sentences[start]

    def sentence_text(self, start: int) -> str:
        tokens = self.tokens
        number = tokens.sentences[start]
        first = tokens.sentences.index(number)
        last = len(tokens.sentences) - tokens.sentences[::-1].index(number) - 1
        return tokens.text[tokens.starts[first] : tokens.ends[last]]


@dataclass
class Evidence:
    """What made a rule fire: term ids in the order met, highlighted spans (terms and numbers),
    the spans of the terms alone (the words an alert shows), extracted values."""

    terms: dict[int, None] = field(default_factory=dict)  # an ordered set
    spans: list[tuple[str, int, int]] = field(default_factory=list)  # field, first token, end
    words: list[tuple[str, int, int]] = field(default_factory=list)
    values: dict[str, float] = field(default_factory=dict)

    def add(self, term: int, scan: FieldScan, start: int, end: int) -> None:
        self.terms.setdefault(term, None)
        self.spans.append((scan.name, start, end))
        self.words.append((scan.name, start, end))

    def merge(self, other: Evidence) -> None:
        for term in other.terms:
            self.terms.setdefault(term, None)
        self.spans.extend(other.spans)
        self.words.extend(other.words)
        for name, value in other.values.items():
            self.values[name] = max(value, self.values.get(name, value))


class Node:
    """A condition over the scanned fields of an item."""

    def holds(self, fields: Sequence[FieldScan], evidence: Evidence) -> bool:
        raise NotImplementedError

    def required(self, cost: Cost = len) -> frozenset[int] | None:
        """Term ids of which at least one must occur for this node to hold (None: no such set).

        Where several sets would do (the conjuncts of `all`), the one of least `cost` is chosen:
        the rulebook passes how many rules use each term, so rules are indexed by rare terms.
        """
        raise NotImplementedError

    def terms(self) -> Iterator[int]:
        """Every term id the node looks at."""
        raise NotImplementedError

    def why_not(self, fields: Sequence[FieldScan], describe: Describe) -> list[str]:
        """Why the node does not hold, in words a rule author understands."""
        raise NotImplementedError


@dataclass(frozen=True)
class AnyTerm(Node):
    """Any of these terms occurs; with `affirmed`, only outside sentences that deny something."""

    ids: tuple[int, ...]
    affirmed: bool = False
    names: tuple[str, ...] = ()  # the terms and @lists as the author wrote them, for messages

    def shown(self, describe: Describe) -> str:
        if not self.names:
            return describe(self.ids)
        quoted = [repr(n) for n in self.names[:6]]
        more = f" (+{len(self.names) - 6} more)" if len(self.names) > 6 else ""
        return (" or ".join(quoted) if len(quoted) < 3 else ", ".join(quoted)) + more

    def occurrences(self, scan: FieldScan, term: int) -> list[tuple[int, int]]:
        found = scan.hits.get(term, [])
        if self.affirmed and found:
            denied = scan.denied
            found = [(s, e) for s, e in found if scan.sentence_of(s) not in denied]
        return found

    def holds(self, fields: Sequence[FieldScan], evidence: Evidence) -> bool:
        present = [t for t in self.ids if any(t in scan.hits for scan in fields)]
        found = False
        for term in present:
            for scan in fields:
                for start, end in self.occurrences(scan, term):
                    evidence.add(term, scan, start, end)
                    found = True
        return found

    def required(self, cost: Cost = len) -> frozenset[int] | None:
        return frozenset(self.ids)

    def terms(self) -> Iterator[int]:
        yield from self.ids

    def why_not(self, fields: Sequence[FieldScan], describe: Describe) -> list[str]:
        if self.affirmed:
            denied = [
                scan.sentence_text(s)
                for term in self.ids
                for scan in fields
                for s, _ in scan.hits.get(term, ())
            ]
            if denied:
                return [f"{self.shown(describe)} only in a denial: {denied[0]!r}"]
        return [f"no {self.shown(describe)}"]


@dataclass(frozen=True)
class AllOf(Node):
    children: tuple[Node, ...]

    def holds(self, fields: Sequence[FieldScan], evidence: Evidence) -> bool:
        collected = Evidence()
        for child in self.children:
            if not child.holds(fields, collected):
                return False
        evidence.merge(collected)
        return True

    def required(self, cost: Cost = len) -> frozenset[int] | None:
        # One conjunct's set is enough: the rule cannot hold without one of those terms.
        sets = [s for s in (c.required(cost) for c in self.children) if s is not None]
        return min(sets, key=cost) if sets else None

    def terms(self) -> Iterator[int]:
        for child in self.children:
            yield from child.terms()

    def why_not(self, fields: Sequence[FieldScan], describe: Describe) -> list[str]:
        reasons: list[str] = []
        for child in self.children:
            if not child.holds(fields, Evidence()):
                reasons.extend(child.why_not(fields, describe))
        return reasons


@dataclass(frozen=True)
class AnyOf(Node):
    children: tuple[Node, ...]

    def holds(self, fields: Sequence[FieldScan], evidence: Evidence) -> bool:
        found = False
        for child in self.children:
            if child.holds(fields, evidence):
                found = True
        return found

    def required(self, cost: Cost = len) -> frozenset[int] | None:
        sets = [c.required(cost) for c in self.children]
        if any(s is None for s in sets):
            return None
        return frozenset().union(*(s for s in sets if s is not None))

    def terms(self) -> Iterator[int]:
        for child in self.children:
            yield from child.terms()

    def why_not(self, fields: Sequence[FieldScan], describe: Describe) -> list[str]:
        reasons = [r for c in self.children for r in c.why_not(fields, describe)]
        return ["none of: " + "; ".join(reasons)] if len(reasons) > 1 else reasons


@dataclass(frozen=True)
class NoneOf(Node):
    children: tuple[Node, ...]

    def holds(self, fields: Sequence[FieldScan], evidence: Evidence) -> bool:
        return not any(child.holds(fields, Evidence()) for child in self.children)

    def required(self, cost: Cost = len) -> frozenset[int] | None:
        return None

    def terms(self) -> Iterator[int]:
        for child in self.children:
            yield from child.terms()

    def why_not(self, fields: Sequence[FieldScan], describe: Describe) -> list[str]:
        reasons = []
        for child in self.children:
            seen = Evidence()
            if child.holds(fields, seen):
                reasons.append(f"excluded by {describe(list(seen.terms))}")
        return reasons


@dataclass(frozen=True)
class InFields(Node):
    """A condition that must hold on some fields alone: `headline:` reads only the title."""

    names: tuple[str, ...]
    child: Node
    label: str

    def _only(self, fields: Sequence[FieldScan]) -> list[FieldScan]:
        return [scan for scan in fields if scan.name in self.names]

    def holds(self, fields: Sequence[FieldScan], evidence: Evidence) -> bool:
        return self.child.holds(self._only(fields), evidence)

    def required(self, cost: Cost = len) -> frozenset[int] | None:
        return self.child.required(cost)

    def terms(self) -> Iterator[int]:
        yield from self.child.terms()

    def why_not(self, fields: Sequence[FieldScan], describe: Describe) -> list[str]:
        return [
            f"in the {self.label}: {r}" for r in self.child.why_not(self._only(fields), describe)
        ]


@dataclass(frozen=True)
class Near(Node):
    """One term of every group in one sentence, at most `within` words apart (None: anywhere in it)."""

    groups: tuple[AnyTerm, ...]
    within: int | None

    def _window(self, scan: FieldScan) -> list[tuple[int, int, int]] | None:
        """(term, start, end) of one occurrence per group close enough together, if any."""
        occurrences = [
            (start, end, g, term)
            for g, group in enumerate(self.groups)
            for term in group.ids
            for start, end in group.occurrences(scan, term)
        ]
        if len({o[2] for o in occurrences}) < len(self.groups):
            return None
        occurrences.sort()
        sentences = scan.tokens.sentences
        for i, (start, end, _group, _term) in enumerate(occurrences):
            # Grow a window from this leftmost occurrence until every group is in it.
            chosen: dict[int, tuple[int, int, int, int]] = {}
            for later in occurrences[i:]:
                if sentences[later[0]] != sentences[start]:
                    break  # proximity never reaches across a sentence boundary
                if self.within is not None and later[0] - end > self.within:
                    break
                chosen.setdefault(later[2], later)
                if len(chosen) == len(self.groups):
                    return [(o[3], o[0], o[1]) for o in chosen.values()]
        return None

    def holds(self, fields: Sequence[FieldScan], evidence: Evidence) -> bool:
        for scan in fields:
            window = self._window(scan)
            if window is not None:
                for term, start, end in window:
                    evidence.add(term, scan, start, end)
                return True
        return False

    def required(self, cost: Cost = len) -> frozenset[int] | None:
        return min((frozenset(g.ids) for g in self.groups), key=cost)

    def terms(self) -> Iterator[int]:
        for group in self.groups:
            yield from group.ids

    def why_not(self, fields: Sequence[FieldScan], describe: Describe) -> list[str]:
        missing = [g for g in self.groups if not g.holds(fields, Evidence())]
        if missing:
            return [r for g in missing for r in g.why_not(fields, describe)]
        where = "in one sentence" if self.within is None else f"within {self.within} words"
        names = " / ".join(g.shown(describe) for g in self.groups)
        return [f"{names} all occur, but not {where}"]


@dataclass(frozen=True)
class Quantity(Node):
    """A number near one of the anchor terms, within bounds: "killed at least 37" -> killed=37."""

    anchors: AnyTerm
    name: str
    within: int
    at_least: float | None
    at_most: float | None

    def _accepts(self, value: float) -> bool:
        if self.at_least is not None and value < self.at_least:
            return False
        return self.at_most is None or value <= self.at_most

    def _candidates(self, scan: FieldScan) -> list[tuple[float, int, int, int, Number]]:
        found = []
        sentences = scan.tokens.sentences
        for term in self.anchors.ids:
            for start, end in self.anchors.occurrences(scan, term):
                for number in scan.numbers:
                    if sentences[number.start] != sentences[start]:
                        continue
                    gap = max(number.start - end, start - number.end)
                    if 0 <= gap <= self.within:
                        found.append((number.value, term, start, end, number))
        return found

    def holds(self, fields: Sequence[FieldScan], evidence: Evidence) -> bool:
        best: tuple[float, int, int, int, Number, FieldScan] | None = None
        for scan in fields:
            for value, term, start, end, number in self._candidates(scan):
                if self._accepts(value) and (best is None or value > best[0]):
                    best = (value, term, start, end, number, scan)
        if best is None:
            return False
        value, term, start, end, number, scan = best
        evidence.add(term, scan, start, end)
        evidence.spans.append((scan.name, number.start, number.end))
        evidence.values[self.name] = max(value, evidence.values.get(self.name, value))
        return True

    def required(self, cost: Cost = len) -> frozenset[int] | None:
        return self.anchors.required(cost)

    def terms(self) -> Iterator[int]:
        yield from self.anchors.ids

    def why_not(self, fields: Sequence[FieldScan], describe: Describe) -> list[str]:
        if not self.anchors.holds(fields, Evidence()):
            return self.anchors.why_not(fields, describe)
        seen = sorted({c[0] for scan in fields for c in self._candidates(scan)})
        bounds = []
        if self.at_least is not None:
            bounds.append(f">= {self.at_least:g}")
        if self.at_most is not None:
            bounds.append(f"<= {self.at_most:g}")
        shown = ", ".join(f"{v:g}" for v in seen) if seen else "none"
        return [
            f"no number {' and '.join(bounds)} within {self.within} words of "
            f"{self.anchors.shown(describe)} (numbers there: {shown})"
        ]
