"""Score a rulebook on a labelled JSON-lines set: precision, recall, recall per category.

Each line is {"title", "summary", "label": "alert" | "none", "category"}; an item counts as
alerted when any rule fires on it. Pure apart from reading the file.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from monitor.errors import MonitorError
from monitor.models import Item
from monitor.rules import Rulebook

LABELS = ("alert", "none")


@dataclass(frozen=True)
class Example:
    line: int
    item: Item
    label: str
    category: str


@dataclass
class Score:
    """Counts from one evaluation run, and the items it got wrong."""

    true_positives: int = 0
    false_positives: int = 0
    false_negatives: int = 0
    true_negatives: int = 0
    alerts_by_category: Counter[str] = field(default_factory=Counter)
    caught_by_category: Counter[str] = field(default_factory=Counter)
    mistakes: list[tuple[Example, list[str]]] = field(default_factory=list)  # example, rules fired

    @property
    def precision(self) -> float:
        fired = self.true_positives + self.false_positives
        return self.true_positives / fired if fired else 1.0

    @property
    def recall(self) -> float:
        wanted = self.true_positives + self.false_negatives
        return self.true_positives / wanted if wanted else 1.0

    def report(self) -> str:
        lines = [
            f"items {self.true_positives + self.false_positives + self.false_negatives + self.true_negatives}"
            f"  alerts {self.true_positives + self.false_negatives}",
            f"precision {self.precision:.3f}  ({self.true_positives} of "
            f"{self.true_positives + self.false_positives} fired items are alerts)",
            f"recall    {self.recall:.3f}  ({self.true_positives} of "
            f"{self.true_positives + self.false_negatives} alerts fired)",
            "recall by category:",
        ]
        for category in sorted(self.alerts_by_category):
            caught, total = self.caught_by_category[category], self.alerts_by_category[category]
            lines.append(f"  {category:<24} {caught / total:.2f}  ({caught}/{total})")
        for example, fired in self.mistakes:
            kind = "missed" if example.label == "alert" else f"false alarm ({', '.join(fired)})"
            lines.append(f"{kind}: line {example.line} [{example.category}] {example.item.title}")
        return "\n".join(lines)


def read_labelled(path: Path) -> list[Example]:
    """Read a labelled JSON-lines file; MonitorError names the line of a malformed entry."""
    examples = []
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise MonitorError(f"{path}: cannot read labelled set: {exc}") from None
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise MonitorError(f"{path}:{number}: not JSON: {exc.msg}") from None
        label = data.get("label") if isinstance(data, dict) else None
        if label not in LABELS or not isinstance(data.get("title"), str):
            raise MonitorError(f"{path}:{number}: need a text title and label alert or none")
        item = Item(
            feed="labelled",
            key=str(number),
            title=data["title"],
            link="",
            summary=str(data.get("summary") or ""),
            content=str(data.get("content") or ""),
        )
        examples.append(Example(number, item, label, str(data.get("category") or "uncategorised")))
    return examples


def evaluate(rulebook: Rulebook, examples: list[Example]) -> Score:
    score = Score()
    for example in examples:
        fired = [m.rule.id for m in rulebook.match(example.item)]
        if example.label == "alert":
            score.alerts_by_category[example.category] += 1
            if fired:
                score.true_positives += 1
                score.caught_by_category[example.category] += 1
            else:
                score.false_negatives += 1
                score.mistakes.append((example, fired))
        elif fired:
            score.false_positives += 1
            score.mistakes.append((example, fired))
        else:
            score.true_negatives += 1
    return score
