"""Limits a user can trip by accident: deep nesting, intervals too short or too long, a huge rule
file. Each is refused by `check` (and at start and on reload) with file:line and what to do."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.cli import main
from monitor.rules.load import MAX_RULE_FILE

RULE = """\
rules:
  - id: deep
    title: Deep rule
    severity: high
    match:
"""


def _config(tmp_path: Path, feed: str = "{name: wire, url: 'http://127.0.0.1:9/feed'}") -> Path:
    (tmp_path / "rules").mkdir(exist_ok=True)
    config = tmp_path / "config.yaml"
    config.write_text(f"state: data/state.db\nrules: [rules/]\nfeeds:\n  - {feed}\n")
    return config


def _nested(levels: int) -> str:
    condition = "bombers"
    for _ in range(levels):
        condition = "{all: [" + condition + "]}"
    return condition


@pytest.mark.parametrize("levels", [40, 170, 5000])
def test_a_deeply_nested_rule_is_refused_with_its_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], levels: int
) -> None:
    """Was a raw RecursionError from about 170 levels; now a sentence at the rule's line."""
    config = _config(tmp_path)
    rules = tmp_path / "rules" / "deep.yaml"
    rules.write_text(RULE + "      " + _nested(levels) + "\n")
    assert main(["check", "--config", str(config)]) == 1
    err = capsys.readouterr().err
    assert f"error: {rules}:6: mappings and lists nest more than 64 levels deep" in err


def test_a_deeply_nested_config_is_refused_with_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The same limit holds for config.yaml (here in a feed's tags)."""
    config = _config(tmp_path)
    config.write_text(config.read_text() + "x_deep: " + "[" * 300 + "]" * 300 + "\n")
    assert main(["check", "--config", str(config)]) == 1
    assert f"error: {config}:5: mappings and lists nest more than 64" in capsys.readouterr().err


def test_shallow_rules_load(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The limit leaves room for any rule a person writes."""
    config = _config(tmp_path)
    (tmp_path / "rules" / "deep.yaml").write_text(RULE + "      " + _nested(20) + "\n")
    assert main(["check", "--config", str(config)]) == 0, capsys.readouterr().err


@pytest.mark.parametrize(
    ("interval", "words"),
    [
        ("1ms", "must be between 1s and 7d, got '1ms'"),
        ("0.5s", "must be between 1s and 7d"),
        ("3000000d", "durations are limited to ten years"),
        ("8d", "must be between 1s and 7d"),
    ],
)
def test_check_refuses_intervals_out_of_bounds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], interval: str, words: str
) -> None:
    """`interval: 1ms` polled 20 times a second; `3000000d` passed check and crashed run."""
    config = _config(
        tmp_path, f"{{name: wire, url: 'http://127.0.0.1:9/feed', interval: {interval}}}"
    )
    assert main(["check", "--config", str(config)]) == 1
    err = capsys.readouterr().err
    assert f"{config}:4: feed 'wire': interval: {words}" in err


def test_a_silence_of_thousands_of_years_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A duration that would overflow a date is a usage error, not a traceback."""
    config = _config(tmp_path)
    code = main(["silence", "add", "--rule", "x", "--for", "3000000d", "--config", str(config)])
    assert code == 2
    assert "durations are limited to ten years" in capsys.readouterr().err


def test_a_rule_file_over_the_size_limit_is_refused_before_it_is_parsed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """5 MB of rules took 41 s and 686 MB to reload; over 1 MiB the file is refused at once."""
    config = _config(tmp_path)
    rules = tmp_path / "rules" / "huge.yaml"
    rules.write_text("rules:\n" + "# padding\n" * (MAX_RULE_FILE // 10 + 1))
    assert main(["check", "--config", str(config)]) == 1
    err = capsys.readouterr().err
    assert f"error: {rules}: the file is 1.0 MiB; a rule file may hold at most 1 MiB" in err
