"""The escalation trend of one ladder, pure: per UTC day over the last 30, the highest rung a
story reached and how many stories reached a rung, laid out as SVG shapes the page draws.

Rendered on the server, so the chart needs no script and no library, and reads the same in a
feed reader, a phone or a text browser (the template also gives it as a table).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

DAYS = 30
WIDTH, HEIGHT = 600, 170  # the SVG's coordinate box; CSS scales it to the page
LEFT, RIGHT, TOP, BOTTOM = 34, 30, 10, 24  # room for the rung axis, count axis and dates


@dataclass(frozen=True)
class Day:
    """One UTC day: the highest rung reached (None: no story on the ladder) and the stories."""

    day: date
    rung: int | None
    stories: int


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str


@dataclass(frozen=True)
class Dot:
    x: float
    y: float
    label: str
    day: str  # ISO date


@dataclass(frozen=True)
class Chart:
    """What the template draws: stories as bars, the highest rung as a line with dots."""

    days: tuple[Day, ...]
    rungs: int
    bars: tuple[Bar, ...]
    dots: tuple[Dot, ...]
    line: str  # SVG path data through the days that had a rung; a gap where none
    rung_ticks: tuple[tuple[float, int], ...]  # (y, rung)
    date_ticks: tuple[tuple[float, str], ...]  # (x, "Nov 3")
    most: int  # the most stories in one day, the top of the count axis
    width: int = WIDTH
    height: int = HEIGHT

    @property
    def today(self) -> Day:
        return self.days[-1]


def last_days(rows: Iterable[tuple[int, int, int]], now: float, days: int = DAYS) -> list[Day]:
    """The last `days` UTC days up to today from (epoch day, highest rung, stories) rows."""
    found = {day: (rung, stories) for day, rung, stories in rows}
    today = int(now // 86400)
    epoch = datetime(1970, 1, 1, tzinfo=UTC).date()
    out = []
    for number in range(today - days + 1, today + 1):
        rung, stories = found.get(number, (None, 0))
        out.append(Day(epoch + timedelta(days=number), rung, stories))
    return out


def chart(days: list[Day], rungs: int) -> Chart:
    """Lay `days` out: x by day, the rung on the left axis (1..rungs), stories on the right."""
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    step = plot_w / len(days)
    most = max([d.stories for d in days] + [1])
    top_rung = max([rungs] + [d.rung or 0 for d in days] + [1])

    def x_of(index: int) -> float:
        return round(LEFT + step * index + step / 2, 1)

    def y_of_rung(rung: int) -> float:
        return round(TOP + plot_h - plot_h * rung / top_rung, 1)

    bars = []
    dots = []
    segments: list[str] = []
    drawing = False
    for index, day in enumerate(days):
        label = f"{day.day:%b %d}: {day.stories} stor{'y' if day.stories == 1 else 'ies'}"
        if day.stories:
            height = round(plot_h * day.stories / most, 1)
            bars.append(
                Bar(
                    round(x_of(index) - step * 0.35, 1),
                    round(TOP + plot_h - height, 1),
                    round(step * 0.7, 1),
                    height,
                    label,
                )
            )
        if day.rung is None:
            drawing = False
            continue
        x, y = x_of(index), y_of_rung(day.rung)
        segments.append(f"{'L' if drawing else 'M'}{x},{y}")
        drawing = True
        dot_label = f"{day.day:%b %d}: highest rung {day.rung} of {rungs}"
        dots.append(Dot(x, y, dot_label, day.day.isoformat()))
    rung_ticks = tuple((y_of_rung(r), r) for r in range(1, top_rung + 1))
    date_ticks = tuple((x_of(i), f"{days[i].day:%b %d}") for i in range(len(days) - 1, -1, -7))[
        ::-1
    ]
    return Chart(
        tuple(days),
        rungs,
        tuple(bars),
        tuple(dots),
        " ".join(segments),
        rung_ticks,
        date_ticks,
        most,
    )
