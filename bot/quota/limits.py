"""Every limit a request must pass, as one pure function over a snapshot of the server.

The snapshot is read inside the reservation's transaction, so the checks and the reservation
see the same numbers no matter how many commands arrive at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.errors import QuotaRefused
from bot.periods import Window
from bot.quota.allowance import Allowance
from bot.store.settings import GuildSettings

PERIOD_ADJECTIVE = {"day": "daily", "week": "weekly", "month": "monthly", "none": "total"}


@dataclass(frozen=True, slots=True)
class Standing:
    """Where a server (and one member in it) stands right now."""

    settings: GuildSettings
    window: Window
    server_spent: int
    member_id: int | None = None
    member_spent: int = 0
    member_limit: int | None = None  # None: no personal limit, only the server budget
    member_grants: int = 0
    member_active: int = 0
    server_active: int = 0
    blocked: bool = False
    allowed_channels: tuple[int, ...] = ()
    # The owner's ceiling on the server, and what it spent against it in the allowance's own
    # period (no reset forgives that).
    allowance: Allowance | None = None
    allowance_window: Window | None = None
    allowance_spent: int = 0

    @property
    def resets_at(self) -> datetime | None:
        return self.window.resets_at

    @property
    def server_remaining(self) -> int:
        return max(0, self.settings.budget - self.server_spent)

    @property
    def member_allowance(self) -> int | None:
        if self.member_limit is None:
            return None
        return self.member_limit + self.member_grants

    @property
    def member_remaining(self) -> int | None:
        allowance = self.member_allowance
        return None if allowance is None else max(0, allowance - self.member_spent)

    @property
    def allowance_remaining(self) -> int | None:
        if self.allowance is None:
            return None
        return max(0, self.allowance.amount - self.allowance_spent)


@dataclass(frozen=True, slots=True)
class Spendable:
    """The most one more reservation could cost now, and the limit that sets it."""

    amount: int
    limit: str  # a QuotaRefused limit name: the one a larger request would be refused by


def spendable(standing: Standing, daily_cap_left: int | None = None) -> Spendable:
    """The tightest of the limits `check` holds a member's request to: their own limit, the
    server budget, the owner's allowance and the bot-wide daily cap (when one is set). The
    first named wins a tie, in the order `check` refuses by."""
    candidates = [
        ("member limit", standing.member_remaining),
        ("server budget", standing.server_remaining),
        ("owner's allowance", standing.allowance_remaining),
        ("owner's daily cap", daily_cap_left),
    ]
    best: Spendable | None = None
    for limit, amount in candidates:
        if amount is not None and (best is None or amount < best.amount):
            best = Spendable(amount, limit)
    assert best is not None  # the server budget always counts
    return best


def describe_reset(resets_at: datetime | None) -> str:
    if resets_at is None:
        return "This budget does not reset; a moderator can raise it with `/quota budget`."
    stamp = int(resets_at.timestamp())
    return f"It resets <t:{stamp}:R> (<t:{stamp}:f>)."


def check_standing(standing: Standing, channel_id: int, *, member_checks: bool = True) -> None:
    """The standing checks: the block list, the channel allow-list and the concurrency caps,
    which do not depend on what a request costs. Every command runs them (a reservation as
    part of `check`; a free repeat and a file read before anything is fetched, through
    `Quota.check_standing`), so the rules exist once. Raises QuotaRefused."""
    settings = standing.settings
    if member_checks and standing.blocked:
        raise QuotaRefused("block list", "A moderator has blocked you from making songs here.")
    if standing.allowed_channels and channel_id not in standing.allowed_channels:
        where = ", ".join(f"<#{c}>" for c in standing.allowed_channels)
        raise QuotaRefused("channel allow-list", f"Songs can be made in {where} only.")
    if member_checks and settings.member_jobs_cap is not None:
        if standing.member_active >= settings.member_jobs_cap:
            raise QuotaRefused(
                "songs in progress per member",
                f"You already have {standing.member_active} song(s) in progress, the most a "
                f"member may have at once ({settings.member_jobs_cap}). Try again when one "
                "finishes.",
            )
    if settings.server_jobs_cap is not None and standing.server_active >= settings.server_jobs_cap:
        raise QuotaRefused(
            "songs in progress per server",
            f"This server already has {standing.server_active} song(s) in progress, its limit "
            f"({settings.server_jobs_cap}). Try again when one finishes (see `/queue`).",
        )


def check(standing: Standing, cost: int, channel_id: int, *, member_checks: bool = True) -> None:
    """Raise QuotaRefused naming the first limit the request would break."""
    check_standing(standing, channel_id, member_checks=member_checks)
    settings = standing.settings
    period = PERIOD_ADJECTIVE.get(settings.budget_period, settings.budget_period)
    remaining = standing.member_remaining
    if member_checks and remaining is not None and cost > remaining:
        raise QuotaRefused(
            "member limit",
            f"That costs {cost} credits and your {period} limit has {remaining} of "
            f"{standing.member_allowance} left. {describe_reset(standing.resets_at)}",
            standing.resets_at,
        )
    if standing.server_spent + cost > settings.budget:
        raise QuotaRefused(
            "server budget",
            f"This server's {period} budget can't cover that: it costs {cost} credits and "
            f"{standing.server_remaining} of {settings.budget} are left. "
            f"{describe_reset(standing.resets_at)}",
            standing.resets_at,
        )
    allowance = standing.allowance
    if allowance is not None and standing.allowance_spent + cost > allowance.amount:
        resets_at = standing.allowance_window.resets_at if standing.allowance_window else None
        when = (
            "It does not reset; only the bot's owner can raise it."
            if resets_at is None
            else f"It resets <t:{int(resets_at.timestamp())}:R>."
        )
        raise QuotaRefused(
            "owner's allowance",
            f"This server has reached the allowance the bot's owner set for it "
            f"({allowance.describe()}): it costs {cost} credits and "
            f"{max(0, allowance.amount - standing.allowance_spent)} are left. {when}",
            resets_at,
        )
