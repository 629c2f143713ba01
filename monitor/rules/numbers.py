"""Quantities written in item text: digits ("37", "1,200", "3.5 million") and number words in
English and Spanish ("thirty-seven", "treinta y siete", "a dozen"). Pure.
"""

from __future__ import annotations

from dataclasses import dataclass

from monitor.rules.text import Tokens, fold

_UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60,
    "seventy": 70, "eighty": 80, "ninety": 90, "dozen": 12,
    "cero": 0, "uno": 1, "una": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5, "seis": 6,
    "siete": 7, "ocho": 8, "nueve": 9, "diez": 10, "once": 11, "doce": 12, "trece": 13,
    "catorce": 14, "quince": 15, "dieciseis": 16, "diecisiete": 17, "dieciocho": 18,
    "diecinueve": 19, "veinte": 20, "veintiun": 21, "veintiuno": 21, "veintiuna": 21,
    "veintidos": 22, "veintitres": 23, "veinticuatro": 24, "veinticinco": 25,
    "veintiseis": 26, "veintisiete": 27, "veintiocho": 28, "veintinueve": 29, "treinta": 30,
    "cuarenta": 40, "cincuenta": 50, "sesenta": 60, "setenta": 70, "ochenta": 80,
    "noventa": 90, "docena": 12,
    "doscientos": 200, "doscientas": 200, "trescientos": 300, "trescientas": 300,
    "cuatrocientos": 400, "cuatrocientas": 400, "quinientos": 500, "quinientas": 500,
}  # fmt: skip
_HUNDRED = {"hundred", "cien", "ciento"}
_SCALES = {"thousand": 1_000, "mil": 1_000, "million": 1_000_000, "millon": 1_000_000,
           "millones": 1_000_000, "billion": 1_000_000_000}  # fmt: skip
_JOINERS = {"and", "y"}
_PERCENT = {"percent", "per", "por"}


# Words that end the noun phrase a number counts: "12 warships [off] Venezuela", "doce [en]".
_PHRASE_ENDS = frozenset(
    [
        "and",
        "or",
        "but",
        "in",
        "on",
        "at",
        "near",
        "off",
        "to",
        "from",
        "for",
        "with",
        "by",
        "as",
        "after",
        "amid",
        "while",
        "that",
        "which",
        "who",
        "whom",
        "were",
        "was",
        "are",
        "is",
        "be",
        "been",
        "have",
        "has",
        "had",
        "will",
        "would",
        "could",
        "can",
        "may",
        "might",
        "did",
        "do",
        "does",
        "the",
        "a",
        "an",
        "this",
        "these",
        "those",
        "its",
        "their",
        "his",
        "her",
        "of",
        "than",
        "into",
        "onto",
        "over",
        "under",
        "about",
        "against",
        "since",
        "y",
        "o",
        "e",
        "u",
        "en",
        "a",
        "al",
        "del",
        "de",
        "cerca",
        "frente",
        "con",
        "por",
        "para",
        "tras",
        "que",
        "son",
        "fueron",
        "fue",
        "es",
        "han",
        "ha",
        "habian",
        "sera",
        "seran",
        "los",
        "las",
        "el",
        "la",
        "un",
        "una",
        "sus",
        "su",
        "este",
        "esta",
        "estos",
        "estas",
    ]
)
MAX_COUNTED = 4  # words a counted noun phrase may hold: "12 US Navy guided-missile destroyers"


@dataclass(frozen=True)
class Number:
    """A quantity, the tokens [start, end) it was read from (an int when it is whole), and the
    end of the noun phrase it counts ("twelve [soldiers]": start..counted_end is the phrase)."""

    value: int | float
    start: int
    end: int
    counted_end: int = -1

    def counts(self, start: int) -> bool:
        """True when token `start` is in the noun phrase this number counts."""
        return self.end <= start < self.counted_end

    @property
    def counts_nothing(self) -> bool:
        return self.counted_end <= self.end


def _counted_end(tokens: Tokens, words: list[str], end: int) -> int:
    """Where the noun phrase after a number ends: at punctuation, a function word or a number."""
    sentences = tokens.sentences
    i = end
    while i < len(words) and i - end < MAX_COUNTED and sentences[i] == sentences[end - 1]:
        gap = tokens.text[tokens.ends[i - 1] : tokens.starts[i]]
        if any(not (c.isspace() or c in "-'\u2019") for c in gap) or words[i] in _PHRASE_ENDS:
            break
        if words[i][:1].isdigit() and not _is_model_number(tokens, i):
            break
        i += 1
    return i


def _digits(word: str) -> int | float | None:
    """ "1,200" and "1.200" (Spanish thousands) -> 1200; "3.5" -> 3.5."""
    if not word[:1].isdigit():
        return None
    groups = word.replace(",", ".").split(".")
    if len(groups) > 1 and all(len(g) == 3 for g in groups[1:]):
        return int("".join(groups))
    if len(groups) == 2:
        return float(f"{groups[0]}.{groups[1]}")
    if len(groups) == 1 and word.isdigit():
        return int(word)
    return None


def _whole(value: int | float) -> int | float:
    """ "3.5 million" is a whole number of things: give it as an int."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _is_model_number(tokens: Tokens, i: int) -> bool:
    """ "B-52", "MQ-9": a number glued by a hyphen to the word before it names a machine."""
    start = tokens.starts[i]
    return i > 0 and tokens.ends[i - 1] == start - 1 and tokens.text[start - 1] == "-"


def _is_year(word: str, value: int | float) -> bool:
    return len(word) == 4 and word.isdigit() and 1900 <= value <= 2100


def find_numbers(tokens: Tokens) -> list[Number]:
    """Every quantity in the text, in order. Years, percentages and model numbers are skipped."""
    found: list[Number] = []
    words = [fold(w) for w in tokens.words]
    i = 0
    while i < len(words):
        value = _digits(words[i])
        if value is not None:
            end = i + 1
            if end < len(words) and words[end] in _SCALES:
                value = _whole(value * _SCALES[words[end]])
                end += 1
            percent = tokens.text[tokens.ends[i] : tokens.ends[i] + 1] == "%" or (
                end < len(words) and words[end] in _PERCENT
            )
            skip = _is_year(words[i], value) or _is_model_number(tokens, i) or percent
            if not skip:
                found.append(Number(value, i, end, _counted_end(tokens, words, end)))
            i = end
            continue
        if words[i] in _UNITS or words[i] in _HUNDRED or words[i] in _SCALES:
            end, value = _read_words(words, i)
            found.append(Number(value, i, end, _counted_end(tokens, words, end)))
            i = end
            continue
        i += 1
    return found


def _unit_follows(words: list[str], i: int) -> bool:
    return i + 1 < len(words) and words[i + 1] in _UNITS


def _read_words(words: list[str], i: int) -> tuple[int, int]:
    """Read a run of number words from position i: "two hundred and five" -> 205."""
    total = 0
    current = 0
    while i < len(words):
        word = words[i]
        if word in _UNITS:
            current += _UNITS[word]
        elif word in _HUNDRED:
            current = max(current, 1) * 100
        elif word in _SCALES:
            total += max(current, 1) * _SCALES[word]
            current = 0
        elif word in _JOINERS and current >= 20 and current % 10 == 0 and _unit_follows(words, i):
            pass  # "treinta y siete", "two hundred and five"; never "five and six"
        else:
            break
        i += 1
    return i, total + current
