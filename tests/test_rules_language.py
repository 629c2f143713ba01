"""The richer rule language: proximity, inflections, lists, numbers, denials, case, regex safety."""

from __future__ import annotations

import re
import textwrap
import time
from pathlib import Path

import pytest

from monitor.errors import RuleError
from monitor.models import Item
from monitor.rules import Rulebook, load_rulebook


def rulebook_of(tmp_path: Path, text: str, name: str = "rules.yaml") -> Rulebook:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return load_rulebook([path])


def item(title: str, summary: str = "") -> Item:
    return Item(feed="test", key=title, title=title, link="", summary=summary)


def fired(rulebook: Rulebook, title: str, summary: str = "") -> list[str]:
    return [m.rule.id for m in rulebook.match(item(title, summary))]


class TestProximity:
    RULES = """
        rules:
          - id: close
            match:
              near: {terms: [strike, [Venezuela, Caracas]], within: 3}
          - id: sentence
            match:
              near: {terms: [strike, [Venezuela, Caracas]], within: sentence}
        """

    def test_terms_within_n_words_fire(self, tmp_path: Path) -> None:
        """Three words apart is near enough for `within: 3`, four is not."""
        rulebook = rulebook_of(tmp_path, self.RULES)
        assert fired(rulebook, "a strike on targets in Caracas") == ["close", "sentence"]
        assert fired(rulebook, "a strike on far away targets in Caracas") == ["sentence"]

    def test_order_does_not_matter(self, tmp_path: Path) -> None:
        """Proximity holds whichever term comes first."""
        rulebook = rulebook_of(tmp_path, self.RULES)
        assert fired(rulebook, "Caracas fears a strike") == ["close", "sentence"]

    def test_same_sentence_stops_at_a_full_stop(self, tmp_path: Path) -> None:
        """Terms in different sentences are not in one sentence."""
        rulebook = rulebook_of(tmp_path, self.RULES)
        assert fired(rulebook, "Workers strike. Venezuela exports fall") == []
        assert fired(rulebook, "Workers strike in the U.S. and Venezuela") == ["sentence"]

    def test_terms_in_different_fields_are_never_near(self, tmp_path: Path) -> None:
        """A strike in the headline and Venezuela in the summary are not near each other."""
        rulebook = rulebook_of(tmp_path, self.RULES)
        assert fired(rulebook, "Strike", "Venezuela") == []


class TestHeadline:
    RULES = """
        rules:
          - id: headline-action
            match:
              all:
                - headline: {affirmed: [~strike], none: [Korea]}
                - any: [Venezuela]
        """

    def test_action_in_headline_place_in_summary_fires(self, tmp_path: Path) -> None:
        """The headline states the action, the summary says where: one item, one alert."""
        rulebook = rulebook_of(tmp_path, self.RULES)
        assert fired(rulebook, "US strikes again", "The target was in Venezuela.") == [
            "headline-action"
        ]

    def test_action_only_in_summary_does_not_count(self, tmp_path: Path) -> None:
        """`headline:` reads the title alone: a strike mentioned in the summary is not enough."""
        rulebook = rulebook_of(tmp_path, self.RULES)
        assert fired(rulebook, "Venezuela news", "Workers strike in Venezuela.") == []

    def test_headline_exclusions_and_denials_hold(self, tmp_path: Path) -> None:
        """A headline about another theatre, or a denying headline, stays silent."""
        rulebook = rulebook_of(tmp_path, self.RULES)
        assert fired(rulebook, "US strikes in Korea", "Venezuela watches.") == []
        assert fired(rulebook, "US denies plans to strike", "Venezuela is calm.") == []

    def test_explain_names_the_headline(self, tmp_path: Path) -> None:
        rulebook = rulebook_of(tmp_path, self.RULES)
        (verdict,) = rulebook.explain(item("Venezuela news", "Workers strike in Venezuela."))
        assert verdict.match is None
        assert any(reason.startswith("in the headline: no '~strike'") for reason in verdict.reasons)


