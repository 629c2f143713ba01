"""The pure parts of stories: what tells occurrences apart, who counts as a source, when an
alert is created or updated, and the rule-file keys that declare ladders and min_sources."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor.config import FeedSettings
from monitor.crunch import matches_for
from monitor.errors import RuleError
from monitor.models import Item, Severity
from monitor.rules import load_rulebook
from monitor.store import Store
from monitor.stories import cluster, lifecycle
from monitor.stories.evaluate import read_story_set, score
from monitor.stories.features import describe, is_opinion, lead
from monitor.stories.sources import outlet_of, source_of
from monitor.stories.tracker import event_time, track
from monitor.stories.unplaced import RECALLED, UnplacedReports

TUESDAY = datetime(2025, 10, 21, 18, 0, tzinfo=UTC)
RULES = Path(__file__).resolve().parent.parent / "rules"


def item(
    title: str, summary: str = "", link: str = "https://news.example.org/a", **kw: str
) -> Item:
    return Item(feed="wire", key=title, title=title, link=link, summary=summary, **kw)


def member(
    title: str, summary: str = "", *, source: str = "a.example", at: float = 0.0
) -> cluster.Member:
    at = at or TUESDAY.timestamp()
    return cluster.Member(
        key=f"wire\x00{title}",
        at=at,
        outlet=source,
        source=source,
        features=describe(item(title, summary), at),
        rules=frozenset({"boat-strike"}),
    )


def place(
    title: str, summary: str, members: list[cluster.Member], **kw: object
) -> cluster.Assignment:
    at = float(kw.get("at", TUESDAY.timestamp()))  # type: ignore[arg-type]
    features = describe(item(title, summary), at)
    return cluster.assign(
        features,
        frozenset({"boat-strike"}),
        at,
        "b.example",
        False,
        [cluster.Candidate("story_1", tuple(members))],
        {},
    )


class TestDiscriminators:
    def test_the_headline_names_the_aircraft_and_a_recalled_one_does_not_count(self) -> None:
        """Today's B-1B flight that recalls last week's B-52s is about the B-1Bs."""
        features = describe(
            item("US B-1B bombers fly off Venezuela", "It came a week after B-52s flew nearby."),
            TUESDAY.timestamp(),
        )
        assert features.aircraft == ("b1b",)

    def test_ordinals_weekdays_seas_and_destinations_are_read_in_both_languages(self) -> None:
        english = describe(
            item("Fourth US strike on a boat in the Caribbean", "It was struck on Monday."),
            TUESDAY.timestamp(),
        )
        spanish = describe(
            item("Quinto ataque de EEUU contra una lancha en el Pacífico", "Ocurrió el lunes."),
            TUESDAY.timestamp(),
        )
        assert (english.ordinal, english.seas, english.days) == (4, ("caribbean",), ("2025-10-20",))
        assert (spanish.ordinal, spanish.seas, spanish.days) == (5, ("pacific",), ("2025-10-20",))
        twentieth = describe(
            item("El Pentágono confirma un vigésimo ataque: cuatro muertos en el Caribe"), 0
        )
        assert twentieth.ordinal == 20
        border = describe(item("Venezuela sends troops to the Colombian border"), 0)
        coast = describe(item("Venezuela moves troops to its coast"), 0)
        assert (border.destination, coast.destination) == ("border", "coast")

    @pytest.mark.parametrize(
        ("text", "dead"),
        [
            ("US strike on a boat in the eastern Pacific, at least 3 dead", 3),
            ("US military says five killed in strikes on two vessels", 5),
            ("Strike on a vessel kills four, the campaign's toll rises to 87", 4),
            ("EE.UU. ataca dos lanchas y deja cinco muertos", 5),
            ("El ejército estadounidense mató a tres tripulantes", 3),
            ("The campaign has killed 83 people since September", None),
            ("Ya suman 68 muertos en la campaña", None),
            ("Two survivors pulled from the water", None),
        ],
    )
    def test_the_dead_of_this_occurrence_are_read_and_a_running_total_is_not(
        self, text: str, dead: int | None
    ) -> None:
        assert describe(item(text), 0).killed == dead

    def test_dates_written_out_are_days_too_but_not_a_datelines(self) -> None:
        """A follow-up searched for on Friday is about the Dec. 30 strike; "18 dic (EFE)" is
        only when the wire filed."""
        friday = datetime(2026, 1, 2, 20, 0, tzinfo=UTC).timestamp()
        follow_up = describe(
            item("Search for survivors", "The search for survivors of a Dec. 30 strike on Friday"),
            friday,
        )
        spanish = describe(
            item("Ataque", "Caracas, 2 ene (EFE).- El ataque del 30 de diciembre"), friday
        )
        assert follow_up.days == ("2025-12-30", "2026-01-02")
        assert spanish.days == ("2025-12-30",)

    def test_the_lead_is_the_first_sentence_abbreviations_and_datelines_aside(self) -> None:
        summary = (
            "Caracas, 18 ago (EFE).- The U.S. Navy sent Gen. Smith's ships on Sept. 6 toward the "
            "coast. A second sentence follows."
        )
        assert lead(item("x", summary)) == (
            "Caracas, 18 ago (EFE).- The U.S. Navy sent Gen. Smith's ships on Sept. 6 toward the "
            "coast"
        )

    def test_the_sea_named_first_is_where_it_happened(self) -> None:
        """A strike "in the Caribbean, hours after a Pacific attack" is a Caribbean strike."""
        features = describe(item("US strikes vessel in Caribbean, hours after Pacific attack"), 0)
        assert features.seas == ("caribbean",)

    def test_counts_weekdays_and_verbs_are_one_term_in_either_language(self) -> None:
        english = describe(item("US announces strike on Monday killing four"), 0).terms
        spanish = describe(item("EEUU anuncia ataque el lunes: cuatro muertos"), 0).terms
        assert {"announc", "strik", "monday", "4", "kill"} <= english.keys() & spanish.keys()

    @pytest.mark.parametrize(
        ("title", "link", "categories"),
        [
            ("Opinion: The strikes are unlawful", "https://x.example/world/a", ()),
            ("Análisis: lo que busca Washington", "https://x.example/a", ()),
            ("The strikes are unlawful", "https://x.example/opinion/2025/a", ()),
            ("The strikes are unlawful", "https://x.example/a", ("Editorials",)),
        ],
    )
    def test_opinion_is_recognised_by_title_path_or_category(
        self, title: str, link: str, categories: tuple[str, ...]
    ) -> None:
        assert is_opinion(Item("f", "k", title, link, categories=categories))

    @pytest.mark.parametrize(
        ("title", "summary", "link", "opinion"),
        [
            (
                "The strike nobody noticed",
                "The U.S. military struck a boat on Friday, and that silence should worry us.",
                "https://news.example.com/2026/01/strike",
                True,
            ),
            (
                "El día después",
                "Ningún venezolano debería aplaudir que otro país decida por nosotros.",
                "https://diario.example.com/a",
                True,
            ),
            (
                "Bombers as messages",
                "Twice in a week, B-1 Lancers have flown close to Venezuela's coast.",
                "https://warontherocks.com/2025/10/bombers",
                True,
            ),
            (
                "US strikes a boat in the Caribbean, killing three",
                "The US military struck a vessel on Friday, US Southern Command said.",
                "https://news.example.com/a",
                False,
            ),
            (
                "We will defend our coast, Maduro says",
                "We will never kneel before the empire, Maduro said in Caracas on Monday.",
                "https://news.example.com/b",
                False,
            ),
            (
                "Designation of the Cartel de los Soles",
                "We are designating the cartel today to protect the American people.",
                "https://www.state.gov/releases/2025/11/designation",
                False,
            ),
            (
                "Pressure on Caracas grows",
                "Read the full story on our site. Follow us for updates.",
                "https://news.example.com/c",
                False,
            ),
            (
                "Cartel de los Soles designated a terrorist organisation",
                "Based upon a review of the record, I have concluded that the cartel qualifies.",
                "https://register.example.com/d",
                False,
            ),
            (
                "We've seen this movie before",
                "Eight warships off the coast bring back the fears of a generation.",
                "https://diario.example.com/e",
                True,
            ),
        ],
    )
    def test_a_lead_in_the_writers_own_voice_or_a_commentary_site_is_opinion(
        self, title: str, summary: str, link: str, opinion: bool
    ) -> None:
        """A lead that speaks as "we" outside anyone's reported words, or a site that only
        publishes analysis, is commentary; a quote, a US report and a government's own release
        are not."""
        assert is_opinion(Item("f", "k", title, link, summary=summary)) is opinion

    @pytest.mark.parametrize(
        "title",
        [
            "The bomber flights are a warning, not a strategy",
            "Los bombardeos son un mensaje, no una defensa",
            "The Herald view on the strikes: Congress must be heard",
            "Washington should stop pretending this is about drugs",
        ],
    )
    def test_a_headline_that_argues_is_opinion_without_a_label(self, title: str) -> None:
        assert is_opinion(item(title))

    @pytest.mark.parametrize(
        "title",
        [
            "US strike kills three",
            "Trump says Venezuelan airspace should be considered closed",
            "Maduro: the country must prepare to defend its coast",
            "Hegseth says the strikes 'must continue'",
        ],
    )
    def test_a_report_is_not_opinion(self, title: str) -> None:
        assert not is_opinion(item(title, link="https://x.example/world/a"))


class TestEventTime:
    """When an item's occurrence is dated: its published time, unless that cannot be true."""

    NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)

    @pytest.mark.parametrize(
        ("published", "dated"),
        [
            (datetime(2025, 10, 14, 19, 40, tzinfo=UTC), "published"),  # an archive replayed
            (datetime(2026, 12, 1, 11, 55, tzinfo=UTC), "published"),
            (datetime(2026, 12, 1, 12, 5, tzinfo=UTC), "first seen"),  # clamped: not yet
            (datetime(2026, 12, 2, tzinfo=UTC), "first seen"),  # a wrong clock
            (datetime(1970, 1, 1, tzinfo=UTC), "first seen"),  # a placeholder
            (None, "first seen"),
        ],
    )
    def test_published_stands_unless_it_is_impossible(
        self, published: datetime | None, dated: str
    ) -> None:
        now = self.NOW.timestamp()
        at = event_time(Item("f", "k", "t", "", published=published), now)
        expected = published.timestamp() if dated == "published" and published else now
        assert at == expected


