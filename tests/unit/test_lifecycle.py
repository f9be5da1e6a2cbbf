"""The one writer of a job's end: each step writes the job's state and its ledger step in one
transaction, fenced by the lease epoch the caller read, and a second call changes nothing.
On SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import pytest

from bot.jobs.lifecycle import Lifecycle
from bot.quota import ledger
from bot.quota.costs import CostTable
from bot.quota.ledger import Quota
from bot.states import JobState
from bot.store import jobs as job_sql
from bot.store import leases as lease_sql
from bot.store import ledger as ledger_sql
from bot.store.database import Connection, Database
from bot.store.jobs import Job, NewJob
from bot.store.leases import LeaseLost
from tests.helpers import Clock

T0 = 1_800_000_000.0
LEASE = 20.0


@dataclass(frozen=True)
class Step:
    run: Callable[[Lifecycle, Job], Awaitable[Job]]
    state: JobState
    settled: str  # the ledger entry it adds
    told: bool  # the member is told at once
    orphaned: bool
    broken: str  # the ledger function that, failing, must take the state write with it


FAILED, SUCCEEDED = JobState.FAILED, JobState.SUCCEEDED
STEPS = {
    "succeed": Step(lambda lc, job: lc.succeed(job), SUCCEEDED, "commit", False, False, "commit"),
    "fail": Step(lambda lc, job: lc.fail(job, "broke"), FAILED, "release", False, False, "release"),
    "orphan": Step(
        lambda lc, job: lc.orphan(job, "maybe"), FAILED, "release", False, True, "release"
    ),
    "abandon": Step(
        lambda lc, job: lc.abandon(job, "now"), FAILED, "release", True, False, "release"
    ),
}


@pytest.fixture
def clock() -> Clock:
    return Clock(T0)


async def leased_job(db: Database, clock: Clock, owner: str = "a") -> Job:
    quota = Quota(db, CostTable(), default_budget=10_000, default_period="month", clock=clock)
    job_id = await quota.reserve(
        NewJob(
            guild_id=1, channel_id=2, user_id=3, operation="create_music", request={},
            summary="s", cost=20, owner=owner, lease_until=clock.now + LEASE,
        )
    )  # fmt: skip
    async with db.transaction() as conn:
        await job_sql.mark_submitted(conn, job_id, f"task-{job_id}", clock.now, clock.now)
    return await row(db, job_id)


async def row(db: Database, job_id: int) -> Job:
    async with db.read() as conn:
        found = await job_sql.get(conn, job_id)
    assert found is not None
    return found


async def kinds(db: Database, job_id: int) -> list[str]:
    async with db.read() as conn:
        return sorted(e.kind for e in await ledger_sql.job_entries(conn, job_id))


@pytest.mark.parametrize("name", STEPS)
async def test_a_step_writes_the_state_and_the_ledger_step_together(
    database: Database, clock: Clock, name: str
) -> None:
    step = STEPS[name]
    job = await leased_job(database, clock)
    ended = await step.run(Lifecycle(database, clock), job)
    assert ended.state == step.state
    assert ended.finished_at == clock.now
    assert await kinds(database, job.id) == sorted(["reserve", step.settled])
    assert bool(ended.notified) is step.told
    assert (ended.orphaned_at is not None) is step.orphaned
    assert await row(database, job.id) == ended  # what it returns is what it wrote


@pytest.mark.parametrize("name", STEPS)
async def test_a_failed_ledger_step_leaves_the_job_as_it_was(
    database: Database, clock: Clock, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    step = STEPS[name]
    job = await leased_job(database, clock)

    async def refuse(*_args: object, **_kwargs: object) -> bool:
        raise RuntimeError("ledger unavailable")

    monkeypatch.setattr(ledger, step.broken, refuse)
    with pytest.raises(RuntimeError):
        await step.run(Lifecycle(database, clock), job)
    assert await row(database, job.id) == job  # one transaction: the state went back too
    assert await kinds(database, job.id) == ["reserve"]


@pytest.mark.parametrize("name", STEPS)
async def test_a_stale_lease_epoch_writes_nothing(
    database: Database, clock: Clock, name: str
) -> None:
    step = STEPS[name]
    read = await leased_job(database, clock, owner="a")
    clock.now += LEASE + 1  # "a" stalled past its lease, and "b" took the job over
    async with database.transaction() as conn:
        assert await lease_sql.claim(conn, "b", clock.now, clock.now + LEASE, 10) == [read.id]
    taken = await row(database, read.id)
    with pytest.raises(LeaseLost):
        await step.run(Lifecycle(database, clock), read)
    assert await row(database, read.id) == taken
    assert await kinds(database, read.id) == ["reserve"]


@pytest.mark.parametrize("name", STEPS)
async def test_a_second_call_changes_nothing(database: Database, clock: Clock, name: str) -> None:
    step = STEPS[name]
    lifecycle = Lifecycle(database, clock)
    job = await leased_job(database, clock)
    first = await step.run(lifecycle, job)
    clock.now += 5
    again = await step.run(lifecycle, first)
    assert again == first
    assert await kinds(database, job.id) == sorted(["reserve", step.settled])


async def test_what_a_success_stores_lands_with_its_charge(
    database: Database, clock: Clock
) -> None:
    job = await leased_job(database, clock)
    stored: list[int] = []

    async def store(conn: Connection) -> None:
        await job_sql.set_duration(conn, job.id, 42.0)
        stored.append(job.id)

    lifecycle = Lifecycle(database, clock)
    ended = await lifecycle.succeed(job, store=store, duration=30.0)
    assert stored == [job.id]
    assert ended.duration_s == 30.0  # written after what the step stores
    await lifecycle.succeed(ended, store=store)
    assert stored == [job.id]  # a job already ended stores nothing again


async def test_a_job_that_already_failed_is_not_charged_by_a_late_success(
    database: Database, clock: Clock
) -> None:
    lifecycle = Lifecycle(database, clock)
    job = await leased_job(database, clock)
    failed = await lifecycle.fail(job, "timed out")
    late = await lifecycle.succeed(failed)
    assert late.state == JobState.FAILED
    assert await kinds(database, job.id) == ["release", "reserve"]
