"""The rule language: rule files -> one compiled Rulebook that matches items. Pure apart from
reading the files in `load_rulebook`.

    rulebook = load_rulebook([Path("rules/")])   # RuleError "file:line: what is wrong"
    rulebook.match(item)                         # -> [Match], in rule order
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from monitor.models import TEXT_FIELDS, Item, Match
from monitor.rules.cache import RulePin, load_pinned
from monitor.rules.ladder import Ladder
from monitor.rules.load import Example, Loaded, Rule
from monitor.rules.scanner import Scanner
from monitor.rules.text import tokenize
from monitor.rules.tree import Evidence, FieldScan

__all__ = ["Ladder", "Rule", "RulePin", "Rulebook", "Verdict", "load_rulebook", "pinned_rulebook"]


@dataclass(frozen=True)
class Verdict:
    """One rule on one item, for rule authors: did it fire, on which spans, and if not, why."""

    rule: Rule
    match: Match | None
    spans: tuple[tuple[str, int, int], ...]  # field, first char, end char (in the NFC text)
    reasons: tuple[str, ...]
    notes: tuple[str, ...] = ()  # which cue, role or number decided


def _yielded(verdict: Verdict, fired: set[str]) -> Verdict:
    """A rule that held but yields to another rule that fired on the item is a near miss."""
    above = [r for r in verdict.rule.yields_to if r in fired]
    if verdict.match is None or not above:
        return verdict
    return Verdict(verdict.rule, None, (), (f"held, but yields to {', '.join(above)}",))


class Rulebook:
    """Every rule of a rulebook, compiled into a single matcher."""

    def __init__(self, loaded: Loaded) -> None:
        self.rules: tuple[Rule, ...] = loaded.rules
        self.files: tuple[Path, ...] = loaded.files
        self.cooldowns: dict[str, float | None] = {r.info.id: r.cooldown for r in self.rules}
        self._yields = {r.info.id: r.yields_to for r in self.rules}
        self.by_id: dict[str, Rule] = {r.info.id: r for r in self.rules}
        self.ladders: tuple[Ladder, ...] = loaded.ladders
        self.ladder_of: dict[str, Ladder] = {
            rule_id: ladder for ladder in loaded.ladders for rule_id in ladder.rungs
        }
        self._terms = loaded.table.terms
        self._cues = loaded.cues
        self._scanner = Scanner(loaded.table)
        self._fields = tuple(f for f in TEXT_FIELDS if any(f in r.fields for r in self.rules))
        # Each rule is indexed under the terms of which one must occur for it to hold, so an
        # item is only evaluated against the rules whose terms it contains.
        # A term many rules use is a common word, so each rule is indexed by its rarest conjunct.
        usage = Counter(t for rule in self.rules for t in set(rule.condition.terms()))

        def cost(terms: frozenset[int]) -> float:
            return sum(usage[t] for t in terms)

        self._index: dict[int, list[int]] = {}
        for position, rule in enumerate(self.rules):
            for term in rule.condition.required(cost) or ():
                self._index.setdefault(term, []).append(position)

    def _scan(self, item: Item) -> dict[str, FieldScan]:
        scans = {}
        labelled: frozenset[str] = frozenset()
        for name in self._fields:
            tokens = tokenize(item.text(name))
            scan = FieldScan(name, tokens, self._scanner.scan(tokens), self._cues, labelled)
            if name == "title":
                # "Analysis: ..." makes every sentence of the item commentary.
                labelled = scan.labels(self._cues)
                scan.label(labelled)
            scans[name] = scan
        return scans

    def _candidates(self, scans: dict[str, FieldScan]) -> list[int]:
        found: set[int] = set()
        for scan in scans.values():
            for term in scan.hits:
                found.update(self._index.get(term, ()))
        return sorted(found)

    def _evaluate(self, rule: Rule, scans: dict[str, FieldScan]) -> tuple[Match | None, Evidence]:
        evidence = Evidence()
        if not rule.condition.holds([scans[f] for f in rule.fields], evidence):
            return None, evidence
        patterns = tuple(self._terms[t].display for t in evidence.terms)
        match = Match(
            rule=rule.info,
            matched=_words(scans, evidence),
            values=dict(evidence.values),
            patterns=patterns,
        )
        return match, evidence

    def match(self, item: Item) -> list[Match]:
        """Every rule the item satisfies, in rulebook order, but for those that yield to another
        that fired (a strike on an airfield is the strike rung, not also a buildup)."""
        return self.triage(item)[0]

    def is_candidate(self, item: Item) -> bool:
        """True when some rule's required terms occur: the item is worth a full-text fetch."""
        return bool(self._candidates(self._scan(item)))

    def triage(self, item: Item) -> tuple[list[Match], bool]:
        """`match` and `is_candidate` of the item at once: reading its text is most of either."""
        scans = self._scan(item)
        positions = self._candidates(scans)
        matches = []
        for position in positions:
            found, _ = self._evaluate(self.rules[position], scans)
            if found is not None:
                matches.append(found)
        fired = {m.rule.id for m in matches}
        kept = [m for m in matches if not fired.intersection(self._yields[m.rule.id])]
        return kept, bool(positions)

    def explain(self, item: Item) -> list[Verdict]:
        """Rules that fired, and near misses (some required term occurred) with the reasons."""
        scans = self._scan(item)
        verdicts = []
        for position in self._candidates(scans):
            rule = self.rules[position]
            found, evidence = self._evaluate(rule, scans)
            reasons: tuple[str, ...] = ()
            if found is None:
                reasons = tuple(
                    rule.condition.why_not([scans[f] for f in rule.fields], self._describe)
                )
            spans = tuple(
                (name, scans[name].tokens.starts[start], scans[name].tokens.ends[end - 1])
                for name, start, end in dict.fromkeys(evidence.spans)
            )
            notes = tuple(dict.fromkeys(evidence.notes))
            verdicts.append(Verdict(rule, found, spans, reasons, notes))
        fired = {v.rule.info.id for v in verdicts if v.match is not None}
        return [_yielded(v, fired) for v in verdicts]

    def numbers(self, item: Item) -> dict[str, list[int | float]]:
        """Every quantity read in each field (shown by `news-monitor test`)."""
        scans = self._scan(item)
        return {name: [n.value for n in scan.numbers] for name, scan in scans.items()}

    def _describe(self, ids: Sequence[int]) -> str:
        shown = [repr(self._terms[i].display) for i in ids[:6]]
        more = f" (+{len(ids) - 6} more)" if len(ids) > 6 else ""
        return (" or ".join(shown) if len(shown) < 3 else ", ".join(shown)) + more

    def example_failures(self) -> list[str]:
        """ "file:line: rule X example '...' should match but does not", for `news-monitor check`."""
        failures = []
        for rule in self.rules:
            for example in rule.examples:
                if self._example_matches(rule, example) != example.should_match:
                    wanted = "match but does not" if example.should_match else "not match but does"
                    failures.append(
                        f"{rule.path}:{example.line}: rule {rule.info.id} example "
                        f"{example.text!r} should {wanted}"
                    )
        return failures

    def _example_matches(self, rule: Rule, example: Example) -> bool:
        text = example.fields
        item = Item(
            feed="example",
            key="example",
            link="",
            title=text.get("title", ""),
            summary=text.get("summary", ""),
            content=text.get("content", ""),
        )
        scans = self._scan(item)
        found, _ = self._evaluate(rule, scans)
        return found is not None


