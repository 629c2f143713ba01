"""The condition tree of one rule, evaluated over an item's scanned fields. Pure.

Every node adds evidence (terms, spans, values) only when it holds, so what a rule reports as
matched is exactly what made it fire. `why_not` says in words why a node did not hold.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property

from monitor.rules.numbers import Number, find_numbers
from monitor.rules.text import Tokens, fold

Hits = dict[int, list[tuple[int, int]]]  # term id -> [(first token, end token)]
Describe = Callable[[Sequence[int]], str]  # term ids -> "'a', 'b' or 'c'"
Cost = Callable[[frozenset[int]], float]


@dataclass(frozen=True)
class CueSet:
    """Term ids of one cue set (a sentence holding one is denial, reversal, commentary...), of the
    phrases that undo it ("does not rule out"), and of the labels that make a whole item one
    ("Analysis: ..." at the start of a headline). `questions`: a question is one too."""

    name: str
    cues: tuple[int, ...]
    undo: tuple[int, ...] = ()
    labels: tuple[int, ...] = ()
    questions: bool = False
    headline_wide: bool = False  # a headline wholly in the set puts the whole item in it


Cues = dict[str, CueSet]


class FieldScan:
    """One text field of one item: its tokens and where each term occurs.

    `labelled` names the cue sets a headline label puts the whole item in ("Opinion: ...").
    """

    def __init__(
        self,
        name: str,
        tokens: Tokens,
        hits: Hits,
        cues: Cues,
        labelled: frozenset[str] = frozenset(),
    ) -> None:
        self.name = name
        self.tokens = tokens
        self.hits = hits
        self._cues = cues
        self.labelled = labelled
        self._excluded: dict[str, frozenset[int]] = {}

    def _sentences_with(self, terms: Sequence[int]) -> set[int]:
        sentences = self.tokens.sentences
        return {sentences[start] for t in terms for start, _ in self.hits.get(t, ())}

    def excluded(self, cue: str) -> frozenset[int]:
        """Sentences in cue set `cue` (a denial: "denied", "no plans to") that do not undo it."""
        known = self._excluded.get(cue)
        if known is not None:
            return known
        cue_set = self._cues[cue]
        if cue in self.labelled:
            found = set(self.tokens.sentences)
        else:
            found = self._sentences_with(cue_set.cues)
            if cue_set.questions:
                found |= self.questions
            if found:
                found -= self._sentences_with(cue_set.undo)
        self._excluded[cue] = frozenset(found)
        return self._excluded[cue]

    def cue_of(self, start: int, cues: Sequence[str]) -> str | None:
        """The first of `cues` whose sentences include the one of token `start`."""
        sentence = self.tokens.sentences[start]
        return next((c for c in cues if sentence in self.excluded(c)), None)

    def label(self, cues: frozenset[str]) -> None:
        """Put the whole text in these cue sets (what `labels` found in the headline)."""
        self.labelled = cues
        self._excluded.clear()

    def labels(self, cues: Cues) -> frozenset[str]:
        """Cue sets that a headline puts the whole item in: one of its labels opens it followed
        by ':' or '|' ("Analysis: "), or a label of several words opens it ("What to know
        about"), or (for `headline_wide` sets) every sentence of it is in the set: under
        "Destroyer heads home", "The ship had spent months off Venezuela" is background."""
        tokens = self.tokens
        found = set()
        for cue_set in cues.values():
            whole = cue_set.headline_wide and tokens.words
            if whole and set(tokens.sentences) <= self.excluded(cue_set.name):
                found.add(cue_set.name)
            for term in cue_set.labels:
                for start, end in self.hits.get(term, ()):
                    if start == 0 and end < len(tokens):
                        gap = tokens.text[tokens.ends[end - 1] : tokens.starts[end]]
                        if end > 1 or any(c in gap for c in ":|"):
                            found.add(cue_set.name)
        return frozenset(found)

    @cached_property
    def questions(self) -> frozenset[int]:
        """Sentences that end with '?' or open with '¿'."""
        tokens = self.tokens
        found = set()
        count = len(tokens)
        for i in range(count):
            following = tokens.starts[i + 1] if i + 1 < count else len(tokens.text)
            last = i + 1 == count or tokens.sentences[i + 1] != tokens.sentences[i]
            if last and "?" in tokens.text[tokens.ends[i] : following]:
                found.add(tokens.sentences[i])
            if "¿" in tokens.text[tokens.ends[i - 1] if i else 0 : tokens.starts[i]]:
                found.add(tokens.sentences[i])
        return frozenset(found)

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
    notes: list[str] = field(default_factory=list)  # which cue, role or number decided

    def add(self, term: int, scan: FieldScan, start: int, end: int) -> None:
        self.terms.setdefault(term, None)
        self.spans.append((scan.name, start, end))
        self.words.append((scan.name, start, end))

    def merge(self, other: Evidence) -> None:
        for term in other.terms:
            self.terms.setdefault(term, None)
        self.spans.extend(other.spans)
        self.words.extend(other.words)
        self.notes.extend(other.notes)
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
    """Any of these terms occurs; with `outside` cue sets (`affirmed`: denial), only in sentences
    that are in none of them."""

    ids: tuple[int, ...]
    outside: tuple[str, ...] = ()
    names: tuple[str, ...] = ()  # the terms and @lists as the author wrote them, for messages

    def shown(self, describe: Describe) -> str:
        if not self.names:
            return describe(self.ids)
        quoted = [repr(n) for n in self.names[:6]]
        more = f" (+{len(self.names) - 6} more)" if len(self.names) > 6 else ""
        return (" or ".join(quoted) if len(quoted) < 3 else ", ".join(quoted)) + more

    @cached_property
    def _positions(self) -> dict[int, int]:
        return {term: i for i, term in enumerate(self.ids)}

    def present(self, scan: FieldScan) -> list[int]:
        """The terms of this node that occur in the field, in the node's order. A field holds
        few terms and a list may hold hundreds, so the smaller side is walked."""
        hits = scan.hits
        if len(hits) < len(self.ids):
            positions = self._positions
            return sorted((t for t in hits if t in positions), key=positions.__getitem__)
        return [t for t in self.ids if t in hits]

    def occurrences(self, scan: FieldScan, term: int) -> list[tuple[int, int]]:
        found = scan.hits.get(term, [])
        if self.outside and found:
            found = [(s, e) for s, e in found if scan.cue_of(s, self.outside) is None]
        return found

    def holds(self, fields: Sequence[FieldScan], evidence: Evidence) -> bool:
        found_in = {t for scan in fields for t in self.present(scan)}
        present = sorted(found_in, key=self._positions.__getitem__)
        found = False
        for term in present:
            for scan in fields:
                for start, end in self.occurrences(scan, term):
                    evidence.add(term, scan, start, end)
                    found = True
        if found and self.outside:
            for skipped in self.skipped(fields):
                evidence.notes.append(f"set aside {skipped}")
        return found

    def skipped(self, fields: Sequence[FieldScan]) -> list[str]:
        """Occurrences the cue sets set aside, as "'strikes' (commentary: "...")"."""
        found = []
        for term in self.ids:
            for scan in fields:
                for start, end in scan.hits.get(term, ()):
                    cue = scan.cue_of(start, self.outside)
                    if cue is not None:
                        word = scan.tokens.text[
                            scan.tokens.starts[start] : scan.tokens.ends[end - 1]
                        ]
                        found.append(f"{word!r} ({cue}: {scan.sentence_text(start)!r})")
        return list(dict.fromkeys(found))

    def required(self, cost: Cost = len) -> frozenset[int] | None:
        return frozenset(self.ids)

    def terms(self) -> Iterator[int]:
        yield from self.ids

    def why_not(self, fields: Sequence[FieldScan], describe: Describe) -> list[str]:
        if self.outside:
            skipped = self.skipped(fields)
            if skipped:
                return [f"{self.shown(describe)} only set aside: {skipped[0]}"]
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
            for term in group.present(scan)
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
    """A number within bounds that counts one of the anchor nouns (`counted`: "eight US
    [warships]", never "twelve soldiers") or stands near an anchor word ("killed at least 37")."""

    anchors: AnyTerm
    name: str
    within: int
    at_least: float | None
    at_most: float | None
    counted: bool = False

    def _accepts(self, value: float) -> bool:
        if self.at_least is not None and value < self.at_least:
            return False
        return self.at_most is None or value <= self.at_most

    def _candidates(self, scan: FieldScan) -> list[tuple[float, int, int, int, Number]]:
        found = []
        sentences = scan.tokens.sentences
        for term in self.anchors.present(scan):
            for start, end in self.anchors.occurrences(scan, term):
                for number in scan.numbers:
                    if self.counted:
                        if number.counts(start):
                            found.append((number.value, term, start, end, number))
                        continue
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
        tokens = scan.tokens
        phrase = tokens.text[tokens.starts[number.start] : tokens.ends[max(end, number.end) - 1]]
        if not self.counted:
            phrase = scan.sentence_text(number.start)
        how = "counts" if self.counted else "near"
        evidence.notes.append(f"number {self.name}={value:g}: {how} {phrase!r}")
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
        where = "counting" if self.counted else f"within {self.within} words of"
        counted = [
            f"{n.value:g} counts {scan.tokens.text[scan.tokens.starts[n.end] : scan.tokens.ends[n.counted_end - 1]]!r}"
            for scan in fields
            for n in scan.numbers
            if self.counted and not n.counts_nothing
        ]
        other = f"; {', '.join(counted[:3])}" if counted else ""
        return [
            f"no number {' and '.join(bounds)} {where} "
            f"{self.anchors.shown(describe)} (numbers there: {shown}{other})"
        ]


# Who did what: the doer of an action is the party named nearest before it in its clause, or
# one named right after "by" / "por" / "de" ("hit by US jets", "ataque de EEUU"), or, in Spanish,
# a party right after it ("ataque estadounidense"). Clauses start after these words, so in
# "Venezuela says US jets struck" the doer of "struck" is the US.
_BY = frozenset({"by", "from", "por", "de", "del"})
_CLAUSE_STARTS = frozenset(
    [
        "as",
        "while",
        "after",
        "amid",
        "when",
        "because",
        "despite",
        "but",
        "whereas",
        "although",
        "though",
        "since",
        "before",
        "once",
        "says",
        "said",
        "say",
        "claims",
        "claimed",
        "accuses",
        "accused",
        "denounces",
        "denounced",
        "condemns",
        "condemned",
        "report",
        "reports",
        "reported",
        "warns",
        "warned",
        "welcomes",
        "welcomed",
        "blames",
        "blamed",
        "alleges",
        "alleged",
        "that",
        "mientras",
        "tras",
        "despues",
        "ante",
        "cuando",
        "porque",
        "pese",
        "aunque",
        "pero",
        "dice",
        "dijo",
        "dicen",
        "afirma",
        "afirmo",
        "denuncia",
        "denuncio",
        "acusa",
        "acuso",
        "condena",
        "condeno",
        "asegura",
        "aseguro",
        "advierte",
        "advirtio",
        "informa",
        "informo",
        "confirma",
        "confirmo",
        "culpa",
        "culpo",
        "que",
        "segun",
    ]
)
_AFTER_BY = 3  # words between "by" and the party named: "by two US Navy jets"
# A clause opened by one of these after "said" / "says" ("the army said it destroyed the runway")
# has the speaker for its doer: the party named nearest before the clause.
_PRONOUNS = frozenset(["it", "they", "we", "he", "she"])
# Spanish drops the subject: in "el ejército dijo que destruyó la pista" the verb opens the
# clause after "que", and its doer is the speaker. Only a singular verb: a plural one
# ("denuncia que bombardearon") is someone else's.
_DROPPED_SUBJECT_AFTER = frozenset(["que"])
# A party right after one of these is where the action happens, not who does it: "explosions
# in Caracas and missiles falling", "explosiones en Caracas y caída de misiles".
_LOCATIVES = frozenset(["in", "at", "near", "over", "across", "around", "en", "sobre", "cerca"])


@dataclass(frozen=True)
class Did(Node):
    """An action done by anyone but the `not_by` parties: "Venezuelan troops destroy an
    airstrip" is not a US strike. `by` names the expected doers, so a nearer one is seen."""

    what: AnyTerm
    by: AnyTerm
    not_by: AnyTerm

    def _parties(self, scan: FieldScan) -> list[tuple[int, int, bool]]:
        """(start, end, is a not_by party) of every party named in the field."""
        found: list[tuple[int, int, bool]] = []
        for group, banned in ((self.by, False), (self.not_by, True)):
            for term in group.present(scan):
                found.extend((s, e, banned) for s, e in scan.hits.get(term, ()))
        return sorted(found)

    def doer(self, scan: FieldScan, start: int, end: int) -> tuple[int, int, bool] | None:
        """The party that does the action at tokens [start, end), if one is named."""
        parties = self._parties(scan)
        words = scan.tokens.words
        sentences = scan.tokens.sentences
        sentence = sentences[start]
        marker = end < len(words) and fold(words[end]) in _BY
        after = [p for p in parties if sentences[p[0]] == sentence and p[0] >= end]
        if marker:
            close = [p for p in after if p[0] - (end + 1) < _AFTER_BY]
            if close:
                return close[0]
        clause = start
        while clause > 0 and sentences[clause - 1] == sentence:
            if fold(words[clause - 1]) in _CLAUSE_STARTS:
                break
            clause -= 1
        before = [
            p
            for p in parties
            if clause <= p[0] and p[1] <= start and not _placed(words, p[0], clause)
        ]
        if not before and clause > 0 and _speaker_does(words, clause, start):
            before = [p for p in parties if sentences[p[0]] == sentence and p[1] < clause]
        opens = clause == 0 or sentences[clause - 1] != sentence
        if not before and opens and fold(words[clause]) in _PRONOUNS and sentence > sentences[0]:
            # "The Venezuelan army hit a camp. It also destroyed an airstrip": a pronoun opening
            # a sentence stands for the subject of the one before, its first party named.
            earlier = [p for p in parties if sentences[p[0]] == sentence - 1]
            before = earlier[:1]
        if before:
            return max(before, key=lambda p: (p[1], p[1] - p[0]))
        if after and after[0][0] == end:
            return after[0]
        return None

    def _done(self, scan: FieldScan) -> list[tuple[int, int, int, tuple[int, int, bool] | None]]:
        found = []
        for term in self.what.present(scan):
            for start, end in self.what.occurrences(scan, term):
                found.append((term, start, end, self.doer(scan, start, end)))
        return found

    def holds(self, fields: Sequence[FieldScan], evidence: Evidence) -> bool:
        for scan in fields:
            for term, start, end, doer in self._done(scan):
                if doer is not None and doer[2]:
                    continue
                evidence.add(term, scan, start, end)
                tokens = scan.tokens
                action = tokens.text[tokens.starts[start] : tokens.ends[end - 1]]
                who = "no one named" if doer is None else repr(_text(scan, doer[0], doer[1]))
                evidence.notes.append(f"role: {action!r} done by {who}")
                return True
        return False

    def required(self, cost: Cost = len) -> frozenset[int] | None:
        return self.what.required(cost)

    def terms(self) -> Iterator[int]:
        yield from self.what.ids
        yield from self.by.ids
        yield from self.not_by.ids

    def why_not(self, fields: Sequence[FieldScan], describe: Describe) -> list[str]:
        done = [(scan, d) for scan in fields for d in self._done(scan)]
        if not done:
            return self.what.why_not(fields, describe)
        scan, (_term, start, end, doer) = done[0]
        assert doer is not None
        return [
            f"{_text(scan, start, end)!r} is done by {_text(scan, doer[0], doer[1])!r}, "
            f"one of {self.not_by.shown(describe)}"
        ]


def _placed(words: Sequence[str], party: int, clause: int) -> bool:
    """True when the party at `party` is named as a place ("in Caracas"), not as a doer."""
    return party > clause and fold(words[party - 1]) in _LOCATIVES


def _speaker_does(words: Sequence[str], clause: int, start: int) -> bool:
    """True when the clause's doer is the speaker before it: it opens with a pronoun ("said it
    destroyed"), or (Spanish) with the action itself, a singular verb after "que"."""
    if fold(words[clause]) in _PRONOUNS:
        return True
    return (
        clause == start
        and fold(words[clause - 1]) in _DROPPED_SUBJECT_AFTER
        and not fold(words[start]).endswith("n")
    )


def _text(scan: FieldScan, start: int, end: int) -> str:
    tokens = scan.tokens
    return tokens.text[tokens.starts[start] : tokens.ends[end - 1]]