class TestInflections:
    def test_tilde_matches_inflected_forms(self, tmp_path: Path) -> None:
        """ "~strike" covers strikes and struck; "~deploy" covers deployed and deployment."""
        rulebook = rulebook_of(
            tmp_path,
            """
            rules:
              - id: r
                match: {any: [~strike, ~deploy]}
            """,
        )
        for text in ("strikes", "struck", "striking", "deployed", "deployment", "deploys"):
            assert fired(rulebook, f"the {text} began") == ["r"], text
        assert fired(rulebook, "the striker scored") == []

    def test_wildcard_matches_any_ending(self, tmp_path: Path) -> None:
        """ "bombard*" covers the Spanish bombardeo and bombardearon."""
        rulebook = rulebook_of(
            tmp_path,
            """
            rules:
              - id: r
                match: {any: [bombard*]}
            """,
        )
        assert fired(rulebook, "el bombardeo de ayer") == ["r"]
        assert fired(rulebook, "bombardearon la base") == ["r"]
        assert fired(rulebook, "bomba") == []

    def test_a_short_wildcard_is_refused(self, tmp_path: Path) -> None:
        """ "us*" would match half the language; the loader says so."""
        with pytest.raises(RuleError, match="at least 3 letters"):
            rulebook_of(tmp_path, "rules: [{id: r, match: {any: ['us*']}}]")


class TestLists:
    def test_lists_are_shared_across_files(self, tmp_path: Path) -> None:
        """A list declared in one file is used by rules in another."""
        (tmp_path / "a_theatre.yaml").write_text("lists:\n  place: [Venezuela, Padrino López]\n")
        (tmp_path / "b_rules.yaml").write_text(
            "rules:\n  - id: r\n    match: {all: [bomber, '@place']}\n"
        )
        rulebook = load_rulebook([tmp_path])
        assert fired(rulebook, "Bomber seen by Padrino Lopez") == ["r"]
        (found,) = rulebook.match(item("bomber over Venezuela"))
        assert found.matched == ("bomber", "Venezuela")

    def test_lists_can_include_lists(self, tmp_path: Path) -> None:
        """@all_places expands the lists it names."""
        rulebook = rulebook_of(
            tmp_path,
            """
            lists:
              capital: [Caracas]
              all_places: [Venezuela, "@capital"]
            rules:
              - id: r
                match: {any: ["@all_places"]}
            """,
        )
        assert fired(rulebook, "in Caracas") == ["r"]

    def test_a_loop_between_lists_is_an_error(self, tmp_path: Path) -> None:
        """Lists that include each other are reported with file and line."""
        with pytest.raises(RuleError, match=r"rules.yaml:2: lists refer to each other in a loop"):
            rulebook_of(tmp_path, "lists:\n  a: ['@b']\n  b: ['@a']\n")

    def test_the_same_list_twice_is_an_error(self, tmp_path: Path) -> None:
        """Two files declaring the same list name cannot both be right."""
        (tmp_path / "a.yaml").write_text("lists:\n  place: [Venezuela]\n")
        (tmp_path / "b.yaml").write_text("lists:\n  place: [Cuba]\n")
        with pytest.raises(RuleError, match=r"b.yaml:2: list 'place' is already defined at"):
            load_rulebook([tmp_path])


class TestNumbers:
    RULES = """
        rules:
          - id: deadly
            match:
              number: {near: [~kill, dead, muertos], at_least: 10, as: killed}
        """

    @pytest.mark.parametrize(
        ("text", "value"),
        [
            ("Strikes killed at least 37 people", 37),
            ("thirty-seven people were killed", 37),
            ("the attack left 1,200 dead", 1200),
            ("el ataque dejó doce muertos", 12),
            ("treinta y siete muertos", 37),
        ],
    )
    def test_numbers_at_or_above_the_threshold_fire_with_their_value(
        self, tmp_path: Path, text: str, value: int
    ) -> None:
        """The count read from the text goes into the match's values."""
        (found,) = rulebook_of(tmp_path, self.RULES).match(item(text))
        assert found.values == {"killed": value}

    @pytest.mark.parametrize(
        "text",
        [
            "six people were killed",
            "killed in 2019 during a raid",  # a year is not a death toll
            "the B-52 killed",  # a model number is not a count
            "killed. Then 40 boats left port",  # another sentence
        ],
    )
    def test_small_numbers_years_and_model_numbers_do_not_fire(
        self, tmp_path: Path, text: str
    ) -> None:
        """Only a real count at or above the threshold counts."""
        assert fired(rulebook_of(tmp_path, self.RULES), text) == []


