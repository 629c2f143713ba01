"""The silence and cooldown decision, as a pure function: what is sent, what is kept back and
why, and which alert starts the next cooldown, for any order and timing of alerts."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from monitor.models import Alert, Item, RuleInfo, Severity
from monitor.noise import Cooldown, Silence, decide

LENGTH = 600.0


def alert(key: str, severity: Severity = Severity.HIGH, feed: str = "wire") -> Alert:
    return Alert(
        id=f"alert_{key}",
        rule=RuleInfo("bombers", "Bombers", severity),
        item=Item(feed=feed, key=key, title=key, link="https://x/"),
        matched=("bomber",),
        detected_at=datetime(2026, 11, 20, tzinfo=UTC),
    )


def test_a_silence_keeps_an_alert_back_without_starting_a_cooldown() -> None:
    """The silenced alert names its silence; the next alert after the silence is sent."""
    silence = Silence(7, "bombers", None, 0.0, 2000.0, "drill")
    held = decide(alert("a"), [silence], None, LENGTH, 1000.0)
    assert (held.status, held.reason, held.starts) == ("silenced", silence.describe(), None)
    assert decide(alert("b"), [], None, LENGTH, 2000.0).status == "pending"


def test_a_silence_on_another_feed_does_not_apply() -> None:
    silence = Silence(7, "bombers", "desk", 0.0, 2000.0)
    assert decide(alert("a"), [silence], None, None, 1000.0).status == "pending"


def test_without_a_cooldown_every_alert_goes_and_none_starts_one() -> None:
    started = Cooldown("bombers", 990.0, Severity.CRITICAL, "alert_z")
    decision = decide(alert("a"), [], started, None, 1000.0)
    assert (decision.status, decision.starts) == ("pending", None)


@given(
    st.lists(
        st.tuples(st.floats(0, 2000), st.sampled_from([Severity.LOW, Severity.HIGH])),
        min_size=1,
        max_size=30,
    )
)
def test_a_cooldown_lets_through_what_it_should_and_only_that(
    arrivals: list[tuple[float, Severity]],
) -> None:
    """Alerts in time order, the state carried from one decision to the next as the store does:
    a sent alert is one that is more severe than the cooldown's, or comes when it is over; every
    sent alert starts the next cooldown, and a held one names the alert that started it."""
    cooldown: Cooldown | None = None
    for n, (now, severity) in enumerate(sorted(arrivals, key=lambda a: a[0])):
        decision = decide(alert(str(n), severity), [], cooldown, LENGTH, now)
        expected_sent = (
            cooldown is None or now >= cooldown.started_at + LENGTH or severity > cooldown.severity
        )
        assert (decision.status == "pending") == expected_sent
        if expected_sent:
            assert decision.starts == Cooldown("bombers", now, severity, f"alert_{n}")
            cooldown = decision.starts
        else:
            assert cooldown is not None
            assert (decision.reason, decision.starts) == (cooldown.describe(), None)
