"""Rule files -> validated rule definitions. Every error is a RuleError naming file and line.

File shape:
    lists:                       # named term lists, shared by every file of the rulebook
      venezuela: [Venezuela, Caracas, Padrino López]
    rules:
      - id: bomber-flights
        title: US bombers near Venezuela
        severity: high           # info | low | medium | high | critical
        tags: [air]
        fields: [title, summary] # default: title, summary, content
        match:                   # all / any / none / near / number / affirmed / headline,
                                 # nested freely
          all:
            - any: [B-52, bomber*]
            - any: ["@venezuela"]
          none: [jacket]
        examples: {match: ["..."], no_match: ["..."]}
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from monitor import yamlfile
from monitor.durations import parse_duration
from monitor.errors import Collector, ConfigError, RuleError, RuleErrors
from monitor.models import TEXT_FIELDS, RuleInfo, Severity
from monitor.rules.cues import (
    BUILTIN_LISTS,
    DENIAL_LIST,
    HEADLINE_WIDE_CUES,
    LABEL_SUFFIX,
    QUESTION_CUES,
    UNDO_PREFIX,
)
from monitor.rules.ladder import Ladder, parse_ladder
from monitor.rules.scanner import check_regex
from monitor.rules.terms import Term, TermTable, cased_term, parse_term, regex_term
from monitor.rules.tree import (
    AllOf,
    AnyOf,
    AnyTerm,
    Cues,
    CueSet,
    Did,
    InFields,
    Near,
    Node,
    NoneOf,
    Quantity,
)
from monitor.yamlfile import YamlList, YamlMap

RULE_KEYS = (
    "id",
    "title",
    "severity",
    "tags",
    "fields",
    "match",
    "examples",
    "description",
    "cooldown",
    "yields_to",
    "min_sources",
)
CONDITION_KEYS = (
    "all",
    "any",
    "none",
    "near",
    "number",
    "did",
    "affirmed",
    "outside",
    "headline",
)
TERM_KEYS = ("re", "cased")
ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*\Z")
LIST_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*\Z")
DEFAULT_NUMBER_WITHIN = 5


@dataclass(frozen=True)
class Example:
    """An item text a rule must (or must not) match; checked by `news-monitor check`."""

    fields: dict[str, str]
    should_match: bool
    line: int

    @property
    def text(self) -> str:
        return " / ".join(v for v in self.fields.values() if v)


@dataclass(frozen=True)
class Rule:
    """One validated rule: what an alert says about it, where it came from, its condition."""

    info: RuleInfo
    fields: tuple[str, ...]
    condition: Node
    path: Path
    line: int
    examples: tuple[Example, ...] = ()
    cooldown: float | None = None  # seconds after an alert in which lesser-or-equal ones are held
    yields_to: tuple[str, ...] = ()  # rules whose firing on the same item makes this one quiet
    min_sources: int = 1  # independent sources a story needs before this rule alerts on it
    confirm_within: float | None = None  # ... counted within this long of the story's first report


@dataclass(frozen=True)
class Loaded:
    rules: tuple[Rule, ...]
    files: tuple[Path, ...]
    table: TermTable
    cues: Cues
    ladders: tuple[Ladder, ...] = ()


MAX_RULE_FILE = 2**20  # bytes: about a second of parsing; a 5 MB file took 41 s and 686 MB


def rule_files(paths: Sequence[Path]) -> list[Path]:
    """The *.yaml / *.yml files named or found (recursively, sorted) in the folders named."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml")))
        elif path.exists():
            found.append(path)
        else:
            raise RuleError("no such rule file or folder", path=str(path))
    unique: dict[Path, Path] = {}
    for path in found:
        unique.setdefault(path.resolve(), path)
    return list(unique.values())