class TestDenials:
    RULES = """
        rules:
          - id: strike
            match:
              all:
                - affirmed: [~strike]
                - any: [Venezuela]
        """

    def test_a_flat_denial_does_not_fire(self, tmp_path: Path) -> None:
        """ "No plans to strike" is not a strike."""
        rulebook = rulebook_of(tmp_path, self.RULES)
        assert fired(rulebook, "Pentagon says it has no plans to strike Venezuela") == []
        assert fired(rulebook, "EEUU niega que vaya a strike Venezuela") == []

    def test_a_new_action_beside_a_denial_fires(self, tmp_path: Path) -> None:
        """A denial in one sentence does not hide a reported strike in the next."""
        rulebook = rulebook_of(tmp_path, self.RULES)
        text = "Officials denied a ground war was planned. Hours later US jets struck Venezuela."
        assert fired(rulebook, text) == ["strike"]

    def test_not_ruling_out_is_not_a_denial(self, tmp_path: Path) -> None:
        """ "Does not rule out" keeps the option open, so it fires."""
        rulebook = rulebook_of(tmp_path, self.RULES)
        assert fired(rulebook, "Trump does not rule out strikes on Venezuela") == ["strike"]


class TestCase:
    def test_cased_terms_tell_us_from_us(self, tmp_path: Path) -> None:
        """{cased: US} matches the country, not the pronoun."""
        rulebook = rulebook_of(
            tmp_path,
            """
            rules:
              - id: r
                match: {all: [{cased: US}, {cased: CIA}]}
            """,
        )
        assert fired(rulebook, "US says CIA is ready") == ["r"]
        assert fired(rulebook, "let us see what the cia does") == []


class TestRegex:
    def test_a_catastrophic_pattern_cannot_hang_matching(self, tmp_path: Path) -> None:
        """(a+)+$ on a long run of a's finishes at once under RE2 (Python's re would not)."""
        rulebook = rulebook_of(tmp_path, "rules: [{id: r, match: {any: [{re: '(a+)+$'}]}}]")
        started = time.monotonic()
        assert fired(rulebook, "a" * 50_000 + "!") == []
        assert time.monotonic() - started < 30  # a backtracking engine would take ages

    def test_patterns_re2_cannot_run_are_refused_at_load(self, tmp_path: Path) -> None:
        """Backreferences are not linear-time; the loader names the problem and the line."""
        with pytest.raises(RuleError, match=r"rules.yaml:1: invalid regular expression"):
            rulebook_of(tmp_path, r"rules: [{id: r, match: {any: [{re: '(a)\1'}]}}]")


class TestExplain:
    def test_near_misses_say_what_was_missing(self, tmp_path: Path) -> None:
        """A rule with one branch satisfied reports the branch that failed, by its written name."""
        rulebook = rulebook_of(
            tmp_path,
            """
            lists:
              place: [Venezuela]
            rules:
              - id: r
                match:
                  all: [bomber, "@place"]
                  none: [jacket]
            """,
        )
        (verdict,) = rulebook.explain(item("bomber jacket sale"))
        assert verdict.match is None
        assert verdict.reasons == ("no '@place'", "excluded by 'jacket'")


class TestMatchedWords:
    RULES = """
        rules:
          - id: bombers
            match:
              all:
                - any: [~bomber, "fly*"]
                - any: [venezuela*]
                - number: {near: [~bomber], within: 2, at_least: 1, as: bombers}
        """

    def test_matched_holds_the_words_of_the_item_and_patterns_the_terms(
        self, tmp_path: Path
    ) -> None:
        """An alert shows "BOMBERS" and "flying" as written, not `~bomber` and `fly*`."""
        (found,) = rulebook_of(tmp_path, self.RULES).match(
            item("Two BOMBERS flying near Venezuela", "The bombers fly on to Venezuelan skies.")
        )
        assert found.matched == ("BOMBERS", "flying", "Venezuela", "fly", "Venezuelan")
        assert set(found.patterns) == {"~bomber", "fly*", "venezuela*"}

    def test_values_are_integers_when_the_text_writes_integers(self, tmp_path: Path) -> None:
        """ "Two bombers" gives bombers = 2, an int, so the payload says 2 and not 2.0."""
        (found,) = rulebook_of(tmp_path, self.RULES).match(item("Two bombers fly near Venezuela"))
        assert found.values == {"bombers": 2}
        assert isinstance(found.values["bombers"], int)


