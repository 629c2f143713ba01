"""The text of most HTML fragments in one regular-expression pass, or None when in doubt (pure).

BeautifulSoup with html.parser builds its tree from the tags exactly as written: it never moves
an element, an end tag closes the most recent open element of its name (and everything inside
it) or nothing, and void elements close at once. So `soup_to_text` of that tree is fixed by the
token sequence. Building the tree costs about 1 ms a document, the largest share of a cold poll;
reading the tokens with one compiled pattern gives the same text in a fraction of it.

The answer is the raw text `soup_to_text` gathers (before `clean_text`), or None whenever
BeautifulSoup could read the fragment otherwise, and the caller then asks BeautifulSoup: a
character reference it decodes its own way (no semicolon, unknown names, controls, C1 and invalid
code points), ruby text (strings it keeps apart), a NUL, CDATA and other `<!` markup, a raw-text
element (script, style) that never ends, and any `<` that does not start a tag, comment,
doctype or processing instruction this pattern reads in full (attributes included). The element
tables are BeautifulSoup's own and the comment, doctype and raw-text ends html.parser's.
tests/test_plainhtml.py holds the result to BeautifulSoup's on every HTML fragment of every
corpus feed and on generated markup.
"""

from __future__ import annotations

import re
from html.entities import html5

# BeautifulSoup's own tables, written out so that reading a fragment does not import it (a
# command that never meets doubtful markup never pays for that); tests/test_plainhtml.py checks
# them against the installed BeautifulSoup.
VOID = frozenset(
    ("area", "base", "basefont", "bgsound", "br", "col", "command", "embed", "frame", "hr",
     "image", "img", "input", "isindex", "keygen", "link", "menuitem", "meta", "nextid", "param",
     "source", "spacer", "track", "wbr")
)  # fmt: skip
OWN_STRINGS = frozenset(("rt", "rp", "style", "script", "template"))
PRESERVE = frozenset(("pre", "textarea"))
ASCII_SPACES = " \n\t\x0c\r"
# Names BeautifulSoup decodes, to the same characters as HTML5 does with a semicolon.
ENTITIES = {name[:-1]: text for name, text in html5.items() if name.endswith(";")}

_NAME = r"[A-Za-z][-A-Za-z0-9_:.]*"
_SPACE = r"[ \t\n\r\f]"  # ASCII only: what counts as a space in a tag is then never in doubt
_ATTRIBUTE = rf"""{_SPACE}+[A-Za-z_:][-A-Za-z0-9_:.]*(?:{_SPACE}*={_SPACE}*(?:"[^"<]*"|'[^'<]*'|[^\s"'=<>`]+))?"""
_TOKEN = re.compile(
    rf"<(?P<start>{_NAME})(?:{_ATTRIBUTE})*{_SPACE}*(?P<slash>/?)>"
    rf"|</(?P<end>{_NAME}){_SPACE}*>"
    # html.parser's own ends for comments, declarations and processing instructions.
    r"|(?P<skip><!--.*?--\s*>|<![dD][oO][cC][tT][yY][pP][eE][^>]*>|<\?[^>]*>)"
    r"|&(?P<named>[A-Za-z][A-Za-z0-9]{0,31});"
    r"|&#(?P<decimal>[0-9]{1,7});"
    r"|&#[xX](?P<hex>[0-9A-Fa-f]{1,6});"
    r"|(?P<odd>[<&\x00])",
    re.DOTALL,
)
_MARK = re.compile("[<&\x00]")
# A bare "&" or "<" that html.parser passes on as text ("AT & T", "x < 3").
_PLAIN_AMPERSAND = re.compile(r"&[^A-Za-z0-9#]")
_PLAIN_LESS_THAN = re.compile(r"<[ 0-9]")
# html.parser reads the content of these as raw text up to this end tag.
_RAW_TEXT_END = {
    name: re.compile(rf"</\s*{name}\s*>", re.IGNORECASE) for name in ("script", "style")
}


