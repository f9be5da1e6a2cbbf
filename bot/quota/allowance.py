"""The owner's allowance of a server: the most its moderators may budget.

How periods compare. A budget of B per `budget_period` fits an allowance of A per
`allowance_period` when the most that budget lets the server spend inside one allowance
period is at most A:

- a budget period as long as the allowance's, or longer (`none` is the longest): the whole
  budget can be spent in one allowance period, so B <= A (a budget of 500 in total, `none`,
  against an allowance of 300 per month is refused: all 500 could go in one month);
- a shorter budget period repeats inside the allowance's: B times the most budget periods one
  allowance period touches (7 days in a week, 31 days or 6 ISO weeks in a month) must be at
  most A (10 per day fits 310 per month, 11 per day does not); against an allowance of `none`
  (a total that never resets) only a budget of `none` can fit.

The allowance is also checked at every reservation, against what the server spent in the
allowance's own period (reserves less releases; a moderator's reset does not forgive it), so
neither a reset nor an allowance lowered below a budget lets a server spend past it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.states import BudgetPeriod
from bot.store.allowances import StoredAllowance

# The largest allowance, budget or limit the commands take.
MAX_CREDITS = 10_000_000

_LENGTH = {BudgetPeriod.DAY: 1, BudgetPeriod.WEEK: 2, BudgetPeriod.MONTH: 3, BudgetPeriod.NONE: 4}
# The most periods of the first kind that one period of the second kind overlaps.
_REPEATS = {
    (BudgetPeriod.DAY, BudgetPeriod.WEEK): 7,
    (BudgetPeriod.DAY, BudgetPeriod.MONTH): 31,
    (BudgetPeriod.WEEK, BudgetPeriod.MONTH): 6,
}


class Source(StrEnum):
    OWNER = "set by the owner"
    UPGRADE = "kept from the server's budget at the upgrade"
    DEFAULT = "default"


@dataclass(frozen=True, slots=True)
class Allowance:
    amount: int
    period: BudgetPeriod
    source: Source

    def describe(self) -> str:
        per = "in total" if self.period == BudgetPeriod.NONE else f"per {self.period}"
        return f"{self.amount} credits {per}"


def most_spent_within(amount: int, period: BudgetPeriod, within: BudgetPeriod) -> int | None:
    """The most a budget of `amount` per `period` can spend inside one `within` period; None
    when there is no bound (a resetting budget against a total that never resets)."""
    if amount == 0 or _LENGTH[period] >= _LENGTH[within]:
        return amount
    if within == BudgetPeriod.NONE:
        return None
    return amount * _REPEATS[(period, within)]


def fits(amount: int, period: BudgetPeriod, allowance: Allowance) -> bool:
    most = most_spent_within(amount, period, allowance.period)
    return most is not None and most <= allowance.amount


def effective(stored: StoredAllowance | None, default: Allowance) -> Allowance:
    """The allowance that applies: the owner's, else the default; one kept from a budget at
    the upgrade applies unless the default is at least as generous (then the default does,
    as for any server: what the server's budget lets it spend does not change either way)."""
    if stored is None:
        return default
    if stored.set_by is not None:
        return Allowance(stored.amount, stored.period, Source.OWNER)
    kept = Allowance(stored.amount, stored.period, Source.UPGRADE)
    return default if fits(kept.amount, kept.period, default) else kept
