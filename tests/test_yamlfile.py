"""The YAML loader: libyaml and PyYAML give the same documents and lines; broken or deep
documents are refused with the line to look at, in rule files, config.yaml and on live reload."""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.corpus import generate_rules
from monitor import yamlfile
from monitor.config import load_config
from monitor.errors import ConfigError, RuleError
from monitor.rules import load_rulebook
from monitor.yamlfile import MAX_DEPTH, YamlList, YamlMap
from tests.feedgen import rss
from tests.servers import FeedServer, wait_until
from tests.test_end_to_end import start_daemon, stop_daemon, write_config

ROOT = Path(__file__).resolve().parent.parent


def shape(value: Any) -> Any:
    """Everything a caller can see of a loaded document: values, types and every line."""
    if isinstance(value, YamlMap):
        return (
            "map",
            value.line,
            [(key, value.line_of(key), shape(item)) for key, item in value.items()],
        )
    if isinstance(value, YamlList):
        return ("list", value.line, [(value.line_of(i), shape(v)) for i, v in enumerate(value)])
    return (type(value).__name__, value)


def both(text: str) -> tuple[Any, Any]:
    return shape(yamlfile.loads(text)), shape(yamlfile.loads_reference(text))


SHIPPED = sorted(
    [*ROOT.glob("rules/*.yaml"), *ROOT.glob("*.yaml"), *ROOT.glob("tests/data/**/*.yaml")]
)


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: str(p.relative_to(ROOT)))
def test_libyaml_and_pyyaml_load_every_shipped_file_identically(path: Path) -> None:
    """Same values, same types, same line for every key and list element."""
    fast, reference = both(path.read_text(encoding="utf-8"))
    assert fast == reference


@pytest.mark.parametrize("count", [10, 300])
def test_generated_rulebooks_load_identically(count: int) -> None:
    fast, reference = both(generate_rules(count))
    assert fast == reference


scalars = st.one_of(
    st.text(max_size=20),
    st.integers(),
    st.floats(allow_nan=False),
    st.booleans(),
    st.none(),
)
trees = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.text(min_size=1, max_size=8), children, max_size=4),
    ),
    max_leaves=25,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tree=trees, flow=st.sampled_from([None, True, False]), width=st.sampled_from([20, 80]))
def test_any_dumped_document_loads_identically(tree: Any, flow: bool | None, width: int) -> None:
    """Block and flow styles, quoting and line folding: both parsers agree on values and lines."""
    text = yaml.safe_dump(tree, default_flow_style=flow, width=width, allow_unicode=True)
    fast, reference = both(text)
    assert fast == reference


@settings(max_examples=1500, deadline=None)
@given(text=st.text(alphabet=st.sampled_from(list("ab:-[]{}\"'#&*!|>\n ,\t?\x01é")), max_size=40))
def test_arbitrary_text_loads_as_pyyaml_loads_it(text: str) -> None:
    """Whatever PyYAML reads, `loads` reads identically; whatever it refuses, `loads` refuses
    with the same message, or reads (libyaml accepts a few spellings PyYAML refuses, `[-?]`)."""
    try:
        expected: Any = shape(yamlfile.loads_reference(text, "f.yaml"))
    except ConfigError as exc:
        expected = str(exc)
    try:
        got: Any = shape(yamlfile.loads(text, "f.yaml"))
    except ConfigError as exc:
        got = str(exc)
    if isinstance(expected, str) and not isinstance(got, str):
        return
    assert got == expected


class TestSyntaxErrors:
    def test_an_unclosed_quote_names_the_line_it_opens_on_and_shows_it(self) -> None:
        """The mistake is on line 6; parsing only fails at the end of the file."""
        lines = [f"key{n}: value {n}" for n in range(1, 21)]
        lines[5] = 'title: "Bombers over the Caribbean'
        with pytest.raises(ConfigError) as caught:
            yamlfile.loads("\n".join(lines) + "\n", "rules/x.yaml")
        message = str(caught.value)
        assert message.startswith("rules/x.yaml:6: invalid YAML:")
        assert "quoted scalar that starts at line 6" in message
        assert "at line 21" in message
        assert '   6 | title: "Bombers over the Caribbean' in message

    def test_a_bad_indent_names_the_list_and_the_line_that_breaks_it(self) -> None:
        text = "feeds:\n  - name: wire\n    url: https://a.example/\n   interval: 3m\nstate: s\n"
        with pytest.raises(ConfigError) as caught:
            yamlfile.loads(text, "config.yaml")
        message = str(caught.value)
        assert message.startswith("config.yaml:2: invalid YAML:")
        assert "at line 4" in message
        assert "   2 |   - name: wire" in message
        assert "   4 |    interval: 3m" in message

    def test_an_error_without_a_context_shows_its_own_line(self) -> None:
        with pytest.raises(ConfigError) as caught:
            yamlfile.loads("feeds:\n  - name: a: b\n", "config.yaml")
        assert str(caught.value).startswith("config.yaml:2: invalid YAML: mapping values")
        assert "   2 |   - name: a: b" in str(caught.value)

    def test_a_control_character_is_refused_with_its_line(self) -> None:
        with pytest.raises(
            ConfigError, match=r"^c.yaml:3: invalid YAML: control character U\+0007"
        ):
            yamlfile.loads("a: 1\nb: 2\nc: \x07\n", "c.yaml")

    def test_loading_leaves_the_garbage_collector_as_it_was(self) -> None:
        """The collector pauses during a load only; an error does not leave it off."""
        assert gc.isenabled()
        yamlfile.loads(generate_rules(10))
        with pytest.raises(ConfigError):
            yamlfile.loads("a: [\n")
        assert gc.isenabled()


