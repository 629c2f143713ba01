"""The one-pass reader of simple HTML gives BeautifulSoup's text exactly, on every HTML fragment
of every corpus feed and on generated markup, and steps aside (None) whenever it cannot be sure."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.errors import FeedParseError
from monitor.feeds import parse, plainhtml
from monitor.feeds.decompress import GZIP_MAGIC, gunzip
from monitor.feeds.plainhtml import plain_html_text
from monitor.feeds.text import BLOCK_TAGS, INVISIBLE_TAGS, clean_text, html_to_text, soup_to_text

CORPORA = next(
    (
        parent / "shared" / "corpora"
        for parent in Path(__file__).resolve().parents
        if (parent / "shared" / "corpora").is_dir()
    ),
    Path("shared/corpora"),
)


def reference(fragment: str) -> str:
    return soup_to_text(BeautifulSoup(fragment, "html.parser"))


def fast(fragment: str) -> str | None:
    raw = plain_html_text(fragment, invisible=INVISIBLE_TAGS, block=BLOCK_TAGS)
    return None if raw is None else clean_text(raw)


def corpus_fragments(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every HTML fragment the feed parser hands to html_to_text, over the whole corpus."""
    seen: dict[str, None] = {}

    def record(fragment: str) -> str:
        seen[fragment] = None
        return ""

    monkeypatch.setattr(parse, "html_to_text", record)
    for path in sorted(p for p in CORPORA.rglob("*") if p.is_file()):
        body = path.read_bytes()
        if body.startswith(GZIP_MAGIC):
            body = gunzip(body, 64 * 1024 * 1024)
        try:
            entries = parse.read_entries(body, feed_name="corpus", base_url="http://example.org/")
            for entry in entries:
                entry.item()
        except FeedParseError:
            continue
    return [fragment for fragment in seen if "<" in fragment or "&" in fragment]