class TestSources:
    @pytest.mark.parametrize(
        ("summary", "author", "expected"),
        [
            ("WASHINGTON (AP) — The U.S. military struck a boat.", "", "AP"),
            ("CARACAS, Oct 21 (Reuters) - Venezuela said on Tuesday.", "", "Reuters"),
            ("The strike killed three, Reuters reported.", "", "Reuters"),
            ("Caracas, 21 oct (EFE).- El Gobierno venezolano denunció.", "", "EFE"),
            ("The strike killed three.", "Associated Press", "AP"),
            ("The strike killed three.", "Jane Doe", "example.co.uk"),
            ("(CNN) — Defense Secretary Pete Hegseth announced a strike.", "", "CNN"),
            ("WASHINGTON (The Hill) - The Pentagon said.", "", "The Hill"),
            ("Trump said the airspace is closed, News.az reports, citing Xinhua.", "", "Xinhua"),
            ("It came on Tuesday (Sep 2) - officials said.", "", "example.co.uk"),
            ("MOSCOW, October 3 /TASS/. Russia condemned the strike.", "", "TASS"),
            ("CARACAS (ANSA/El Universal) - El gobierno denunció.", "", "ANSA"),
            ("The strike killed three, an official told Reuters.", "", "Reuters"),
            ("The strike killed three.", "Kit Maher, CNN", "CNN"),
            ("The strike killed three.", "Andrea Shalal/Reuters", "Reuters"),
            ("The strike killed three.", "Ann Roe and Jo Poe/ABC News", "ABC News"),
            ("The strike killed three.", "Jane Doe, John Roe", "example.co.uk"),
        ],
    )
    def test_credits_bylines_and_outlets(self, summary: str, author: str, expected: str) -> None:
        report = item("Strike", summary, link="https://www.news.example.co.uk/a", author=author)
        assert source_of(report) == expected

    @pytest.mark.parametrize(
        ("title", "summary", "expected"),
        [
            (
                "Trump cuts off diplomatic outreach to Venezuela, NYT reports",
                "",
                "The New York Times",
            ),
            (
                "Maduro asked Russia for missiles",
                "He wrote to Moscow, according to The Washington Post.",
                "The Washington Post",
            ),
            (
                "Bombarderos B-1 volaron cerca de Venezuela, según The Wall Street Journal",
                "",
                "The Wall Street Journal",
            ),
            (
                "Londres deja de compartir inteligencia",
                "El Reino Unido suspendió el intercambio, según la cadena CNN.",
                "CNN",
            ),
            (
                "Trump to meet his security team",
                "He meets them on Monday, CNN reported, citing sources.",
                "CNN",
            ),
            ("Trump weighs strikes on Venezuela — WSJ", "", "The Wall Street Journal"),
            ("Strike on a boat", "Three died, Reuters reported, citing CNN.", "Reuters"),
            ("Maduro habla", "Lo dijo según el político opositor Juan Pérez.", "example.co.uk"),
            ("Strike on a boat", "Three died, according to CIA officials.", "example.co.uk"),
            ("Axios' new CEO", "The politics newsletter hired staff.", "example.co.uk"),
        ],
    )
    def test_a_retelling_counts_for_the_newsroom_it_names(
        self, title: str, summary: str, expected: str
    ) -> None:
        """A rewrite of another newsroom's scoop confirms nothing new: it counts for the
        newsroom its headline or lead names, as a wire copy counts for the agency."""
        retelling = item(title, summary, link="https://www.news.example.co.uk/a")
        assert source_of(retelling) == expected

    def test_a_headline_naming_the_agency_credits_it(self) -> None:
        assert source_of(item("Reuters: US deploys carrier strike group")) == "Reuters"

    def test_an_agencys_own_site_counts_as_the_agency(self) -> None:
        assert source_of(item("Strike", link="https://apnews.com/article/x")) == "AP"

    def test_an_outlet_credited_by_name_and_its_own_site_are_one_source(self) -> None:
        text = "Defense Secretary Pete Hegseth announced another strike on a boat in the Caribbean."
        story = [member("US strikes another boat off Venezuela", text, source="thehill.com")]
        features = describe(item("Hegseth: US hits another drug boat", f"(The Hill) — {text}"), 0)
        found = cluster.assign(
            features,
            frozenset({"boat-strike"}),
            TUESDAY.timestamp(),
            "The Hill",
            True,
            [cluster.Candidate("story_1", tuple(story))],
            {},
        )
        assert (found.story_id, found.source) == ("story_1", "thehill.com")

    def test_an_aggregators_source_element_names_the_outlet(self) -> None:
        assert source_of(item("Strike", source="El País")) == "El País"

    def test_a_source_element_that_is_a_note_names_no_one(self) -> None:
        noted = item("Strike", source="(With inputs from agencies.)", link="https://a.example/x")
        assert source_of(noted) == "a.example"

    @pytest.mark.parametrize(
        ("link", "outlet"),
        [
            ("http://45.89.97.6/news/a", "45.89.97.6"),
            ("https://d33gy59ovltp76.cloudfront.net/a", "d33gy59ovltp76.cloudfront.net"),
            ("https://abcnews.go.com/US/a", "abcnews.go.com"),
        ],
    )
    def test_an_address_or_a_shared_host_is_not_cut_to_its_parent(
        self, link: str, outlet: str
    ) -> None:
        assert outlet_of(item("a", link=link)) == outlet

    def test_two_feeds_of_one_site_are_one_outlet(self) -> None:
        assert outlet_of(item("a", link="https://www.bbc.co.uk/news/a")) == outlet_of(
            item("b", link="https://feeds.bbc.co.uk/mundo/b")
        )


