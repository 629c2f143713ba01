"""Matched words marked in headlines: found as the rules find them, and never a way in for markup."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from markupsafe import escape

from monitor.web.highlight import highlight


def test_whole_words_are_marked_ignoring_case_and_accents() -> None:
    marked = highlight("B-52 bombers near Caracas; Padrino López speaks", ["b-52", "Padrino Lopez"])
    assert str(marked) == (
        "<mark>B-52</mark> bombers near Caracas; <mark>Padrino López</mark> speaks"
    )


def test_part_of_a_word_is_not_marked() -> None:
    """`bomber` does not mark the start of `bombers`, as the rule would not match it there."""
    assert "<mark>" not in str(highlight("bombers fly", ["bomber"]))


def test_overlapping_words_make_one_mark() -> None:
    assert (
        str(highlight("US Navy fleet", ["US Navy", "Navy fleet"])) == "<mark>US Navy fleet</mark>"
    )


@given(st.text(max_size=60), st.lists(st.text(min_size=1, max_size=8), max_size=4))
def test_marks_are_the_only_markup_added(text: str, words: list[str]) -> None:
    """Take the marks away and what is left is the escaped headline, whatever it holds."""
    marked = str(highlight(text, words))
    assert marked.replace("<mark>", "").replace("</mark>", "") == str(escape(text))