def _words(scans: dict[str, FieldScan], evidence: Evidence) -> tuple[str, ...]:
    """The words that made a rule fire, as the item writes them, in reading order, each once."""
    order = {name: i for i, name in enumerate(TEXT_FIELDS)}
    found: dict[str, str] = {}
    for name, start, end in sorted(set(evidence.words), key=lambda w: (order[w[0]], w[1], w[2])):
        tokens = scans[name].tokens
        word = tokens.text[tokens.starts[start] : tokens.ends[end - 1]]
        found.setdefault(" ".join(word.split()).casefold(), " ".join(word.split()))
    return tuple(found.values())


def pinned_rulebook(
    paths: Sequence[Path], cache: Path | None = None
) -> tuple[Rulebook, RulePin | None]:
    """Read, validate and compile rule files and folders of *.yaml / *.yml (sorted), or take
    them from `cache` when nothing changed (see monitor/rules/cache.py); with the pin worker
    processes check they load the same rules. The one way rules are loaded.

    Raises RuleError whose message is "file:line: what is wrong".
    """
    loaded, pin = load_pinned(paths, cache)
    return Rulebook(loaded), pin


def load_rulebook(paths: Sequence[Path], cache: Path | None = None) -> Rulebook:
    """`pinned_rulebook` without the pin."""
    return pinned_rulebook(paths, cache)[0]