class TestAssign:
    def test_a_second_report_in_other_words_joins_the_story(self) -> None:
        story = [
            member(
                "US strike on a drug boat in the Caribbean kills three", "It was hit on Tuesday."
            )
        ]
        found = place(
            "Three killed as US forces hit a suspected drug boat in the Caribbean", "", story
        )
        assert found.story_id == "story_1"

    def test_another_ordinal_is_another_occurrence_however_alike(self) -> None:
        story = [member("US conducts fourth strike on a boat, killing three")]
        found = place("US conducts fifth strike on a boat, killing three", "", story)
        assert found.story_id is None
        assert "ordinal" in found.vetoed[0]

    def test_another_bomber_type_is_another_flight(self) -> None:
        story = [member("US B-52 bombers fly off Venezuela in show of force")]
        assert (
            place("US B-1B bombers fly off Venezuela in show of force", "", story).story_id is None
        )

    def test_a_revised_toll_stays_in_its_story(self) -> None:
        story = [member("US strike on boat in Caribbean leaves at least 3 dead")]
        found = place("Four killed in US strike on boat in the Caribbean, toll revised", "", story)
        assert found.story_id == "story_1"

    def test_a_count_above_an_early_floor_is_the_same_strike(self) -> None:
        """ "At least two" in the first hours, "three" once the command counts them: a revised
        toll, not the template of another strike, even when told the next day."""
        story = [
            member(
                "US military strikes boat in eastern Pacific, killing at least 2",
                "The U.S. military said on Tuesday it struck a boat in the eastern Pacific.",
            )
        ]
        found = place(
            "Southern Command: three killed in latest eastern Pacific boat strike",
            "U.S. forces struck a boat in the eastern Pacific, killing three, the military "
            "said on Wednesday.",
            story,
            at=TUESDAY.timestamp() + 14 * 3600,
        )
        assert found.story_id == "story_1", found.vetoed
        assert describe(item("Strike kills at least 2 aboard"), 0).killed_at_least
        assert not describe(item("Strike kills 2 aboard"), 0).killed_at_least

    def test_the_next_days_strike_told_with_the_same_template_is_another_story(self) -> None:
        """One wire's words for Wednesday's strike (four dead) and Thursday's (five dead)."""
        wednesday = TUESDAY.timestamp() + 86400
        story = [
            member(
                "US military says four killed in strike on vessel in eastern Pacific",
                "The U.S. military said on Wednesday it killed four people in a strike on a vessel.",
                at=wednesday,
            )
        ]
        found = place(
            "US military says five killed in strikes on two vessels in eastern Pacific",
            "The U.S. military said on Thursday it killed five people in strikes on two vessels.",
            story,
            at=wednesday + 86400,
        )
        assert found.story_id is None
        assert "toll" in found.vetoed[0] and "day" in found.vetoed[0]

    def test_a_copy_without_its_credit_counts_for_the_wire(self) -> None:
        text = (
            "The U.S. military struck a boat in the Caribbean on Tuesday, killing three people "
            "aboard a vessel officials said was carrying drugs toward the United States."
        )
        story = [member("US strike on drug boat kills 3", text, source="AP")]
        found = place("Boat strike kills three", text, story)
        assert (found.story_id, found.source) == ("story_1", "AP")

    def test_a_report_no_rule_matched_confirms_a_story_it_is_part_of(self) -> None:
        story = [member("US strike on a drug boat in the Caribbean kills three, Hegseth says")]
        at = TUESDAY.timestamp()

        def confirm(title: str, members: list[cluster.Member]) -> cluster.Assignment:
            features = describe(item(title), at)
            candidates = [cluster.Candidate("story_1", tuple(members))] if members else []
            return cluster.assign(features, frozenset(), at, "c.example", False, candidates, {})

        assert confirm("Hegseth: US strike kills three on drug boat in Caribbean", story).story_id
        assert confirm("Caribbean tourism rebounds, three resorts say", story).story_id is None
        assert (
            confirm("Hegseth: US strike kills three on drug boat in Caribbean", []).story_id is None
        )

    def test_opinion_joins_no_story(self) -> None:
        story = [member("US strike on a drug boat in the Caribbean kills three")]
        assert place("Opinion: the US strike on a drug boat was wrong", "", story).story_id is None