class TestCueSets:
    RULES = """
        rules:
          - id: buildup
            match:
              near: {terms: [~warship, Venezuela], affirmed: true, outside: [reversal, commentary]}
          - id: headline-strike
            match:
              headline: {outside: {cues: [commentary], terms: [~strike]}}
        """

    def test_a_ship_sailing_home_is_a_reversal_not_a_buildup(self, tmp_path: Path) -> None:
        """Warships arriving fire; the same warships heading home do not, in either language."""
        rulebook = rulebook_of(tmp_path, self.RULES)
        assert fired(rulebook, "Two more warships arrive off Venezuela") == ["buildup"]
        assert fired(rulebook, "Warships leave the Caribbean and head home from Venezuela") == []
        assert fired(rulebook, "Los warships se retiran de Venezuela") == []

    def test_questions_labels_and_legal_debate_are_commentary(self, tmp_path: Path) -> None:
        """A question headline, an "Analysis:" label and a legality debate do not report."""
        rulebook = rulebook_of(tmp_path, self.RULES)
        assert fired(rulebook, "Will US warships blockade Venezuela?") == []
        assert fired(rulebook, "¿Habrá más warships frente a Venezuela?") == []
        assert fired(rulebook, "Analysis: what the warships off Venezuela mean") == []
        assert fired(rulebook, "Legal questions mount over the strike") == []
        assert fired(rulebook, "US strike hits a boat") == ["headline-strike"]
        # A label must open the headline: an analysis cited inside a report is still a report.
        assert fired(rulebook, "Satellite analysis: warships gather off Venezuela") == ["buildup"]

    def test_a_headline_wholly_commentary_or_reversal_makes_the_summary_background(
        self, tmp_path: Path
    ) -> None:
        """Under "Analysis:", a question or a ship heading home, the summary's facts are old news;
        under a denial they are not (a denial above a new report does not hide it)."""
        rulebook = rulebook_of(tmp_path, self.RULES)
        background = "Eight warships have patrolled off Venezuela since August."
        assert fired(rulebook, "Analysis: the long watch", background) == []
        assert fired(rulebook, "How many ships are there?", background) == []
        assert fired(rulebook, "Destroyer heads home after four months", background) == []
        assert fired(rulebook, "Destroyer heads home; a carrier arrives", background) == ["buildup"]
        assert fired(rulebook, "Pentagon denies plans to invade", background) == ["buildup"]

    def test_a_rulebook_list_replaces_a_cue_set(self, tmp_path: Path) -> None:
        """Declaring `commentary` swaps the built-in cues for the rulebook's own."""
        rulebook = rulebook_of(
            tmp_path,
            textwrap.dedent(self.RULES) + "lists:\n  commentary: [musing]\n",
        )
        assert fired(rulebook, "Legal questions mount over the strike") == ["headline-strike"]
        assert fired(rulebook, "A musing on the strike") == []

    def test_any_list_can_serve_as_a_cue_set_and_unknown_ones_are_errors(
        self, tmp_path: Path
    ) -> None:
        """`outside: [thaw]` uses the list `thaw`; a cue set that names nothing is an error."""
        rulebook = rulebook_of(
            tmp_path,
            """
            lists:
              thaw: [reopens]
            rules:
              - id: rupture
                match: {near: {terms: [embassy, Caracas], outside: [thaw]}}
            """,
        )
        assert fired(rulebook, "US closes its embassy in Caracas") == ["rupture"]
        assert fired(rulebook, "US reopens its embassy in Caracas") == []
        with pytest.raises(RuleError, match=r"rules\.yaml:5: unknown cue set 'thawing'"):
            rulebook_of(
                tmp_path,
                """
                rules:
                  - id: rupture
                    match:
                      near: {terms: [embassy, Caracas], outside: [thawing]}
                """,
            )


