"""Matched words marked in a headline, pure: `<mark>` around each whole-word occurrence of a
word a rule matched, found ignoring case and accents as the rules do; everything else escaped.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from markupsafe import Markup, escape


def _fold(text: str) -> tuple[str, list[int]]:
    """`text` without case and accents, and for each folded character its index in `text`."""
    folded: list[str] = []
    index: list[int] = []
    for position, char in enumerate(text):
        plain = "".join(
            c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c)
        ).casefold()
        folded.append(plain)
        index.extend([position] * len(plain))
    return "".join(folded), index


def _spans(text: str, words: Iterable[str]) -> list[tuple[int, int]]:
    folded, index = _fold(text)
    found: list[tuple[int, int]] = []
    for word in set(words):
        needle = _fold(word.strip())[0]
        if not needle:
            continue
        for hit in re.finditer(r"(?<!\w)" + re.escape(needle) + r"(?!\w)", folded):
            found.append((index[hit.start()], index[hit.end() - 1] + 1))
    merged: list[tuple[int, int]] = []
    for start, end in sorted(found):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def highlight(text: str, words: Iterable[str]) -> Markup:
    """`text` escaped, with every matched word in it wrapped in <mark>."""
    out = Markup()
    last = 0
    for start, end in _spans(text, words):
        out += escape(text[last:start]) + Markup("<mark>") + escape(text[start:end])
        out += Markup("</mark>")
        last = end
    return out + escape(text[last:])