class _Where:
    """Names a file so that errors read "file:line: what is wrong"."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def error(self, line: int, message: str) -> RuleError:
        return RuleError(message, path=str(self.path), line=line or None)


@dataclass
class _ListDef:
    where: _Where
    line: int
    raw: YamlList


class Loader:
    """Reads every file first (lists are global), then builds the rules."""

    def __init__(self) -> None:
        self.table = TermTable()
        self.lists: dict[str, _ListDef] = {}
        self._resolved: dict[str, tuple[int, ...]] = {}
        self._resolving: list[str] = []
        self._raw_rules: list[tuple[_Where, YamlMap]] = []
        self._rule_ids: dict[str, str] = {}
        self.files: list[Path] = []
        self.problems = Collector()
        self._cue_sets: dict[str, CueSet] = {}
        self._yields: list[tuple[_Where, int, tuple[str, ...]]] = []
        self._ladders: list[Ladder] = []

    def read(self, path: Path) -> None:
        self.files.append(path)
        where = _Where(path)
        try:
            size = path.stat().st_size
        except OSError as exc:
            raise RuleError(f"cannot read file: {exc.strerror}", path=str(path)) from None
        if size > MAX_RULE_FILE:
            raise RuleError(
                f"the file is {size / 2**20:.1f} MiB; a rule file may hold at most "
                f"{MAX_RULE_FILE // 2**20} MiB (the shipped rulebook is under 0.1 MiB), since "
                "every reload parses it whole: trim it, or split it into smaller files",
                path=str(path),
            )
        try:
            doc = yamlfile.load(path)
        except RuleError:
            raise
        except ConfigError as exc:
            raise RuleError(_bare_message(exc), path=str(path), line=exc.line) from None
        except yaml.YAMLError as exc:
            # yamlfile lets the reader's complaint about control characters through.
            raise RuleError(f"invalid YAML: {exc}", path=str(path)) from None
        if doc is None:
            return
        if not isinstance(doc, YamlMap):
            raise where.error(1, "a rule file is a mapping with `rules:` and/or `lists:`")
        for key in doc:
            if key not in ("rules", "lists", "ladder"):
                self.problems.errors.append(
                    where.error(
                        doc.line_of(key), f"unknown key {key!r}; use rules, lists or ladder"
                    )
                )
        if "ladder" in doc:
            with self.problems:
                self._ladders.append(parse_ladder(doc["ladder"], str(path), doc.line_of("ladder")))
        lists = doc.get("lists")
        if lists is not None:
            if not isinstance(lists, YamlMap):
                raise where.error(doc.line_of("lists"), "lists: must map names to term lists")
            for name, terms in lists.items():
                with self.problems:
                    self._declare_list(where, lists.line_of(name), name, terms)
        rules = doc.get("rules")
        if rules is not None:
            if not isinstance(rules, YamlList):
                raise where.error(doc.line_of("rules"), "rules: must be a list of rules")
            for index, raw in enumerate(rules):
                if isinstance(raw, YamlMap):
                    self._raw_rules.append((where, raw))
                else:
                    self.problems.errors.append(
                        where.error(rules.line_of(index), "each rule must be a mapping")
                    )

    def _declare_list(self, where: _Where, line: int, name: str, terms: Any) -> None:
        if not LIST_RE.match(name):
            raise where.error(line, f"list name {name!r} must be letters, digits, _ or -")
        if name in self.lists:
            other = self.lists[name]
            raise where.error(
                line, f"list {name!r} is already defined at {other.where.path}:{other.line}"
            )
        if not isinstance(terms, YamlList) or not terms:
            raise where.error(line, f"list {name!r} must be a non-empty list of terms")
        self.lists[name] = _ListDef(where, line, terms)

    def build(self, files: Sequence[Path]) -> Loaded:
        """The rules, or RuleErrors listing every problem found (each list and rule on its own)."""
        for name, definition in self.lists.items():
            with self.problems:  # unused lists are checked too
                self._list_ids(name, definition.where, definition.line)
        rules = []
        for where, raw in self._raw_rules:
            with self.problems:
                rules.append(self._build_rule(where, raw))
        for where, line, names in self._yields:
            for name in names:
                if name not in self._rule_ids:
                    self.problems.errors.append(
                        where.error(line, f"yields_to: no rule with id {name!r}")
                    )
        ladders = self._checked_ladders()
        if self.problems.errors:
            raise RuleErrors(self.problems.errors)
        return Loaded(tuple(rules), tuple(files), self.table, dict(self._cue_sets), ladders)

    def _cue_set(self, where: _Where, line: int, name: Any) -> str:
        """Declare the cue set `name` (a list; `not_<name>` undoes it, `<name>_label` labels a
        headline) for a condition that must hold outside its sentences."""
        if not isinstance(name, str) or not (name in self.lists or name in BUILTIN_LISTS):
            builtin = ", ".join(n for n in BUILTIN_LISTS if n not in _helper_lists(BUILTIN_LISTS))
            raise where.error(
                line, f"unknown cue set {name!r}; use {builtin} or the name of a list"
            )
        if name not in self._cue_sets:

            def optional(list_name: str) -> tuple[int, ...]:
                if list_name in self.lists or list_name in BUILTIN_LISTS:
                    return self._list_ids(list_name, where, line)
                return ()

            self._cue_sets[name] = CueSet(
                name,
                self._list_ids(name, where, line),
                optional(UNDO_PREFIX + name),
                optional(name + LABEL_SUFFIX),
                questions=name in QUESTION_CUES,
                headline_wide=name in HEADLINE_WIDE_CUES,
            )
        return name

    def _outside(self, where: _Where, value: YamlMap) -> tuple[str, ...]:
        """The cue sets of a condition's `affirmed: true` (denial) and `outside: [...]`."""
        affirmed = value.get("affirmed", False)
        if not isinstance(affirmed, bool):
            raise where.error(
                value.line_of("affirmed"), f"affirmed: must be true or false, got {affirmed!r}"
            )
        line = value.line_of("outside")
        names = [self._cue_set(where, value.line_of("affirmed"), DENIAL_LIST)] if affirmed else []
        raw = value.get("outside", [])
        if not isinstance(raw, list):
            raw = [raw]
        names.extend(self._cue_set(where, line, n) for n in raw)
        return tuple(dict.fromkeys(names))

    def _checked_ladders(self) -> tuple[Ladder, ...]:
        """Every rung names a rule of the rulebook, and no rule stands on two ladders."""
        ladders: dict[str, Ladder] = {}
        owner: dict[str, str] = {}
        for ladder in self._ladders:
            where = _Where(Path(ladder.path))
            if ladder.id in ladders:
                self.problems.errors.append(
                    where.error(ladder.line, f"ladder {ladder.id!r} is declared twice")
                )
                continue
            for rule_id in ladder.rungs:
                line = ladder.lines.get(rule_id, ladder.line)
                if rule_id not in self._rule_ids:
                    self.problems.errors.append(
                        where.error(line, f"ladder {ladder.id!r} names unknown rule {rule_id!r}")
                    )
                elif rule_id in owner:
                    self.problems.errors.append(
                        where.error(
                            line,
                            f"rule {rule_id!r} is on ladders {owner[rule_id]!r} and {ladder.id!r}",
                        )
                    )
                owner[rule_id] = ladder.id
            ladders[ladder.id] = ladder
        return tuple(ladders.values())

    # -- rules ------------------------------------------------------------------------------

    def _build_rule(self, where: _Where, raw: YamlMap) -> Rule:
        for key in raw:
            if key not in RULE_KEYS:
                raise where.error(
                    raw.line_of(key), f"unknown rule key {key!r}; use one of {', '.join(RULE_KEYS)}"
                )
        rule_id = raw.get("id")
        if rule_id is None:
            raise where.error(raw.line, "rule has no id")
        if not isinstance(rule_id, str) or not ID_RE.match(rule_id):
            raise where.error(
                raw.line_of("id"),
                f"rule id must be letters, digits, '.', '_' or '-', got {rule_id!r}",
            )
        here = f"{where.path}:{raw.line_of('id')}"
        if rule_id in self._rule_ids:
            raise where.error(
                raw.line_of("id"),
                f"rule id {rule_id!r} is already defined at {self._rule_ids[rule_id]}",
            )
        self._rule_ids[rule_id] = here
        title = raw.get("title", rule_id)
        if not isinstance(title, str) or not title.strip():
            raise where.error(raw.line_of("title"), f"title must be text, got {title!r}")
        try:
            severity = Severity.parse(raw.get("severity", "medium"))
        except ValueError as exc:
            raise where.error(raw.line_of("severity"), str(exc)) from None
        tags = self._texts(where, raw, "tags", ())
        fields = self._texts(where, raw, "fields", TEXT_FIELDS)
        for name in fields:
            if name not in TEXT_FIELDS:
                raise where.error(
                    raw.line_of("fields"),
                    f"unknown field {name!r}; use {', '.join(TEXT_FIELDS)}",
                )
        if not fields:
            raise where.error(raw.line_of("fields"), "fields: must name at least one field")
        if "match" not in raw:
            raise where.error(raw.line, f"rule {rule_id!r} has no match:")
        condition = self._condition(where, raw["match"], raw.line_of("match"))
        if condition.required() is None:
            raise where.error(
                raw.line_of("match"),
                f"rule {rule_id!r} needs at least one term that must occur (not only none:)",
            )
        info = RuleInfo(id=rule_id, title=title.strip(), severity=severity, tags=tags)
        examples = self._examples(where, raw, fields)
        cooldown = None
        if raw.get("cooldown") is not None:
            try:
                cooldown = parse_duration(raw["cooldown"]) or None
            except ValueError as exc:
                raise where.error(raw.line_of("cooldown"), f"cooldown: {exc}") from None
        yields_to = self._texts(where, raw, "yields_to", ())
        self._yields.append((where, raw.line_of("yields_to"), yields_to))
        min_sources, within = self._min_sources(where, raw)
        return Rule(
            info,
            tuple(dict.fromkeys(fields)),
            condition,
            where.path,
            raw.line,
            examples,
            cooldown,
            yields_to,
            min_sources,
            within,
        )

    def _min_sources(self, where: _Where, raw: YamlMap) -> tuple[int, float | None]:
        """`min_sources: 3`, or `min_sources: {count: 3, within: 12h}` (of the first report)."""
        value = raw.get("min_sources")
        line = raw.line_of("min_sources")
        if value is None:
            return 1, None
        within: object = None
        if isinstance(value, YamlMap):
            for key in value:
                if key not in ("count", "within"):
                    raise where.error(
                        value.line_of(key), f"unknown min_sources key {key!r}; use count, within"
                    )
            within = value.get("within")
            value = value.get("count")
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 1000:
            raise where.error(
                line,
                "min_sources: must be a whole number of independent sources from 1 to 1000 "
                f"(or {{count: 3, within: 12h}}), got {value!r}",
            )
        if within is None:
            return value, None
        try:
            seconds = parse_duration(within)
        except ValueError as exc:
            raise where.error(line, f"min_sources within: {exc}") from None
        if seconds <= 0:
            raise where.error(line, "min_sources within: must be longer than 0s")
        return value, seconds

    def _texts(
        self, where: _Where, raw: YamlMap, key: str, default: tuple[str, ...]
    ) -> tuple[str, ...]:
        value = raw.get(key)
        if value is None:
            return default
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise where.error(raw.line_of(key), f"{key}: must be a list of text, got {value!r}")
        return tuple(value)

    def _examples(self, where: _Where, raw: YamlMap, fields: Iterable[str]) -> tuple[Example, ...]:
        value = raw.get("examples")
        if value is None:
            return ()
        line = raw.line_of("examples")
        if not isinstance(value, YamlMap):
            raise where.error(line, "examples: must be a mapping with match: and/or no_match:")
        found: list[Example] = []
        for key, texts in value.items():
            if key not in ("match", "no_match"):
                raise where.error(
                    value.line_of(key), f"unknown examples key {key!r}; use match or no_match"
                )
            if not isinstance(texts, YamlList):
                raise where.error(value.line_of(key), f"examples {key}: must be a list")
            for index, text in enumerate(texts):
                found.append(
                    self._example(where, texts.line_of(index), text, key == "match", fields)
                )
        return tuple(found)

    def _example(
        self, where: _Where, line: int, text: Any, should_match: bool, fields: Iterable[str]
    ) -> Example:
        if isinstance(text, str):
            # A bare example is the item's headline, or the first field the rule reads.
            first = "title" if "title" in fields else next(iter(fields))
            return Example({first: text}, should_match, line)
        if (
            isinstance(text, YamlMap)
            and text
            and all(k in TEXT_FIELDS and isinstance(v, str) for k, v in text.items())
        ):
            return Example(dict(text), should_match, line)
        raise where.error(
            line,
            f"an example is text or a mapping of {', '.join(TEXT_FIELDS)} to text, got {text!r}",
        )

    # -- conditions -------------------------------------------------------------------------

    def _condition(self, where: _Where, value: Any, line: int) -> Node:
        if isinstance(value, YamlMap) and not (len(value) == 1 and next(iter(value)) in TERM_KEYS):
            parts: list[Node] = []
            for key, child in value.items():
                key_line = value.line_of(key)
                if key not in CONDITION_KEYS:
                    known = ", ".join(CONDITION_KEYS + TERM_KEYS)
                    raise where.error(
                        key_line, f"unknown condition key {key!r}; use one of {known}"
                    )
                parts.append(self._keyed(where, key, child, key_line))
            return parts[0] if len(parts) == 1 else AllOf(tuple(parts))
        if isinstance(value, YamlList):
            raise where.error(
                line, "a list of conditions needs a key: write any: [...] or all: [...]"
            )
        return AnyTerm(self._term_ids(where, value, line), names=(_written(value),))

    def _keyed(self, where: _Where, key: str, value: Any, line: int) -> Node:
        if key == "near":
            return self._near(where, value, line)
        if key == "number":
            return self._number(where, value, line)
        if key == "did":
            return self._did(where, value, line)
        if key == "headline":
            # What a headline says is its news: the summary may only name where and who.
            return InFields(("title",), self._condition(where, value, line), "headline")
        if key == "affirmed":
            denial = (self._cue_set(where, line, DENIAL_LIST),)
            return AnyTerm(self._group(where, value, line), denial, names=_names(value))
        if key == "outside":
            if not isinstance(value, YamlMap) or "terms" not in value or "cues" not in value:
                raise where.error(line, "outside: must be a mapping with cues: and terms:")
            _reject_unknown(where, value, ("cues", "terms"), "outside")
            cues = value["cues"] if isinstance(value["cues"], list) else [value["cues"]]
            outside = tuple(self._cue_set(where, value.line_of("cues"), c) for c in cues)
            terms = value["terms"]
            return AnyTerm(
                self._group(where, terms, value.line_of("terms")), outside, _names(terms)
            )
        children = self._children(where, key, value, line)
        if key == "all":
            return children[0] if len(children) == 1 else AllOf(children)
        if key == "none":
            return NoneOf(children)
        plain = [c for c in children if isinstance(c, AnyTerm) and not c.outside]
        if len(plain) == len(children):
            # A flat list of terms is one lookup: merge it into a single node.
            ids = tuple(dict.fromkeys(i for c in plain for i in c.ids))
            return AnyTerm(ids, names=tuple(n for c in plain for n in c.names))
        return children[0] if len(children) == 1 else AnyOf(children)

    def _children(self, where: _Where, key: str, value: Any, line: int) -> tuple[Node, ...]:
        if not isinstance(value, YamlList):
            value = _single(value, line)
        if not value:
            raise where.error(line, f"{key}: needs at least one condition")
        return tuple(self._condition(where, v, value.line_of(i)) for i, v in enumerate(value))

    def _group(self, where: _Where, value: Any, line: int) -> tuple[int, ...]:
        """A term or a list of terms -> term ids (lists expanded)."""
        if not isinstance(value, YamlList):
            value = _single(value, line)
        if not value:
            raise where.error(line, "a term list must not be empty")
        ids: list[int] = []
        for index, item in enumerate(value):
            ids.extend(self._term_ids(where, item, value.line_of(index)))
        return tuple(dict.fromkeys(ids))

    def _near(self, where: _Where, value: Any, line: int) -> Node:
        if not isinstance(value, YamlMap):
            raise where.error(line, "near: must be a mapping with terms: and within:")
        _reject_unknown(where, value, ("terms", "within", "affirmed", "outside"), "near")
        outside = self._outside(where, value)
        terms = value.get("terms")
        if not isinstance(terms, YamlList) or len(terms) < 2:
            raise where.error(
                value.line_of("terms"), "near: terms: must list at least two terms or term groups"
            )
        groups = tuple(
            AnyTerm(self._group(where, group, terms.line_of(i)), outside, _names(group))
            for i, group in enumerate(terms)
        )
        within = value.get("within", "sentence")
        if within == "sentence":
            return Near(groups, None)
        if isinstance(within, bool) or not isinstance(within, int) or within < 0:
            raise where.error(
                value.line_of("within"),
                f"within: must be a number of words or 'sentence', got {within!r}",
            )
        return Near(groups, within)

    def _did(self, where: _Where, value: Any, line: int) -> Node:
        if not isinstance(value, YamlMap) or "what" not in value or "not_by" not in value:
            raise where.error(
                line, "did: must be a mapping with what: (the action), not_by: and optionally by:"
            )
        _reject_unknown(where, value, ("what", "by", "not_by", "affirmed", "outside"), "did")
        outside = self._outside(where, value)

        def group(key: str, cues: tuple[str, ...] = ()) -> AnyTerm:
            terms = value.get(key)
            if terms is None:
                return AnyTerm((), names=())
            return AnyTerm(self._group(where, terms, value.line_of(key)), cues, _names(terms))

        return Did(group("what", outside), group("by"), group("not_by"))

    def _number(self, where: _Where, value: Any, line: int) -> Node:
        if not isinstance(value, YamlMap):
            raise where.error(
                line, "number: must be a mapping with of: or near:, and at_least: / at_most:"
            )
        _reject_unknown(
            where,
            value,
            ("of", "near", "within", "at_least", "at_most", "as", "affirmed", "outside"),
            "number",
        )
        if ("near" in value) == ("of" in value):
            raise where.error(
                line,
                "number: needs either of: (the nouns it counts: 'eight [warships]') or near: "
                "(the words it goes with: 'killed 37')",
            )
        counted = "of" in value
        anchor_key = "of" if counted else "near"
        outside = self._outside(where, value)
        near = value[anchor_key]
        anchors = AnyTerm(
            self._group(where, near, value.line_of(anchor_key)), outside, _names(near)
        )

        bounds: dict[str, float | None] = {}
        for key in ("at_least", "at_most"):
            bound = value.get(key)
            if bound is not None and (
                isinstance(bound, bool) or not isinstance(bound, int | float)
            ):
                raise where.error(value.line_of(key), f"{key}: must be a number, got {bound!r}")
            bounds[key] = float(bound) if bound is not None else None
        within = value.get("within", DEFAULT_NUMBER_WITHIN)
        if isinstance(within, bool) or not isinstance(within, int) or within < 0:
            raise where.error(
                value.line_of("within"), f"within: must be a number of words, got {within!r}"
            )
        first = self.table.terms[anchors.ids[0]].display
        name = value.get(
            "as", re.sub(r"[^\w]+", "_", first.lstrip("~").rstrip("*")).strip("_").lower()
        )
        if not isinstance(name, str) or not name:
            raise where.error(value.line_of("as"), f"as: must be a name, got {name!r}")
        return Quantity(
            anchors, name, within, bounds["at_least"], bounds["at_most"], counted=counted
        )

    # -- terms ------------------------------------------------------------------------------

    def _term_ids(self, where: _Where, value: Any, line: int) -> tuple[int, ...]:
        if isinstance(value, str) and value.strip().startswith("@"):
            return self._list_ids(value.strip()[1:], where, line)
        return (self.table.add(self._term(where, value, line)),)

    def _term(self, where: _Where, value: Any, line: int) -> Term:
        if isinstance(value, bool) or value is None:
            raise where.error(line, f"term {value!r} is not text; put it in quotes")
        if isinstance(value, int | float):
            value = str(value)
        try:
            if isinstance(value, str):
                return parse_term(value)
            if isinstance(value, YamlMap) and len(value) == 1:
                ((key, text),) = value.items()
                if (
                    key in TERM_KEYS
                    and isinstance(text, str | int | float)
                    and not isinstance(text, bool)
                ):
                    text = str(text)
                    if key == "cased":
                        return cased_term(text)
                    reason = check_regex(text)
                    if reason is not None:
                        raise ValueError(f"invalid regular expression {text!r}: {reason}")
                    return regex_term(text)
        except ValueError as exc:
            raise where.error(line, str(exc)) from None
        raise where.error(line, f"expected a term, got {value!r}")

    def _list_hint(self, name: str) -> str:
        """Where a missing list is declared, when a rule file was loaded without its folder."""
        loaded = {path.resolve() for path in self.files}
        for folder in dict.fromkeys(path.resolve().parent for path in self.files):
            for other in rule_files([folder]):
                if other.resolve() in loaded:
                    continue
                try:
                    doc = yamlfile.load(other)
                except ConfigError:
                    continue
                lists = doc.get("lists") if isinstance(doc, YamlMap) else None
                if isinstance(lists, YamlMap) and name in lists:
                    return (
                        f"; it is declared in {other}: lists are shared by the files of a "
                        f"rulebook, so pass the folder {other.parent}/ or that file too"
                    )
        return ""

    def _list_ids(self, name: str, where: _Where, line: int) -> tuple[int, ...]:
        known = self._resolved.get(name)
        if known is not None:
            return known
        definition = self.lists.get(name)
        if definition is None:
            builtin = BUILTIN_LISTS.get(name)
            if builtin is not None:
                return tuple(dict.fromkeys(self.table.add(parse_term(cue)) for cue in builtin))
            names = ", ".join(sorted(self.lists)) or "none defined"
            raise _UnknownList(
                f"unknown list '@{name}' (lists: {names}){self._list_hint(name)}",
                path=str(where.path),
                line=line or None,
            )
        if name in self._resolving:
            cycle = " -> ".join([*self._resolving, name])
            raise definition.where.error(
                definition.line, f"lists refer to each other in a loop: {cycle}"
            )
        self._resolving.append(name)
        try:
            raw = definition.raw
            ids: list[int] = []
            for index, item in enumerate(raw):
                ids.extend(self._term_ids(definition.where, item, raw.line_of(index)))
        finally:
            self._resolving.pop()
        self._resolved[name] = tuple(dict.fromkeys(ids))
        return self._resolved[name]