def hit(
    rule: str, rung: int, *, confirmed: bool = True, killed: float | None = None
) -> lifecycle.RuleHit:
    values = {"killed": killed} if killed is not None else {}
    return lifecycle.RuleHit(rule, Severity(min(4, rung + 1)), rung, confirmed, values)


class TestLifecycle:
    def test_created_then_updated_only_on_what_a_reader_cares_about(self) -> None:
        first = lifecycle.decide(None, [hit("strike", 2, killed=27)], sources=1)
        assert first is not None and first.event == lifecycle.CREATED
        same = lifecycle.decide(first.state, [hit("strike", 2, killed=27)] * 2, sources=1)
        assert same is not None and same.event is None
        more = lifecycle.decide(first.state, [hit("strike", 2, killed=37)], sources=2)
        assert more is not None and more.event == lifecycle.UPDATED
        assert more.changes == ("sources 1 -> 2", "killed 27 -> 37")
        assert more.state.version == 2

    def test_sources_update_at_2_3_5_and_10_only(self) -> None:
        state = lifecycle.decide(None, [hit("s", 1)], sources=1)
        assert state is not None
        events = []
        for sources in range(2, 12):
            decision = lifecycle.decide(state.state, [hit("s", 1)], sources=sources)
            assert decision is not None
            state = decision
            events.append(decision.event is not None)
        assert [n for n, sent in zip(range(2, 12), events, strict=True) if sent] == [2, 3, 5, 10]

    def test_an_unconfirmed_rule_is_held_until_it_is_confirmed(self) -> None:
        held = lifecycle.decide(None, [hit("s", 1, confirmed=False)], sources=2)
        assert held is not None and held.event is None and held.state.version == 0
        now = lifecycle.decide(held.state, [hit("s", 1, confirmed=True)], sources=3)
        assert now is not None and now.event == lifecycle.CREATED

    def test_the_highest_rung_leads_and_the_others_are_listed(self) -> None:
        decision = lifecycle.decide(None, [hit("buildup", 1), hit("strike", 3)], sources=1)
        assert decision is not None
        assert decision.state.rule == "strike"
        assert decision.state.rules == ("strike", "buildup")

    @given(
        st.lists(
            st.tuples(
                st.integers(1, 4),
                st.booleans(),
                st.one_of(st.none(), st.integers(0, 200)),
                st.integers(1, 30),
            ),
            min_size=1,
            max_size=25,
        )
    )
    def test_one_creation_and_versions_that_only_rise(
        self, reports: list[tuple[int, bool, int | None, int]]
    ) -> None:
        """Whatever reports come in, an alert is created at most once and each message is a new
        version; sources never shrink in what was announced."""
        state: lifecycle.Announced | None = None
        hits: list[lifecycle.RuleHit] = []
        sources = 0
        created = 0
        for rung, confirmed, killed, more in reports:
            hits.append(hit(f"r{rung}", rung, confirmed=confirmed, killed=killed))
            sources = max(sources, more)
            decision = lifecycle.decide(state, hits, sources)
            if decision is None:
                continue
            if decision.event == lifecycle.CREATED:
                created += 1
                assert decision.state.version == 1
            elif decision.event == lifecycle.UPDATED:
                assert state is not None and decision.state.version == state.version + 1
                assert decision.changes
            if state is not None and state.version:
                assert decision.state.sources >= state.sources
                assert decision.state.severity >= state.severity
            state = decision.state
        assert created <= 1


