"""Find every term of the rulebook in a text in one pass, whatever the number of rules.

Each distinct word slot gets an id; a token's slot ids come from dictionary lookups cached per
distinct token (exact word, inflected forms, case-sensitive word, wildcard prefixes), and phrases
are walked in a trie of slot ids. Regular-expression terms run through one RE2 Set, and only the
patterns the Set reports are run again for their positions. RE2 runs in linear time, so no pattern
can hang the daemon.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from itertools import compress, count, repeat
from operator import is_

import re2

from monitor.rules.terms import Slot, TermTable, inflections
from monitor.rules.text import Tokens, fold

MAX_REGEX_HITS = 50  # positions kept per regex per field; enough to evaluate any rule
_CACHE_LIMIT = 100_000


def regex_options() -> re2.Options:
    options = re2.Options()
    options.case_sensitive = False
    options.log_errors = False
    return options


def check_regex(pattern: str) -> str | None:
    """The reason an RE2 pattern is invalid, or None if it compiles."""
    try:
        re2.compile(pattern, regex_options())
    except re2.error as exc:
        reason = exc.args[0] if exc.args else exc
        return reason.decode() if isinstance(reason, bytes) else str(reason)
    return None


class _Trie:
    __slots__ = ("children", "terms")

    def __init__(self) -> None:
        self.children: dict[int, _Trie] = {}
        self.terms: list[int] = []


# A token's slot ids, the one-word terms it is, the phrase nodes it opens; () for no slot.
_Entry = tuple[tuple[int, ...], tuple[int, ...], tuple[_Trie, ...]] | tuple[()]
_NO_ENTRY: tuple[tuple[int, ...], tuple[int, ...], tuple[_Trie, ...]] = ((), (), ())


class Scanner:
    """The compiled vocabulary of a TermTable."""

    def __init__(self, table: TermTable) -> None:
        self._slot_ids: dict[Slot, int] = {}
        self._words: dict[str, list[int]] = {}
        self._cased: dict[str, list[int]] = {}
        self._prefixes: dict[str, list[int]] = {}
        self._root = _Trie()
        self._regexes: list[tuple[int, re2._Regexp]] = []
        self._regex_set: re2.Set | None = None
        self._cache: dict[str, _Entry] = {}
        for term_id, term in enumerate(table.terms):
            if term.pattern is not None:
                self._regexes.append((term_id, re2.compile(term.pattern, regex_options())))
                continue
            node = self._root
            for slot in term.slots:
                node = node.children.setdefault(self._slot_id(slot), _Trie())
            node.terms.append(term_id)
        self._prefix_lengths = sorted({len(p) for p in self._prefixes})
        if self._regexes:
            self._regex_set = re2.Set.SearchSet(regex_options())
            for _, compiled in self._regexes:
                self._regex_set.Add(compiled.pattern)
            self._regex_set.Compile()

    def _slot_id(self, slot: Slot) -> int:
        known = self._slot_ids.get(slot)
        if known is not None:
            return known
        slot_id = self._slot_ids[slot] = len(self._slot_ids)
        if slot.kind == "word":
            self._words.setdefault(slot.value, []).append(slot_id)
        elif slot.kind == "forms":
            for form in inflections(slot.value):
                self._words.setdefault(form, []).append(slot_id)
        elif slot.kind == "cased":
            self._cased.setdefault(slot.value, []).append(slot_id)
        else:
            self._prefixes.setdefault(slot.value, []).append(slot_id)
        return slot_id

    def _entry(self, word: str) -> _Entry:
        """What a token (as written) starts: its slot ids, the one-word terms it is, and the
        phrase nodes it opens; () when it satisfies no slot. Cached, as news repeats its words."""
        known = self._cache.get(word)
        if known is not None:
            return known
        folded = fold(word)
        found = list(self._words.get(folded, ()))
        found.extend(self._cased.get(word, ()))
        for length in self._prefix_lengths:
            if length > len(folded):
                break
            found.extend(self._prefixes.get(folded[:length], ()))
        entry: _Entry = ()
        if found:
            nodes = [self._root.children[s] for s in found if s in self._root.children]
            terms = tuple(t for node in nodes for t in node.terms)
            entry = (tuple(found), terms, tuple(node for node in nodes if node.children))
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache.clear()
        self._cache[word] = entry
        return entry

    def scan(self, tokens: Tokens) -> dict[int, list[tuple[int, int]]]:
        """Term id -> [(first token, end token)] for every term occurring in the text."""
        hits: dict[int, list[tuple[int, int]]] = {}
        words = tokens.words
        # C-level passes over the tokens: most are cached and satisfy no slot.
        entries: list[_Entry | None] = list(map(self._cache.get, words))
        if None in entries:
            for i in compress(count(), map(is_, entries, repeat(None))):
                entries[i] = self._entry(words[i])
        sentences = tokens.sentences
        length = len(entries)
        for i in compress(count(), entries):
            _, terms, frontier = entries[i] or _NO_ENTRY
            for term in terms:
                hits.setdefault(term, []).append((i, i + 1))
            j = i + 1
            # A phrase never spans two sentences.
            while frontier and j < length and sentences[j] == sentences[i]:
                slots = (entries[j] or _NO_ENTRY)[0]
                reached = [
                    node.children[s] for node in frontier for s in slots if s in node.children
                ]
                for node in reached:
                    for term in node.terms:
                        hits.setdefault(term, []).append((i, j + 1))
                frontier = tuple(node for node in reached if node.children)
                j += 1
        if self._regex_set is not None and length:
            self._scan_regexes(tokens, hits)
        return hits

    def _scan_regexes(self, tokens: Tokens, hits: dict[int, list[tuple[int, int]]]) -> None:
        assert self._regex_set is not None
        matched = self._regex_set.Match(tokens.text) or ()
        last = len(tokens.words) - 1
        for index in matched:
            term_id, compiled = self._regexes[index]
            found = hits.setdefault(term_id, [])
            for m in compiled.finditer(tokens.text):
                start = min(bisect_right(tokens.ends, m.start()), last)
                end = max(bisect_left(tokens.starts, m.end()), start + 1)
                found.append((start, end))
                if len(found) >= MAX_REGEX_HITS:
                    break
            if not found:
                del hits[term_id]
