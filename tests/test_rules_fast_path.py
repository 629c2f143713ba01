"""The matcher's C-level tokeniser and scanner against the one-regex-match-per-token reference
they replaced: the same tokens, the same term hits, the same verdicts and explanations."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import monitor.rules
from monitor.models import Item
from monitor.rules import Rulebook, load_rulebook
from monitor.rules.scanner import Scanner
from monitor.rules.text import TOKEN_RE, Tokens, _ends_sentence, tokenize

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
LABELLED_SETS = sorted(p for p in DATA.rglob("*.jsonl") if p.name != "events.jsonl")


def reference_tokenize(text: str) -> Tokens:
    """The tokeniser as it was: one TOKEN_RE match at a time."""
    text = unicodedata.normalize("NFC", text)
    words: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    sentences: list[int] = []
    sentence = 0
    previous_end = 0
    for found in TOKEN_RE.finditer(text):
        start = found.start()
        one_space = start - previous_end == 1 and text[previous_end] == " "
        word = found.group()
        if words and not one_space and _ends_sentence(text[previous_end:start], words[-1], word):
            sentence += 1
        words.append(word)
        starts.append(start)
        ends.append(found.end())
        sentences.append(sentence)
        previous_end = found.end()
    return Tokens(text, words, starts, ends, sentences)


def reference_hits(scanner: Scanner, tokens: Tokens) -> dict[int, list[tuple[int, int]]]:
    """Term hits by walking the phrase trie from every token, as the scanner once did."""
    slots = [(scanner._entry(w) or ((), (), ()))[0] for w in tokens.words]
    hits: dict[int, list[tuple[int, int]]] = {}
    for i in range(len(slots)):
        frontier = [scanner._root.children[s] for s in slots[i] if s in scanner._root.children]
        j = i
        while frontier:
            following = []
            for node in frontier:
                for term in node.terms:
                    hits.setdefault(term, []).append((i, j + 1))
                if j + 1 < len(slots) and tokens.sentences[j + 1] == tokens.sentences[i]:
                    following.extend(node.children[s] for s in slots[j + 1] if s in node.children)
            frontier = following
            j += 1
    if scanner._regex_set is not None and slots:
        scanner._scan_regexes(tokens, hits)
    return hits


# Characters where the cut is subtle: digit runs with separators ("1,200", "3.5", "52s"),
# "_", accents composed and combining, non-ASCII digits and numerals, curly quotes, sentence ends.
TRICKY = "aZx09 ..,,_-\n!?;:'\"éÉ\u0301²٣七“”\u2018\u2019\u00a0\u2014ßÜñ¿¡\t"
TRICKY_TEXT = st.text(alphabet=TRICKY, max_size=60)
WORDS = ["US", "us", "Navy", "strike", "strikes", "struck", "1,200", "3.5", "B-52s", "Gen.", "Dr"]
WORDY_TEXT = st.lists(
    st.sampled_from(WORDS) | st.text(alphabet=TRICKY, max_size=3), max_size=25
).map(" ".join)
# The shipped rules' phrases, some cut by a sentence end, which no phrase may span.
PHRASES = sorted(
    {
        term.display.lstrip("~").replace("*", "")
        for term in load_rulebook([ROOT / "rules"])._terms
        if len(term.slots) > 1
    }
)
PHRASE_TEXT = st.lists(
    st.tuples(st.sampled_from(PHRASES), st.sampled_from([" ", " ", ". ", ".\n", "? ", ", "])),
    max_size=8,
).map(lambda pairs: " ".join(phrase.replace(" ", cut, 1) for phrase, cut in pairs))


def fields(tokens: Tokens) -> tuple[object, ...]:
    return (tokens.text, tokens.words, tokens.starts, tokens.ends, tokens.sentences)


def labelled_items() -> list[Item]:
    items = []
    for path in LABELLED_SETS:
        for n, line in enumerate(path.read_text("utf-8").splitlines()):
            row = json.loads(line)
            items.append(
                Item(
                    feed=path.name,
                    key=str(n),
                    link="",
                    title=row.get("title") or "",
                    summary=row.get("summary") or "",
                    content=row.get("content") or "",
                )
            )
    return items


@pytest.fixture(scope="module")
def shipped() -> Rulebook:
    return load_rulebook([ROOT / "rules"])


class TestTokeniser:
    @settings(max_examples=600, deadline=None)
    @given(text=TRICKY_TEXT | WORDY_TEXT | st.text(max_size=40))
    def test_it_cuts_any_text_as_the_reference_does(self, text: str) -> None:
        """Words, spans and sentence numbers are those of one TOKEN_RE match at a time."""
        assert fields(tokenize(text)) == fields(reference_tokenize(text))

    def test_it_cuts_every_labelled_text_as_the_reference_does(self) -> None:
        """Every field of every labelled set tokenises identically."""
        texts = [t for item in labelled_items() for t in (item.title, item.summary, item.content)]
        assert len(texts) > 3000
        for text in texts:
            assert fields(tokenize(text)) == fields(reference_tokenize(text)), text

    @pytest.mark.parametrize(
        ("text", "words"),
        [
            ("1,200 troops", ["1,200", "troops"]),
            ("1,200x and 3.5million", ["1", "200x", "and", "3", "5million"]),
            ("B-52s over Caracas.Then", ["B", "52s", "over", "Caracas", "Then"]),
            ("snake_case “quoted” ٣,٤ café", ["snake", "case", "quoted", "٣,٤", "café"]),
        ],
    )
    def test_it_joins_digit_runs_only_as_the_reference_does(
        self, text: str, words: list[str]
    ) -> None:
        """Thousands and decimal separators join digit runs that no letter follows."""
        assert tokenize(text).words == words == reference_tokenize(text).words


class TestScanner:
    @settings(max_examples=300, deadline=None)
    @given(text=PHRASE_TEXT | WORDY_TEXT | TRICKY_TEXT)
    def test_it_finds_the_hits_the_trie_walk_finds(self, shipped: Rulebook, text: str) -> None:
        """Every term at every position, phrases inside one sentence, as the per-token walk."""
        scanner = shipped._scanner
        tokens = tokenize(text)
        assert scanner.scan(tokens) == reference_hits(scanner, tokens)

    def test_it_finds_the_hits_on_every_labelled_text(self, shipped: Rulebook) -> None:
        """The shipped rulebook's hits on every labelled field are those of the per-token walk."""
        scanner = shipped._scanner
        for item in labelled_items():
            for text in (item.title, item.summary, item.content):
                tokens = tokenize(text)
                assert scanner.scan(tokens) == reference_hits(scanner, tokens), text


