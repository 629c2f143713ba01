"""A config and rulebook for delivery tests that run the real daemon: one feed, one signed webhook."""

from __future__ import annotations

import base64
from pathlib import Path

from tests.feedgen import Story

SECRET = "whsec_" + base64.b64encode(b"delivery-tests-signing-key-32byt").decode()
RULE_ID = "bomber-sorties"
RULES = f"""\
rules:
  - id: {RULE_ID}
    title: US bomber sorties near Venezuela
    severity: high
    match:
      all:
        - any: [bomber, bombers, B-52]
        - any: [Venezuela, Caracas]
"""


def ordinal(number: int) -> str:
    if 10 <= number % 100 <= 20:
        return f"{number}th"
    return f"{number}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(number % 10, 'th') }"


def sorties(count: int) -> list[Story]:
    """`count` distinct occurrences (each its own story: its own ordinal) that match RULE_ID."""
    return [
        Story(
            f"sortie-{n}",
            f"US B-52 bombers fly their {ordinal(n + 1)} sortie near Venezuela",
            "The flight stayed in international airspace, officials said.",
        )
        for n in range(count)
    ]


def write_config(
    tmp_path: Path,
    feed_url: str,
    webhook_url: str,
    *,
    route: str = "{}",
    state: Path | str = "data/state.db",
) -> Path:
    """config.yaml with the feed polled every second and every alert sent to the webhook `ops`."""
    (tmp_path / "rules").mkdir(parents=True, exist_ok=True)
    (tmp_path / "rules" / "sorties.yaml").write_text(RULES)
    config = tmp_path / "config.yaml"
    config.write_text(
        f"""\
state: "{state}"
rules: [rules/]
defaults: {{interval: 1s, timeout: 5s}}
feeds:
  - {{name: wire, url: "{feed_url}"}}
notifiers:
  - {{name: ops, type: webhook, url: "{webhook_url}", secret: "{SECRET}", timeout: 10s}}
routes:
  - {{notify: [ops], {route.strip("{}")}}}
"""
    )
    return config
