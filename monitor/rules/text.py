"""Plain text -> tokens with character spans and sentence numbers, and the folding that makes
matching case- and accent-insensitive. Pure; the same tokeniser reads rule terms and item text,
so a term can only ever match whole tokens.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from functools import lru_cache
from itertools import accumulate, compress, repeat
from operator import add

# A digit run (with thousands or decimal separators) is its own token only when no letter follows,
# so "B-52s" (the band) stays one token "52s" and never matches the term "B-52".
TOKEN_RE = re.compile(r"\d+(?:[.,]\d+)*(?![^\W_])|[^\W_]+")

# `tokenize` cuts text with C-level string operations, not one regex match object per token
# (which cost more than the rest of matching). It reads the text through an ASCII stand-in of the
# same length in which each character is "0", "a" or a separator as TOKEN_RE classes it (`\d` is
# str.isdecimal, a word character str.isalnum, "_" a separator), so both cut at the same places;
# then it joins "1,200" and "3.5" as TOKEN_RE's first branch does.
_SEPARATORS = str.maketrans({chr(c): " " for c in range(128) if not chr(c).isalnum()})
_NON_ASCII = re.compile(r"[^\x00-\x7f]+")
_SEPARATED_DIGITS = re.compile(r"[0-9][.,][0-9]")
# TOKEN_RE's first branch on the stand-in, where it joins two digit runs or more.
_DIGIT_CHAIN = re.compile(r"(?<![A-Za-z0-9])[0-9]+(?:[.,][0-9]+)+(?![A-Za-z0-9])")
_HARD_STOPS = re.compile(r"[\n!?;]")
_STOPS = re.compile(r"[\n!?;.]")  # what a gap that ends a sentence has (see _ends_sentence)
_SPACE = re.compile(r"\s")

# A full stop after these does not end a sentence ("Gen. Padrino", "U.S. Navy").
_ABBREVIATIONS = frozenset(
    {"mr", "mrs", "ms", "dr", "gen", "lt", "col", "sen", "rep", "st", "no", "vs", "jr", "sr"}
    | {"adm", "sgt", "maj", "capt", "gov", "pres", "sra", "dra", "gral"}
    # "on Sept. 6", "the Dec. 30 strike"
    | {"jan", "feb", "aug", "sep", "sept", "oct", "nov", "dec", "ene", "dic"}
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
    if _HARD_STOPS.search(gap):
        return True
    if "." not in gap:
        return False
    # A full stop ends a sentence only when space follows it and the next word is not lowercase:
    # "EE.UU. mata", "U.S. Navy", "Gen. Padrino", "approx. five" are one sentence.
    if not _SPACE.search(gap) or "," in gap:
        return False  # "EE.UU., Pete Hegseth"
    if following[:1].islower():
        return False
    if len(previous) == 1 and previous.isalpha():
        return False
    if fold(previous) in _ABBREVIATIONS:
        return False
    # "EE. UU." and "D.C.": a short capitalised word before another is an abbreviation.
    return not (previous.isupper() and len(previous) <= 3 and following.isupper())


@lru_cache(maxsize=4096)
def _stand_in(run: str) -> str:
    return "".join("0" if c.isdecimal() else "a" if c.isalnum() else " " for c in run)


def tokenize(text: str) -> Tokens:
    """Cut text into word tokens, numbering sentences as it goes (the tokens of TOKEN_RE)."""
    return _tokenize(text) if len(text) > _KEPT_CHARS else _kept_tokenize(text)


# The story clusterer reads an item's lead (at most 1,200 characters) right after the matcher
# read the same summary: the second reading is a lookup. Only short texts are kept, so what the
# cache holds stays small whatever a feed sends. Callers never change the Tokens they get.
_KEPT_CHARS = 2000


def _tokenize(text: str) -> Tokens:
    text = unicodedata.normalize("NFC", text)
    ascii_text = text if text.isascii() else _NON_ASCII.sub(lambda m: _stand_in(m[0]), text)
    pieces = ascii_text.translate(_SEPARATORS).split(" ")
    lengths = list(map(len, pieces))
    # Piece k starts after the k pieces and k separators before it.
    starts = list(compress(accumulate(map(add, lengths, repeat(1)), initial=0), lengths))
    ends = list(map(add, starts, filter(None, lengths)))
    if text is ascii_text:
        words = list(filter(None, pieces))
    else:
        words = list(map(text.__getitem__, map(slice, starts, ends)))
    if _SEPARATED_DIGITS.search(ascii_text):
        _join_digit_chains(text, ascii_text, words, starts, ends)
    count = len(words)
    breaks = [0] * count
    # Only a gap with a stop in it can end a sentence: the gaps after the stops of the text (a
    # stop inside a token, "3.5", is in no gap).
    gaps = set()
    for stop in _STOPS.finditer(text):
        i = bisect_right(starts, stop.start())  # the token after the stop
        if 0 < i < count and ends[i - 1] <= stop.start():
            gaps.add(i)
    for i in gaps:
        if _ends_sentence(text[ends[i - 1] : starts[i]], words[i - 1], words[i]):
            breaks[i] = 1
    sentences = list(accumulate(breaks)) if 1 in breaks else breaks
    return Tokens(text, words, starts, ends, sentences)


_kept_tokenize = lru_cache(maxsize=64)(_tokenize)


def _join_digit_chains(
    text: str, ascii_text: str, words: list[str], starts: list[int], ends: list[int]
) -> None:
    """Make "1,200" and "3.5" one token each, in place, as TOKEN_RE's first branch reads them."""
    chains = [m.span() for m in _DIGIT_CHAIN.finditer(ascii_text)]
    for start, end in reversed(chains):
        first = bisect_left(starts, start)
        last = bisect_left(starts, end)
        words[first:last] = [text[start:end]]
        starts[first:last] = [start]
        ends[first:last] = [end]


def term_words(term: str) -> list[str]:
    """The tokens a rule term is made of, as written (the same cut as item text)."""
    return TOKEN_RE.findall(unicodedata.normalize("NFC", term))