LADDER_RULES = """\
ladder:
  id: theatre
  title: A theatre
  rungs:
    - [low]
    - high
rules:
  - id: low
    match: {any: [warship]}
  - id: high
    min_sources: {count: 3, within: 12h}
    match: {any: [strike]}
"""


class TestRuleFileKeys:
    def test_a_ladder_and_min_sources_load(self, tmp_path: Path) -> None:
        (tmp_path / "r.yaml").write_text(LADDER_RULES)
        rulebook = load_rulebook([tmp_path])
        [ladder] = rulebook.ladders
        assert dict(ladder.rungs) == {"low": 1, "high": 2}
        assert (rulebook.by_id["high"].min_sources, rulebook.by_id["high"].confirm_within) == (
            3,
            12 * 3600,
        )

    @pytest.mark.parametrize(
        ("edit", "line", "message"),
        [
            (("- high", "- nothing"), 6, "names unknown rule 'nothing'"),
            (("count: 3", "count: 0"), 11, "min_sources: must be a whole number"),
            (("within: 12h", "within: soon"), 11, "expected a duration"),
            (("- [low]", "- [low, low]"), 5, "rule 'low' is on two rungs"),
        ],
    )
    def test_mistakes_name_file_and_line(
        self, tmp_path: Path, edit: tuple[str, str], line: int, message: str
    ) -> None:
        (tmp_path / "r.yaml").write_text(LADDER_RULES.replace(*edit))
        with pytest.raises(RuleError) as caught:
            load_rulebook([tmp_path])
        assert f"r.yaml:{line}:" in str(caught.value)
        assert message in str(caught.value)


