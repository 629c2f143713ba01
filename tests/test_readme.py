"""The README says what the program does: its tables are checked against the code and data."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

from prometheus_client.metrics import MetricWrapperBase

from monitor import metrics
from monitor.cli import build_parser, main
from monitor.models import Alert, Item, alert_id
from monitor.rules import load_rulebook
from tests.feedgen import Story, rss
from tests.servers import FeedServer, WebhookReceiver

REPO = Path(__file__).resolve().parent.parent
README = (REPO / "README.md").read_text(encoding="utf-8")


def table_rows(heading: str) -> list[list[str]]:
    """The cells of the markdown table whose header row starts with `heading`."""
    start = README.index(f"| {heading}")
    rows = []
    for line in README[start:].splitlines()[2:]:
        if not line.startswith("|"):
            break
        cells = re.split(r"(?<!\\)\|", line.strip().removeprefix("|").removesuffix("|"))
        rows.append([cell.strip() for cell in cells])
    return rows


def test_the_metrics_table_names_each_metric_with_its_labels() -> None:
    """Every exported metric is in the table with the labels it really has, and nothing else."""
    exported = {
        metric._name.removeprefix("news_monitor_"): tuple(metric._labelnames)
        for metric in vars(metrics).values()
        if isinstance(metric, MetricWrapperBase)
    }
    documented = {}
    for name, kind, labels, _ in table_rows("metric "):
        labels_ = tuple(label.strip() for label in labels.split(",") if label.strip())
        documented[name.strip("`").removesuffix("_total")] = (kind, labels_)
    assert {name: labels for name, (_, labels) in documented.items()} == exported


def test_the_documented_poll_duration_buckets_are_the_real_ones() -> None:
    found = re.search(r"`poll_duration_seconds` has buckets ([\d., and]+) s", README)
    assert found is not None
    documented = [float(b) for b in re.split(r",\s*|\s+and\s+", found.group(1)) if b]
    assert documented == list(metrics.POLL_DURATION._upper_bounds[:-1])  # without +Inf


def test_the_held_out_sets_have_the_sizes_the_readme_gives() -> None:
    rows = table_rows("held-out set")
    assert rows
    for label, items, *_ in rows:
        name = f"blind_{label[0].lower()}.jsonl"
        lines = (REPO / "tests" / "data" / "blind" / name).read_text().splitlines()
        assert int(items) == len([line for line in lines if line.strip()]), name


def test_every_command_in_the_command_table_exists() -> None:
    parser = build_parser()
    choices = next(
        action.choices
        for action in parser._subparsers._group_actions  # type: ignore[union-attr]
        if action.choices
    )
    assert isinstance(choices, dict)
    named = set()
    for command, *_ in table_rows("command "):
        named.update(re.findall(r"`(?:news-monitor )?([a-z][a-z-]*)", command))
    assert named - set(choices) == set()
    assert set(choices) - named == set()


def test_the_payload_example_is_what_the_readme_rule_makes_of_its_item(tmp_path: Path) -> None:
    """The README's rule, run on the README's payload item, gives the example's `matched` words
    and `patterns`; every key the example shows is in the real payload."""
    example = json.loads(README.split("## The webhook payload\n\n```json\n")[1].split("```")[0])
    rule = README.split("## Rules\n")[1].split("```yaml\n")[1].split("```")[0]
    (tmp_path / "rules.yaml").write_text(rule, encoding="utf-8")
    item = Item(feed="bbc-world", key="k", title=example["item"]["title"], link="")
    (match,) = load_rulebook([tmp_path / "rules.yaml"]).match(item)
    assert list(match.matched) == example["matched"]
    assert list(match.patterns) == example["patterns"]
    assert dict(match.values) == example["values"]
    alert = Alert(
        id=alert_id("rule:" + match.rule.id, "story"),
        rule=match.rule,
        item=item,
        matched=match.matched,
        detected_at=datetime.now(UTC),
        values=match.values,
        patterns=match.patterns,
    )
    payload = alert.payload()
    assert set(example) <= set(payload)
    assert set(example["item"]) <= set(payload["item"])


def test_the_payload_example_is_what_the_webhook_receives(
    tmp_path: Path, feed_server: FeedServer, webhook_receiver: WebhookReceiver
) -> None:
    """The README's item, polled by `once` under the README's rule, reaches a real webhook
    receiver with the example's keys and the same matched words and values."""
    example = json.loads(README.split("## The webhook payload\n\n```json\n")[1].split("```")[0])
    rule = README.split("## Rules\n")[1].split("```yaml\n")[1].split("```")[0]
    (tmp_path / "rules.yaml").write_text(rule, encoding="utf-8")
    item = example["item"]
    url = feed_server.serve("/world.xml", rss([Story("b52", item["title"])]))
    config = tmp_path / "config.yaml"
    config.write_text(
        "state: state.db\nrules: [rules.yaml]\n"
        f"feeds:\n  - {{name: {item['feed']}, url: '{url}'}}\n"
        f"notifiers:\n  - {{name: ops, type: webhook, url: '{webhook_receiver.url()}'}}\n"
    )
    assert main(["once", "--config", str(config)]) == 0
    [payload] = webhook_receiver.payloads()
    assert payload.keys() == example.keys()
    assert payload["item"].keys() == example["item"].keys()
    assert payload["story"].keys() == example["story"].keys()
    assert payload["item"]["title"] == item["title"] and payload["item"]["feed"] == item["feed"]
    assert payload["matched"] == example["matched"] and payload["values"] == example["values"]