class TestRoles:
    RULES = """
        rules:
          - id: us-strike
            match:
              all:
                - any: [Venezuela, Venezuelan]
                - did:
                    what: [destroy, destroys, destroyed, ~strike, struck, ataque]
                    by: [US, American, estadounidense]
                    not_by: [Venezuelan troops, Venezuelan army, FANB]
        """

    def test_the_subject_of_the_action_is_its_doer(self, tmp_path: Path) -> None:
        """The target's troops destroying an airstrip is not a US strike, even beside the US."""
        rulebook = rulebook_of(tmp_path, self.RULES)
        assert (
            fired(rulebook, "Venezuelan troops destroy an airstrip; a US official welcomed it")
            == []
        )
        assert fired(rulebook, "US jets destroy a Venezuelan airstrip") == ["us-strike"]
        assert fired(rulebook, "Venezuelan airstrip struck by US jets") == ["us-strike"]

    def test_a_report_names_a_doer_after_its_speech_verb(self, tmp_path: Path) -> None:
        """In "Venezuelan army says US strikes hit", the strikes are the US's."""
        rulebook = rulebook_of(tmp_path, self.RULES)
        assert fired(rulebook, "Venezuelan army says US strikes hit a radar") == ["us-strike"]
        assert fired(rulebook, "FANB denuncia ataque estadounidense en Venezuela") == ["us-strike"]
        assert fired(rulebook, "FANB destroys drug lab in Venezuela") == []

    def test_a_pronoun_after_a_speech_verb_is_the_speaker(self, tmp_path: Path) -> None:
        """In "the Venezuelan army said it destroyed", "it" is the army; a pronoun with nobody
        named before it in its sentence has no doer."""
        rulebook = rulebook_of(tmp_path, self.RULES)
        said = "The Venezuelan army said it destroyed an airstrip used by US-bound drug planes"
        assert fired(rulebook, said) == []
        assert fired(rulebook, "US officials say they struck a Venezuelan airstrip") == [
            "us-strike"
        ]
        assert fired(rulebook, "They destroyed a Venezuelan airstrip, US officials said") == [
            "us-strike"
        ]

    def test_a_spanish_verb_without_its_subject_is_the_speakers(self, tmp_path: Path) -> None:
        """Spanish drops the subject: in "el ejército venezolano dijo que destruyó", the army
        destroyed; a plural verb after a singular speaker ("denuncia que bombardearon") is
        someone else's, so it stays no one named."""
        rulebook = rulebook_of(
            tmp_path,
            """
            rules:
              - id: us-strike
                match:
                  all:
                    - any: [Venezuela, venezolano]
                    - did: {what: [destruyó, bombardearon], by: [EEUU], not_by: [ejército venezolano]}
            """,
        )
        said = "El ejército venezolano dijo que destruyó una pista de aterrizaje en Venezuela"
        assert fired(rulebook, said) == []
        plural = "El ejército venezolano denuncia que bombardearon una base en Venezuela"
        assert fired(rulebook, plural) == ["us-strike"]
        assert fired(rulebook, "El ejército venezolano dijo que EEUU destruyó una pista") == [
            "us-strike"
        ]

    def test_a_pronoun_opening_a_sentence_is_the_subject_before_it(self, tmp_path: Path) -> None:
        """ "The Venezuelan army bombed a camp. It also destroyed an airstrip": "it" is the army,
        the first party named in the sentence before."""
        rulebook = rulebook_of(tmp_path, self.RULES)
        army = "The Venezuelan army bombed a camp. It also destroyed an airstrip in Venezuela."
        assert fired(rulebook, "Border operation", army) == []
        jets = "US jets flew over the border. They destroyed an airstrip in Venezuela."
        assert fired(rulebook, "Border operation", jets) == ["us-strike"]

    def test_a_party_named_as_a_place_is_not_the_doer(self, tmp_path: Path) -> None:
        """ "Explosions in Caracas and missiles falling": Caracas is where, not who; "Caracas
        fires missiles" is Caracas's act."""
        rulebook = rulebook_of(
            tmp_path,
            """
            rules:
              - id: us-strike
                match:
                  all:
                    - any: [Venezuela, Caracas]
                    - did: {what: [missiles, misiles], by: [US], not_by: [Caracas]}
            """,
        )
        assert fired(rulebook, "Explosions in Caracas and missiles falling near the base") == [
            "us-strike"
        ]
        assert fired(rulebook, "explosiones en caracas y caída de misiles") == ["us-strike"]
        assert fired(rulebook, "Caracas fires missiles in a drill") == []

    def test_explain_names_the_doer(self, tmp_path: Path) -> None:
        """A near miss says who did it; a match says which role decided."""
        rulebook = rulebook_of(tmp_path, self.RULES)
        (verdict,) = rulebook.explain(item("Venezuelan troops destroy an airstrip"))
        assert verdict.match is None
        assert "'destroy' is done by 'Venezuelan troops'" in verdict.reasons[0]
        (verdict,) = rulebook.explain(item("US jets destroy a Venezuelan airstrip"))
        assert verdict.notes == ("role: 'destroy' done by 'US'",)


