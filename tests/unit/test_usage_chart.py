"""/quota usage: spending per day by member, and the PNG drawn from it."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

from PIL import Image

from bot.quota.usage import DAY_S, Spend, Usage, UsagePeriod, aggregate, chart_window
from bot.quota.usage_chart import COLOURS, HEIGHT, OTHERS, WIDTH, nice_ceiling, render
from bot.states import BudgetPeriod

NOW = datetime(2026, 11, 30, 16, 0, tzinfo=UTC).timestamp()
NOV_1 = datetime(2026, 11, 1, tzinfo=UTC).timestamp()


def test_windows_follow_the_budget_period() -> None:
    month = chart_window(BudgetPeriod.MONTH, UsagePeriod.CURRENT, NOW)
    assert (month.start, month.end) == (NOV_1, datetime(2026, 12, 1, tzinfo=UTC).timestamp())
    before = chart_window(BudgetPeriod.MONTH, UsagePeriod.PREVIOUS, NOW)
    assert (before.start, before.end) == (datetime(2026, 10, 1, tzinfo=UTC).timestamp(), NOV_1)
    week = chart_window(BudgetPeriod.WEEK, UsagePeriod.CURRENT, NOW)
    assert week.start == datetime(2026, 11, 30, tzinfo=UTC).timestamp()  # a Monday
    # Daily and never-resetting budgets: recent days, ending with today.
    days = chart_window(BudgetPeriod.DAY, UsagePeriod.CURRENT, NOW)
    assert days.end == datetime(2026, 12, 1, tzinfo=UTC).timestamp()
    assert days.end - days.start == 7 * DAY_S
    earlier = chart_window(BudgetPeriod.DAY, UsagePeriod.PREVIOUS, NOW)
    assert earlier.end == days.start
    total = chart_window(BudgetPeriod.NONE, UsagePeriod.CURRENT, NOW)
    assert total.end is not None and total.end - total.start == 30 * DAY_S


def test_top_members_and_others_per_day() -> None:
    window = chart_window(BudgetPeriod.MONTH, UsagePeriod.CURRENT, NOW)
    entries = [
        Spend(1, 20, NOV_1 + 10),
        Spend(1, 20, NOV_1 + DAY_S + 10),
        Spend(1, -20, NOV_1 + DAY_S + 10),  # refunded: lands on the day it was charged
        Spend(2, 30, NOV_1 + 2 * DAY_S),
        Spend(3, 5, NOV_1 + 2 * DAY_S),
        Spend(4, 5, NOV_1 + 29 * DAY_S + 86399),
        Spend(5, 20, NOV_1 - 1),  # October: not drawn
        Spend(6, 0, NOV_1),  # nothing spent: not a series
    ]
    usage = aggregate(
        entries, window, budget=300, budget_period=BudgetPeriod.MONTH, resets_at=None, top=2
    )
    assert len(usage.days) == 30 and usage.days[0] == date(2026, 11, 1)
    assert [s.user_id for s in usage.series] == [2, 1, None]
    assert usage.series[1].per_day[:3] == (20, 0, 0)
    others = usage.series[2].per_day
    assert others[2] == 5 and others[29] == 5 and sum(others) == 10
    assert usage.total == 60 and usage.per_day[2] == 35


def test_axis_maximum_is_a_round_number() -> None:
    assert [nice_ceiling(v) for v in (0, 1, 7, 13, 126, 3150)] == [10, 1, 10, 20, 200, 5000]


def sample(period: BudgetPeriod) -> Usage:
    window = chart_window(period, UsagePeriod.CURRENT, NOW)
    entries = [
        Spend(user, 20, window.start + n * 0.37 * DAY_S)
        for n in range(60)
        for user in ((n % 7) + 1,)
        if window.start + n * 0.37 * DAY_S < NOW
    ]
    return aggregate(entries, window, budget=600, budget_period=period, resets_at=None)


def decode(png: bytes) -> Image.Image:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    image = Image.open(io.BytesIO(png))
    image.load()
    return image.convert("RGB")


def test_the_png_has_its_size_and_shows_every_series() -> None:
    for period in (BudgetPeriod.MONTH, BudgetPeriod.DAY, BudgetPeriod.NONE):
        usage = sample(period)
        labels = [f"member {s.user_id}" if s.user_id else "others" for s in usage.series]
        image = decode(render(usage, labels, title="A server", subtitle="budget 600"))
        assert image.size == (WIDTH, HEIGHT)
        colours = {colour for _, colour in image.getcolors(maxcolors=WIDTH * HEIGHT) or []}
        assert len(colours) > 50  # text, bars, lines: not a blank card
        # Every member's colour, and the grey of "others", is really painted.
        assert set(COLOURS) <= colours and OTHERS in colours
        # The card is opaque and dark, the text light: readable on both Discord themes.
        assert image.getpixel((2, 2)) == (43, 45, 49)


def test_an_empty_period_still_draws_a_chart() -> None:
    window = chart_window(BudgetPeriod.WEEK, UsagePeriod.CURRENT, NOW)
    usage = aggregate([], window, budget=100, budget_period=BudgetPeriod.WEEK, resets_at=None)
    image = decode(render(usage, [], title="Quiet server", subtitle="nothing yet"))
    assert image.size == (WIDTH, HEIGHT)
    assert len(image.getcolors(maxcolors=WIDTH * HEIGHT) or []) > 10
