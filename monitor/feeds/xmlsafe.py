"""Remove DTDs and entity declarations from an XML body before feedparser sees it (pure).

feedparser first tries expat, which refuses the billion-laughs form, and then falls back to its
loose parser, which expands the quadratic-blowup form (one long entity referenced many times)
until memory runs out. An external DTD or external entity (XXE) could make a parser read a local
file or the network. Real feeds need neither: feedparser's loose parser knows the HTML named
entities, so every `<!DOCTYPE ...>` and `<!ENTITY ...>` is cut out, internal subset and all.

UTF-16/32 bodies are transcoded to UTF-8 first so that the byte-level scan sees them.
"""

from __future__ import annotations

import re

_DECLARATION = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)

# Inside a declaration: comments, processing instructions and quoted strings may hold "]" or
# ">" that do not end it; everything else is skipped a run at a time.
_DECLARATION_TOKEN = re.compile(
    rb"<!--.*?(?:-->|\Z)|<\?.*?(?:\?>|\Z)|\"[^\"]*(?:\"|\Z)|'[^']*(?:'|\Z)|[^\"'<\[\]>]+|[<\[\]>]",
    re.DOTALL,
)

_WIDE_ENCODINGS = (
    # (prefix, codec): byte-order marks first, then "<?" without a BOM.
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\xfe\xff", "utf-16-be"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\x00\x00\x00<", "utf-32-be"),
    (b"<\x00\x00\x00", "utf-32-le"),
    (b"\x00<\x00?", "utf-16-be"),
    (b"<\x00?\x00", "utf-16-le"),
)
_ENCODING_DECLARATION = re.compile(rb"""(<\?xml[^>]*?encoding\s*=\s*)(["'])[^"']*\2""")


def wide_encoding(body: bytes) -> str | None:
    """The UTF-16/32 codec `body` is written in, or None for ASCII-compatible bodies."""
    for prefix, codec in _WIDE_ENCODINGS:
        if body.startswith(prefix):
            return codec
    return None


def to_utf8(body: bytes, codec: str) -> bytes:
    """A UTF-16/32 body as UTF-8, its XML declaration saying so."""
    text = body.decode(codec, errors="replace").lstrip("\ufeff")
    data = text.encode("utf-8")
    return _ENCODING_DECLARATION.sub(rb"\1\2utf-8\2", data, count=1)


def strip_declarations(body: bytes) -> bytes:
    """`body` without any <!DOCTYPE ...> or <!ENTITY ...> declaration (linear in its length)."""
    found = _DECLARATION.search(body)
    if found is None:
        return body
    kept: list[bytes] = []
    position = 0
    while found is not None:
        kept.append(body[position : found.start()])
        position = _end_of_declaration(body, found.end())
        found = _DECLARATION.search(body, position)
    kept.append(body[position:])
    return b"".join(kept)


def _end_of_declaration(body: bytes, position: int) -> int:
    """Index just past the ">" that closes a declaration whose name ends at `position`."""
    depth = 0
    while position < len(body):
        token = _DECLARATION_TOKEN.match(body, position)
        assert token is not None  # the alternatives cover every byte
        position = token.end()
        value = token.group()
        if value == b"[":
            depth += 1
        elif value == b"]":
            depth = max(0, depth - 1)
        elif value == b">" and depth == 0:
            return position
    return len(body)