def nested_rule(levels: int) -> str:
    condition = "{all: [" * levels + "missile" + "]}" * levels
    return f"rules:\n  - id: deep\n    title: Deep\n    severity: high\n    match: {condition}\n"


class TestNesting:
    def test_the_deepest_rule_allowed_loads_and_matches(self, tmp_path: Path) -> None:
        """Depth the limit allows is usable all the way down: load, compile and match."""
        levels = (MAX_DEPTH - 5) // 2
        (tmp_path / "deep.yaml").write_text(nested_rule(levels))
        rulebook = load_rulebook([tmp_path])
        assert [rule.info.id for rule in rulebook.rules] == ["deep"]

    @pytest.mark.parametrize("levels", [170, 5_000])
    def test_a_rule_nested_too_deep_is_a_rule_error_with_file_and_line(
        self, tmp_path: Path, levels: int
    ) -> None:
        """170 all/any levels used to end in a raw RecursionError."""
        path = tmp_path / "deep.yaml"
        path.write_text(nested_rule(levels))
        with pytest.raises(RuleError) as caught:
            load_rulebook([tmp_path])
        assert str(caught.value).startswith(f"{path}:5: mappings and lists nest more than")
        assert "flatten" in str(caught.value)

    def test_config_nested_too_deep_is_a_config_error_with_file_and_line(
        self, tmp_path: Path
    ) -> None:
        path = tmp_path / "config.yaml"
        path.write_text("state: s.db\nfeeds: []\nlog:\n  level: " + "[" * 400 + "]" * 400 + "\n")
        with pytest.raises(ConfigError) as caught:
            load_config(path)
        assert str(caught.value).startswith(f"{path}:4: mappings and lists nest more than")

    def test_aliases_cannot_hide_depth(self) -> None:
        """Each anchor is shallow; following the alias is too deep."""
        half = MAX_DEPTH // 2 + 2
        text = f"a: &x {'[' * half}1{']' * half}\nb: {'[' * half}*x{']' * half}\n"
        with pytest.raises(ConfigError, match="nest more than"):
            yamlfile.loads(text, "f.yaml")

    def test_a_recursive_alias_is_refused(self) -> None:
        with pytest.raises(ConfigError, match=r"^f.yaml:1: mappings and lists nest"):
            yamlfile.loads("a: &x [*x]\n", "f.yaml")

    def test_a_rule_edited_too_deep_on_a_live_daemon_is_rejected_with_its_line(
        self, tmp_path: Path, feed_server: FeedServer
    ) -> None:
        """The daemon keeps its last good rules and says which file and line to fix."""
        url = feed_server.serve("/wire.xml", rss([]))
        config = write_config(tmp_path, {"wire": url})
        log = tmp_path / "daemon.log"
        daemon = start_daemon(config, log)
        try:
            assert wait_until(lambda: feed_server.hits("/wire.xml") >= 1, timeout=30)
            deep = tmp_path / "rules" / "deep.yaml"
            deep.write_text(nested_rule(170))
            assert wait_until(lambda: "reload rejected" in log.read_text(), timeout=30)
            hits = feed_server.hits("/wire.xml")
            assert wait_until(lambda: feed_server.hits("/wire.xml") >= hits + 2, timeout=30)
            assert daemon.poll() is None
        finally:
            assert stop_daemon(daemon) == 0
        text = log.read_text()
        assert f"{deep}:5: mappings and lists nest more than" in text
        assert "RecursionError" not in text
        assert "Traceback" not in text
