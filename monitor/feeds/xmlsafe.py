"""Make an XML body safe for feedparser: decoded to UTF-8 here, no DTDs, no hostile prolog (pure).

feedparser has three weak spots before it parses anything, all in the prolog (what comes before
the root element):
- Its loose-parser fallback expands entities declared there; the quadratic-blowup form (one long
  entity referenced many times) runs it out of memory. Expat would also expand an internal
  subset, and an external DTD or entity (XXE) names a file or URL to read. Real feeds need no
  DTD (the loose parser knows the HTML named entities), so every <!DOCTYPE ...> and
  <!ENTITY ...> there is cut out.
- Its encoding sniffer runs a backtracking regex over the first line, which takes seconds on a
  few kilobytes of repeated `encoding='x'`; and its DTD regexes (`^\\s*<!ENTITY`) are quadratic in
  runs of blank lines. So the body is decoded here with bounded, linear checks, and handed over
  as UTF-8 behind a short declaration of our own, with whitespace runs in the prolog collapsed.
"""

from __future__ import annotations

import codecs
import re

UTF8_XML = "application/xml; charset=utf-8"
DECLARATION = b'<?xml version="1.0" encoding="utf-8"?>\n'
_PROBE_BYTES = 1024  # where an encoding declaration is looked for

_BYTE_ORDER = (
    # (prefix, codec, how many bytes to drop): byte-order marks, then "<?" in wide encodings.
    (codecs.BOM_UTF32_BE, "utf-32-be", 4),
    (codecs.BOM_UTF32_LE, "utf-32-le", 4),
    (codecs.BOM_UTF8, "utf-8", 3),
    (codecs.BOM_UTF16_BE, "utf-16-be", 2),
    (codecs.BOM_UTF16_LE, "utf-16-le", 2),
    (b"\x00\x00\x00<", "utf-32-be", 0),
    (b"<\x00\x00\x00", "utf-32-le", 0),
    (b"\x00<\x00?", "utf-16-be", 0),
    (b"<\x00?\x00", "utf-16-le", 0),
    (b"\x4c\x6f\xa7\x94", "cp037", 0),  # "<?xm" in EBCDIC
)
_XML_DECLARATION = re.compile(r"\A\s*<\?xml\s[^<>]{0,1024}?\?>")
_DECLARED_ENCODING = re.compile(
    r"""\A\s*<\?xml\s[^<>]{0,200}?encoding\s*=\s*["']([\w.:-]{1,40})["']"""
)
_CHARSET = re.compile(r"""charset\s*=\s*["']?([\w.:-]{1,40})""", re.IGNORECASE)

_DTD_DECLARATION = re.compile(r"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)
_ELEMENT_START = re.compile(r"<\w")  # how feedparser finds where the prolog ends
_WHITESPACE_RUN = re.compile(r"\s{2,}")
# Inside a declaration: comments, processing instructions and quoted strings may hold "]" or
# ">" that do not end it; everything else is skipped a run at a time.
_DECLARATION_TOKEN = re.compile(
    r"<!--.*?(?:-->|\Z)|<\?.*?(?:\?>|\Z)|\"[^\"]*(?:\"|\Z)|'[^']*(?:'|\Z)|[^\"'<\[\]>]+|[<\[\]>]",
    re.DOTALL,
)


def safe_xml(body: bytes, content_type: str | None) -> bytes:
    """`body` as UTF-8 behind our own XML declaration, its prolog made harmless.

    Parse the result with content type UTF8_XML. The encoding is the first that decodes the
    whole body of: byte-order mark, HTTP charset, XML declaration, UTF-8, windows-1252,
    ISO-8859-2 (the last decodes anything).
    """
    text = decode(body, content_type)
    text = _XML_DECLARATION.sub("", text, count=1).lstrip("\ufeff \t\r\n")
    text = strip_prolog(text)
    return DECLARATION + text.encode("utf-8", errors="replace")


def decode(body: bytes, content_type: str | None) -> str:
    """The text of an XML body, decoded by the first encoding that works (see safe_xml)."""
    candidates: list[str] = []
    for prefix, codec, skip in _BYTE_ORDER:
        if body.startswith(prefix):
            body = body[skip:]
            candidates.append(codec)
            break
    # The declaration is ASCII: any ASCII-compatible codec finds it, a wide one needs its own.
    probe = body[:_PROBE_BYTES].decode(candidates[0] if candidates else "latin-1", "replace")
    if content_type and (charset := _CHARSET.search(content_type)):
        candidates.append(charset.group(1))
    if declared := _DECLARED_ENCODING.match(probe):
        candidates.append(declared.group(1))
    for codec in [*candidates, "utf-8", "windows-1252", "iso-8859-2"]:
        try:
            return body.decode(codec)
        except (LookupError, UnicodeDecodeError):
            continue
    raise AssertionError("unreachable: iso-8859-2 decodes any byte string")


def strip_prolog(text: str) -> str:
    """`text` with nothing before its root element that a parser could expand or fetch.

    Two views of "before the root element" matter. Expat reads the prolog structurally: a
    <!DOCTYPE ...> outside comments and processing instructions, internal subset and all.
    feedparser takes entity definitions from any line up to the first "<" + letter that starts
    with <!ENTITY, comments or not. Structural declarations are replaced by a space (so the text
    either side cannot join into a new one); then, up to the first "<" + letter, any remaining
    "<!DOCTYPE"/"<!ENTITY" loses its "<" and whitespace runs collapse to one newline.
    """
    text = _strip_declarations(text)
    root = _ELEMENT_START.search(text)
    prolog_end = root.start() if root else len(text)
    prolog = _DTD_DECLARATION.sub(lambda m: " " + m.group()[1:], text[:prolog_end])
    return _WHITESPACE_RUN.sub("\n", prolog) + text[prolog_end:]


def _strip_declarations(text: str) -> str:
    kept: list[str] = []
    copied = 0  # text[:copied] is already in `kept`
    position = 0
    while True:
        opening = text.find("<", position)
        if opening < 0:
            break
        if text.startswith("<!--", opening):
            position = _after(text, "-->", opening + 4)
        elif text.startswith("<?", opening):
            position = _after(text, "?>", opening + 2)
        elif declaration := _DTD_DECLARATION.match(text, opening):
            kept += [text[copied:opening], " "]
            position = copied = _end_of_declaration(text, declaration.end())
        else:
            break  # the root element (or junk feedparser will reject): the prolog is over
    if not kept:
        return text
    kept.append(text[copied:])
    return "".join(kept)


def _after(text: str, terminator: str, start: int) -> int:
    end = text.find(terminator, start)
    return len(text) if end < 0 else end + len(terminator)


def _end_of_declaration(text: str, position: int) -> int:
    """Index just past the ">" that closes a declaration whose name ends at `position`."""
    depth = 0
    while position < len(text):
        token = _DECLARATION_TOKEN.match(text, position)
        assert token is not None  # the alternatives cover every character
        position = token.end()
        value = token.group()
        if value == "[":
            depth += 1
        elif value == "]":
            depth = max(0, depth - 1)
        elif value == ">" and depth == 0:
            return position
    return len(text)
