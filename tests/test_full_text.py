"""Feeds that carry only a headline: `full_text` fetches the article and matches on it."""

from __future__ import annotations

from pathlib import Path

from monitor.cli import main
from tests.feedgen import Story, rss
from tests.servers import FeedServer, WebhookReceiver
from tests.test_end_to_end import write_config

ARTICLE = """<!doctype html><html><head><title>x</title><script>var ad = 1;</script></head>
<body><nav>Home | World | Sport</nav><article><h1>Pressure on Caracas grows</h1>
<p>Two B-52 bombers flew for hours near the Venezuelan coast on Tuesday, officials said.</p>
<p>The flight was the third such mission this month.</p></article>
<footer>Copyright</footer></body></html>"""

TEASER = Story("teaser-1", "Pressure on Caracas grows", "Read the full story on our site.")


def serve_teaser(feed_server: FeedServer) -> str:
    feed_server.serve("/teaser-1", ARTICLE, content_type="text/html; charset=utf-8")
    body = rss([TEASER]).replace("https://news.example.org/teaser-1", feed_server.url("/teaser-1"))
    return feed_server.serve("/wire.xml", body)


def test_a_headline_only_item_alerts_on_its_article(
    tmp_path: Path, feed_server: FeedServer, webhook_receiver: WebhookReceiver
) -> None:
    """With full_text: candidates, an item a rule partly matches is judged on its article."""
    url = serve_teaser(feed_server)
    config = write_config(tmp_path, {"wire": url}, webhook=webhook_receiver.url())
    config.write_text(
        config.read_text().replace(
            f"url: '{url}'}}", f"url: '{url}', full_text: candidates, allow_private: true}}"
        )
    )
    assert main(["once", "--config", str(config)]) == 0
    [payload] = webhook_receiver.payloads()
    assert payload["rule"]["id"] == "bomber-flights-venezuela"
    assert feed_server.hits("/teaser-1") == 1


def test_without_full_text_the_teaser_alone_does_not_alert(
    tmp_path: Path, feed_server: FeedServer, webhook_receiver: WebhookReceiver
) -> None:
    """The article is only read when the feed opts in."""
    url = serve_teaser(feed_server)
    config = write_config(tmp_path, {"wire": url}, webhook=webhook_receiver.url())
    assert main(["once", "--config", str(config)]) == 0
    assert webhook_receiver.received == []
    assert feed_server.hits("/teaser-1") == 0


def test_article_links_to_private_addresses_are_refused_by_default(
    tmp_path: Path, feed_server: FeedServer, webhook_receiver: WebhookReceiver
) -> None:
    """Without allow_private the SSRF guard refuses the loopback article; the item is kept."""
    url = serve_teaser(feed_server)
    config = write_config(tmp_path, {"wire": url}, webhook=webhook_receiver.url())
    config.write_text(
        config.read_text().replace(f"url: '{url}'}}", f"url: '{url}', full_text: true}}")
    )
    assert main(["once", "--config", str(config)]) == 0
    assert feed_server.hits("/teaser-1") == 0
    assert webhook_receiver.received == []
    assert main(["once", "--config", str(config)]) == 0  # recorded as seen: not fetched again
    assert feed_server.hits("/teaser-1") == 0
