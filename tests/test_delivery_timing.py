"""When a delivery may go out: group windows, daily digests and quiet hours, from config to plan."""

from __future__ import annotations

from datetime import UTC, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from monitor.config import Route, parse_config
from monitor.errors import ConfigError
from monitor.models import Alert, Item, RuleInfo, Severity
from monitor.noise import QuietHours, hold_for
from monitor.routing import plans_for

BERLIN = ZoneInfo("Europe/Berlin")
NIGHT = QuietHours(time(22), time(7), BERLIN, pierce=Severity.CRITICAL)


def at(text: str, zone: ZoneInfo = BERLIN) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=zone).timestamp()


class TestQuietHours:
    def test_an_alert_at_night_waits_for_the_morning(self) -> None:
        """22:00-07:00 Berlin: an alert at 23:30 is held until 07:00 the next day, Berlin time."""
        hold = hold_for(Severity.HIGH, at("2026-11-20T23:30"), quiet=NIGHT)
        assert hold.until == at("2026-11-21T07:00") and hold.group is None

    def test_an_alert_in_the_day_goes_at_once(self) -> None:
        """Outside quiet hours nothing waits."""
        now = at("2026-11-20T12:00")
        assert hold_for(Severity.LOW, now, quiet=NIGHT).until == now

    def test_the_configured_severity_pierces(self) -> None:
        """except_severity: critical lets critical alerts through at night, and only those."""
        now = at("2026-11-21T03:00")
        assert hold_for(Severity.CRITICAL, now, quiet=NIGHT).until == now
        assert hold_for(Severity.HIGH, now, quiet=NIGHT).until == at("2026-11-21T07:00")

    def test_the_end_follows_the_wall_clock_across_a_dst_change(self) -> None:
        """The night Berlin moves to summer time is an hour shorter, and 07:00 is still 07:00."""
        hold = hold_for(Severity.HIGH, at("2026-03-28T23:00"), quiet=NIGHT)
        assert hold.until == at("2026-03-29T05:00", UTC)

    def test_a_daytime_window_does_not_wrap(self) -> None:
        """from 09:00 to 17:00 holds at noon and not in the evening."""
        office = QuietHours(time(9), time(17), UTC)
        assert office.ends_after(at("2026-11-20T12:00", UTC)) == at("2026-11-20T17:00", UTC)
        assert office.ends_after(at("2026-11-20T18:00", UTC)) is None


class TestGroupsAndDigests:
    def test_alerts_in_one_window_share_a_group_released_at_its_end(self) -> None:
        """group: 10m puts 10:01 and 10:09 together, released at 10:10; 10:11 starts another."""
        first = hold_for(Severity.HIGH, at("2026-11-20T10:01", UTC), group=600)
        second = hold_for(Severity.HIGH, at("2026-11-20T10:09", UTC), group=600)
        third = hold_for(Severity.HIGH, at("2026-11-20T10:11", UTC), group=600)
        assert first == second and first.until == at("2026-11-20T10:10", UTC)
        assert third.group != first.group

    def test_a_digest_collects_until_the_next_daily_time(self) -> None:
        """digest 08:00 Berlin: 07:00 goes out the same morning, 09:00 the next one."""
        early = hold_for(Severity.HIGH, at("2026-11-20T07:00"), digest=time(8), zone=BERLIN)
        late = hold_for(Severity.HIGH, at("2026-11-20T09:00"), digest=time(8), zone=BERLIN)
        assert early.until == at("2026-11-20T08:00")
        assert late.until == at("2026-11-21T08:00")
        assert early.group != late.group

    def test_a_group_at_night_becomes_one_morning_message(self) -> None:
        """Grouped alerts held by quiet hours all join the group released when the night ends."""
        holds = {
            hold_for(Severity.HIGH, at(f"2026-11-20T{clock}"), group=600, quiet=NIGHT)
            for clock in ("22:05", "23:59")
        } | {hold_for(Severity.HIGH, at("2026-11-21T04:30"), group=600, quiet=NIGHT)}
        assert len(holds) == 1
        assert holds.pop().until == at("2026-11-21T07:00")


def alert(severity: Severity) -> Alert:
    return Alert(
        id=f"alert_{severity.label}",
        rule=RuleInfo("bombers", "Bombers", severity),
        item=Item(feed="wire", key="k", title="t", link="https://x/"),
        matched=("bomber",),
        detected_at=datetime(2026, 11, 20, tzinfo=UTC),
    )


def test_the_first_route_naming_a_notifier_sets_its_timing() -> None:
    """Critical alerts go at once through an early route; the rest wait for the group window."""
    routes = [
        Route(("pager",), min_severity=Severity.CRITICAL),
        Route(("pager", "desk"), group=600),
    ]
    now = at("2026-11-20T10:01", UTC)
    urgent = {p.notifier: p for p in plans_for(alert(Severity.CRITICAL), routes, now)}
    assert urgent["pager"].hold_until == now and urgent["pager"].group is None
    assert urgent["desk"].group is not None
    [routine] = [p for p in plans_for(alert(Severity.HIGH), routes, now) if p.notifier == "pager"]
    assert routine.hold_until == at("2026-11-20T10:10", UTC)


CONFIG = """\
notifiers:
  - {name: ops, type: log}
routes:
"""


def routes(tmp_path: Path, text: str) -> tuple[Route, ...]:
    return parse_config(CONFIG + text, tmp_path / "config.yaml", env={}).routes


class TestConfig:
    def test_route_timing_keys_are_read(self, tmp_path: Path) -> None:
        """group, digest, timezone and quiet_hours land on the route, unquoted times too."""
        [grouped, digest] = routes(
            tmp_path,
            "  - {notify: [ops], group: 10m}\n"
            "  - notify: [ops]\n"
            "    digest: '08:00'\n"
            "    timezone: Europe/Berlin\n"
            "    quiet_hours: {from: 22:00, to: 07:00, except_severity: critical}\n",
        )
        assert grouped.group == 600 and grouped.digest is None
        assert digest.digest == time(8) and digest.timezone == BERLIN
        assert digest.quiet_hours == NIGHT

    @pytest.mark.parametrize(
        ("route", "message"),
        [
            ("{notify: [ops], timezone: Mars/Olympus}", "unknown time zone 'Mars/Olympus'"),
            ("{notify: [ops], group: 5m, digest: '08:00'}", "not both"),
            ("{notify: [ops], digest: noon}", "time of day"),
            ("{notify: [ops], quiet_hours: {from: '07:00', to: '07:00'}}", "must differ"),
            ("{notify: [ops], quiet_hours: {from: '22:00'}}", "needs 'to'"),
            ("{notify: [ops], quiet_hours: {from: 1, to: 2, until: 3}}", "unknown key 'until'"),
        ],
    )
    def test_mistakes_name_the_line_and_the_value(
        self, tmp_path: Path, route: str, message: str
    ) -> None:
        """A bad timing key stops `check` with file:line and what is wrong."""
        with pytest.raises(ConfigError, match=message) as caught:
            routes(tmp_path, f"  - {route}\n")
        assert str(caught.value).startswith(f"{tmp_path / 'config.yaml'}:4:")
