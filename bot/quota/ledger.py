"""Credit rules: reserve on submit, commit on success, release on failure.

Reservation is one database transaction that checks the budget, writes the job row and the
reservation together, so any number of simultaneous commands can never overspend. Commit and
release are idempotent per job and exclude each other: a retried or resumed job is charged
once or refunded once, never both and never twice.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from bot.config import BudgetPeriod
from bot.errors import QuotaRefused
from bot.quota.costs import CostTable
from bot.quota.periods import Window, current_window
from bot.store import jobs as job_sql
from bot.store import ledger as ledger_sql
from bot.store.database import Database
from bot.store.jobs import Job, NewJob


@dataclass(frozen=True, slots=True)
class BudgetStatus:
    budget: int
    period: BudgetPeriod
    spent: int
    member_spent: int | None
    window: Window

    @property
    def remaining(self) -> int:
        return max(0, self.budget - self.spent)

    @property
    def resets_at(self) -> datetime | None:
        return self.window.resets_at


def describe_reset(resets_at: datetime | None) -> str:
    if resets_at is None:
        return "This budget does not reset; a moderator can raise it with `/quota budget`."
    stamp = int(resets_at.timestamp())
    return f"It resets <t:{stamp}:R> (<t:{stamp}:f>)."


class Quota:
    def __init__(
        self,
        db: Database,
        costs: CostTable,
        *,
        default_budget: int,
        default_period: BudgetPeriod,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.db = db
        self.costs = costs
        self.default_budget = default_budget
        self.default_period = default_period
        self.clock = clock

    async def _status(
        self, conn: aiosqlite.Connection, guild_id: int, user_id: int | None
    ) -> BudgetStatus:
        settings = await ledger_sql.guild_settings(conn, guild_id)
        budget = settings.budget if settings else self.default_budget
        period: BudgetPeriod = settings.budget_period if settings else self.default_period  # type: ignore[assignment]
        window = current_window(period, self.clock())
        spent = await ledger_sql.spent(conn, guild_id, window.start, window.end)
        member_spent = (
            await ledger_sql.spent(conn, guild_id, window.start, window.end, user_id)
            if user_id is not None
            else None
        )
        return BudgetStatus(budget, period, spent, member_spent, window)

    async def status(self, guild_id: int, user_id: int | None = None) -> BudgetStatus:
        async with self.db.read() as conn:
            return await self._status(conn, guild_id, user_id)

    async def reserve(self, new_job: NewJob) -> int:
        """Write the job and its reservation, or raise QuotaRefused; returns the job id."""
        now = self.clock()
        async with self.db.transaction() as conn:
            status = await self._status(conn, new_job.guild_id, None)
            if status.spent + new_job.cost > status.budget:
                raise QuotaRefused(
                    "server budget",
                    f"This server's {_period_name(status.period)} budget can't cover that: it "
                    f"costs {new_job.cost} credits and {status.remaining} of {status.budget} "
                    f"are left. {describe_reset(status.resets_at)}",
                    status.resets_at,
                )
            job_id = await job_sql.insert(conn, new_job, now)
            await ledger_sql.add(
                conn,
                guild_id=new_job.guild_id,
                user_id=new_job.user_id,
                job_id=job_id,
                kind="reserve",
                amount=new_job.cost,
                operation=new_job.operation,
                charged_at=now,
                now=now,
            )
            return job_id

    async def set_budget(
        self, guild_id: int, amount: int, period: BudgetPeriod, moderator_id: int
    ) -> BudgetStatus:
        now = self.clock()
        async with self.db.transaction() as conn:
            await ledger_sql.set_budget(conn, guild_id, amount, period, moderator_id, now)
            # Written to the ledger too, so the history shows who changed what and when.
            await ledger_sql.add(
                conn,
                guild_id=guild_id,
                kind="setting",
                amount=amount,
                charged_at=now,
                now=now,
                moderator_id=moderator_id,
                note=f"budget {amount} per {period}",
            )
            return await self._status(conn, guild_id, None)


async def commit(conn: aiosqlite.Connection, job: Job, now: float) -> bool:
    """Turn the job's reservation into a charge. Idempotent; refused after a release."""
    return await _settle(conn, job, "commit", now)


async def release(conn: aiosqlite.Connection, job: Job, now: float, reason: str) -> bool:
    """Return the job's reservation. Idempotent; refused after a commit."""
    return await _settle(conn, job, "release", now, note=reason[:500])


async def _settle(
    conn: aiosqlite.Connection, job: Job, kind: str, now: float, note: str | None = None
) -> bool:
    """Close a reservation one way. A job is settled once: commit and release exclude each
    other, and the unique (job_id, kind) index makes a repeat a no-op."""
    kinds = {entry.kind for entry in await ledger_sql.job_entries(conn, job.id)}
    if "reserve" not in kinds or kinds & {"commit", "release"}:
        return False
    return await ledger_sql.add(
        conn,
        guild_id=job.guild_id,
        user_id=job.user_id,
        job_id=job.id,
        kind=kind,
        amount=job.cost,
        operation=job.operation,
        # Charges and refunds land in the period of the reservation, which was written in
        # the same transaction as the job row (so at job.created_at).
        charged_at=job.created_at,
        now=now,
        note=note,
    )


def _period_name(period: BudgetPeriod) -> str:
    return {"day": "daily", "week": "weekly", "month": "monthly", "none": "total"}[period]
