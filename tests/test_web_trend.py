"""The escalation trend's layout: days, the highest rung per day, stories per day, pure."""

from __future__ import annotations

from datetime import date

from monitor.web.trend import DAYS, HEIGHT, chart, last_days

NOW = 20_000 * 86400 + 3600.0  # 01:00 UTC on epoch day 20,000 (2024-10-04)


def test_thirty_days_end_today_and_missing_days_are_empty() -> None:
    days = last_days([(20_000, 3, 2), (19_990, 1, 1)], NOW)
    assert len(days) == DAYS
    assert days[-1].day == date(2024, 10, 4) and days[-1].rung == 3 and days[-1].stories == 2
    assert days[-11].rung == 1
    assert [d for d in days if d.rung is not None] == [days[-11], days[-1]]


def test_rows_older_than_the_window_are_left_out() -> None:
    days = last_days([(20_000 - DAYS, 5, 9), (20_001, 5, 1)], NOW)
    assert all(d.rung is None and d.stories == 0 for d in days)


def test_a_higher_rung_is_drawn_higher_and_a_gap_breaks_the_line() -> None:
    """Screen y grows downward: rung 4 sits above rung 2; a day without stories starts a new
    segment instead of drawing a line across it."""
    days = last_days([(19_998, 2, 1), (20_000, 4, 2)], NOW)
    drawn = chart(days, rungs=5)
    low, high = drawn.dots
    assert high.y < low.y
    assert drawn.line.count("M") == 2 and "L" not in drawn.line
    assert drawn.today.rung == 4
    assert drawn.dots[-1].label.endswith("highest rung 4 of 5")


def test_bars_scale_to_the_busiest_day() -> None:
    days = last_days([(19_999, 1, 1), (20_000, 2, 4)], NOW)
    drawn = chart(days, rungs=5)
    small, tall = drawn.bars
    assert tall.height == 4 * small.height
    assert all(b.y >= 0 and b.y + b.height <= HEIGHT for b in drawn.bars)
    assert tall.label == "Oct 04: 4 stories"
