"""No overspend however many processes: simultaneous reservations on one server, on both
engines, from separate OS processes and from separate connection pools."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.errors import QuotaRefused
from bot.quota.admin import QuotaAdmin
from bot.quota.costs import CostTable
from bot.quota.ledger import Quota
from bot.states import BudgetPeriod
from bot.store import ledger as ledger_sql
from bot.store.database import Database
from bot.store.jobs import NewJob
from tests.store_worker import run_together

GUILD = 424242424242424242
COST = 10
NOW = 1_795_132_800.0


def quota(db: Database, budget: int) -> Quota:
    return Quota(
        db, CostTable(), default_budget=budget, default_period=BudgetPeriod.MONTH,
        clock=lambda: NOW,
    )  # fmt: skip


def new_job(user: int) -> NewJob:
    return NewJob(
        guild_id=GUILD, channel_id=1, user_id=user, operation="create_music", request={},
        summary="race", cost=COST,
    )  # fmt: skip


@pytest.mark.e2e  # starts a process
async def test_three_processes_of_twenty_simultaneous_reserves_grant_exactly_k(
    db_target: Path | str,
) -> None:
    k = 7
    migrated = await Database.open(db_target)  # the schema first, so only reserves race
    await migrated.close()
    command = ["reserve", str(db_target), str(GUILD), "20", str(COST), str(k * COST)]
    results = await run_together([command] * 3)
    assert [r["errors"] for r in results] == [[], [], []]
    assert sum(int(r["granted"]) for r in results) == k  # type: ignore[call-overload]
    assert sum(int(r["refused"]) for r in results) == 60 - k  # type: ignore[call-overload]
    db = await Database.open(db_target)
    try:
        async with db.read() as conn:
            cursor = await conn.execute(
                "SELECT count(*), sum(amount) FROM ledger WHERE kind = 'reserve' AND guild_id = ?",
                (GUILD,),
            )
            assert tuple(await cursor.fetchone()) == (k, k * COST)
            assert await ledger_sql.check_totals(conn) == {}
    finally:
        await db.close()


async def _open_three(db_target: Path | str) -> list[Database]:
    """Three databases on one target: three pools (PostgreSQL) or connections (SQLite)."""
    return [await Database.open(db_target, pool_size=4) for _ in range(3)]


async def _race(quotas: list[Quota], jobs: list[NewJob]) -> list[object]:
    return list(
        await asyncio.gather(
            *(quotas[n % len(quotas)].reserve(job) for n, job in enumerate(jobs)),
            return_exceptions=True,
        )
    )


async def test_a_member_limit_holds_across_pools(db_target: Path | str) -> None:
    dbs = await _open_three(db_target)
    try:
        quotas = [quota(db, budget=10_000) for db in dbs]
        await QuotaAdmin(quotas[0]).set_member_limit(GUILD, 1, 3 * COST, moderator_id=9)
        results = await _race(quotas, [new_job(user=1) for _ in range(15)])
        refusals = [r for r in results if isinstance(r, QuotaRefused)]
        assert sum(isinstance(r, int) for r in results) == 3
        assert len(refusals) == 12 and {r.limit for r in refusals} == {"member limit"}
    finally:
        for db in dbs:
            await db.close()


async def test_concurrency_caps_hold_across_pools(db_target: Path | str) -> None:
    dbs = await _open_three(db_target)
    try:
        quotas = [quota(db, budget=10_000) for db in dbs]
        await QuotaAdmin(quotas[0]).set_concurrency(GUILD, 2, 5, moderator_id=9)
        # One member asks 9 times at once: the per-member cap lets 2 through.
        same_member = await _race(quotas, [new_job(user=1) for _ in range(9)])
        assert sum(isinstance(r, int) for r in same_member) == 2
        # Twelve members at once: the server has room for 3 more of its 5.
        many = await _race(quotas, [new_job(user=100 + n) for n in range(12)])
        refusals = [r for r in many if isinstance(r, QuotaRefused)]
        assert sum(isinstance(r, int) for r in many) == 3
        assert {r.limit for r in refusals} == {"songs in progress per server"}
    finally:
        for db in dbs:
            await db.close()