class TestLabelledStorySets:
    """Floors against regressions on the labelled story sets (README: how well it groups)."""

    @pytest.mark.parametrize(
        ("name", "placed_f1", "sources_exact", "opinion_placed", "min_sources_right"),
        [
            ("stories_dev", 0.95, 0.65, 2, 0.75),
            ("stories_heldout", 0.95, 0.75, 1, 0.9),
            ("stories_heldout2", 0.93, 0.55, 4, 0.8),
            ("stories_heldout3", 0.92, 0.6, 3, 0.75),
            ("stories_heldout4", 0.95, 0.55, 5, 0.8),
        ],
    )
    def test_clustering_stays_at_its_measured_level(
        self,
        name: str,
        placed_f1: float,
        sources_exact: float,
        opinion_placed: int,
        min_sources_right: float,
    ) -> None:
        data = Path(__file__).resolve().parent / "data" / "stories" / f"{name}.jsonl"
        result = score(load_rulebook([RULES]), read_story_set(data))
        precision, recall = result.placed_precision, result.placed_recall
        assert 2 * precision * recall / (precision + recall) >= placed_f1, result.report()
        assert result.sources_exact / result.events >= sources_exact, result.report()
        assert result.opinion_placed <= opinion_placed, result.report()
        assert result.confirmed_right / result.confirmed_judged >= min_sources_right, (
            result.report()
        )