def plain_html_text(
    fragment: str, *, invisible: frozenset[str], block: frozenset[str]
) -> str | None:
    """The raw text of `fragment` with "\\n" after each element of `block`, as `soup_to_text`
    gathers it from BeautifulSoup's tree; None when BeautifulSoup might read it differently.

    Elements are opened and closed as BeautifulSoup does: an end tag closes the most recent open
    element of its name and every element inside it, and is ignored when none is open.
    """
    if not _RAW_TEXT_END.keys() <= invisible:
        return None  # raw text would then have to be read as text
    parts: list[str] = []
    string: list[str] = []  # the text since the last tag or comment: one string in the tree
    open_tags: list[str] = []
    hidden = 0  # open elements in `invisible`: nothing inside them is text
    preserving = 0  # open elements that keep whitespace-only strings as they are (pre)

    def end_string() -> None:
        # BeautifulSoup turns a string of nothing but ASCII spaces into one newline or space.
        text = "".join(string)
        string.clear()
        if text and not preserving and not text.strip(ASCII_SPACES):
            text = "\n" if "\n" in text else " "
        parts.append(text)

    def close(name: str) -> None:
        nonlocal hidden, preserving
        if name in block and not hidden:
            parts.append("\n")
        hidden -= name in invisible
        preserving -= name in PRESERVE

    position = 0
    length = len(fragment)
    while position < length:
        # Every token starts at one of these characters, and one always matches there: finding
        # the character first and matching only at it gives the same tokens as searching with
        # _TOKEN, which tries every alternative at every character of the text (5x slower).
        mark = _MARK.search(fragment, position)
        if mark is None:
            break
        start = mark.start()
        token = _TOKEN.match(fragment, start)
        assert token is not None  # the `odd` alternative matches any mark
        if start > position and not hidden:
            string.append(fragment[position:start])
        position = token.end()
        kind = token.lastgroup
        if kind == "start" or kind == "slash":
            end_string()
            name = token.group("start").lower()
            if name in OWN_STRINGS and name not in invisible:
                return None  # strings kept apart (ruby text) are not walked as text
            if name in VOID or token.group("slash"):
                # BeautifulSoup closes `<br>` and `<div/>` at once: an empty element.
                if name in block and not hidden:
                    parts.append("\n")
                continue
            open_tags.append(name)
            hidden += name in invisible
            preserving += name in PRESERVE
            raw_end = _RAW_TEXT_END.get(name)
            if raw_end is not None:
                found = raw_end.search(fragment, position)
                if found is None:
                    return None
                position = found.start()  # the end tag comes next, as a token
        elif kind == "end":
            end_string()
            name = token.group("end").lower()
            if name in open_tags:
                while (closed := open_tags.pop()) != name:
                    close(closed)
                close(name)
        elif kind == "skip":
            end_string()
        elif kind == "odd":
            # Even inside invisible elements: where html.parser ends a tag decides what it closes.
            odd = token.group("odd")
            plain = _PLAIN_AMPERSAND if odd == "&" else _PLAIN_LESS_THAN if odd == "<" else None
            if plain is None or not plain.match(fragment, start):
                return None
            if not hidden:
                string.append(odd)
        elif hidden:
            continue
        elif kind == "named":
            character = ENTITIES.get(token.group("named"))
            if character is None:
                return None
            string.append(character)
        else:
            decimal = token.group("decimal")
            character = _code_point(int(decimal) if decimal else int(token.group("hex"), 16))
            if character is None:
                return None
            string.append(character)
    if not hidden:
        string.append(fragment[position:])
    end_string()
    # Elements still open end with the fragment, innermost first.
    while open_tags:
        close(open_tags.pop())
    return "".join(parts)


def _code_point(code: int) -> str | None:
    """The character of a numeric reference where BeautifulSoup reads it as that code point:
    not controls, not C1 (it reads those as windows-1252), not surrogates or beyond Unicode."""
    if code in (9, 10) or 32 <= code < 0x7F or 0xA0 <= code <= 0x10FFFF:
        return None if 0xD800 <= code <= 0xDFFF else chr(code)
    return None
