"""A moderator's reset forgives committed spending only: however reserve, reset, grant,
commit and release interleave, no member and no server ever gets back more than they spent,
no stored total goes below zero, and the totals still agree with the ledger. On both engines.

Hypothesis writes the interleavings (with budget-period changes and time passing over day,
week and month ends); `derandomize` makes the run the same every time.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import defaultdict
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.errors import QuotaRefused
from bot.periods import BUDGET_PERIODS, current_window
from bot.quota import ledger
from bot.quota.admin import QuotaAdmin
from bot.quota.costs import CostTable
from bot.quota.ledger import Quota
from bot.quota.owner import OwnerCeilings
from bot.states import BudgetPeriod
from bot.store import jobs as job_sql
from bot.store import ledger as ledger_sql
from bot.store.database import Connection, Database
from bot.store.jobs import NewJob

START = 1_798_758_000.0  # 2026-12-31 23:00 UTC: a day, week, month and year end ahead
USERS = st.integers(min_value=1, max_value=3)
Step = tuple[object, ...]

steps = st.one_of(
    st.tuples(st.just("reserve"), USERS, st.integers(1, 40), st.booleans()),
    st.tuples(st.just("commit"), st.integers(0, 20)),
    st.tuples(st.just("release"), st.integers(0, 20)),
    st.tuples(st.just("grant"), USERS, st.integers(1, 30)),
    st.tuples(st.just("reset"), st.one_of(st.none(), USERS)),
    st.tuples(st.just("period"), st.sampled_from(list(BudgetPeriod))),
    st.tuples(st.just("wait"), st.sampled_from([60.0, 3600.0, 86400.0, 7 * 86400.0])),
)
_guilds = itertools.count(1)
SERVER = None


async def assert_nobody_got_back_more_than_they_spent(conn: Connection, guild: int) -> None:
    """Per scope (the server, each member) and budget period: releases plus resets never
    exceed reservations, and resets never exceed what was committed."""
    entries = await ledger_sql.guild_entries(conn, guild)
    settled = {e.job_id: e.kind for e in entries if e.kind in ("commit", "release")}
    # (scope, period kind, window start) -> [reserved, committed, released, forgiven]
    sums: dict[tuple[int | None, str, float], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for entry in entries:
        scopes: list[int | None] = []
        if entry.kind in ("reserve", "release"):
            scopes = [SERVER] + ([entry.user_id] if entry.member_share else [])
        elif entry.kind == "reset":
            scopes = [entry.user_id]
        for scope in scopes:
            for period in BUDGET_PERIODS:
                if entry.kind == "reset" and entry.period != period:
                    continue
                start = current_window(period, entry.charged_at).start
                row = sums[(scope, str(period), start)]
                if entry.kind == "reserve":
                    row[0] += entry.amount
                    row[1] += entry.amount if settled.get(entry.job_id) == "commit" else 0
                elif entry.kind == "release":
                    row[2] += entry.amount
                else:
                    row[3] += entry.amount
    for key, (reserved, committed, released, forgiven) in sums.items():
        assert released + forgiven <= reserved, key
        assert forgiven <= committed, key


async def run(target: Path | str, guild: int, sequence: list[Step]) -> None:
    db = await Database.open(target, pool_size=2)
    now = [START]
    quota = Quota(db, CostTable(), default_budget=120, default_period=BudgetPeriod.MONTH,
                  clock=lambda: now[0])  # fmt: skip
    admin = QuotaAdmin(quota)
    # Room for a budget of 120 in any period: the budget and the members' limits bind.
    await OwnerCeilings(quota).set_allowance(guild, 10**6, BudgetPeriod.DAY, owner_id=8)
    await admin.set_member_limit(guild, 1, 50, moderator_id=9)
    jobs: list[int] = []

    async def settle(index: int, commit: bool) -> None:
        async with db.transaction() as conn:
            found = await job_sql.get(conn, jobs[index % len(jobs)])
            assert found is not None
            if commit:
                await ledger.commit(conn, found, now[0])
            else:
                await ledger.release(conn, found, now[0], "failed")

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
                case ("commit", int(index)) if jobs:
                    await settle(index, True)
                case ("release", int(index)) if jobs:
                    await settle(index, False)
                case ("grant", int(user), int(amount)):
                    await admin.grant(guild, user, amount, moderator_id=9)
                case ("reset", user):
                    forgiven = await admin.reset(guild, user if isinstance(user, int) else None, 9)
                    assert forgiven >= 0
                case ("period", period):
                    await admin.set_budget(guild, 120, BudgetPeriod(str(period)), moderator_id=9)
                case ("wait", float(seconds)):
                    now[0] += seconds
            async with db.read() as conn:
                rows = await conn.execute_fetchall(
                    "SELECT MIN(spent) FROM ledger_totals WHERE guild_id = ?", (guild,)
                )
                lowest = next(iter(rows))[0]
                assert lowest is None or int(lowest) >= 0, step
        async with db.read() as conn:
            await assert_nobody_got_back_more_than_they_spent(conn, guild)
            assert await ledger_sql.check_totals(conn, guild) == {}
    finally:
        await db.close()


@settings(
    derandomize=True,
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(sequence=st.lists(steps, max_size=30))
def test_resets_never_give_back_more_than_was_spent(
    db_target: Path | str, sequence: list[Step]
) -> None:
    asyncio.run(run(db_target, next(_guilds), sequence))


def test_a_reset_then_a_failed_job_refunds_once(db_target: Path | str) -> None:
    """The case the review found: reserve, reset while in flight, then the job fails."""
    asyncio.run(
        run(
            db_target,
            next(_guilds),
            [("reserve", 1, 20, True), ("reset", None), ("reset", 1), ("release", 0)],
        )
    )