class TestUnplacedReports:
    @given(
        st.lists(
            st.tuples(
                st.sampled_from(["a", "b", "c"]),
                st.integers(0, 40),
                st.sets(st.sampled_from(["strike", "boat", "hegseth", "kill", "coast", "x"])),
            ),
            max_size=60,
        )
    )
    def test_it_stays_bounded_and_recalls_only_what_shares_enough_in_the_window(
        self, reports: list[tuple[str, int, set[str]]]
    ) -> None:
        memory = UnplacedReports(limit=10)
        for number, (feed, hours, terms) in enumerate(reports):
            features = describe(item("x"), 0)
            features = type(features)(terms=dict.fromkeys(terms, 1.0))
            memory.remember(Item(feed, str(number), "t", ""), features, hours * 3600.0)
            assert len(memory) <= 10
        wanted = {"strike": 1.0, "boat": 1.0, "hegseth": 1.0}
        for entry in memory.recall(wanted, 3600.0, 20 * 3600.0, 2):
            assert 3600.0 <= entry.at <= 20 * 3600.0
            assert len(wanted.keys() & entry.features.terms.keys()) >= 2

    def test_among_reports_sharing_as_much_the_latest_are_recalled(self) -> None:
        """More reports than it compares share the new story's terms equally: the ones nearest
        in time are recalled, not whichever a set happens to list first."""
        memory = UnplacedReports()
        shared = {"strike": 1.0, "boat": 1.0, "hegseth": 1.0}
        features = type(describe(item("x"), 0))(terms=shared)
        for hour in range(RECALLED + 10):
            memory.remember(Item("wire", f"report-{hour}", "t", ""), features, hour * 3600.0)
        recalled = memory.recall(shared, 0.0, 100 * 3600.0, 2)
        assert [entry.item.key for entry in recalled] == [
            f"report-{hour}" for hour in range(10, RECALLED + 10)
        ]

    def test_a_story_started_later_takes_the_earlier_report_no_rule_matched(
        self, tmp_path: Path
    ) -> None:
        """The first outlet worded it so that no rule matched; the second one's matched report
        starts the story, which then counts both outlets."""
        rulebook = load_rulebook([RULES])
        first = Item(
            "beta",
            "b-1",
            "Pentagon confirms US military encounter with a drug boat in the Caribbean; Hegseth says three aboard",
            "https://beta.example/a",
            summary="Defense Secretary Pete Hegseth said the vessel was hit on Tuesday in the Caribbean.",
            published=TUESDAY,
        )
        second = Item(
            "alpha",
            "a-1",
            "US military strike on a drug boat in the Caribbean kills three, Hegseth says",
            "https://alpha.example/a",
            summary="Defense Secretary Pete Hegseth said the vessel was struck on Tuesday in the Caribbean.",
            published=TUESDAY.replace(hour=19),
        )
        assert not rulebook.match(first) and rulebook.match(second)
        with Store(tmp_path / "state.db") as store:
            for report in (first, second):
                now = report.published.timestamp() + 60 if report.published else 0.0
                feed = FeedSettings(
                    name=report.feed, url="http://127.0.0.1/", interval=60, timeout=5
                )
                with store.transaction():
                    queued = track(
                        store, rulebook, (), feed, matches_for([report], rulebook, now, None), now
                    )
            assert [q.alert.event for q in queued] == ["alert.created"]
            story = queued[0].alert.story
            assert story is not None and story.sources == 2
            assert {r.outlet for r in story.items} == {"alpha.example", "beta.example"}
