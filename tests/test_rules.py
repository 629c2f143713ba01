"""The rule language: loading, validation errors with file:line, and what terms match."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from monitor.errors import RuleError
from monitor.models import Item, Severity
from monitor.rules import Rulebook, load_rulebook

ISSUE_EXAMPLE = """\
rules:
  - id: bomber-flights-venezuela
    title: US bombers near Venezuela
    severity: high
    tags: [air]
    fields: [title, summary, content]
    match:
      all:
        - any: [B-52, B-1B, "B-1", bomber, bombers, Stratofortress]
        - any: [Venezuela, Venezuelan, Caracas, Maduro]
      none: [jacket, concert]
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def rulebook_of(tmp_path: Path, text: str) -> Rulebook:
    return load_rulebook([write(tmp_path, "rules.yaml", text)])


def item(title: str, summary: str = "", content: str = "") -> Item:
    return Item(feed="test", key=title, title=title, link="", summary=summary, content=content)


def fired(rulebook: Rulebook, title: str, summary: str = "") -> list[str]:
    return [m.rule.id for m in rulebook.match(item(title, summary))]


def load_error(tmp_path: Path, text: str) -> str:
    with pytest.raises(RuleError) as caught:
        rulebook_of(tmp_path, text)
    return str(caught.value)


class TestIssueExample:
    def test_it_loads_the_documented_shape(self, tmp_path: Path) -> None:
        """The rule file shape from the README loads into rule infos."""
        rulebook = rulebook_of(tmp_path, ISSUE_EXAMPLE)
        (rule,) = rulebook.rules
        assert rule.info.id == "bomber-flights-venezuela"
        assert rule.info.title == "US bombers near Venezuela"
        assert rule.info.severity is Severity.HIGH
        assert rule.info.tags == ("air",)
        assert rulebook.files == (tmp_path / "rules.yaml",)

    def test_it_fires_when_every_all_branch_holds_across_fields(self, tmp_path: Path) -> None:
        """A bomber in the headline and Venezuela in the summary together fire the rule."""
        rulebook = rulebook_of(tmp_path, ISSUE_EXAMPLE)
        (found,) = rulebook.match(item("Two B-52 bombers fly a long mission", "Off Venezuela."))
        assert found.rule.id == "bomber-flights-venezuela"
        assert found.matched == ("B-52", "bombers", "Venezuela")

    def test_none_terms_silence_the_rule(self, tmp_path: Path) -> None:
        """A bomber jacket sold in Caracas is not a show of force."""
        rulebook = rulebook_of(tmp_path, ISSUE_EXAMPLE)
        assert fired(rulebook, "Caracas shoppers queue for the bomber jacket of the season") == []

    def test_one_branch_alone_does_not_fire(self, tmp_path: Path) -> None:
        """Bombers over another region do not fire a Venezuela rule."""
        rulebook = rulebook_of(tmp_path, ISSUE_EXAMPLE)
        assert fired(rulebook, "B-52 bombers fly over the Korean peninsula") == []


class TestTerms:
    def test_terms_match_whole_words_only(self, tmp_path: Path) -> None:
        """ "B-52" does not match the band "B-52s"; "bomber" does not match "bombers"."""
        rulebook = rulebook_of(
            tmp_path,
            """
            rules:
              - id: r
                match: {any: [B-52, bomber]}
            """,
        )
        assert fired(rulebook, "The B-52s announce a farewell tour") == []
        assert fired(rulebook, "Bombers take off") == []
        assert fired(rulebook, "A b-52 took off") == ["r"]
        assert fired(rulebook, "The BOMBER landed") == ["r"]

    def test_phrases_match_words_in_a_row_whatever_the_spacing(self, tmp_path: Path) -> None:
        """ "ground operations" matches across a line break but not with a word between."""
        rulebook = rulebook_of(
            tmp_path,
            """
            rules:
              - id: r
                match: {any: ["ground operations"]}
            """,
        )
        assert fired(rulebook, "preparing ground   operations now") == ["r"]
        assert fired(rulebook, "ground and air operations") == []

    def test_matching_ignores_accents_both_ways(self, tmp_path: Path) -> None:
        """Padrino Lopez matches Padrino López and the other way round."""
        rulebook = rulebook_of(
            tmp_path,
            """
            rules:
              - id: accented
                match: {any: [Padrino López]}
              - id: plain
                match: {any: [Padrino Lopez]}
            """,
        )
        assert fired(rulebook, "Minister Padrino Lopez speaks") == ["accented", "plain"]
        assert fired(rulebook, "El ministro PADRINO LÓPEZ habló") == ["accented", "plain"]

    def test_regex_terms_are_case_insensitive(self, tmp_path: Path) -> None:
        """A `re:` term finds its pattern anywhere in the text."""
        rulebook = rulebook_of(
            tmp_path,
            r"""
            rules:
              - id: r
                match: {any: [{re: 'F-35[AB]?'}]}
            """,
        )
        assert fired(rulebook, "f-35b jets in Puerto Rico") == ["r"]
        assert fired(rulebook, "F-16 jets") == []

    def test_none_alone_is_refused(self, tmp_path: Path) -> None:
        """A rule made only of exclusions would fire on every item, so it is an error."""
        message = load_error(
            tmp_path,
            """
            rules:
              - id: r
                match: {none: [jacket]}
            """,
        )
        assert "needs at least one term that must occur" in message

    def test_any_all_none_nest(self, tmp_path: Path) -> None:
        """Conditions nest to any depth."""
        rulebook = rulebook_of(
            tmp_path,
            """
            rules:
              - id: r
                match:
                  any:
                    - all: [alpha, {any: [beta, gamma]}]
                    - all: [delta, {none: [epsilon]}]
            """,
        )
        assert fired(rulebook, "alpha gamma") == ["r"]
        assert fired(rulebook, "alpha") == []
        assert fired(rulebook, "delta") == ["r"]
        assert fired(rulebook, "delta epsilon") == []


