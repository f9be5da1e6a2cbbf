"""What `/quota usage` draws: a server's spending per day in a period, by member.

Spending is the ledger's reservations minus its releases (a refund lands on the day of the
charge it returns), attributed to the member who asked. The members who spent most get a
series each; everyone else is summed as "others", so the picture stays readable in a large
server.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum

from bot.periods import Window, current_window
from bot.states import BudgetPeriod

TOP_MEMBERS = 5
DAY_S = 86400.0
# A budget that never resets (or resets daily) has no period to draw: show recent days.
RECENT_DAYS = {BudgetPeriod.NONE: 30, BudgetPeriod.DAY: 7}


class UsagePeriod(StrEnum):
    CURRENT = "current"
    PREVIOUS = "previous"


@dataclass(frozen=True, slots=True)
class Spend:
    """One ledger step as the chart sees it: who, how much (negative for a release), when."""

    user_id: int | None
    amount: int
    charged_at: float


@dataclass(frozen=True, slots=True)
class Series:
    user_id: int | None  # None: "others"
    per_day: tuple[int, ...]

    @property
    def total(self) -> int:
        return sum(self.per_day)


@dataclass(frozen=True, slots=True)
class Usage:
    days: tuple[date, ...]
    series: tuple[Series, ...]  # the biggest spender first; "others" last
    budget: int
    budget_period: BudgetPeriod
    spent_before: int  # spending in the budget period before the first day drawn
    resets_at: datetime | None

    @property
    def per_day(self) -> tuple[int, ...]:
        return tuple(sum(day) for day in zip(*(s.per_day for s in self.series), strict=True))

    @property
    def total(self) -> int:
        return sum(self.per_day)


def chart_window(budget_period: BudgetPeriod, which: UsagePeriod, now: float) -> Window:
    """The days to draw: the budget period (this one or the one before), or recent days when
    the budget resets daily or never."""
    days = RECENT_DAYS.get(budget_period)
    if days is not None:
        today = current_window(BudgetPeriod.DAY, now)
        assert today.end is not None
        end = today.end if which == UsagePeriod.CURRENT else today.end - days * DAY_S
        return Window(end - days * DAY_S, end)
    window = current_window(budget_period, now)
    if which == UsagePeriod.PREVIOUS:
        window = current_window(budget_period, window.start - 1)
    return window


def aggregate(
    entries: Iterable[Spend],
    window: Window,
    *,
    budget: int,
    budget_period: BudgetPeriod,
    resets_at: datetime | None,
    spent_before: int = 0,
    top: int = TOP_MEMBERS,
) -> Usage:
    assert window.end is not None
    first = datetime.fromtimestamp(window.start, UTC).date()
    count = round((window.end - window.start) / DAY_S)
    days = tuple(first + timedelta(days=n) for n in range(count))
    by_member: dict[int | None, list[int]] = defaultdict(lambda: [0] * count)
    for entry in entries:
        index = int((entry.charged_at - window.start) // DAY_S)
        if 0 <= index < count:
            by_member[entry.user_id][index] += entry.amount
    ranked = sorted(by_member.items(), key=lambda item: (-sum(item[1]), item[0] or 0))
    spenders = [(user, days_) for user, days_ in ranked if any(days_)]
    series = [Series(user, tuple(per_day)) for user, per_day in spenders[:top]]
    rest = spenders[top:]
    if rest:
        others = tuple(sum(day) for day in zip(*(per_day for _, per_day in rest), strict=True))
        series.append(Series(None, others))
    return Usage(
        days=days,
        series=tuple(series),
        budget=budget,
        budget_period=budget_period,
        spent_before=spent_before,
        resets_at=resets_at,
    )
