import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.errors import QuotaRefused
from bot.quota import ledger
from bot.quota.admin import QuotaAdmin
from bot.quota.costs import CostTable
from bot.quota.ledger import Quota
from bot.store import jobs as job_sql
from bot.store import ledger as ledger_sql
from bot.store.database import Database
from bot.store.jobs import NewJob
from tests.helpers import Clock

GUILD = 111
NOV = datetime(2026, 11, 20, 12, tzinfo=UTC).timestamp()
DEC = datetime(2026, 12, 2, 12, tzinfo=UTC).timestamp()


@pytest.fixture
def db(database: Database) -> Database:
    """Every test here runs on SQLite and on PostgreSQL (see tests/conftest.py)."""
    return database


def quota(db: Database, clock: Clock, budget: int = 100) -> Quota:
    return Quota(db, CostTable(), default_budget=budget, default_period="month", clock=clock)


def new_job(user: int = 1, cost: int = 20, guild: int = GUILD) -> NewJob:
    return NewJob(
        guild_id=guild,
        channel_id=2,
        user_id=user,
        operation="create_music",
        request={"mv": "sonic-v5"},
        summary="s",
        cost=cost,
    )


async def test_reserve_writes_job_and_reservation_together(db: Database) -> None:
    q = quota(db, Clock(NOV))
    job_id = await q.reserve(new_job())
    async with db.read() as conn:
        job = await job_sql.get(conn, job_id)
        entries = await ledger_sql.job_entries(conn, job_id)
    assert job is not None and job.state == "submitting"
    assert [(e.kind, e.amount) for e in entries] == [("reserve", 20)]
    standing = await q.standing(GUILD, 1)
    assert (standing.server_spent, standing.server_remaining, standing.member_spent) == (20, 80, 20)


async def test_over_budget_is_refused_with_limit_and_reset(db: Database) -> None:
    q = quota(db, Clock(NOV), budget=30)
    await q.reserve(new_job())
    with pytest.raises(QuotaRefused) as caught:
        await q.reserve(new_job())
    assert caught.value.limit == "server budget"
    assert caught.value.frees_at == datetime(2026, 12, 1, tzinfo=UTC)
    assert "10 of 30" in str(caught.value) and "<t:" in str(caught.value)
    async with db.read() as conn:
        assert len(await ledger_sql.guild_entries(conn, GUILD)) == 1  # nothing else written


async def test_concurrent_reservations_never_overspend(db: Database) -> None:
    q = quota(db, Clock(NOV), budget=100)
    results = await asyncio.gather(
        *(q.reserve(new_job(user=i)) for i in range(25)), return_exceptions=True
    )
    accepted = [r for r in results if isinstance(r, int)]
    refused = [r for r in results if isinstance(r, QuotaRefused)]
    assert len(accepted) == 5 and len(refused) == 20
    assert (await q.standing(GUILD)).server_spent == 100


async def test_two_processes_sharing_the_database_never_overspend(
    db_target: Path | str,
) -> None:
    # Two connections (pools on PostgreSQL) stand for two bot processes: SQLite's write lock
    # or PostgreSQL's per-server advisory lock must serialise them.
    first = await Database.open(db_target)
    second = await Database.open(db_target)
    try:
        qa, qb = quota(first, Clock(NOV)), quota(second, Clock(NOV))
        attempts = [q.reserve(new_job(user=i)) for i in range(12) for q in (qa, qb)]
        results = await asyncio.gather(*attempts, return_exceptions=True)
        assert sum(isinstance(r, int) for r in results) == 5
        assert (await qa.standing(GUILD)).server_spent == 100
    finally:
        await first.close()
        await second.close()


