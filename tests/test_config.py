"""config.yaml validation: the shape users write, and errors that name file, line and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.config import Config, interpolate, parse_config
from monitor.errors import ConfigError
from monitor.models import Severity

FULL = """\
state: data/news-monitor.db
rules: [rules/]
max_age: 24h
defaults: {interval: 5m, timeout: 20s}
feeds:
  - {name: bbc-world, url: "https://feeds.bbci.co.uk/news/world/rss.xml", interval: 5m, tags: [world]}
  - {name: wire, url: "https://wire.example.org/rss"}
notifiers:
  - {name: ops, type: webhook, url: "${WEBHOOK_URL}", secret: "${WEBHOOK_SECRET:-}"}
  - name: desk
    type: email
    host: smtp.example.org
    port: 587
    security: starttls
    username: "${SMTP_USER:-}"
    password: "${SMTP_PASSWORD:-}"
    from: monitor@example.org
    to: [desk@example.org]
  - {name: console, type: log}
routes:
  - {notify: [console]}
  - {min_severity: high, notify: [ops, desk]}
"""

ENV = {"WEBHOOK_URL": "https://hooks.example.org/in"}


def parse(text: str, env: dict[str, str] | None = None, tmp: Path = Path("/srv/nm")) -> Config:
    return parse_config(text, tmp / "config.yaml", ENV if env is None else env)


class TestShape:
    def test_the_documented_shape_loads(self) -> None:
        """The example from the README is valid as written."""
        config = parse_config(FULL, Path("/srv/nm/config.yaml"), ENV)
        assert config.state == Path("/srv/nm/data/news-monitor.db")
        assert config.rules == (Path("/srv/nm/rules"),)
        assert config.max_age == 86400
        assert [f.name for f in config.feeds] == ["bbc-world", "wire"]
        assert config.feeds[1].interval == 300 and config.feeds[1].timeout == 20
        assert config.feeds[0].tags == ("world",)
        assert [n.name for n in config.notifiers] == ["ops", "desk", "console"]
        assert config.routes[1].min_severity is Severity.HIGH
        assert config.routes[1].notify == ("ops", "desk")

    def test_without_routes_every_notifier_gets_every_alert(self) -> None:
        """Leaving out routes is not a silent black hole."""
        config = parse_config(
            "notifiers:\n  - {name: console, type: log}\n", Path("/x/config.yaml"), {}
        )
        assert config.routes[0].notify == ("console",)


class TestErrors:
    @pytest.mark.parametrize(
        ("text", "line", "words"),
        [
            ("feeds:\n  - {name: a, url: 'ftp://x'}\n", 2, "http"),
            ("feeds:\n  - {name: a, url: 'http://x', interval: soon}\n", 2, "duration"),
            (
                "feeds:\n  - {name: a, url: 'http://x'}\n  - {name: a, url: 'http://y'}\n",
                3,
                "twice",
            ),
            ("feeds:\n  - {url: 'http://x'}\n", 2, "name"),
            ("routes:\n  - {notify: [nobody]}\n", 2, "nobody"),
            ("max_age: 24h\nfeedz: []\n", 2, "feedz"),
            ("defaults: {interval: -5}\n", 1, "interval"),
            ("feeds: [\n", 2, "YAML"),
            ("max_age: 24h\nworkers: 0\n", 2, "workers"),
        ],
    )
    def test_errors_name_file_line_and_problem(self, text: str, line: int, words: str) -> None:
        """Each mistake is reported as config.yaml:LINE: with the key or value at fault."""
        with pytest.raises(ConfigError) as caught:
            parse(text)
        message = str(caught.value)
        assert message.startswith(f"/srv/nm/config.yaml:{line}:"), message
        assert words in message

    def test_a_missing_variable_without_default_is_named(self) -> None:
        """Secrets come from the environment; a forgotten one is reported by name."""
        with pytest.raises(ConfigError, match=r"config.yaml:9: environment variable WEBHOOK_URL"):
            parse(FULL, env={})


class TestInterpolation:
    def test_defaults_apply_when_unset_or_empty(self) -> None:
        """${VAR:-default} behaves like the shell."""
        assert interpolate("${A:-x}/${B:-y}", {"B": ""}) == "x/y"
        assert interpolate("${A:-x}", {"A": "set"}) == "set"
        assert interpolate("${A}", {"A": ""}) == ""

    def test_values_are_not_reinterpreted_as_yaml(self) -> None:
        """A secret full of YAML syntax stays one string."""
        config = parse(
            "notifiers:\n  - {name: ops, type: webhook, url: 'https://h.example/${P}'}\n",
            env={"P": "a: [b, {c"},
        )
        assert "a: [b, {c" in repr(config)


def test_a_control_character_in_the_file_is_a_config_error_with_its_line() -> None:
    """A stray control character is reported like any other mistake, not as a traceback."""
    with pytest.raises(ConfigError, match=r"config.yaml:2: invalid YAML"):
        parse("max_age: 24h\nfeeds: \x1f\n")


def test_an_alias_bomb_is_rejected_before_anything_expands_it() -> None:
    """A 'billion laughs' document is refused with its file and line, in no time and memory."""
    lines = ['lol0: &lol0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, 10):
        refs = ", ".join([f"*lol{level - 1}"] * 9)
        lines.append(f"lol{level}: &lol{level} [{refs}]")
    with pytest.raises(ConfigError, match=r"config.yaml:\d+: .*aliases"):
        parse("\n".join(lines) + "\n")


def test_a_large_config_without_aliases_is_not_mistaken_for_a_bomb() -> None:
    """Thousands of feeds written out in full load; only alias expansion is limited."""
    feeds = "".join(
        f"  - {{name: f{n}, url: 'https://f{n}.example.org/rss', tags: [a, b, c]}}\n"
        for n in range(12_000)
    )
    config = parse("feeds:\n" + feeds)
    assert len(config.feeds) == 12_000
