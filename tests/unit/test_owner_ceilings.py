"""The owner's ceilings in the quota, on both engines: allowances moderators
cannot budget past, resets that cannot lift them, and the bot-wide daily cap with its alerts."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.errors import QuotaRefused
from bot.observability import alerts
from bot.observability.alerts import OwnerAlerts
from bot.quota import ledger
from bot.quota.admin import QuotaAdmin
from bot.quota.allowance import Allowance, Source, fits, most_spent_within
from bot.quota.costs import CostTable
from bot.quota.ledger import Quota
from bot.quota.owner import SERVERS_PAGE, OwnerCeilings
from bot.states import BudgetPeriod
from bot.store import jobs as job_sql
from bot.store import ledger as ledger_sql
from bot.store.database import Database
from bot.store.jobs import NewJob
from tests.helpers import Clock
from tests.store_worker import run_together

GUILD = 222
NOV = datetime(2026, 11, 20, 12, tzinfo=UTC).timestamp()
MIDNIGHT = int(datetime(2026, 11, 21, tzinfo=UTC).timestamp())


def quota(db: Database, clock: Clock, budget: int = 300, cap: int | None = None) -> Quota:
    return Quota(
        db, CostTable(), default_budget=budget, default_period=BudgetPeriod.MONTH, clock=clock,
        daily_cap=cap,
    )  # fmt: skip


def new_job(guild: int = GUILD, user: int = 1, cost: int = 20) -> NewJob:
    return NewJob(
        guild_id=guild, channel_id=2, user_id=user, operation="create_music", request={},
        summary="s", cost=cost,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("amount", "period", "allowed"),
    [
        (300, BudgetPeriod.MONTH, True),
        (301, BudgetPeriod.MONTH, False),
        (300, BudgetPeriod.NONE, True),  # a total that never resets counts like any budget
        (301, BudgetPeriod.NONE, False),
        (9, BudgetPeriod.DAY, True),  # 31 days of 9 = 279
        (10, BudgetPeriod.DAY, False),  # 31 days of 10 = 310
        (50, BudgetPeriod.WEEK, True),  # a month touches up to 6 weeks: 300
        (51, BudgetPeriod.WEEK, False),
    ],
)
def test_a_budget_fits_when_its_most_in_one_allowance_period_does(
    amount: int, period: BudgetPeriod, allowed: bool
) -> None:
    assert fits(amount, period, Allowance(300, BudgetPeriod.MONTH, Source.OWNER)) is allowed


def test_only_a_total_fits_an_allowance_that_never_resets() -> None:
    total = Allowance(1000, BudgetPeriod.NONE, Source.OWNER)
    assert most_spent_within(1, BudgetPeriod.MONTH, BudgetPeriod.NONE) is None
    assert not fits(1, BudgetPeriod.DAY, total) and fits(1000, BudgetPeriod.NONE, total)


async def test_a_budget_above_the_allowance_is_refused_naming_it(database: Database) -> None:
    q = quota(database, Clock(NOV))
    admin = QuotaAdmin(q)
    with pytest.raises(QuotaRefused) as caught:
        await admin.set_budget(GUILD, 10_000_000, BudgetPeriod.NONE, moderator_id=9)
    text = str(caught.value)
    assert caught.value.limit == "owner's allowance"
    assert "allowance" in text and "300 credits per month" in text
    with pytest.raises(QuotaRefused, match="could spend up to 310 in one month"):
        await admin.set_budget(GUILD, 10, BudgetPeriod.DAY, moderator_id=9)
    assert (await q.standing(GUILD)).settings.budget == 300  # nothing changed

    await OwnerCeilings(q).set_allowance(GUILD, 5000, BudgetPeriod.NONE, owner_id=1)
    standing = await admin.set_budget(GUILD, 5000, BudgetPeriod.NONE, moderator_id=9)
    assert standing.settings.budget == 5000 and standing.allowance is not None
    assert standing.allowance.source == Source.OWNER


async def test_a_reset_does_not_lift_the_allowance(database: Database) -> None:
    q = quota(database, Clock(NOV), budget=40)
    admin = QuotaAdmin(q)
    for _ in range(2):
        job_id = await q.reserve(new_job())
        async with database.transaction() as conn:
            found = await job_sql.get(conn, job_id)
            assert found is not None and await ledger.commit(conn, found, NOV)
    assert await admin.reset(GUILD, None, moderator_id=9) == 40  # the budget is free again
    with pytest.raises(QuotaRefused) as caught:
        await q.reserve(new_job())
    assert caught.value.limit == "owner's allowance" and "40 credits per month" in str(caught.value)


async def test_an_allowance_lowered_below_the_budget_holds_every_reservation(
    database: Database,
) -> None:
    q = quota(database, Clock(NOV), budget=100)
    await OwnerCeilings(q).set_allowance(GUILD, 30, BudgetPeriod.MONTH, owner_id=1)
    await q.reserve(new_job())
    with pytest.raises(QuotaRefused) as caught:
        await q.reserve(new_job())
    assert caught.value.limit == "owner's allowance" and "10 are left" in str(caught.value)


async def test_servers_are_listed_in_pages_with_allowance_budget_and_spending(
    database: Database,
) -> None:
    q = quota(database, Clock(NOV))
    owner = OwnerCeilings(q)
    await owner.set_allowance(5, 70, BudgetPeriod.WEEK, owner_id=1)
    await q.reserve(new_job(guild=5))
    present = [1000 + n for n in range(SERVERS_PAGE + 2)]  # in this process, no row yet
    first = await owner.servers(present, 1)
    assert (first.page, first.pages, first.total) == (1, 2, SERVERS_PAGE + 3)
    line = first.lines[0]  # sorted by id: server 5 first
    assert line.guild_id == 5 and line.allowance.describe() == "70 credits per week"
    assert line.standing.server_spent == 20 and line.standing.allowance_spent == 20
    second = await owner.servers(present, 99)  # past the end: the last page
    assert second.page == 2 and len(second.lines) == 3
    assert all(line.allowance.source == Source.DEFAULT for line in second.lines)


# -- the daily cap -----------------------------------------------------------------------------


async def test_the_daily_cap_refuses_past_it_with_the_reset_time(database: Database) -> None:
    q = quota(database, Clock(NOV), cap=50)
    await q.reserve(new_job(guild=1))
    await q.reserve(new_job(guild=2))  # another server: the cap is the whole bot's
    with pytest.raises(QuotaRefused) as caught:
        await q.reserve(new_job(guild=3))
    refusal = caught.value
    assert refusal.limit == "owner's daily cap"
    assert f"<t:{MIDNIGHT}:R>" in str(refusal) and "10 are left" in str(refusal)
    assert "50" not in str(refusal).replace(str(MIDNIGHT), "")  # the cap is the owner's to know
    assert refusal.frees_at is not None and int(refusal.frees_at.timestamp()) == MIDNIGHT
    async with database.read() as conn:
        assert await ledger_sql.bot_spent_on_day(conn, MIDNIGHT - 86400.0) == 40
        assert await ledger_sql.check_totals(conn) == {}
    # A release gives the room back; the next UTC day starts from nothing.
    await q.reserve(new_job(guild=3, cost=10))
    later = Clock(MIDNIGHT + 1.0)
    assert await quota(database, later, cap=50).reserve(new_job(guild=3, cost=50)) > 0


async def test_simultaneous_reservations_in_many_servers_never_pass_the_cap(
    db_target: Path | str,
) -> None:
    dbs = [await Database.open(db_target, pool_size=4) for _ in range(3)]
    try:
        quotas = [quota(db, Clock(NOV), cap=170) for db in dbs]
        jobs = [new_job(guild=100 + n % 7, user=n) for n in range(30)]
        results = await asyncio.gather(
            *(quotas[n % 3].reserve(job) for n, job in enumerate(jobs)), return_exceptions=True
        )
        refusals = [r for r in results if isinstance(r, QuotaRefused)]
        assert sum(isinstance(r, int) for r in results) == 8  # 8 x 20 = 160 of 170
        assert {r.limit for r in refusals} == {"owner's daily cap"} and len(refusals) == 22
    finally:
        for db in dbs:
            await db.close()


@pytest.mark.e2e  # starts processes
async def test_processes_reserving_in_their_own_servers_share_one_cap(
    db_target: Path | str,
) -> None:
    migrated = await Database.open(db_target)
    await migrated.close()
    cost, cap = 10, 130
    commands = [
        ["reserve", str(db_target), str(guild), "20", str(cost), "1000", str(cap)]
        for guild in (301, 302, 303)
    ]
    results = await run_together(commands)
    assert [r["errors"] for r in results] == [[], [], []]
    assert sum(int(r["granted"]) for r in results) == cap // cost  # type: ignore[call-overload]
    db = await Database.open(db_target)
    try:
        async with db.read() as conn:
            cursor = await conn.execute("SELECT COALESCE(SUM(amount), 0) FROM ledger")
            assert int((await cursor.fetchone())[0]) == cap
            assert await ledger_sql.check_totals(conn) == {}
    finally:
        await db.close()


async def test_the_owner_is_alerted_at_80_and_100_percent_once_each(
    db_target: Path | str,
) -> None:
    sent: list[str] = []

    async def send(text: str) -> None:
        sent.append(text)

    owner = OwnerAlerts(send, clock=Clock(0.0), interval_s=0.0)
    alerts.install(owner)
    first = await Database.open(db_target)
    second = await Database.open(db_target)  # another process on the same database
    try:
        a, b = quota(first, Clock(NOV), cap=100), quota(second, Clock(NOV), cap=100)
        for q in (a, b, a, b):  # 20, 40, 60, 80: the 80 % alert
            await q.reserve(new_job(cost=20, user=len(sent) + 1))
        await owner.drain()
        assert len(sent) == 1 and "reserved 80 of the 100" in sent[0] and "80 % used" in sent[0]
        await b.reserve(new_job(cost=10))  # 90: nothing new
        restarted = quota(await Database.open(db_target), Clock(NOV), cap=100)
        try:
            with pytest.raises(QuotaRefused):
                await restarted.reserve(new_job(cost=20))  # refused at 90: the cap is reached
            await owner.drain()
            assert len(sent) == 2 and "reached (100 %)" in sent[1] and "refused" in sent[1]
            await restarted.reserve(new_job(cost=10))  # exactly 100 now: already told
            with pytest.raises(QuotaRefused):
                await a.reserve(new_job(cost=10))
        finally:
            await restarted.db.close()
        await owner.drain()
        assert len(sent) == 2
        async with first.read() as conn:
            rows = await conn.execute_fetchall("SELECT level FROM owner_cap_alerts ORDER BY level")
        assert [int(r[0]) for r in rows] == [80, 100]
    finally:
        alerts.install(None)
        await first.close()
        await second.close()
