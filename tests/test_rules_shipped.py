"""The shipped rulebook (rules/) and the rule-author commands: test, backtest, evaluate."""

from __future__ import annotations

import json
import re
import shutil
import time
from pathlib import Path

import pytest

from monitor.cli import main
from monitor.models import Item, Severity
from monitor.rules import load_rulebook
from monitor.rules.evaluate import evaluate, read_labelled
from monitor.store import Store

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "rules"
LABELLED = Path(__file__).resolve().parent / "data" / "labelled.jsonl"
BLIND = Path(__file__).resolve().parent / "data" / "blind"
REALWORLD = Path(__file__).resolve().parent / "data" / "realworld"
CONFUSERS = Path(__file__).resolve().parent / "data" / "confusers_rules13.jsonl"
CONFUSERS_THIRD = Path(__file__).resolve().parent / "data" / "confusers_rules13d.jsonl"
CONFUSERS_FOURTH = Path(__file__).resolve().parent / "data" / "confusers_rules13e.jsonl"
CONFUSERS_FIFTH = Path(__file__).resolve().parent / "data" / "confusers_rules13f.jsonl"


def item(title: str, summary: str = "") -> Item:
    return Item(feed="test", key=title, title=title, link="", summary=summary)


class TestShippedRulebook:
    def test_every_rule_agrees_with_its_examples(self) -> None:
        """`news-monitor check` passes on the rulebook we ship."""
        assert load_rulebook([RULES]).example_failures() == []

    def test_the_ladder_has_a_rung_for_every_kind_of_escalation(self) -> None:
        """Air, naval, lethal, land, special operations, covert, diplomatic, mobilisation."""
        rules = {r.info.id: r.info for r in load_rulebook([RULES]).rules}
        assert all(info.title and info.tags for info in rules.values())
        assert rules["strike-inside-target"].severity is Severity.CRITICAL
        assert rules["ground-operation"].severity is Severity.CRITICAL
        assert rules["bomber-show-of-force"].severity is Severity.HIGH
        assert rules["lethal-boat-strike"].severity is Severity.HIGH
        for rung in ("naval-air-buildup", "special-operations-prep", "covert-action",
                     "diplomatic-rupture", "target-mobilisation"):  # fmt: skip
            assert rung in rules

    def test_it_meets_its_targets_on_the_labelled_set(self) -> None:
        """Precision >= 0.95 and recall >= 0.90 on the development set in tests/data."""
        score = evaluate(load_rulebook([RULES]), read_labelled(LABELLED))
        assert score.precision >= 0.95, score.report()
        assert score.recall >= 0.90, score.report()

    @pytest.mark.parametrize("name", ["blind_a", "blind_b", "blind_c", "blind_d", "blind_e"])
    def test_it_meets_its_targets_on_every_blind_set(self, name: str) -> None:
        """Sets written by people who never saw the rules stay at precision >= 0.95, recall >= 0.90."""
        score = evaluate(load_rulebook([RULES]), read_labelled(BLIND / f"{name}.jsonl"))
        assert score.precision >= 0.95, score.report()
        assert score.recall >= 0.90, score.report()

    def test_it_meets_its_targets_on_the_real_world_dev_half(self) -> None:
        """Published headlines nobody here wrote (the half the rules were tuned on): precision
        >= 0.95, recall >= 0.90, every category >= 0.85."""
        score = evaluate(load_rulebook([RULES]), read_labelled(REALWORLD / "realworld_dev.jsonl"))
        assert score.precision >= 0.95, score.report()
        assert score.recall >= 0.90, score.report()
        for category, total in score.alerts_by_category.items():
            assert score.caught_by_category[category] / total >= 0.85, score.report()

    def test_it_stays_at_its_measured_level_on_the_real_world_held_out_half(self) -> None:
        """The held-out half, scored once at 0.895 / 0.847 and then half tuned on, now scores
        0.947 / 0.954 (README): a floor against regressions, not a measure."""
        score = evaluate(
            load_rulebook([RULES]), read_labelled(REALWORLD / "realworld_heldout.jsonl")
        )
        assert score.precision >= 0.94, score.report()
        assert score.recall >= 0.94, score.report()

    @pytest.mark.parametrize(
        ("path", "precision", "recall", "classes"),
        [
            # Per class of issue 13 (commentary, reversals, denials, word sense, designations,
            # indirect preparations, the target's claims, strikes without strike words).
            (CONFUSERS, 0.90, 0.95, {"commentary", "reversal", "denial", "word_sense"}),
            # Third round: formal ruptures in new wordings, strikes reported by their aftermath,
            # the target's CIA claims, indirect preparations, explainers, retellings.
            (CONFUSERS_THIRD, 0.97, 0.97, {"commentary", "reversal", "history", "venezuela_other"}),
            # Fourth round: drawdowns and relocations, denials by orders not received or by
            # purpose, slug negations, speculation and op-ed forms, strikes reported by their
            # aftermath, sources inside the target, rehearsals, blockades, training days,
            # expulsions and bans worded as orders.
            (CONFUSERS_FOURTH, 0.97, 0.97, {"reversal", "denial", "commentary", "venezuela_other"}),
            # Fifth round: drawdowns worded as numbers reduced or ships pulled, denials by
            # ridicule or by what was never asked, oversight hearings, guides; licences and
            # permits revoked, flight bans, mass mobilisation, plots claimed by the target.
            (
                CONFUSERS_FIFTH,
                0.97,
                0.97,
                {
                    "reversal",
                    "denial",
                    "commentary",
                    "word_sense",
                    "other_theatre",
                    "venezuela_other",
                },
            ),
        ],
    )
    def test_it_holds_on_the_confusers_written_per_class(
        self, path: Path, precision: float, recall: float, classes: set[str]
    ) -> None:
        """Items written here per class, by someone who had read the rules: tuned on, so a
        floor against losing a class."""
        examples = read_labelled(path)
        score = evaluate(load_rulebook([RULES]), examples)
        assert score.precision >= precision, score.report()
        assert score.recall >= recall, score.report()
        assert classes <= {e.category for e in examples if e.label == "none"}

    def test_it_stays_at_its_measured_level_on_the_second_held_out_set(self) -> None:
        """A second set of published headlines, collected blind and scored once after the
        second round of tuning at precision 0.906, recall 0.812, then tuned on by class in the
        third round: 0.955 / 0.946 (README). A floor against regressions, not a measure."""
        score = evaluate(
            load_rulebook([RULES]), read_labelled(REALWORLD / "realworld_heldout2.jsonl")
        )
        assert score.precision >= 0.95, score.report()
        assert score.recall >= 0.94, score.report()

    @pytest.mark.parametrize(
        ("path", "precision", "recall"),
        [
            (REALWORLD / "realworld_heldout3.jsonl", 0.96, 0.95),
            (BLIND / "handwritten3.jsonl", 0.98, 0.94),
            (REALWORLD / "realworld_heldout4.jsonl", 0.95, 0.93),
            (BLIND / "handwritten4.jsonl", 0.99, 0.96),
            # Written here after the fifth round's last rule change, never tuned on.
            (ROOT / "tests" / "data" / "fresh_rules13f.jsonl", 0.93, 0.97),
        ],
    )
    def test_it_stays_at_its_measured_level_on_the_later_held_out_sets(
        self, path: Path, precision: float, recall: float
    ) -> None:
        """Published headlines and items written by hand, collected blind after the third round
        (349 and 168: scored once at 0.865 / 0.806 and 0.880 / 0.849, then tuned on in the
        fourth round: 0.973 / 0.958 and 1.000 / 0.953) and after the fourth (376 and 243: scored
        once at 0.851 / 0.781 and 0.858 / 0.802, then tuned on in the fifth round: 0.966 / 0.940
        and 1.000 / 0.975; README). Floors against regressions."""
        score = evaluate(load_rulebook([RULES]), read_labelled(path))
        assert score.precision >= precision, score.report()
        assert score.recall >= recall, score.report()

    @pytest.mark.parametrize(
        "title",
        [
            # Explainers of ships and aircraft, and question headlines read from slugs.
            "Así son los destructores que Estados Unidos envió frente a Venezuela",
            "Como funcionan los cazas F-35 desplegados en Puerto Rico",
            "Por que EEUU envio bombarderos B-52 al Caribe",
            "What is the USS Gerald R. Ford, the carrier sent near Venezuela",
            "Why did US fighter jets fly near Venezuela",
            # Retellings of the operation that seized the leader.
            "Caracas bond prices climb since US forces captured Maduro",
            "Venezuelan exiles plan their return months after the raid that seized Maduro",
        ],
    )  # fmt: skip
    def test_explainers_and_retellings_are_not_alerts(self, title: str) -> None:
        """An explainer or a piece that retells a past operation reports no new step."""
        assert load_rulebook([RULES]).match(item(title)) == []

    def test_the_real_world_set_keeps_only_headline_first_sentence_and_link(self) -> None:
        """No whole articles in tests/data: a headline, at most ~220 characters more, the URL;
        and no item in both halves."""
        halves = {}
        for half in ("dev", "heldout", "heldout2"):
            rows = [
                json.loads(line)
                for line in (REALWORLD / f"realworld_{half}.jsonl").read_text("utf-8").splitlines()
            ]
            assert all(len(r.get("summary") or "") <= 230 and r["url"] for r in rows)
            assert all(r["split"] == half for r in rows)
            halves[half] = {r["url"] for r in rows}
        assert not halves["dev"] & halves["heldout"]
        assert not (halves["dev"] | halves["heldout"]) & halves["heldout2"]
        assert len(halves["dev"]) + len(halves["heldout"]) >= 300

    def test_the_labelled_set_is_large_and_hard(self) -> None:
        """At least 200 items, half the negatives look-alikes, some Spanish."""
        examples = read_labelled(LABELLED)
        negatives = [e for e in examples if e.label == "none"]
        assert len(examples) >= 200
        assert sum(e.category.startswith("lookalike") for e in negatives) >= len(negatives) / 2
        spanish = [e for e in examples if any(w in e.item.title for w in (" de ", " en ", " la "))]
        assert len(spanish) >= 20

    def test_a_death_toll_goes_into_the_alert(self) -> None:
        """The number of dead is extracted from the text into the match's values."""
        rulebook = load_rulebook([RULES])
        (found,) = rulebook.match(
            item("US strike on a drug boat in the Caribbean kills fourteen, Pentagon says")
        )
        assert found.rule.id == "lethal-boat-strike"
        assert found.values == {"killed": 14}

    def test_survivors_are_not_counted_as_dead(self) -> None:
        """The toll counts the dead only: "two survivors" is no death toll."""
        rulebook = load_rulebook([RULES])
        (rescued,) = rulebook.match(
            item("Two survivors pulled from the sea after US strike on a suspected drug boat")
        )
        assert (rescued.rule.id, dict(rescued.values)) == ("lethal-boat-strike", {})
        (toll,) = rulebook.match(
            item(
                "Eleven dead as US Navy destroys suspected narco-sub in the Caribbean",
                "Two survivors were recovered, the Pentagon said.",
            )
        )
        assert dict(toll.values) == {"killed": 11}

    @pytest.mark.parametrize(
        ("title", "rung"),
        [
            # A strike on an airfield is the strike rung, and its dead are not warships.
            ("US airstrike hits a military airfield near Maracay, killing at least twelve soldiers",
             "strike-inside-target"),
            # The actor's forces deploying are a buildup, not the target mobilising.
            ("US forces deploy to Puerto Rico as tensions with Venezuela rise", "naval-air-buildup"),
            # Training is preparation, not a ground operation.
            ("Army helicopter crews train for night missions near Venezuela",
             "special-operations-prep"),
            # The target's troops did it: mobilisation, not a US strike.
            ("Venezuelan troops destroy an airstrip; a US official welcomed it",
             "target-mobilisation"),
            # The target's troops going to its border are not the actor going in.
            ("Venezuela sends 15,000 troops to the Colombian border amid US threats",
             "target-mobilisation"),
            # Witnesses who report blasts did not cause them.
            ("Caracas residents report planes and blasts over La Carlota air base",
             "strike-inside-target"),
            # An attack shown by bombers is a show of force, not a strike.
            ("Pentagon confirms a 'bomber attack demonstration' near Venezuela",
             "bomber-show-of-force"),
            # Seizing the leader is the ground rung.
            ("US forces capture Maduro in a night raid on Caracas", "ground-operation"),
            # "It" after "said" is the speaker: the actor's strike.
            ("The Pentagon said it struck a military airfield in Venezuela", "strike-inside-target"),
            # A strike known by its aftermath.
            ("Así quedó la base aérea de La Carlota tras el bombardeo estadounidense",
             "strike-inside-target"),
            # "Illegal drugs" names the cargo; it does not question the strike's legality.
            ("Hegseth announces a night strike on a smuggling vessel carrying illegal drugs in the Caribbean",
             "lethal-boat-strike"),
            # Declaring a neighbour's leader persona non grata is a rupture.
            ("Venezuela declara persona non grata a la primera ministra de Trinidad y Tobago",
             "diplomatic-rupture"),
        ],
    )  # fmt: skip
    def test_each_event_alerts_on_its_own_rung(self, title: str, rung: str) -> None:
        """One alert per item, on the rung of what happened, with no stray values: the only
        value is a count of what the rung is about (the troops the target sends)."""
        found = load_rulebook([RULES]).match(item(title))
        values = {"troops": 15000} if "15,000 troops" in title else {}
        assert [(m.rule.id, dict(m.values)) for m in found] == [(rung, values)]

    def test_another_theatre_needs_only_a_new_theatre_file(self, tmp_path: Path) -> None:
        """Rewriting theatre.yaml turns the ladder onto another country pair."""
        rules = tmp_path / "rules"
        shutil.copytree(RULES, rules)
        (rules / "theatre.yaml").write_text(
            "lists:\n"
            "  target: [Atlantis, Atlantean, Poseidonia]\n"
            "  target_inside: [inside Atlantis, in Atlantis, Poseidonia]\n"
            "  target_forces: [Atlantean army, Atlantean navy]\n"
            "  actor: [Lemuria, Lemurian]\n"
            "  actor_assets: [Lemurian Navy]\n"
            "  actor_campaign: [anti-piracy]\n"
            "  neighbour_forces: [Mu]\n"
            "  theatre_sea: [Atlantic]\n"
            "  elsewhere: [Venezuela]\n"
            "  target_soil: [Atlantean soil]\n"
            "  target_military: [Atlantean guard]\n"
            "  armed_groups: [Kraken gang]\n"
            "  actor_allies: [Hyperborea]\n"
            "  theatre_waters: [Atlantic waters]\n"
            "  other_navies: [Muvian navy]\n"
            "  other_agencies: [Muvian intelligence]\n"
            "  target_airlines: [Atlantis Air]\n"
            "  target_campaign: [Trident Shield]\n",
            encoding="utf-8",
        )
        for name in ("escalation.yaml",):
            text = (rules / name).read_text(encoding="utf-8")
            # The examples name Venezuela: drop them, keep every rule.
            text = re.sub(r"    examples:\n(?:(?:      .*)?\n)*", "", text)
            (rules / name).write_text(text, encoding="utf-8")
        rulebook = load_rulebook([rules])
        found = rulebook.match(item("Lemurian B-52 bombers fly near Atlantis in a show of force"))
        assert [m.rule.id for m in found] == ["bomber-show-of-force"]
        assert rulebook.match(item("US B-52 bombers fly near Venezuela")) == []