class TestCountedNumbers:
    RULES = """
        rules:
          - id: ships
            match:
              all:
                - any: [Venezuela]
                - number: {of: [~warship, buques de guerra], at_least: 2, as: warships}
        """

    def test_a_number_counts_the_noun_that_follows_it(self, tmp_path: Path) -> None:
        """ "Twelve soldiers" near warships is never twelve warships; "eight US Navy warships" is."""
        rulebook = rulebook_of(tmp_path, self.RULES)
        assert fired(rulebook, "Twelve soldiers killed near the warship off Venezuela") == []
        (found,) = rulebook.match(item("Eight US Navy warships gather off Venezuela"))
        assert found.values == {"warships": 8}
        (found,) = rulebook.match(item("EEUU envía doce buques de guerra a Venezuela"))
        assert found.values == {"warships": 12}

    def test_of_and_near_are_exclusive(self, tmp_path: Path) -> None:
        with pytest.raises(RuleError, match="number: needs either of:"):
            rulebook_of(tmp_path, "rules: [{id: r, match: {number: {of: [a], near: [b]}}}]")


class TestYieldsTo:
    def test_a_lower_rung_is_quiet_when_a_higher_one_fires(self, tmp_path: Path) -> None:
        """One item, one event: a strike on an airfield is not also a buildup."""
        rulebook = rulebook_of(
            tmp_path,
            """
            rules:
              - id: buildup
                yields_to: [strike]
                match: {all: [airfield, Venezuela]}
              - id: strike
                severity: critical
                match: {all: [~strike, Venezuela]}
            """,
        )
        assert fired(rulebook, "Jets mass at an airfield near Venezuela") == ["buildup"]
        assert fired(rulebook, "US strikes an airfield in Venezuela") == ["strike"]
        buildup = next(v for v in rulebook.explain(item("US strikes an airfield in Venezuela"))
                       if v.rule.info.id == "buildup")  # fmt: skip
        assert buildup.reasons == ("held, but yields to strike",)

    def test_yielding_to_an_unknown_rule_is_an_error(self, tmp_path: Path) -> None:
        with pytest.raises(RuleError, match="yields_to: no rule with id 'strike'"):
            rulebook_of(tmp_path, "rules: [{id: r, yields_to: [strike], match: {any: [a]}}]")


class TestNewKeysAreValidated:
    @pytest.mark.parametrize(
        ("match", "message"),
        [
            ("{did: {what: [strike]}}", "did: must be a mapping with what:"),
            ("{did: {what: [strike], not_by: [x], by_whom: [y]}}", "unknown did: key 'by_whom'"),
            ("{outside: [strike]}", "outside: must be a mapping with cues: and terms:"),
            ("{near: {terms: [a, b], outside: [nonsense]}}", "unknown cue set 'nonsense'"),
            ("{number: {of: [ships], within: 2, at_least: x}}", "at_least: must be a number"),
        ],
    )
    def test_a_mistake_in_the_new_keys_names_its_line(
        self, tmp_path: Path, match: str, message: str
    ) -> None:
        """`news-monitor check` says what is wrong with did:, outside: and number: of:."""
        with pytest.raises(RuleError, match=re.escape(message)) as caught:
            rulebook_of(tmp_path, f"rules:\n  - id: r\n    match: {match}\n")
        assert "rules.yaml:3" in str(caught.value)
