"""Carry out the story decisions: put each matched item in its story, then queue the messages
its alerts owe (created or updated), all inside the caller's store transaction.

The decisions themselves are pure (cluster.assign, lifecycle.decide); this module reads what
they need from the store and records what they decided, so a crash between two items leaves no
half-told story: the whole poll commits or none of it.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from monitor.config import FeedSettings, Route
from monitor.models import (
    Alert,
    Item,
    LadderInfo,
    Match,
    StoryInfo,
    StoryReport,
    alert_id,
)
from monitor.routing import plans_for
from monitor.rules import Rulebook
from monitor.store import QueuedAlert, Store, StoryItem, StoryRow
from monitor.stories import cluster, lifecycle
from monitor.stories.features import Features
from monitor.stories.sources import credit, outlet_of

log = logging.getLogger("monitor.stories")

# A published time this far ahead of first sight is a wrong clock, and one before web feeds
# existed a placeholder (the epoch, "0001-01-01"): the story then takes the time it was first
# seen. Any other past time stands, however old: an archive replayed today must cluster by
# when its items were published, not all on the day of the replay.
MAX_FUTURE = 600.0
EARLIEST = datetime(1995, 1, 1, tzinfo=UTC).timestamp()
# (time, independent source, rule hits) of one report of a story, as the store keeps it.
Report = tuple[float, str, list[dict[str, object]]]

COMMON_TERM_SHARE = 0.3  # terms in more of the stories than this do not pick candidates
MAX_TERM_STORIES = 200  # ... nor terms in more stories than this
MIN_RETRIEVAL_TERMS = 4
# A report no rule matched is looked up only if it shares this many terms with the stories,
# each in at most RARE_TERM_SHARE of them (or RARE_TERM_STORIES): a theatre's common words
# ("Venezuela", "military") are in every story and would make every report worth a lookup.
MIN_CONFIRM_TERMS = 3
RARE_TERM_SHARE = 0.05
RARE_TERM_STORIES = 3


@dataclass(frozen=True)
class Matched:
    """A new item that some rule matched, with its features (computed off the event loop).

    With no `matches`, an item that matched no rule but has words some rule needs: it may only
    confirm a story already told (one more outlet), never start one.
    """

    item: Item
    matches: tuple[Match, ...]
    features: Features
    at: float


def event_time(item: Item, first_seen: float) -> float:
    """When the item reported its occurrence: its published time if sane, never after first seen."""
    if item.published is None:
        return first_seen
    published = item.published.timestamp()
    if published > first_seen + MAX_FUTURE or published < EARLIEST:
        return first_seen
    return min(published, first_seen)


def story_id_for(item: Item) -> str:
    digest = hashlib.sha256(f"{item.feed}\x00{item.key}".encode()).hexdigest()
    return f"story_{digest[:24]}"


def _scope(rulebook: Rulebook, rule_id: str) -> str:
    ladder = rulebook.ladder_of.get(rule_id)
    return f"ladder:{ladder.id}" if ladder is not None else f"rule:{rule_id}"


def _retrieval_terms(features: Features, frequencies: dict[str, int], stories: int) -> list[str]:
    """The terms that pick candidate stories: not those so common that they would bring back
    hundreds of stories (the cost of a lookup), but always the item's few rarest ones."""
    limit = min(MAX_TERM_STORIES, max(20.0, COMMON_TERM_SHARE * stories))
    by_rarity = sorted(features.terms, key=lambda t: (frequencies.get(t, 0), t))
    chosen = [t for t in by_rarity if frequencies.get(t, 0) <= limit]
    return chosen if len(chosen) >= MIN_RETRIEVAL_TERMS else by_rarity[:MIN_RETRIEVAL_TERMS]


def _rare_shared(features: Features, frequencies: dict[str, int], stories: int) -> int:
    """How many of the item's terms some story has, but not so many stories that the term
    says nothing about which one: what a confirmation needs, counted before any lookup."""
    limit = max(RARE_TERM_STORIES, RARE_TERM_SHARE * stories)
    return sum(1 for t in features.terms if 0 < frequencies.get(t, 0) <= limit)


