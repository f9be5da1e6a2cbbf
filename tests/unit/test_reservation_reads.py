"""The reservation's one standing read finds what the store's single-purpose reads find, one
by one, on both engines: settings or defaults, the allowance that applies (the owner's, one
kept at the upgrade, the default) with its spending, the budget's and a member's totals and
grants, songs in progress, the block list, channels, member and role limits."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.periods import current_window
from bot.quota.allowance import effective
from bot.quota.costs import CostTable
from bot.quota.ledger import Quota
from bot.quota.limits import Standing
from bot.states import BudgetPeriod
from bot.store import allowances as allowance_sql
from bot.store import jobs as job_sql
from bot.store import ledger as ledger_sql
from bot.store import settings as settings_sql
from bot.store.database import Connection, Database
from bot.store.jobs import NewJob

GUILD = 888_000_000_000_000_001
OTHER = 888_000_000_000_000_002
ROLE = 888_000_000_000_000_007
NOW = 1_795_132_800.0 + 10 * 86400 + 3600


def quota(db: Database) -> Quota:
    return Quota(
        db, CostTable(), default_budget=500, default_period=BudgetPeriod.MONTH,
        clock=lambda: NOW, daily_cap=1000,
    )  # fmt: skip


async def one_by_one(
    q: Quota, conn: Connection, guild: int, user: int | None, roles: tuple[int, ...]
) -> Standing:
    """The standing as the single-purpose store functions read it, one statement each."""
    settings = await settings_sql.get(conn, guild) or replace(q.defaults, guild_id=guild)
    window = current_window(settings.budget_period, NOW)
    totals = await ledger_sql.totals(conn, guild, user, settings.budget_period, window.start)
    allowance = effective(await allowance_sql.get(conn, guild), q.default_allowance)
    allowance_window = current_window(allowance.period, NOW)
    standing = Standing(
        settings=settings, window=window, server_spent=totals.server_spent,
        server_active=await job_sql.count_active(conn, guild),
        allowed_channels=tuple(await settings_sql.allowed_channels(conn, guild)),
        allowance=allowance, allowance_window=allowance_window,
        allowance_spent=await ledger_sql.owner_spent(
            conn, guild, allowance.period, allowance_window.start
        ),
    )  # fmt: skip
    if user is None:
        return standing
    return replace(
        standing, member_id=user, member_spent=totals.member_spent,
        member_limit=await settings_sql.member_limit(conn, guild, user, roles),
        member_grants=totals.member_granted,
        member_active=await job_sql.count_active(conn, guild, user),
        blocked=await settings_sql.is_blocked(conn, guild, user),
    )  # fmt: skip


async def furnish(db: Database, q: Quota) -> None:
    """GUILD: every kind of setting; OTHER: only an allowance kept at the upgrade."""
    for n, user in enumerate((1, 2, 2, 3)):
        job = NewJob(
            guild_id=GUILD, channel_id=4, user_id=user, operation="create_music",
            request={"n": n}, summary="s", cost=7 + n,
        )  # fmt: skip
        await q.reserve(job)
    async with db.transaction() as conn:
        await conn.lock_guild(GUILD)
        await settings_sql.update(
            conn, GUILD, defaults=q.defaults, moderator_id=9, now=NOW, budget=400,
            budget_period=str(BudgetPeriod.WEEK), member_jobs_cap=3, server_jobs_cap=9,
        )  # fmt: skip
        await settings_sql.set_member_limit(conn, GUILD, 2, 60)
        await settings_sql.set_role_limit(conn, GUILD, ROLE, 45)
        await settings_sql.set_role_limit(conn, GUILD, GUILD, 20)  # @everyone
        await settings_sql.set_blocked(conn, GUILD, 3, True, 9, NOW)
        for channel in (6, 4, 5):
            await settings_sql.set_channel_allowed(conn, GUILD, channel, True)
        await allowance_sql.put(conn, GUILD, 90, BudgetPeriod.DAY, 77, NOW)
        await ledger_sql.add(
            conn, guild_id=GUILD, kind="grant", amount=15, charged_at=NOW, now=NOW, user_id=1,
            moderator_id=9,
        )  # fmt: skip
        await ledger_sql.add(
            conn, guild_id=GUILD, kind="reset", amount=5, charged_at=NOW, now=NOW, user_id=2,
            moderator_id=9, period=str(BudgetPeriod.WEEK),
        )  # fmt: skip
        await conn.execute(
            """INSERT INTO guild_allowances (guild_id, amount, period, set_by, set_at)
               VALUES (?, ?, ?, NULL, ?)""",
            (OTHER, 100, str(BudgetPeriod.DAY), NOW),
        )


@pytest.mark.parametrize(
    ("guild", "user", "roles"),
    [
        (GUILD, 1, (ROLE,)),  # a role's limit, a grant
        (GUILD, 2, (ROLE,)),  # the member's own limit, a reset of the week
        (GUILD, 3, ()),  # blocked, @everyone's limit
        (GUILD, 4, ()),  # no history at all
        (GUILD, None, ()),  # the server alone
        (OTHER, 1, ()),  # defaults, an allowance kept at the upgrade
        (OTHER + 1, 1, ()),  # a server the database has never seen
    ],
)
async def test_the_one_read_finds_what_the_reads_one_by_one_find(
    database: Database, guild: int, user: int | None, roles: tuple[int, ...]
) -> None:
    q = quota(database)
    await furnish(database, q)
    async with database.read() as conn:
        expected = await one_by_one(q, conn, guild, user, roles)
        assert await q.read_standing(conn, guild, user, roles) == expected
    if guild == GUILD:  # the setup reached every field it means to compare
        assert expected.allowed_channels == (4, 5, 6)
        assert expected.allowance_spent > 0 and expected.server_active == 4
        if user is not None:
            assert expected.member_limit is not None
