"""The naive pipeline issue 7 compares against: `feedparser.parse` + BeautifulSoup `get_text` +
one `re.search` per rule term, and a plain SQLite insert per item.

It is what a first attempt looks like: correct, but it parses every body, extracts every item and
runs every term of every rule separately.
"""

from __future__ import annotations

import io
import json
import re
import sqlite3
from dataclasses import dataclass
from typing import Any

import feedparser
import yaml
from bs4 import BeautifulSoup


@dataclass(frozen=True)
class NaiveRule:
    id: str
    all: tuple[tuple[re.Pattern[str], ...], ...]  # every group needs one term to match
    none: tuple[re.Pattern[str], ...]


def _term(term: Any) -> re.Pattern[str]:
    if isinstance(term, dict):
        return re.compile(term["re"], re.IGNORECASE)
    return re.compile(r"(?<!\w)" + re.escape(str(term)) + r"(?!\w)", re.IGNORECASE)


def load_rules(text: str) -> list[NaiveRule]:
    """Rules in the generated shape (`all` of `any` groups, optional `none`)."""
    rules = []
    for rule in yaml.safe_load(text)["rules"]:
        match = rule["match"]
        groups = tuple(tuple(_term(t) for t in group["any"]) for group in match.get("all", ()))
        rules.append(NaiveRule(rule["id"], groups, tuple(_term(t) for t in match.get("none", ()))))
    return rules


def matches(rule: NaiveRule, text: str) -> bool:
    for group in rule.all:
        if not any(pattern.search(text) for pattern in group):
            return False
    return not any(pattern.search(text) for pattern in rule.none)


def _html_text(html: str) -> str:
    return BeautifulSoup(html, "html.parser").get_text(" ")


def entries(body: bytes, content_type: str) -> list[tuple[str, str, str]]:
    """(key, title, plain text) of each entry."""
    if "json" in content_type:
        doc = json.loads(body)
        return [
            (e["id"], e.get("title", ""), _html_text(e.get("content_html", "")))
            for e in doc.get("items", [])
        ]
    parsed = feedparser.parse(io.BytesIO(body))
    return [
        (e.get("id") or e.get("link", ""), e.get("title", ""), _html_text(e.get("summary", "")))
        for e in parsed.entries
    ]


class NaivePipeline:
    """Parse, extract, match and record every item of every body it is given."""

    def __init__(self, rules: list[NaiveRule], db_path: str) -> None:
        self.rules = rules
        self.db = sqlite3.connect(db_path)
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS items (feed TEXT, key TEXT, text TEXT, PRIMARY KEY (feed, key))"
        )
        self.db.execute("CREATE TABLE IF NOT EXISTS alerts (feed TEXT, key TEXT, rule TEXT)")

    def process(self, feed: str, body: bytes, content_type: str) -> tuple[int, int]:
        """Returns (items, alerts)."""
        found = entries(body, content_type)
        alerts = 0
        with self.db:
            for key, title, text in found:
                full = f"{title}\n{text}"
                for rule in self.rules:
                    if matches(rule, full):
                        alerts += 1
                        self.db.execute("INSERT INTO alerts VALUES (?, ?, ?)", (feed, key, rule.id))
                self.db.execute("INSERT OR IGNORE INTO items VALUES (?, ?, ?)", (feed, key, full))
        return len(found), alerts

    def close(self) -> None:
        self.db.close()