def place(store: Store, matched: Matched, now: float) -> tuple[StoryRow, cluster.Assignment] | None:
    """Assign one matched item to its story and record it there (an item that only confirms
    stories is recorded only when it joins one: else None). A story it starts also takes the
    recent reports no rule matched that belong to it."""
    item, features = matched.item, matched.features
    frequencies, stories = store.term_frequencies(list(features.terms))
    if not matched.matches and _rare_shared(features, frequencies, stories) < MIN_CONFIRM_TERMS:
        # Most items with a rule's words are about something else: too few words in common with
        # any story to clear the confirmation bar, and not worth a lookup.
        store.unplaced.remember(item, features, matched.at)
        return None
    candidates = store.story_candidates(
        _retrieval_terms(features, frequencies, stories),
        matched.at - cluster.WINDOW,
        matched.at + cluster.WINDOW,
    )
    idf = cluster.idf_weights(frequencies, stories)
    rules = frozenset(m.rule.id for m in matched.matches)
    source, credited = credit(item)
    assignment = cluster.assign(features, rules, matched.at, source, credited, candidates, idf)
    if assignment.story_id is None and not matched.matches:
        store.unplaced.remember(item, features, matched.at)
        return None
    story_id = assignment.story_id or story_id_for(item)
    hits: list[dict[str, object]] = [
        {"rule": m.rule.id, "values": dict(m.values), "matched": list(m.matched)}
        for m in matched.matches
    ]
    story = _record(store, story_id, item, features, matched.at, assignment, hits, now)
    if assignment.story_id is None:
        story = _take_unplaced(store, story, item, source, features, matched.at, rules, idf, now)
    return story, assignment


def _record(
    store: Store,
    story_id: str,
    item: Item,
    features: Features,
    at: float,
    assignment: cluster.Assignment,
    hits: list[dict[str, object]],
    now: float,
) -> StoryRow:
    report = StoryItem(
        feed=item.feed,
        key=item.key,
        title=item.title,
        link=item.link,
        outlet=outlet_of(item),
        source=assignment.source,
        at=at,
        published=item.published.isoformat() if item.published else None,
        features=features,
        hits=hits,
    )
    if assignment.relabel:
        store.relabel_sources(story_id, assignment.relabel, assignment.source)
    return store.add_to_story(story_id, report, now)


def _take_unplaced(
    store: Store,
    story: StoryRow,
    item: Item,
    source: str,
    features: Features,
    at: float,
    rules: frozenset[str],
    idf: dict[str, float],
    now: float,
) -> StoryRow:
    """Earlier reports no rule matched that the new story's first report (`item`, counting for
    `source`) shows to be of it."""
    members = [
        cluster.Member(f"{item.feed}\x00{item.key}", at, outlet_of(item), source, features, rules)
    ]
    recalled = store.unplaced.recall(
        features.terms, at - cluster.WINDOW, at + cluster.WINDOW, MIN_CONFIRM_TERMS
    )
    for earlier in recalled:
        candidate = cluster.Candidate(story.id, tuple(members))
        earlier_source, credited = credit(earlier.item)
        assignment = cluster.assign(
            earlier.features, frozenset(), earlier.at, earlier_source, credited, [candidate], idf
        )
        if assignment.story_id is None:
            continue
        story = _record(
            store, story.id, earlier.item, earlier.features, earlier.at, assignment, [], now
        )
        store.unplaced.forget((earlier.item.feed, earlier.item.key))
        members.append(
            cluster.Member(
                f"{earlier.item.feed}\x00{earlier.item.key}",
                earlier.at,
                outlet_of(earlier.item),
                assignment.source,
                earlier.features,
                frozenset(),
            )
        )
    return story


def _hits(
    rulebook: Rulebook, story: StoryRow, reports: list[Report], scope: str
) -> list[lifecycle.RuleHit]:
    """Every hit of the scope's rules on the story, each confirmed or not by its min_sources."""
    sources_by: dict[float | None, int] = {}

    def sources_within(seconds: float | None) -> int:
        # Independent sources whose first report came within `seconds` of the story's first.
        if seconds not in sources_by:
            deadline = None if seconds is None else story.first_at + seconds
            sources_by[seconds] = len(
                {src for when, src, _ in reports if deadline is None or when <= deadline}
            )
        return sources_by[seconds]

    found: list[lifecycle.RuleHit] = []
    for _at, _source, hits in reports:
        for hit in hits:
            rule_id = str(hit["rule"])
            rule = rulebook.by_id.get(rule_id)
            if rule is None or _scope(rulebook, rule_id) != scope:
                continue  # a rule since removed, or another scope's
            ladder = rulebook.ladder_of.get(rule_id)
            values = hit.get("values")
            found.append(
                lifecycle.RuleHit(
                    rule=rule_id,
                    severity=rule.info.severity,
                    rung=ladder.rungs[rule_id] if ladder else None,
                    confirmed=sources_within(rule.confirm_within) >= rule.min_sources,
                    values={str(k): float(v) for k, v in values.items()}
                    if isinstance(values, dict)
                    else {},
                )
            )
    return found


def _story_info(store: Store, story: StoryRow) -> StoryInfo:
    reports = store.story_reports(story.id)
    return StoryInfo(
        id=story.id,
        title=story.title,
        sources=story.sources,
        first_seen=datetime.fromtimestamp(story.first_at, UTC),
        last_seen=datetime.fromtimestamp(story.last_at, UTC),
        items=tuple(
            StoryReport(
                title=r.title,
                link=r.link,
                feed=r.feed,
                outlet=r.outlet,
                source=r.source,
                published=datetime.fromisoformat(r.published) if r.published else None,
            )
            for r in reports
        ),
    )


