"""Upgrading to the schema with allowances (migration 0013) never raises what a server could
spend: on both engines, from a schema-0012 database with big, small and odd budgets."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.errors import QuotaRefused
from bot.quota.admin import QuotaAdmin
from bot.quota.allowance import Source, fits
from bot.quota.costs import CostTable
from bot.quota.ledger import Quota
from bot.states import BudgetPeriod
from bot.store import ledger as ledger_sql
from bot.store.database import Database
from bot.store.jobs import NewJob
from tests.helpers import Clock

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC).timestamp()
BIG, SMALL, DAILY, UNSET = 1, 2, 3, 4
# (server, budget, period) as moderators left them before the upgrade.
BUDGETS = [
    (BIG, 10_000_000, "none"),
    (SMALL, 50, "month"),
    (DAILY, 20, "day"),  # neither fits the default (300 a month) nor the default it
]


def job(guild: int, cost: int) -> NewJob:
    return NewJob(
        guild_id=guild, channel_id=1, user_id=7, operation="create_music", request={},
        summary="s", cost=cost,
    )  # fmt: skip


async def old_database(target: Path | str) -> Database:
    """A database as the release before allowances left it (schema 0012). Its entries are
    written at schema 0007, so that migration 0008 totals them as it did then."""
    db = await Database.open(target, up_to=7)
    async with db.transaction() as conn:
        await conn.executemany(
            """INSERT INTO guild_settings (guild_id, budget, budget_period, updated_at, updated_by)
               VALUES (?, ?, ?, ?, 9)""",
            [(guild, amount, period, NOW - 100) for guild, amount, period in BUDGETS],
        )
    # The big server spent 60, which a moderator's reset then forgave (before resets named
    # their period).
    async with db.transaction() as conn:
        for kind, user in (("reserve", 7), ("reset", None)):
            await conn.execute(
                """INSERT INTO ledger (guild_id, user_id, kind, amount, charged_at, created_at,
                                       member_share) VALUES (?, ?, ?, 60, ?, ?, 1)""",
                (BIG, user, kind, NOW - 50, NOW - 50),
            )
    await db.migrate(up_to=12)
    return db


async def test_an_upgrade_keeps_every_server_within_what_it_could_spend(
    db_target: Path | str,
) -> None:
    db = await old_database(db_target)
    try:
        assert 13 in await db.migrate()
        q = Quota(
            db, CostTable(), default_budget=300, default_period=BudgetPeriod.MONTH,
            clock=Clock(NOW),
        )  # fmt: skip
        admin = QuotaAdmin(q)
        async with db.read() as conn:
            assert await ledger_sql.check_totals(conn) == {}
            allowances = {guild: await q.allowance(conn, guild) for guild in (*dict.fromkeys(
                g for g, _, _ in BUDGETS), UNSET)}  # fmt: skip
        # Every budget still fits its allowance: nothing a server had stops working ...
        for guild, amount, period in BUDGETS:
            assert fits(amount, BudgetPeriod(period), allowances[guild])
        # ... and the allowance is the old budget where that was above the default.
        assert (allowances[BIG].amount, allowances[BIG].period) == (10_000_000, "none")
        assert allowances[BIG].source == Source.UPGRADE
        assert (allowances[DAILY].amount, allowances[DAILY].period) == (20, "day")
        assert allowances[SMALL].source == allowances[UNSET].source == Source.DEFAULT

        # No moderator can budget past max(what they had, the default) ...
        for guild, amount, period in [
            (BIG, 10_000_001, BudgetPeriod.NONE),
            (SMALL, 301, BudgetPeriod.MONTH),
            (DAILY, 21, BudgetPeriod.DAY),
            (DAILY, 300, BudgetPeriod.MONTH),  # 300 in one day, where 20 was the most
            (UNSET, 301, BudgetPeriod.MONTH),
        ]:
            with pytest.raises(QuotaRefused) as caught:
                await admin.set_budget(guild, amount, period, moderator_id=9)
            assert caught.value.limit == "owner's allowance"
        # ... and the big server cannot spend more than before: the 60 it spent count against
        # its allowance (the old reset does not), whatever a moderator resets now.
        await admin.reset(BIG, None, moderator_id=9)
        await q.reserve(job(BIG, 10_000_000 - 60))
        with pytest.raises(QuotaRefused) as caught:
            await q.reserve(job(BIG, 1))
        assert caught.value.limit in ("owner's allowance", "server budget")
        await admin.reset(BIG, None, moderator_id=9)  # the budget is free; the allowance not
        with pytest.raises(QuotaRefused) as caught:
            await q.reserve(job(BIG, 1))
        assert caught.value.limit == "owner's allowance"
        with pytest.raises(QuotaRefused):
            await q.reserve(job(SMALL, 51))  # its own budget still binds
    finally:
        await db.close()
