"""Properties of the matcher and loader that must hold for any input (Hypothesis)."""

from __future__ import annotations

import string
import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from monitor.errors import RuleError
from monitor.models import Item
from monitor.rules import Rulebook, load_rulebook

WORD = st.text(alphabet=string.ascii_lowercase + "áéíóúñ", min_size=2, max_size=8)
PLAIN = st.text(alphabet=string.ascii_letters + " .,;-'áéüñ0123456789", max_size=80)


def rulebook_from(text: str) -> Rulebook:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "rules.yaml"
        path.write_text(text, encoding="utf-8")
        return load_rulebook([path])


def rule(rule_id: str, terms: list[str]) -> str:
    return yaml.safe_dump({"id": rule_id, "match": {"any": terms}}, allow_unicode=True)


def rules_text(*blocks: str) -> str:
    indented = ["  - " + b.replace("\n", "\n    ").rstrip() for b in blocks]
    return "rules:\n" + "\n".join(indented) + "\n"


def ids(rulebook: Rulebook, text: str) -> list[str]:
    return [m.rule.id for m in rulebook.match(Item(feed="f", key="k", title=text, link=""))]


class TestMatchingProperties:
    @settings(max_examples=150, deadline=None)
    @given(word=WORD, before=WORD, after=WORD)
    def test_a_term_never_matches_inside_a_longer_word(
        self, word: str, before: str, after: str
    ) -> None:
        """ "strike" is not found in "xstrike", "strikex" or "xstrikex"."""
        assume(word not in ("the", "here"))  # the words around it would match on their own
        rulebook = rulebook_from(rules_text(rule("r", [word])))
        for glued in (before + word, word + after, before + word + after):
            assert ids(rulebook, f"the {glued} here") == []
        assert ids(rulebook, f"the {word.upper()}, here") == ["r"]

    @settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        terms=st.lists(WORD, min_size=1, max_size=6), other=st.lists(WORD, min_size=1), text=PLAIN
    )
    def test_adding_an_unrelated_rule_never_changes_another_rules_result(
        self, terms: list[str], other: list[str], text: str
    ) -> None:
        """A rule's match, matched terms and values are the same with or without other rules."""
        alone = rulebook_from(rules_text(rule("mine", terms)))
        crowded = rulebook_from(rules_text(rule("other", other), rule("mine", terms)))
        item = Item(feed="f", key="k", title=text + " " + " ".join(terms[:1]), link="")
        mine_alone = [m for m in alone.match(item) if m.rule.id == "mine"]
        mine_crowded = [m for m in crowded.match(item) if m.rule.id == "mine"]
        assert mine_alone == mine_crowded

    @settings(max_examples=100, deadline=None)
    @given(
        terms=st.lists(WORD, min_size=1, max_size=6, unique=True),
        data=st.data(),
        text=st.lists(WORD, max_size=12),
    )
    def test_the_order_of_any_terms_does_not_matter(
        self, terms: list[str], data: st.DataObject, text: list[str]
    ) -> None:
        """Shuffling an `any` list never changes whether the rule fires, nor which terms it saw."""
        shuffled = data.draw(st.permutations(terms))
        words = text + data.draw(st.lists(st.sampled_from(terms), max_size=2))
        title = " ".join(words)
        first = rulebook_from(rules_text(rule("r", terms))).match(
            Item(feed="f", key="k", title=title, link="")
        )
        second = rulebook_from(rules_text(rule("r", list(shuffled)))).match(
            Item(feed="f", key="k", title=title, link="")
        )
        assert bool(first) == bool(second)
        assert {t for m in first for t in m.matched} == {t for m in second for t in m.matched}


YAML_SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=12)
)
YAML_KEYS = st.sampled_from(
    ["rules", "lists", "id", "title", "severity", "match", "all", "any", "none", "near", "terms",
     "within", "number", "at_least", "as", "affirmed", "re", "cased", "fields", "tags",
     "examples", "no_match", "x"]
)  # fmt: skip
YAML_DOCS = st.recursive(
    YAML_SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(YAML_KEYS, children, max_size=4)
    ),
    max_leaves=25,
)


class TestLoaderProperties:
    @settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(doc=YAML_DOCS)
    def test_the_loader_raises_nothing_but_rule_errors(self, doc: object) -> None:
        """Whatever shape a rule file has, the loader either loads it or raises RuleError."""
        text = yaml.safe_dump(doc, allow_unicode=True)
        self._load_or_rule_error(text)

    @settings(max_examples=200, deadline=None)
    @given(text=st.text(max_size=200))
    def test_arbitrary_text_is_loaded_or_refused_with_a_rule_error(self, text: str) -> None:
        """Even text that is not YAML at all gives a RuleError, never a crash."""
        self._load_or_rule_error(text)

    @staticmethod
    def _load_or_rule_error(text: str) -> None:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "rules.yaml"
            path.write_text(text, encoding="utf-8")
            try:
                rulebook = load_rulebook([path])
            except RuleError as exc:
                assert str(exc).startswith(str(path))
            else:
                rulebook.match(Item(feed="f", key="k", title="any text at all", link=""))
                rulebook.example_failures()
