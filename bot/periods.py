"""Budget periods, always computed in UTC so that every process and every member agrees.

A leaf: it imports only `bot.states`, so the store (which files the ledger's running totals by
period) and quota (which checks spending against them) share it without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.states import BudgetPeriod

BUDGET_PERIODS: tuple[BudgetPeriod, ...] = tuple(BudgetPeriod)


@dataclass(frozen=True, slots=True)
class Window:
    """[start, end) of a budget period as unix timestamps; end is None for 'none' (never resets)."""

    start: float
    end: float | None

    @property
    def resets_at(self) -> datetime | None:
        return None if self.end is None else datetime.fromtimestamp(self.end, UTC)


def current_window(period: BudgetPeriod, now: float) -> Window:
    moment = datetime.fromtimestamp(now, UTC)
    if period == BudgetPeriod.NONE:
        return Window(0.0, None)
    if period == BudgetPeriod.DAY:
        start = moment.replace(hour=0, minute=0, second=0, microsecond=0)
        end = start + timedelta(days=1)
    elif period == BudgetPeriod.WEEK:  # ISO weeks start on Monday
        start = (moment - timedelta(days=moment.weekday())).replace(
            hour=0, minute=0, second=0, microsecond=0
        )
        end = start + timedelta(days=7)
    elif period == BudgetPeriod.MONTH:
        start = moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        end = (
            start.replace(year=start.year + 1, month=1)
            if start.month == 12
            else start.replace(month=start.month + 1)
        )
    else:  # pragma: no cover - guarded by config validation
        raise ValueError(f"unknown budget period {period!r}")
    return Window(start.timestamp(), end.timestamp())