async def test_commit_and_release_are_idempotent_and_exclusive(db: Database) -> None:
    clock = Clock(NOV)
    q = quota(db, clock)
    charged_id = await q.reserve(new_job())
    refunded_id = await q.reserve(new_job())
    async with db.transaction() as conn:
        charged = await job_sql.get(conn, charged_id)
        refunded = await job_sql.get(conn, refunded_id)
        assert charged and refunded
        assert await ledger.commit(conn, charged, NOV) is True
        assert await ledger.commit(conn, charged, NOV) is False  # retry: no second charge
        assert await ledger.release(conn, charged, NOV, "late failure") is False
        assert await ledger.release(conn, refunded, NOV, "failed") is True
        assert await ledger.release(conn, refunded, NOV, "failed again") is False
        assert await ledger.commit(conn, refunded, NOV) is False
    assert (await q.standing(GUILD)).server_spent == 20  # one charge, one refund


async def test_refund_lands_in_the_period_it_was_charged(db: Database) -> None:
    clock = Clock(NOV)
    q = quota(db, clock)
    job_id = await q.reserve(new_job(cost=50))
    clock.now = DEC  # the job fails after the month rolled over
    async with db.transaction() as conn:
        job = await job_sql.get(conn, job_id)
        assert job is not None
        await ledger.release(conn, job, clock.now, "failed")
    assert (await q.standing(GUILD)).server_spent == 0  # December untouched
    clock.now = NOV
    assert (await q.standing(GUILD)).server_spent == 0  # November got its credits back


async def test_budget_change_is_recorded_with_the_moderator(db: Database) -> None:
    q = quota(db, Clock(NOV), budget=40 * 31)  # an allowance a daily 40 fits in
    standing = await QuotaAdmin(q).set_budget(GUILD, 40, "day", moderator_id=999)
    assert (standing.settings.budget, standing.settings.budget_period) == (40, "day")
    async with db.read() as conn:
        entries = await ledger_sql.guild_entries(conn, GUILD)
    assert entries[-1].kind == "setting" and entries[-1].moderator_id == 999


async def test_servers_do_not_share_budgets(db: Database) -> None:
    q = quota(db, Clock(NOV), budget=20)
    await q.reserve(new_job(guild=1))
    await q.reserve(new_job(guild=2))  # the other server's spending does not count
    assert (await q.standing(1)).server_spent == 20 and (await q.standing(2)).server_spent == 20


async def test_daily_budget_and_member_limit_roll_over_at_utc_midnight(db: Database) -> None:
    clock = Clock(datetime(2026, 11, 20, 23, 59, 30, tzinfo=UTC).timestamp())
    q = quota(db, clock, budget=40 * 31)  # an allowance a daily 40 fits in
    admin = QuotaAdmin(q)
    await admin.set_budget(GUILD, 40, "day", moderator_id=9)
    await admin.set_member_limit(GUILD, 1, 20, moderator_id=9)
    late = await q.reserve(new_job(user=1))
    with pytest.raises(QuotaRefused) as caught:
        await q.reserve(new_job(user=1))
    assert caught.value.limit == "member limit"
    assert caught.value.frees_at == datetime(2026, 11, 21, tzinfo=UTC)
    await q.reserve(new_job(user=2))
    with pytest.raises(QuotaRefused, match="daily budget"):
        await q.reserve(new_job(user=3))

    clock.now = datetime(2026, 11, 21, 0, 0, 1, tzinfo=UTC).timestamp()  # a new UTC day
    assert (await q.standing(GUILD, 1)).member_spent == 0
    await q.reserve(new_job(user=1))
    # The late job from yesterday fails now: its refund goes to yesterday, not today.
    async with db.transaction() as conn:
        job = await job_sql.get(conn, late)
        assert job is not None
        await ledger.release(conn, job, clock.now, "failed")
    assert (await q.standing(GUILD, 1)).member_spent == 20
    assert (await q.standing(GUILD)).server_spent == 20


async def test_lowering_the_budget_keeps_running_jobs_but_stops_new_ones(db: Database) -> None:
    clock = Clock(NOV)
    q = quota(db, clock, budget=100)
    running = await q.reserve(new_job())
    await QuotaAdmin(q).set_budget(GUILD, 10, "month", moderator_id=9)
    with pytest.raises(QuotaRefused):
        await q.reserve(new_job())
    async with db.transaction() as conn:
        job = await job_sql.get(conn, running)
        assert job is not None and job.state == "submitting"  # untouched
        assert await ledger.commit(conn, job, clock.now)  # and it can still finish
