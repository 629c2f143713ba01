"""Plain text -> tokens with character spans and sentence numbers, and the folding that makes
matching case- and accent-insensitive. Pure; the same tokeniser reads rule terms and item text,
so a term can only ever match whole tokens.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# A digit run (with thousands or decimal separators) is its own token only when no letter follows,
# so "B-52s" (the band) stays one token "52s" and never matches the term "B-52".
TOKEN_RE = re.compile(r"\d+(?:[.,]\d+)*(?![^\W_])|[^\W_]+")

# A full stop after these does not end a sentence ("Gen. Padrino", "U.S. Navy").
_ABBREVIATIONS = frozenset(
    {"mr", "mrs", "ms", "dr", "gen", "lt", "col", "sen", "rep", "st", "no", "vs", "jr", "sr"}
    | {"adm", "sgt", "maj", "capt", "gov", "pres", "sra", "dra", "gral"}
)

_FOLD_CACHE: dict[str, str] = {}
_FOLD_CACHE_LIMIT = 200_000


def fold(token: str) -> str:
    """Case- and accent-insensitive form of a token: "López" -> "lopez", "STRASSE" -> "strasse"."""
    folded = _FOLD_CACHE.get(token)
    if folded is None:
        if token.isascii():
            folded = token.lower()
        else:
            decomposed = unicodedata.normalize("NFKD", token)
            folded = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
        if len(_FOLD_CACHE) >= _FOLD_CACHE_LIMIT:
            _FOLD_CACHE.clear()
        _FOLD_CACHE[token] = folded
    return folded


@dataclass(frozen=True)
class Tokens:
    """One field's text cut into tokens. Lists are parallel: token i is text[starts[i]:ends[i]]."""

    text: str
    words: list[str]  # as written (after NFC), for case-sensitive terms and display
    starts: list[int]
    ends: list[int]
    sentences: list[int]  # sentence number of each token, non-decreasing

    def __len__(self) -> int:
        return len(self.words)


def _ends_sentence(gap: str, previous: str, following: str) -> bool:
    if "\n" in gap:
        return True
    if any(c in gap for c in "!?;"):
        return True
    if "." not in gap:
        return False
    # A full stop ends a sentence only when space follows it and the next word is not lowercase:
    # "EE.UU. mata", "U.S. Navy", "Gen. Padrino", "approx. five" are one sentence.
    if not any(c.isspace() for c in gap):
        return False
    if following[:1].islower():
        return False
    if len(previous) == 1 and previous.isalpha():
        return False
    if fold(previous) in _ABBREVIATIONS:
        return False
    # "EE. UU." and "D.C.": a short capitalised word before another is an abbreviation.
    return not (previous.isupper() and len(previous) <= 3 and following.isupper())


def tokenize(text: str) -> Tokens:
    """Cut text into word tokens, numbering sentences as it goes."""
    text = unicodedata.normalize("NFC", text)
    words: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    sentences: list[int] = []
    sentence = 0
    previous_end = 0
    for found in TOKEN_RE.finditer(text):
        start = found.start()
        # Most gaps are one space: skip the boundary check for them.
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


def term_words(term: str) -> list[str]:
    """The tokens a rule term is made of, as written (the same cut as item text)."""
    return TOKEN_RE.findall(unicodedata.normalize("NFC", term))
