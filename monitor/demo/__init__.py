"""`news-monitor demo`: replay the bundled sample feeds through the rules, offline, in seconds.

The sample feeds (written for this project) are served from a throwaway HTTP server on
127.0.0.1 and polled through the real pipeline into a temporary state file, so a new user sees
exactly what the daemon would alert on, and what it stays silent about, with no network.
"""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Sequence
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from monitor.app import App
from monitor.config import parse_config

FEEDS_DIR = Path(__file__).parent / "feeds"


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def demo_config_text(port: int, rules: Sequence[Path], state: Path) -> str:
    feeds = sorted(p.name for p in FEEDS_DIR.iterdir() if p.suffix in (".xml", ".json"))
    lines = [
        f"state: {state}",
        "rules: [" + ", ".join(f'"{p.resolve()}"' for p in rules) + "]",
        "max_age: 0",  # sample items are old; the demo judges them all
        "feeds:",
        *(
            f"  - {{name: {name.split('.')[0]}, url: 'http://127.0.0.1:{port}/{name}'}}"
            for name in feeds
        ),
        # No notifiers: the demo prints its own summary instead of delivering anywhere.
    ]
    return "\n".join(lines) + "\n"


async def run_demo(rules: Sequence[Path]) -> int:
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_QuietHandler, directory=str(FEEDS_DIR)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with tempfile.TemporaryDirectory(prefix="news-monitor-demo-") as tmp:
            path = Path(tmp) / "config.yaml"
            text = demo_config_text(server.server_address[1], rules, Path(tmp) / "demo.db")
            path.write_text(text, encoding="utf-8")
            config = parse_config(text, path)
            async with App.open(config) as app:
                outcomes, _ = await app.cycle()
                items = list(app.store.iter_items())
    finally:
        server.shutdown()
        server.server_close()

    alerted: dict[tuple[str, str], list[str]] = {}
    for outcome in outcomes:
        for alert in outcome.alerts:
            alerted.setdefault((alert.item.feed, alert.item.key), []).append(
                f"[{alert.rule.severity.label}] {alert.rule.title} "
                f"(matched: {', '.join(alert.matched)})"
            )
    print(
        f"news-monitor demo: {len(outcomes)} sample feeds, {len(items)} items, rules from "
        + ", ".join(str(p) for p in rules)
    )
    print()
    for item in items:
        found = alerted.get((item.feed, item.key))
        if found:
            print(f"ALERT  {item.title}")
            for line in found:
                print(f"       -> {line}")
    print()
    quiet = [item for item in items if (item.feed, item.key) not in alerted]
    print(f"{len(quiet)} stories raised no alert:")
    for item in quiet:
        print(f"quiet  {item.title}")
    return 0
