"""A PostgreSQL reservation holds the server's advisory lock for at most 3 round trips, when
it passes and when it is refused (by a limit or by the owner's daily cap), with every kind of
limit in play: a member limit through a role, a channel allow-list, caps on songs in
progress, an allowance and the daily cap."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import pytest

from bot.errors import QuotaRefused
from bot.quota.admin import QuotaAdmin
from bot.quota.costs import CostTable
from bot.quota.ledger import Quota
from bot.states import BudgetPeriod
from bot.store import jobs as job_sql
from bot.store import ledger as ledger_sql
from bot.store import settings as settings_sql
from bot.store.database import Connection, Database
from bot.store.jobs import NewJob
from tests.round_trips import CountingDatabase, under_lock

GUILD = 777_000_000_000_000_001
ROLE = 777_000_000_000_000_009
CHANNEL = 5
NOW = 1_795_132_800.0 + 3 * 86400
MOST_UNDER_LOCK = 3


@pytest.fixture
async def counted(pg_url: str) -> AsyncIterator[CountingDatabase]:
    inner = await Database.open(pg_url)
    db = CountingDatabase(inner)
    admin = QuotaAdmin(quota(db))
    await admin.set_member_limit(GUILD, 1, None, moderator_id=9)
    async with inner.transaction() as conn:
        await settings_sql.set_role_limit(conn, GUILD, ROLE, 40)
        await settings_sql.set_channel_allowed(conn, GUILD, CHANNEL, True)
        await settings_sql.update(
            conn, GUILD, defaults=quota(db).defaults, moderator_id=9, now=NOW,
            member_jobs_cap=5, server_jobs_cap=20,
        )  # fmt: skip
    yield db
    await db.close()


def quota(db: Database, daily_cap: int | None = 1000) -> Quota:
    return Quota(
        db, CostTable(), default_budget=300, default_period=BudgetPeriod.MONTH,
        clock=lambda: NOW, daily_cap=daily_cap,
    )  # fmt: skip


def job(cost: int, channel: int = CHANNEL) -> NewJob:
    return NewJob(
        guild_id=GUILD, channel_id=channel, user_id=1, operation="create_music", request={},
        summary="s", cost=cost,
    )  # fmt: skip


@pytest.mark.parametrize("daily_cap", [None, 1000])
async def test_a_reservation_that_passes_sends_at_most_three_statements_under_the_lock(
    counted: CountingDatabase, daily_cap: int | None
) -> None:
    job_id = await quota(counted, daily_cap).reserve(job(30), (ROLE,))
    sent = under_lock(counted.last())
    assert len(sent) <= MOST_UNDER_LOCK, sent
    assert len(sent) < len(counted.last())  # the lock was taken, and counted apart
    async with counted.read() as conn:
        assert (await job_sql.get(conn, job_id)) is not None
        assert [e.kind for e in await ledger_sql.job_entries(conn, job_id)] == ["reserve"]
        assert await ledger_sql.check_totals(conn) == {}


@pytest.mark.parametrize(
    ("cost", "channel", "limit"),
    [
        (50, CHANNEL, "member limit"),  # the role's 40
        (10, CHANNEL + 1, "channel allow-list"),
    ],
)
async def test_a_refused_reservation_sends_at_most_three_statements_under_the_lock(
    counted: CountingDatabase, cost: int, channel: int, limit: str
) -> None:
    with pytest.raises(QuotaRefused) as refused:
        await quota(counted).reserve(job(cost, channel), (ROLE,))
    assert refused.value.limit == limit
    assert len(under_lock(counted.last())) <= MOST_UNDER_LOCK, counted.last()


async def test_a_reservation_refused_by_the_daily_cap_sends_at_most_three_statements(
    counted: CountingDatabase,
) -> None:
    capped = quota(counted, daily_cap=20)
    await capped.reserve(job(16), (ROLE,))  # 80 % of the cap: that alert is claimed here
    with pytest.raises(QuotaRefused) as refused:
        await capped.reserve(job(10), (ROLE,))
    assert refused.value.limit == "owner's daily cap"
    sent = under_lock(counted.last())
    assert len(sent) <= MOST_UNDER_LOCK, sent
    assert any("owner_cap_alerts" in sql for sql in sent)  # the 100 % alert's claim is written


async def test_an_approved_request_with_its_one_statement_claim_stays_within_three(
    counted: CountingDatabase,
) -> None:
    """An approval marks the request in the reservation's transaction (one UPDATE, like
    `store.requests.decide`): the read, the write and that claim."""

    async def claim(conn: Connection, job_id: int) -> None:
        await conn.execute("UPDATE jobs SET summary = 'approved' WHERE id = ?", (job_id,))

    pooled = replace(job(30), charge_member=False)
    job_id = await quota(counted).reserve(pooled, claim=claim)
    assert len(under_lock(counted.last())) <= MOST_UNDER_LOCK, counted.last()
    async with counted.read() as conn:
        found = await job_sql.get(conn, job_id)
        assert found is not None and found.summary == "approved" and not found.charge_member
