"""Running totals: kept with every ledger step, on both engines, and checked against the
ledger they summarise."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from bot.periods import current_window
from bot.quota import ledger
from bot.quota.admin import QuotaAdmin
from bot.quota.costs import CostTable
from bot.quota.ledger import Quota
from bot.states import BudgetPeriod
from bot.store import jobs as job_sql
from bot.store import ledger as ledger_sql
from bot.store.database import Connection, Database
from bot.store.jobs import NewJob
from tests.helpers import Clock

GUILD = 7
# Sunday 2026-11-29 23:59:50 UTC: the next steps cross a day, a week and (the 30th being the
# month's last day) a later month boundary.
SUNDAY_NIGHT = datetime(2026, 11, 29, 23, 59, 50, tzinfo=UTC).timestamp()


def job(user: int, cost: int = 10, *, charge_member: bool = True) -> NewJob:
    return NewJob(
        guild_id=GUILD,
        channel_id=1,
        user_id=user,
        operation="create_music",
        request={},
        summary="s",
        cost=cost,
        charge_member=charge_member,
    )


async def assert_totals_match_the_ledger(conn: Connection, at: float, users: list[int]) -> None:
    assert await ledger_sql.check_totals(conn) == {}
    for period in BudgetPeriod:
        window = current_window(period, at)
        for user in users:
            totals = await ledger_sql.totals(conn, GUILD, user, period, window.start)
            summed = (
                await ledger_sql.server_spent_from_ledger(
                    conn, GUILD, window.start, window.end, period=period
                ),
                await ledger_sql.member_spent_from_ledger(
                    conn, GUILD, user, window.start, window.end, period=period
                ),
                await ledger_sql.member_grants_from_ledger(
                    conn, GUILD, user, window.start, window.end
                ),
            )
            assert (totals.server_spent, totals.member_spent, totals.member_granted) == summed


async def test_every_kind_of_step_keeps_the_totals_equal_to_the_ledger(
    database: Database,
) -> None:
    clock = Clock(SUNDAY_NIGHT)
    quota = Quota(
        database, CostTable(), default_budget=1000, default_period=BudgetPeriod.MONTH, clock=clock
    )
    admin = QuotaAdmin(quota)
    users = [1, 2, 3]

    async def check() -> None:
        async with database.read() as conn:
            await assert_totals_match_the_ledger(conn, clock.now, users)

    first = await quota.reserve(job(1, 30))
    pooled = await quota.reserve(job(2, 20, charge_member=False))  # the server's pool pays
    await check()
    clock.now += 20  # Monday: a new day and a new week, same month
    second = await quota.reserve(job(1, 15))
    await admin.grant(GUILD, 3, 25, moderator_id=9)
    async with database.transaction() as conn:
        for job_id, settle in ((first, ledger.commit), (pooled, ledger.release)):
            found = await job_sql.get(conn, job_id)
            assert found is not None
            if settle is ledger.commit:
                assert await ledger.commit(conn, found, clock.now)
            else:
                assert await ledger.release(conn, found, clock.now, "failed")
    await check()
    # Forgiven: this month's committed spending (30); the 15 still in flight stay counted.
    assert await admin.reset(GUILD, 1, moderator_id=9) == 30
    await admin.set_budget(GUILD, 150, BudgetPeriod.WEEK, moderator_id=9)  # 6 weeks fit 1000
    # This week's server spending is the 15 in flight only: nothing committed to forgive.
    assert await admin.reset(GUILD, None, moderator_id=9) == 0
    await check()
    clock.now += 86400  # December
    async with database.transaction() as conn:
        found = await job_sql.get(conn, second)
        assert found is not None
        assert await ledger.release(conn, found, clock.now, "late failure")  # lands in November
    await quota.reserve(job(3, 5))
    await check()
    standing = await quota.standing(GUILD, 3)
    # This week: 15 reserved and (the reset having left it counted) refunded once, then 5:
    # the server stands at 5, never below zero; member 3 spent 5 of 25 granted.
    assert (standing.server_spent, standing.member_spent, standing.member_grants) == (5, 5, 25)


async def test_a_drifted_total_is_reported_and_a_rebuild_repairs_it(database: Database) -> None:
    quota = Quota(
        database, CostTable(), default_budget=100, default_period=BudgetPeriod.MONTH,
        clock=Clock(SUNDAY_NIGHT),
    )  # fmt: skip
    await quota.reserve(job(1, 10))
    start = current_window(BudgetPeriod.MONTH, SUNDAY_NIGHT).start
    async with database.transaction() as conn:
        assert await ledger_sql.check_totals(conn) == {}
        await conn.execute(
            """UPDATE ledger_totals SET spent = spent + 4
               WHERE guild_id = ? AND user_id = ? AND period = 'month'""",
            (GUILD, ledger_sql.SERVER),
        )
        assert await ledger_sql.check_totals(conn) == {
            (GUILD, ledger_sql.SERVER, "month", start): (4, 0)
        }
        await ledger_sql.rebuild_totals(conn, GUILD)  # the ledger is the source of truth
        assert await ledger_sql.check_totals(conn) == {}


async def test_the_migration_totals_the_entries_written_before_it(
    db_target: Path | str,
) -> None:
    before = await Database.open(db_target, up_to=7)  # the schema before running totals
    monday = datetime(2026, 11, 30, tzinfo=UTC).timestamp()
    entries = [  # (user, kind, amount, member_share, charged_at)
        (1, "reserve", 30, 1, monday - 1),  # Sunday: last week
        (1, "reserve", 20, 1, monday),  # Monday: this week
        (1, "release", 20, 1, monday),
        (2, "reserve", 40, 0, monday + 5),  # the server's pool paid
        (3, "grant", 25, 1, monday + 6),
        (1, "reset", 30, 1, monday + 7),
        (None, "reset", 10, 1, monday + 8),
        (None, "setting", 500, 1, monday + 9),
        (1, "reserve", 10, 1, datetime(2026, 12, 7, tzinfo=UTC).timestamp()),  # next week
    ]
    try:
        async with before.transaction() as conn:
            await conn.executemany(
                """INSERT INTO ledger (guild_id, user_id, kind, amount, member_share, charged_at,
                                       created_at) VALUES (?, ?, ?, ?, ?, ?, ?)""",
                [(GUILD, u, k, a, s, t, t) for u, k, a, s, t in entries],
            )
        assert 8 in await before.migrate()
        async with before.read() as conn:
            assert await ledger_sql.check_totals(conn) == {}
            week = current_window(BudgetPeriod.WEEK, monday).start
            totals = await ledger_sql.totals(conn, GUILD, 1, BudgetPeriod.WEEK, week)
            assert (totals.server_spent, totals.member_spent) == (30, 0)
    finally:
        await before.close()