def write_jsonl(path: Path, rows: list[dict[str, str]]) -> Path:
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return path


class TestAuthorCommands:
    def test_test_shows_the_rule_the_spans_and_the_numbers(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """`news-monitor test` prints the rule, bracketed spans, values and near misses."""
        items = write_jsonl(
            tmp_path / "items.jsonl",
            [
                {"title": "US strike on drug boat off Venezuela kills 11"},
                {"title": "Bomber jackets are the rage in Caracas"},
            ],
        )
        assert main(["test", str(RULES), "--input", str(items), "--explain"]) == 0
        out = capsys.readouterr().out
        assert "MATCH lethal-boat-strike: US strike on drug boat off Venezuela kills 11" in out
        assert "[strike]" in out and "[11]" in out
        assert "killed=11" in out
        assert "no match: Bomber jackets are the rage in Caracas" in out
        assert "1 of 2 items matched" in out

    def test_test_reads_a_feed_file(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """An RSS file works as input as well as JSON lines."""
        feed = tmp_path / "feed.xml"
        feed.write_text(
            "<?xml version='1.0'?><rss version='2.0'><channel><title>t</title>"
            "<item><title>Pentagon sends more warships to the Caribbean near Venezuela</title>"
            "<guid>1</guid></item></channel></rss>",
            encoding="utf-8",
        )
        assert main(["test", str(RULES), "--input", str(feed)]) == 0
        assert "MATCH naval-air-buildup" in capsys.readouterr().out

    def test_evaluate_prints_precision_recall_and_categories(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """`news-monitor evaluate` scores a labelled set and lists what it got wrong."""
        labelled = write_jsonl(
            tmp_path / "set.jsonl",
            [
                {"title": "US bombers fly near Venezuela", "label": "alert", "category": "air"},
                {"title": "Venezuela inflation slows", "label": "none", "category": "other"},
                {"title": "Venezuelan chef wins award", "label": "alert", "category": "food"},
            ],
        )
        assert main(["evaluate", str(labelled), "--rules", str(RULES)]) == 0
        out = capsys.readouterr().out
        assert "precision 1.000" in out
        assert "recall    0.500" in out
        assert "food                     0.00  (0/1)" in out
        assert "missed: line 3 [food] Venezuelan chef wins award" in out

    def test_backtest_reruns_rules_over_stored_items(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Items already stored are matched again with the current rules."""
        config = tmp_path / "config.yaml"
        config.write_text(
            f"state: {tmp_path / 'state.db'}\nrules: [{RULES}]\n"
            "feeds: [{name: wire, url: 'http://127.0.0.1:9/feed.xml'}]\n"
            "notifiers: [{name: console, type: log}]\nroutes: [{notify: [console]}]\n",
            encoding="utf-8",
        )
        store = Store(tmp_path / "state.db")
        try:
            state = store.feed_state("wire", "http://127.0.0.1:9/feed.xml")
            stored = [
                Item(
                    feed="wire",
                    key="1",
                    title="CIA authorised to run covert action in Venezuela",
                    link="",
                ),
                Item(feed="wire", key="2", title="Caracas metro opens late", link=""),
            ]
            store.record_poll(state, stored, [], time.time())
        finally:
            store.close()
        assert main(["backtest", "--config", str(config), "--since", "1d"]) == 0
        out = capsys.readouterr().out
        assert "covert-action: [wire] CIA authorised to run covert action in Venezuela" in out
        assert "2 items since 1d ago; 1 would have alerted" in out

    def test_backtest_counts_alerts_once_per_story_as_run_would_send_them(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Two outlets' reports of one strike and a wire copy are one alert, updated once when
        the second outlet confirms it; the state backtested is only read."""
        feeds = ("wire", "daily")
        config = tmp_path / "config.yaml"
        config.write_text(
            f"state: {tmp_path / 'state.db'}\nrules: [{RULES}]\nfeeds:\n"
            + "".join(f"  - {{name: {f}, url: 'http://127.0.0.1:9/{f}.xml'}}\n" for f in feeds)
            + "notifiers: [{name: console, type: log}]\nroutes: [{notify: [console]}]\n",
            encoding="utf-8",
        )
        wire = (
            "WASHINGTON (AP) - The U.S. military struck a suspected drug boat in the Caribbean "
            "on Tuesday, killing three people aboard, the Pentagon said."
        )
        reports = {
            "wire": [("US strike on drug boat in Caribbean kills 3", wire, "https://apnews.com/a")],
            "daily": [
                (
                    "Three dead as US hits suspected drug boat in the Caribbean",
                    "Three people were killed on Tuesday when US forces struck a suspected "
                    "drug-smuggling boat in the Caribbean, the Pentagon said.",
                    "https://daily.example.org/b",
                ),
                (
                    "US strike on drug boat in Caribbean kills 3",
                    wire,
                    "https://daily.example.org/c",
                ),
            ],
        }
        seen = time.time() - 3600
        with Store(tmp_path / "state.db") as store:
            for offset, feed in enumerate(feeds):
                state = store.feed_state(feed, f"http://127.0.0.1:9/{feed}.xml")
                stored = [
                    Item(feed=feed, key=link, title=title, link=link, summary=summary)
                    for title, summary, link in reports[feed]
                ]
                store.record_poll(state, stored, [], seen + offset)
        before = (tmp_path / "state.db").read_bytes()
        assert main(["backtest", "--config", str(config), "--since", "1d"]) == 0
        out = capsys.readouterr().out
        assert "3 items since 1d ago; 3 would have alerted" in out
        assert "as stories, once per story: 1 alerts created, 1 updates" in out
        assert "(2 sources, 1 updates)" in out.split("as stories")[1]
        assert (tmp_path / "state.db").read_bytes() == before

    def test_backtest_credits_the_author_as_live_polling_does(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A paper's rewrite of the AP story, bylined "Associated Press", is the AP again in a
        backtest as it was live: one source, no update."""
        config = tmp_path / "config.yaml"
        config.write_text(
            f"state: {tmp_path / 'state.db'}\nrules: [{RULES}]\nfeeds:\n"
            "  - {name: wire, url: 'http://127.0.0.1:9/wire.xml'}\n"
            "  - {name: daily, url: 'http://127.0.0.1:9/daily.xml'}\n"
            "notifiers: [{name: console, type: log}]\nroutes: [{notify: [console]}]\n",
            encoding="utf-8",
        )
        stored = {
            "wire": Item(
                feed="wire",
                key="a",
                title="US strike on drug boat in Caribbean kills 3",
                link="https://apnews.com/a",
                summary="The U.S. military struck a suspected drug boat in the Caribbean on "
                "Tuesday, killing three people aboard, the Pentagon said.",
            ),
            "daily": Item(
                feed="daily",
                key="b",
                title="Three dead as US hits suspected drug boat in the Caribbean",
                link="https://daily.example.org/b",
                summary="Three people died on Tuesday when American forces hit a boat the "
                "Pentagon said was smuggling drugs across the Caribbean.",
                author="Associated Press",
            ),
        }
        seen = time.time() - 3600
        with Store(tmp_path / "state.db") as store:
            for offset, (feed, item) in enumerate(stored.items()):
                state = store.feed_state(feed, f"http://127.0.0.1:9/{feed}.xml")
                store.record_poll(state, [item], [], seen + offset)
        assert main(["backtest", "--config", str(config), "--since", "1d"]) == 0
        out = capsys.readouterr().out
        assert "as stories, once per story: 1 alerts created, 0 updates" in out, out
        assert "(1 sources" in out.split("as stories")[1], out

    def test_backtest_and_test_explain_what_decided(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """--explain names the number, the role and the cue that decided each item."""
        config = tmp_path / "config.yaml"
        config.write_text(
            f"state: {tmp_path / 'state.db'}\nrules: [{RULES}]\n"
            "feeds: [{name: wire, url: 'http://127.0.0.1:9/feed.xml'}]\n"
            "notifiers: [{name: console, type: log}]\nroutes: [{notify: [console]}]\n",
            encoding="utf-8",
        )
        titles = [
            "US strike on a drug boat off Venezuela kills eleven",
            "Is the US about to strike Venezuela?",
        ]
        with Store(tmp_path / "state.db") as store:
            state = store.feed_state("wire", "http://127.0.0.1:9/feed.xml")
            stored = [Item(feed="wire", key=t, title=t, link="") for t in titles]
            store.record_poll(state, stored, [], time.time())
        assert main(["backtest", "--config", str(config), "--since", "1d", "--explain"]) == 0
        out = capsys.readouterr().out
        assert (
            "MATCH lethal-boat-strike: US strike on a drug boat off Venezuela kills eleven" in out
        )
        assert "decided by number killed=11" in out
        assert "no match: Is the US about to strike Venezuela?" in out
        assert "(commentary: 'Is the US about to strike Venezuela')" in out

        items = write_jsonl(
            tmp_path / "items.jsonl", [{"title": "Venezuelan troops mobilise as US jets strike"}]
        )
        assert main(["test", str(RULES), "--input", str(items), "--explain"]) == 0
        assert "decided by role:" in capsys.readouterr().out