class TestLoading:
    def test_folders_load_yaml_and_yml_files_in_sorted_order(self, tmp_path: Path) -> None:
        """Rules from b.yml come after those of a.yaml; other files are ignored."""
        write(tmp_path, "b.yml", "rules: [{id: second, match: {any: [x]}}]")
        write(tmp_path, "a.yaml", "rules: [{id: first, match: {any: [x]}}]")
        write(tmp_path, "notes.txt", "not rules")
        rulebook = load_rulebook([tmp_path])
        assert [r.info.id for r in rulebook.rules] == ["first", "second"]
        assert rulebook.files == (tmp_path / "a.yaml", tmp_path / "b.yml")
        assert [m.rule.id for m in rulebook.match(item("x"))] == ["first", "second"]

    @pytest.mark.parametrize(
        ("text", "line", "says"),
        [
            (
                "rules:\n  - id: r\n    match: {any: [x]}\n    colour: red\n",
                4,
                "unknown rule key 'colour'",
            ),
            ("rules:\n  - title: no id\n    match: {any: [x]}\n", 2, "rule has no id"),
            ("rules:\n  - id: r\n    severity: urgent\n    match: {any: [x]}\n", 3, "'urgent'"),
            (
                "rules:\n  - id: r\n    match:\n      any: [{re: 'a(b'}]\n",
                4,
                "invalid regular expression",
            ),
            (
                "rules:\n  - id: r\n    match:\n      any: ['@nowhere']\n",
                4,
                "unknown list '@nowhere'",
            ),
            ("rules:\n  - id: r\n    match:\n      anyy: [x]\n", 4, "unknown condition key 'anyy'"),
            ("rules:\n  - id: r\n    match:\n      any: [yes]\n", 4, "put it in quotes"),
            ("rules:\n  - id: r\n    fields: [body]\n    match: {any: [x]}\n", 3, "'body'"),
            ("rules:\n  - id: r\n", 2, "has no match"),
            ("rules: [\n", 2, "invalid YAML"),
        ],
    )
    def test_errors_name_file_and_line(
        self, tmp_path: Path, text: str, line: int, says: str
    ) -> None:
        """Every mistake is reported as file:line: what is wrong."""
        message = load_error(tmp_path, text)
        assert message.startswith(f"{tmp_path / 'rules.yaml'}:{line}: ")
        assert says in message

    def test_duplicate_ids_across_files_name_both_places(self, tmp_path: Path) -> None:
        """The second definition of an id is the error, and it says where the first one is."""
        write(tmp_path, "a.yaml", "rules:\n  - id: same\n    match: {any: [x]}\n")
        write(
            tmp_path,
            "b.yaml",
            "rules:\n  - {id: other, match: {any: [y]}}\n  - id: same\n    match: {any: [z]}\n",
        )
        with pytest.raises(RuleError) as caught:
            load_rulebook([tmp_path])
        assert str(caught.value) == (
            f"{tmp_path / 'b.yaml'}:3: rule id 'same' is already defined at {tmp_path / 'a.yaml'}:2"
        )

    def test_a_missing_path_is_a_rule_error(self, tmp_path: Path) -> None:
        """Pointing the config at a folder that does not exist is reported, not crashed on."""
        with pytest.raises(RuleError, match="no such rule file or folder"):
            load_rulebook([tmp_path / "missing"])

    def test_an_empty_file_has_no_rules(self, tmp_path: Path) -> None:
        """An empty rule file is valid and contributes nothing."""
        assert rulebook_of(tmp_path, "").rules == ()


class TestExamples:
    def test_disagreeing_examples_are_reported_with_their_line(self, tmp_path: Path) -> None:
        """`check` learns which example disagrees with its rule, and where it is written."""
        rulebook = rulebook_of(
            tmp_path,
            """
            rules:
              - id: r
                match: {all: [bomber, Venezuela]}
                examples:
                  match:
                    - Bomber flights near Venezuela
                    - Bombers near Venezuela
                  no_match:
                    - Bomber jacket sale
                    - A bomber over Venezuela
            """,
        )
        path = tmp_path / "rules.yaml"
        assert rulebook.example_failures() == [
            f"{path}:8: rule r example 'Bombers near Venezuela' should match but does not",
            f"{path}:11: rule r example 'A bomber over Venezuela' should not match but does",
        ]
