"""`news-monitor test URL` fetches through the same seam as the daemon: redirects hop by hop,
bounded decompression, a size cap and a total deadline, each failure a sentence."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from monitor.cli import main
from monitor.rules import tool
from tests.feedgen import BOMBERS, rss
from tests.servers import FeedServer

RULES = Path(__file__).resolve().parent.parent / "rules"


def test_a_feed_url_is_read_through_redirects_and_compression(
    feed_server: FeedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    feed_server.serve(
        "/feed.xml", gzip.compress(rss([BOMBERS]).encode()), headers={"Content-Encoding": "gzip"}
    )
    feed_server.serve("/old", b"", status=301, headers={"Location": "/feed.xml"})
    assert main(["test", str(RULES), "--input", feed_server.url("/old")]) == 0
    out = capsys.readouterr().out
    assert "MATCH bomber-show-of-force" in out
    assert feed_server.hits("/feed.xml") == 1


def test_an_oversized_feed_url_is_refused_with_a_sentence(
    feed_server: FeedServer, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tool, "MAX_INPUT_BYTES", 1000)
    url = feed_server.serve("/big.xml", rss([BOMBERS] * 20))
    assert main(["test", str(RULES), "--input", url]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: cannot fetch: {url}: body of ")
    assert "exceeds 1000" in err
    assert "Traceback" not in err


def test_a_bomb_that_decompresses_past_the_cap_is_refused(
    feed_server: FeedServer, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A few KB of gzip that would inflate to 1 MB stops at the cap instead of filling memory."""
    monkeypatch.setattr(tool, "MAX_INPUT_BYTES", 100_000)
    bomb = gzip.compress(b"<rss>" + b" " * 1_000_000)
    url = feed_server.serve("/bomb.xml", bomb, headers={"Content-Encoding": "gzip"})
    assert main(["test", str(RULES), "--input", url]) == 1
    assert "error: cannot fetch:" in capsys.readouterr().err
