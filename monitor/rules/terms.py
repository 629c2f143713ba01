"""Rule terms: what a term string means, and the table that gives each distinct term one id.

A term is a sequence of word slots matched against whole tokens:
    bomber          the word, any case, any accents
    ground troops   a phrase: these words in a row
    bomber*         any word starting with "bomber" (bombers, bombardeo needs bombard*)
    ~strike         the word and its inflections (strikes, striking, struck)
    {cased: US}     exactly this capitalisation ("US" but not "us")
    {re: pattern}   an RE2 regular expression over the plain text (case-insensitive)
Terms with the same meaning share one id, so a word used by a thousand rules is looked for once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from monitor.rules.text import TOKEN_RE, fold

MIN_PREFIX = 3

# Irregular forms that suffix rules cannot produce; the author writes "~strike", gets "struck".
_IRREGULAR = {
    "strike": ("struck", "stricken"),
    "fly": ("flew", "flown", "flights", "flight"),
    "send": ("sent",),
    "shoot": ("shot",),
    "sink": ("sank", "sunk"),
    "fight": ("fought",),
    "build": ("built",),
    "take": ("took", "taken"),
    "seize": ("seizure", "seizures"),
    "invade": ("invasion", "invasions"),
    "die": ("dying", "dead", "death", "deaths"),
    "kill": ("killings",),
    "bring": ("brought",),
    "break": ("broke", "broken"),
    "cut": ("cuts", "cutting"),
    "sever": ("severance",),
    "begin": ("began", "begun"),
    "go": ("went", "gone"),
    "withdraw": ("withdrew", "withdrawn", "withdrawal"),
    "deploy": ("deployment", "deployments"),
    "expel": ("expelled", "expelling", "expulsion", "expulsions"),
    "mobilize": ("mobilization", "mobilizations"),
    "mobilise": ("mobilisation", "mobilisations"),
}

_VOWELS = set("aeiou")


def _regular(w: str) -> set[str]:
    forms = {w, w + "s", w + "es", w + "ed", w + "ing", w + "ings", w + "ment", w + "ments"}
    if w.endswith("e"):
        stem = w[:-1]
        forms |= {w + "d", stem + "ing", stem + "ings", stem + "ion", stem + "ions"}
        forms |= {stem + "ation", stem + "ations"}
    if len(w) > 2 and w.endswith("y") and w[-2] not in _VOWELS:
        forms |= {w[:-1] + "ies", w[:-1] + "ied"}
    consonant_vowel_consonant = len(w) > 2 and w[-3] not in _VOWELS and w[-2] in _VOWELS
    if consonant_vowel_consonant and w[-1] not in _VOWELS | {"w", "x", "y"}:
        forms |= {w + w[-1] + "ed", w + w[-1] + "ing"}  # "ship" -> "shipped"
    forms |= set(_IRREGULAR.get(w, ()))
    return forms


def inflections(word: str) -> frozenset[str]:
    """Folded forms of an English word (and Spanish plurals): deploy -> deploys, deployed, ..."""
    w = fold(word)
    forms = _regular(w)
    if w.endswith(("ize", "ise")):
        forms |= _regular(w[:-3] + ("ise" if w.endswith("ize") else "ize"))
    return frozenset(forms)


@dataclass(frozen=True)
class Slot:
    """One word position of a term. kind: "word" (folded), "prefix" (folded), "cased", "forms"."""

    kind: str
    value: str


@dataclass(frozen=True)
class Term:
    """A term as the author wrote it (`display`) and what it matches: slots, or an RE2 pattern."""

    display: str
    slots: tuple[Slot, ...] = ()
    pattern: str | None = None

    @property
    def key(self) -> tuple[object, ...]:
        # The display is part of the key so that a rule's `matched` never depends on other rules.
        return (self.display, self.pattern, self.slots)


_STAR_RE = re.compile(TOKEN_RE.pattern.replace("|", r"\*?|", 1) + r"\*?")


def parse_term(raw: str) -> Term:
    """Read a term string; ValueError says what is wrong with it."""
    text = raw.strip()
    inflect = text.startswith("~")
    if inflect:
        text = text[1:]
    pieces = _STAR_RE.findall(text)
    if not pieces:
        raise ValueError(f"term {raw!r} has no letters or digits to match")
    slots: list[Slot] = []
    for piece in pieces:
        if piece.endswith("*"):
            if inflect:
                raise ValueError(f"term {raw!r}: use either ~ or *, not both")
            stem = fold(piece[:-1])
            if len(stem) < MIN_PREFIX:
                raise ValueError(
                    f"term {raw!r}: a wildcard needs at least {MIN_PREFIX} letters before *"
                )
            slots.append(Slot("prefix", stem))
        elif inflect:
            slots.append(Slot("forms", fold(piece)))
        else:
            slots.append(Slot("word", fold(piece)))
    return Term(raw.strip(), tuple(slots))


def cased_term(raw: str) -> Term:
    """A term matched with exactly the capitalisation written ("US", "CIA")."""
    pieces = TOKEN_RE.findall(raw)
    if not pieces:
        raise ValueError(f"cased term {raw!r} has no letters or digits to match")
    return Term(raw.strip(), tuple(Slot("cased", p) for p in pieces))


def regex_term(pattern: str) -> Term:
    return Term(pattern, pattern=pattern)


class TermTable:
    """Gives each distinct term an id; ids index `terms`."""

    def __init__(self) -> None:
        self.terms: list[Term] = []
        self._ids: dict[tuple[object, ...], int] = {}

    def add(self, term: Term) -> int:
        known = self._ids.get(term.key)
        if known is not None:
            return known
        self._ids[term.key] = len(self.terms)
        self.terms.append(term)
        return len(self.terms) - 1