def track(
    store: Store,
    rulebook: Rulebook,
    routes: Sequence[Route],
    feed: FeedSettings,
    matched: Sequence[Matched],
    now: float,
) -> list[QueuedAlert]:
    """Place every matched item in its story and queue the messages its alerts owe."""
    queued: list[QueuedAlert] = []
    for entry in sorted(matched, key=lambda m: (m.at, m.item.key)):
        if entry.features.opinion:
            if not entry.matches:
                continue  # it would only have confirmed a story, and opinion confirms none
            log.info(
                "opinion piece, not a report: no story, no alert: %r",
                entry.item.title,
                extra={"feed": feed.name},
            )
            continue
        placed = place(store, entry, now)
        if placed is None:
            continue
        story, assignment = placed
        # The report's own scopes, and every alert the story has: one more source concerns them
        # all, whichever rules this report's words happened to match.
        scopes = dict.fromkeys(_scope(rulebook, m.rule.id) for m in entry.matches)
        scopes.update(dict.fromkeys(scope for _id, scope, _state in store.story_alerts(story.id)))
        reports = store.story_hits(story.id)  # read once: every scope decides on the same reports
        for scope in scopes:
            message = _advance(store, rulebook, story, reports, scope, entry, now, feed)
            if message is not None:
                plans = plans_for(message, routes, now)
                queue = QueuedAlert(message, plans, rulebook.cooldowns.get(message.rule.id))
                store.queue(queue, now)
                queued.append(queue)
        if assignment.story_id is not None:
            log.debug(
                "%r joined story %s (score %.2f, source %s)",
                entry.item.title,
                story.id,
                assignment.score,
                assignment.source,
                extra={"feed": feed.name},
            )
    return queued


def _advance(
    store: Store,
    rulebook: Rulebook,
    story: StoryRow,
    reports: list[Report],
    scope: str,
    entry: Matched,
    now: float,
    feed: FeedSettings,
) -> Alert | None:
    """Decide and record one alert's next state; the message to send, if any."""
    hits = _hits(rulebook, story, reports, scope)
    if not hits:
        return None
    the_id = alert_id(scope, story.id)
    previous = store.alert_state(the_id)
    decision = lifecycle.decide(previous, hits, story.sources)
    if decision is None:
        return None
    store.save_alert_state(the_id, story.id, scope, decision.state, now)
    if decision.event is None:
        if decision.state.version == 0 and previous is None:
            log.info(
                "story %s held: rule %s waits for more independent sources (%d so far)",
                story.id,
                decision.state.rule,
                story.sources,
                extra={"feed": feed.name, "rule": decision.state.rule},
            )
        return None
    state = decision.state
    top = rulebook.by_id[state.rule]
    ladder = rulebook.ladder_of.get(state.rule)
    escalation = None
    ladder_info = None
    if ladder is not None and state.rung is not None:
        rose = previous is None or previous.version == 0 or state.rung > (previous.rung or 0)
        if rose:
            recent = store.ladder_highest(ladder.id, entry.at - ladder.step_up_window, story.id)
            if lifecycle.is_step_up(state.rung, recent):
                escalation = "step_up"
        store.mark_ladder(ladder.id, story.id, state.rung, state.rule, entry.at)
        ladder_info = LadderInfo(ladder.id, ladder.title, state.rung, ladder.top)
    # The words shown are those of the top rule when this report matched it, else of every
    # rule this report matched (an update may come from a report that matched a lower rung).
    own = [m for m in entry.matches if m.rule.id == state.rule] or list(entry.matches)
    matched_words = tuple(dict.fromkeys(w for m in own for w in m.matched))
    patterns = tuple(dict.fromkeys(p for m in own for p in m.patterns))
    if not own:  # a report that matched no rule confirms the words earlier reports matched
        earlier = [
            hit.get("matched")
            for _at, _src, hits in reports
            for hit in hits
            if hit["rule"] == state.rule
        ]
        matched_words = tuple(
            dict.fromkeys(str(w) for words in earlier if isinstance(words, list) for w in words)
        )
    return Alert(
        id=the_id,
        rule=replace(top.info, severity=state.severity),
        item=entry.item,
        matched=matched_words,
        patterns=patterns,
        detected_at=datetime.fromtimestamp(now, UTC),
        values=dict(state.values),
        feed_tags=feed.tags,
        event=decision.event,
        version=state.version,
        story=_story_info(store, story),
        rules=state.rules,
        ladder=ladder_info,
        escalation=escalation,
        changes=decision.changes,
    )