class TestVerdicts:
    def test_match_and_explain_are_those_of_the_reference_tokeniser(
        self, shipped: Rulebook, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """On every labelled set the shipped rules give the same alerts and explanations."""

        def outcome(item: Item) -> tuple[object, ...]:
            verdicts = [
                (v.rule.info.id, v.match, v.spans, v.reasons, v.notes)
                for v in shipped.explain(item)
            ]
            return (shipped.match(item), verdicts, shipped.numbers(item))

        items = labelled_items()
        fast = [outcome(item) for item in items]
        monkeypatch.setattr(monitor.rules, "tokenize", reference_tokenize)
        assert [outcome(item) for item in items] == fast
        assert sum(bool(f[0]) for f in fast) > 100  # the sets do fire rules

    def test_triage_reads_once_what_match_and_is_candidate_read_apart(
        self, shipped: Rulebook
    ) -> None:
        """The one reading a cycle makes of each item gives both answers of the two readings."""
        items = labelled_items()
        triaged = [shipped.triage(item) for item in items]
        assert triaged == [(shipped.match(item), shipped.is_candidate(item)) for item in items]
        near = sum(1 for matches, candidate in triaged if candidate and not matches)
        assert near > 100  # many items have a rule's words without firing it


def test_spans_index_the_original_text() -> None:
    """The ASCII stand-in keeps the text's length, so every span cuts the text as written."""
    text = "Ünïcode “quotes”, ٣ digits_and B́-52s."
    tokens = tokenize(text)
    assert [text[s:e] for s, e in zip(tokens.starts, tokens.ends, strict=True)] == tokens.words
    assert tokens.words[0] == "Ünïcode"