def _written(value: Any) -> str:
    """A term as the author wrote it: "bomber*", "@target", "re: F-35[AB]"."""
    if isinstance(value, dict) and len(value) == 1:
        ((key, text),) = value.items()
        return f"{key}: {text}"
    return str(value).strip()


def _helper_lists(lists: Iterable[str]) -> set[str]:
    """The lists that only serve a cue set: its undo and label lists."""
    return {n for n in lists if n.startswith(UNDO_PREFIX) or n.endswith(LABEL_SUFFIX)}


def _names(value: Any) -> tuple[str, ...]:
    values = value if isinstance(value, list) else [value]
    return tuple(_written(v) for v in values)


def _single(value: Any, line: int) -> YamlList:
    made = YamlList.empty(line)
    made.append(value)
    made.item_lines.append(line)
    return made


def _reject_unknown(where: _Where, value: YamlMap, allowed: tuple[str, ...], what: str) -> None:
    for key in value:
        if key not in allowed:
            raise where.error(
                value.line_of(key), f"unknown {what}: key {key!r}; use {', '.join(allowed)}"
            )


def _bare_message(exc: ConfigError) -> str:
    """The message of a ConfigError without its "file:line: " prefix."""
    text = str(exc)
    prefix = f"{exc.path}:{exc.line}: " if exc.line is not None else f"{exc.path}: "
    return text.removeprefix(prefix) if exc.path is not None else text


class _UnknownList(RuleError):
    """A rule names a list no file declares (or one that could not be read declares)."""


def load(paths: Sequence[Path]) -> Loaded:
    """Read and validate every rule file; RuleErrors naming every problem found."""
    files = rule_files(paths)
    loader = Loader()
    unreadable = Collector()
    for path in files:
        with unreadable:
            loader.read(path)
    with Collector():  # what it raises is in loader.problems
        loaded = loader.build(files)
        if not unreadable.errors:
            return loaded
    found = loader.problems.errors
    if unreadable.errors:
        # A file that did not parse may declare lists other files use: no "unknown list" then.
        found = [*unreadable.errors, *(e for e in found if not isinstance(e, _UnknownList))]
    order = {str(path): index for index, path in enumerate(files)}
    raise RuleErrors(sorted(found, key=lambda e: (order.get(e.path or "", -1), e.line or 0)))
