"""Any sequence of ledger steps leaves the running totals equal to the ledger's own sums.

Hypothesis writes the sequences (reserve, commit, release, grant, reset, a change of budget
period, time passing over day, week, month and year boundaries); `derandomize` makes the run
the same every time. Each sequence runs in a server of its own, on both engines.
"""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.errors import QuotaRefused
from bot.periods import current_window
from bot.quota import ledger
from bot.quota.admin import QuotaAdmin
from bot.quota.costs import CostTable
from bot.quota.ledger import Quota
from bot.quota.owner import OwnerCeilings
from bot.states import BudgetPeriod
from bot.store import jobs as job_sql
from bot.store import ledger as ledger_sql
from bot.store.database import Database
from bot.store.jobs import NewJob

START = 1_798_758_000.0  # 2026-12-31 23:00 UTC: a day, week, month and year end ahead
USERS = st.integers(min_value=1, max_value=3)
Step = tuple[object, ...]

steps = st.one_of(
    st.tuples(st.just("reserve"), USERS, st.integers(1, 40), st.booleans()),
    st.tuples(st.just("settle"), st.integers(0, 20), st.booleans()),
    st.tuples(st.just("grant"), USERS, st.integers(1, 30)),
    st.tuples(st.just("reset"), st.one_of(st.none(), USERS)),
    st.tuples(st.just("period"), st.sampled_from(list(BudgetPeriod))),
    st.tuples(st.just("wait"), st.sampled_from([60.0, 3600.0, 86400.0, 7 * 86400.0, 31 * 86400.0])),
)
_guilds = itertools.count(1)


async def run(target: Path | str, guild: int, sequence: list[Step]) -> None:
    db = await Database.open(target, pool_size=2)
    now = [START]
    quota = Quota(db, CostTable(), default_budget=120, default_period=BudgetPeriod.MONTH,
                  clock=lambda: now[0])  # fmt: skip
    admin = QuotaAdmin(quota)
    # Room for a budget of 120 in any period: only the budget limits these sequences.
    await OwnerCeilings(quota).set_allowance(guild, 10**6, BudgetPeriod.DAY, owner_id=8)
    jobs: list[int] = []
    try:
        for step in sequence:
            match step:
                case ("reserve", int(user), int(cost), bool(member_pays)):
                    job = NewJob(guild_id=guild, channel_id=1, user_id=user,
                                 operation="create_music", request={}, summary="s", cost=cost,
                                 charge_member=member_pays)  # fmt: skip
                    try:
                        jobs.append(await quota.reserve(job))
                    except QuotaRefused:
                        pass
                case ("settle", int(index), bool(commit)) if jobs:
                    async with db.transaction() as conn:
                        found = await job_sql.get(conn, jobs[index % len(jobs)])
                        assert found is not None
                        if commit:
                            await ledger.commit(conn, found, now[0])
                        else:
                            await ledger.release(conn, found, now[0], "failed")
                case ("grant", int(user), int(amount)):
                    await admin.grant(guild, user, amount, moderator_id=9)
                case ("reset", user):
                    await admin.reset(guild, user if isinstance(user, int) else None, 9)
                case ("period", period):
                    await admin.set_budget(guild, 120, BudgetPeriod(str(period)), moderator_id=9)
                case ("wait", float(seconds)):
                    now[0] += seconds
        async with db.read() as conn:
            assert await ledger_sql.check_totals(conn, guild) == {}
            for period in BudgetPeriod:
                window = current_window(period, now[0])
                for user in (1, 2, 3):
                    totals = await ledger_sql.totals(conn, guild, user, period, window.start)
                    assert totals.server_spent == await ledger_sql.server_spent_from_ledger(
                        conn, guild, window.start, window.end, period=period
                    )
                    assert totals.member_spent == await ledger_sql.member_spent_from_ledger(
                        conn, guild, user, window.start, window.end, period=period
                    )
                    assert totals.member_granted == await ledger_sql.member_grants_from_ledger(
                        conn, guild, user, window.start, window.end
                    )
    finally:
        await db.close()


@settings(
    derandomize=True,
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(sequence=st.lists(steps, max_size=30))
def test_any_sequence_of_steps_keeps_the_totals_equal_to_the_ledger(
    db_target: Path | str, sequence: list[Step]
) -> None:
    asyncio.run(run(db_target, next(_guilds), sequence))
