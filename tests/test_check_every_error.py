"""`news-monitor check` lists every mistake it can find in one run, each as `file:line: what`."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from monitor.cli import main
from monitor.config import load_config
from monitor.errors import ConfigErrors, RuleErrors
from monitor.rules import load_rulebook

CONFIG = """\
state: data/state.db
rules: [rules/]
feeds:
  - {name: wire, url: "http://127.0.0.1:9/a", intervall: 5m}
  - {name: desk, url: "http://127.0.0.1:9/b", interval: soon}
  - {name: ok, url: "http://127.0.0.1:9/c"}
notifiers:
  - {name: ops, type: webhook, url: "${NM_CHECK_UNSET_URL}"}
  - {name: console, type: log}
routes:
  - {notify: [consol]}
  - {notify: [ops], min_severity: hihg}
"""

GOOD_RULE = """\
  - id: fine
    title: Fine
    severity: high
    match: {any: [bomber]}
"""


def write(tmp_path: Path) -> Path:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "a.yaml").write_text(
        "rules:\n"
        + GOOD_RULE
        + "  - id: bad-severity\n    title: X\n    severity: severe\n    match: {any: [a]}\n"
        + "  - id: typo\n    titel: X\n    severity: low\n    match: {any: [a]}\n"
    )
    (rules / "b.yaml").write_text(
        "rules:\n  - id: no-list\n    title: Y\n    severity: low\n    match: {anny: [a]}\n"
    )
    (rules / "c.yaml").write_text("rules:\n  - id: broken\n    title: [unclosed\n")
    config = tmp_path / "config.yaml"
    config.write_text(CONFIG)
    return config


def test_check_reports_every_config_and_rule_error_in_one_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Four config mistakes, a missing variable and four broken rule files: all in one run."""
    config = write(tmp_path)
    os.environ.pop("NM_CHECK_UNSET_URL", None)
    assert main(["check", "--config", str(config)]) == 1
    lines = capsys.readouterr().err.splitlines()
    errors = [line for line in lines if line.startswith("error: ")]
    rules = tmp_path / "rules"
    expected = [
        (f"{config}:4:", "intervall"),
        (f"{config}:5:", "interval"),
        (f"{config}:8:", "NM_CHECK_UNSET_URL is not set"),
        (f"{config}:11:", "'consol'"),
        (f"{config}:12:", "hihg"),
        (f"{rules / 'a.yaml'}:8:", "severity"),
        (f"{rules / 'a.yaml'}:11:", "titel"),
        (f"{rules / 'b.yaml'}:5:", "anny"),
        (f"{rules / 'c.yaml'}:", "invalid YAML"),
    ]
    for where, what in expected:
        assert any(where in e and what in e for e in errors), (where, what, errors)
    assert len(errors) == len(expected), errors  # no echo: the missing URL is not also "needs url"
    assert lines[-1].startswith(f"{len(expected)} errors")


def test_the_loaders_raise_one_error_listing_all(tmp_path: Path) -> None:
    """Callers that catch ConfigError still do; the exception holds each error apart, in order."""
    config = write(tmp_path)
    with pytest.raises(ConfigErrors) as config_errors:
        load_config(config, env={})
    assert [e.line for e in config_errors.value.errors] == [4, 5, 8, 11, 12]
    assert config_errors.value.rules == (tmp_path.resolve() / "rules",)
    assert str(config_errors.value).count("\n") == 4
    with pytest.raises(RuleErrors) as rule_errors:
        load_rulebook([tmp_path / "rules"])
    assert [(Path(e.path or "").name, e.line) for e in rule_errors.value.errors] == [
        ("a.yaml", 8),
        ("a.yaml", 11),
        ("b.yaml", 5),
        ("c.yaml", 3),
    ]
    assert rule_errors.value.line == 8  # the first one, as before


def test_an_unknown_list_is_reported_when_every_file_parses(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(
        "rules:\n  - id: x\n    title: X\n    severity: low\n    match: {any: ['@nowhere']}\n"
        "  - id: y\n    title: Y\n    severity: lo\n    match: {any: [a]}\n"
    )
    with pytest.raises(RuleErrors) as caught:
        load_rulebook([tmp_path])
    assert [e.line for e in caught.value.errors] == [5, 8]
    assert "unknown list '@nowhere'" in str(caught.value)


def test_a_rule_file_that_does_not_parse_fails_even_when_the_others_are_fine(
    tmp_path: Path,
) -> None:
    (tmp_path / "a.yaml").write_text("rules:\n" + GOOD_RULE)
    (tmp_path / "b.yaml").write_text("rules:\n  - id: broken\n    severity: [\n")
    with pytest.raises(RuleErrors, match=r"b\.yaml:4: invalid YAML"):
        load_rulebook([tmp_path])