@pytest.mark.skipif(not CORPORA.is_dir(), reason=f"corpus not found at {CORPORA} (see README)")
def test_every_corpus_fragment_reads_as_beautifulsoup_reads_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Identical text wherever the fast reader answers, and it answers for most fragments."""
    fragments = corpus_fragments(monkeypatch)
    assert len(fragments) > 3000
    answered = 0
    differing = []
    for fragment in fragments:
        text = fast(fragment)
        if text is None:
            continue
        answered += 1
        if text != reference(fragment):
            differing.append(fragment[:200])
    assert differing == []
    # The speed comes from answering: a BeautifulSoup upgrade that changed its tables, say,
    # would otherwise silently send every fragment the slow way.
    assert answered / len(fragments) > 0.7, f"{answered} of {len(fragments)}"


TAGS = ["p", "div", "br", "a", "b", "i", "em", "span", "li", "ul", "h2", "pre", "img", "hr"]
TAGS += ["o:p", "table", "td", "script", "style", "iframe", "svg", "rt", "summary", "P", "Br"]
pieces = st.one_of(
    st.sampled_from(TAGS).map(lambda t: f"<{t}>"),
    st.sampled_from(TAGS).map(lambda t: f"</{t}>"),
    st.sampled_from(TAGS).map(lambda t: f"<{t}/>"),
    st.sampled_from(TAGS).map(lambda t: f"<{t} class=\"x\" href='y' data-n=3>"),
    st.sampled_from(["</script >", "</ style>", "<p title='a>b'>", '<a href=x"y>']),
    st.sampled_from(
        ["&amp;", "&lt;", "&nbsp;", "&eacute;", "&#233;", "&#x20AC;", "&#150;", "&#0;", "&amp"]
    ),
    st.sampled_from(["&foo;", "& ", "&", "< ", "<3", "<", "<!-- c -->", "<!-- a -- b -->"]),
    st.sampled_from(["<![CDATA[x]]>", "<?pi?>", "<!DOCTYPE html>", "<!-->", "--\n>", "\x00"]),
    st.sampled_from([" ", "\n", "\n\n\n", "\t", " \n ", "\r\n", "\u00a0", "\u2028"]),
    st.text(alphabet=st.sampled_from(list("ab .,'\"=/>-")), min_size=1, max_size=6),
)


@settings(max_examples=600, deadline=None)
@given(st.lists(pieces, max_size=25).map("".join))
def test_generated_markup_reads_as_beautifulsoup_reads_it(fragment: str) -> None:
    text = fast(fragment)
    if text is not None:
        assert text == reference(fragment)
    if "<" in fragment or "&" in fragment:
        assert html_to_text(fragment) == reference(fragment)


@pytest.mark.parametrize(
    "fragment",
    [
        "<rt>ruby</rt>",  # BeautifulSoup keeps these strings apart
        "a &amp b",  # no semicolon: decoded its own way
        "a &unknown; b",
        "&#150; dash",  # C1: read as windows-1252
        "<![CDATA[x]]>",
        "a <b",  # a tag that never ends
        '<p onclick=a"b>x</p>',  # attribute syntax that parsers read differently
        "<script>never ends",
        '<iframe><div x="</iframe>">hidden?</div></iframe>after',
    ],
)
def test_it_steps_aside_when_in_doubt(fragment: str) -> None:
    assert fast(fragment) is None
    assert html_to_text(fragment) == reference(fragment)


@pytest.mark.parametrize(
    ("fragment", "text"),
    [
        ("<p>US &amp; allies</p>\n\n\n<p>B-52s<br/>over <em>the sea</em> &#8212; again</p>",
         "US & allies\n\nB-52s\nover the sea \u2014 again"),
        ("<div><p>one</div>two</p>", "one\n\ntwo"),  # </div> closes the open <p> too
        ("<p>kept</b> going", "kept going"),  # an end tag with nothing to close is ignored
        ("<style>p {}</style><p>shown</p><!-- a -- b --><script>x<y</script >", "shown"),
        ("<!DOCTYPE html><?php x ?><svg><text>no</text></svg>yes", "yes"),
        ("<ul><li>one<li>two</ul>", "onetwo"),  # nested as written: no implied </li>
    ],
)  # fmt: skip
def test_it_reads_what_beautifulsoup_reads(fragment: str, text: str) -> None:
    assert fast(fragment) == text
    assert reference(fragment) == text


def test_lone_surrogates_never_reach_the_text() -> None:
    """A JSON Feed can carry "\\ud800"; no UTF-8 output (state, webhook, email) could."""
    assert clean_text("\ud800 B-52s \udfff over \U0001f6e9") == "B-52s over \U0001f6e9"
    assert html_to_text("<p>a\ud800b</p>") == "ab"


def test_the_written_out_tables_are_beautifulsoups_own() -> None:
    """An upgrade that changes what BeautifulSoup treats as void, keeps apart or decodes fails
    here instead of silently reading fragments differently."""
    from bs4.builder import HTMLTreeBuilder
    from bs4.dammit import EntitySubstitution

    assert set(HTMLTreeBuilder.DEFAULT_EMPTY_ELEMENT_TAGS or ()) == plainhtml.VOID
    assert set(HTMLTreeBuilder.DEFAULT_STRING_CONTAINERS) == plainhtml.OWN_STRINGS
    assert set(HTMLTreeBuilder.DEFAULT_PRESERVE_WHITESPACE_TAGS) == plainhtml.PRESERVE
    assert BeautifulSoup.ASCII_SPACES == plainhtml.ASCII_SPACES
    assert EntitySubstitution.HTML_ENTITY_TO_CHARACTER == plainhtml.ENTITIES


def patterns_only(text: str) -> str:
    """clean_text as it was before its printable-text shortcut: every step a pattern."""
    from monitor.feeds import text as module

    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = module._UNSAFE.sub("", unicodedata.normalize("NFC", text))
    text = module._SPACES.sub(" ", text).replace(" \n", "\n").replace("\n ", "\n")
    return module._BLANK_LINES.sub("\n\n", text).strip()


def test_every_character_the_shortcut_relies_on_is_unprintable() -> None:
    """clean_text skips its patterns for text whose characters (newlines aside) are all
    printable: that is only the same if nothing they remove or turn into " " is printable."""
    from monitor.feeds import text as module

    printable = [
        hex(code)
        for code in range(0x110000)
        if chr(code).isprintable()
        and code != 0x20
        and (module._UNSAFE.match(chr(code)) or module._SPACES.match(chr(code)))
    ]
    assert printable == []


@settings(max_examples=1000, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.sampled_from([" ", "  ", "   ", "\n", " \n ", "\n\n\n", "\r\n", "\r", "\t"]),
            st.sampled_from(["\x00", "\x0b", "\x7f", "\x85", "\xa0", "\u2028", "\u202e"]),
            st.sampled_from(["\u2066", "\u3000", "\u200b", "\ud800", "e\u0301", "\u00e9"]),
            st.text(alphabet="ab.-", min_size=1, max_size=5),
            st.characters(),
        ),
        max_size=30,
    ).map("".join)
)
def test_clean_text_is_what_its_patterns_give(text: str) -> None:
    assert clean_text(text) == patterns_only(text)
