"""Job leases between processes sharing one database: claim, renew, expiry, takeover, fencing
of a stalled owner, clean hand-back, the shared 429 pause, and orphans judged by their lease.

Each "process" is a Scheduler with its own database connection (its own connection pool on
PostgreSQL), all on one clock the test moves by hand, so nothing depends on timing.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from bot.jobs import orphans
from bot.jobs.scheduler import Scheduler
from bot.musicapi.errors import RateLimitedError
from bot.musicapi.models import Clip, TaskStatus
from bot.quota.costs import CostTable
from bot.quota.ledger import Quota
from bot.store import jobs as job_sql
from bot.store import leases as lease_sql
from bot.store import ledger as ledger_sql
from bot.store.database import Database
from bot.store.jobs import Job, NewJob
from tests.helpers import Clock, wait_for

LEASE = 20.0
POLL = 10.0
T0 = 1_800_000_000.0


class GatedAPI:
    """MusicAPI whose answers the test hands out; `hold()` makes the next poll wait until
    `release()`, which is how a process is paused mid-poll (stalled, not killed)."""

    def __init__(self) -> None:
        self.answers: list[TaskStatus | Exception] = []
        self.polls: list[str] = []
        self._gate: asyncio.Event | None = None
        self.waiting = asyncio.Event()

    def hold(self) -> None:
        self._gate = asyncio.Event()

    def release(self) -> None:
        assert self._gate is not None
        self._gate.set()

    async def poll(self, family: str, task_id: str) -> TaskStatus:
        self.polls.append(task_id)
        gate = self._gate
        if gate is not None:
            self.waiting.set()
            await gate.wait()
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


class Recorder:
    def __init__(self) -> None:
        self.succeeded: list[int] = []
        self.failed: list[int] = []

    async def job_progress(self, job: Job, state: str) -> None:
        return None

    async def job_succeeded(self, job: Job) -> None:
        self.succeeded.append(job.id)

    async def job_failed(self, job: Job) -> None:
        self.failed.append(job.id)


class Process:
    def __init__(self, name: str, db: Database, clock: Clock) -> None:
        self.api = GatedAPI()
        self.outcomes = Recorder()
        self.db = db
        self.scheduler = Scheduler(
            db, self.api, self.outcomes,  # type: ignore[arg-type]
            poll_interval=POLL, job_timeout=3600, clock=clock, owner=name, lease_s=LEASE,
            claim_batch=50,
        )  # fmt: skip


OpenDb = Callable[[], Awaitable[Database]]


@pytest.fixture
async def open_db(db_target: Path | str) -> AsyncIterator[OpenDb]:
    """Another connection (pool) to the one shared database, as a new process would open;
    once on SQLite, once on PostgreSQL."""
    opened: list[Database] = []

    async def factory() -> Database:
        db = await Database.open(db_target)
        opened.append(db)
        return db

    yield factory
    for db in opened:
        await db.close()


@pytest.fixture
def clock() -> Clock:
    return Clock(T0)


async def new_job(
    db: Database, clock: Clock, *, owner: str | None = None, submitted: bool = True
) -> int:
    quota = Quota(db, CostTable(), default_budget=10_000, default_period="month", clock=clock)
    job_id = await quota.reserve(
        NewJob(
            guild_id=1, channel_id=2, user_id=3, operation="create_music", request={},
            summary="s", cost=20, owner=owner,
            lease_until=clock.now + LEASE if owner else None,
        )
    )  # fmt: skip
    if submitted:
        async with db.transaction() as conn:
            await job_sql.mark_submitted(conn, job_id, f"task-{job_id}", clock.now, clock.now)
    return job_id


async def row(db: Database, job_id: int) -> Job:
    async with db.read() as conn:
        found = await job_sql.get(conn, job_id)
    assert found is not None
    return found


async def ledger_kinds(db: Database, job_id: int) -> list[str]:
    async with db.read() as conn:
        return [e.kind for e in await ledger_sql.job_entries(conn, job_id)]


def done(task_id: str) -> TaskStatus:
    clip = Clip(clip_id=f"{task_id}-c", state="succeeded", title="T", audio_url="http://x/a.mp3")
    return TaskStatus(task_id=task_id, state="succeeded", clips=(clip,))


def running(task_id: str) -> TaskStatus:
    return TaskStatus(task_id=task_id, state="running")


async def test_a_free_job_is_claimed_by_exactly_one_process(open_db: OpenDb, clock: Clock) -> None:
    a, b = Process("a", await open_db(), clock), Process("b", await open_db(), clock)
    job_id = await new_job(a.db, clock)
    await a.scheduler.recover()
    await b.scheduler.recover()
    claimed = await row(b.db, job_id)
    assert (claimed.owner, claimed.lease_epoch) == ("a", 1)
    assert claimed.lease_until == clock.now + LEASE
    # Only the owner polls it.
    a.api.answers, b.api.answers = [running("task-1")], []
    assert await b.scheduler.run_due() == 0
    assert await a.scheduler.run_due() == 1
    assert a.api.polls == [f"task-{job_id}"] and b.api.polls == []


async def test_simultaneous_claims_never_share_a_job(open_db: OpenDb, clock: Clock) -> None:
    first = await open_db()
    for _ in range(120):
        await new_job(first, clock)
    processes = [Process(f"p{n}", await open_db(), clock) for n in range(4)]
    # Four processes claim at once, in batches of 50: every job is taken exactly once.
    await asyncio.gather(*(p.scheduler.recover() for p in processes))
    await asyncio.gather(*(p.scheduler.recover() for p in processes))
    async with first.read() as conn:
        cursor = await conn.execute("SELECT owner, lease_epoch FROM jobs")
        rows = [(r[0], r[1]) for r in await cursor.fetchall()]
    assert len(rows) == 120
    assert all(owner in {"p0", "p1", "p2", "p3"} and epoch == 1 for owner, epoch in rows)
    # One heartbeat takes every free job, batch after batch of 50: none waits for the next.
    lone = Process("lone", first, clock)
    for _ in range(130):
        await new_job(first, clock)
    await lone.scheduler.recover()
    async with first.read() as conn:
        cursor = await conn.execute("SELECT COUNT(*) FROM jobs WHERE owner = 'lone'")
        assert (await cursor.fetchone())[0] == 130


async def test_heartbeat_keeps_the_lease_and_silence_loses_it(
    open_db: OpenDb, clock: Clock
) -> None:
    a, b = Process("a", await open_db(), clock), Process("b", await open_db(), clock)
    job_id = await new_job(a.db, clock, owner="a")
    for _ in range(5):  # a beats every quarter lease: well past the first expiry, still a's
        clock.now += LEASE / 4
        await a.scheduler.heartbeat()
        await b.scheduler.heartbeat()
        assert (await row(a.db, job_id)).owner == "a"
    assert (await row(a.db, job_id)).lease_until == clock.now + LEASE

    clock.now += LEASE + 0.001  # a goes quiet (killed): its lease runs out, b takes over
    await b.scheduler.heartbeat()
    taken = await row(b.db, job_id)
    assert (taken.owner, taken.lease_epoch) == ("b", 2)
    # a coming back renews nothing of what it lost, and polls nothing.
    await a.scheduler.heartbeat()
    assert (await row(a.db, job_id)).owner == "b"
    b.api.answers = [done(f"task-{job_id}")]
    assert await a.scheduler.run_due() == 0
    assert await b.scheduler.run_due() == 1
    assert b.outcomes.succeeded == [job_id] and a.api.polls == []
    assert await ledger_kinds(b.db, job_id) == ["reserve", "commit"]


async def test_a_stalled_owner_writes_nothing_after_takeover(open_db: OpenDb, clock: Clock) -> None:
    """a is paused in the middle of a poll (not killed), b takes the job over and finishes
    it, then a resumes with a stale answer: no row, clip, ledger step or post of a's lands."""
    a, b = Process("a", await open_db(), clock), Process("b", await open_db(), clock)
    job_id = await new_job(a.db, clock, owner="a")
    task = f"task-{job_id}"
    a.api.answers = [done(task)]
    a.api.hold()
    stalled = asyncio.create_task(a.scheduler.run_due())
    await a.api.waiting.wait()  # a's poll is out; a is frozen from here on

    clock.now += LEASE + 1
    await b.scheduler.heartbeat()
    b.api.answers = [running(task), done(task)]
    assert await b.scheduler.run_due() == 1  # b's first poll: still running
    after_b_poll = await row(b.db, job_id)
    assert (after_b_poll.owner, after_b_poll.lease_epoch, after_b_poll.state) == ("b", 2, "running")

    a.api.release()  # a wakes up holding a 'succeeded' it may no longer act on
    assert await stalled == 1
    assert await row(b.db, job_id) == after_b_poll
    async with b.db.read() as conn:
        cursor = await conn.execute("SELECT COUNT(*) FROM clips")
        assert (await cursor.fetchone())[0] == 0
    assert await ledger_kinds(b.db, job_id) == ["reserve"]
    assert a.outcomes.succeeded == []

    clock.now = after_b_poll.next_run_at or clock.now
    assert await b.scheduler.run_due() == 1
    final = await row(b.db, job_id)
    assert final.state == "succeeded" and final.notified
    assert b.outcomes.succeeded == [job_id]
    assert await ledger_kinds(b.db, job_id) == ["reserve", "commit"]


async def test_a_stalled_owner_cannot_fail_or_refund_a_taken_job(
    open_db: OpenDb, clock: Clock
) -> None:
    a, b = Process("a", await open_db(), clock), Process("b", await open_db(), clock)
    job_id = await new_job(a.db, clock, owner="a")
    a.api.answers = [RateLimitedError("slow", status=429, retry_after=5.0)]
    a.api.hold()
    stalled = asyncio.create_task(a.scheduler.run_due())
    await a.api.waiting.wait()
    clock.now += LEASE + 1
    await b.scheduler.heartbeat()
    before = await row(b.db, job_id)
    a.api.release()
    await stalled
    assert await row(b.db, job_id) == before  # not even the error count moved
    async with b.db.read() as conn:
        assert await lease_sql.pause_until(conn) == 0.0  # nor the shared pause


async def test_a_clean_stop_hands_jobs_back_at_once(open_db: OpenDb, clock: Clock) -> None:
    a, b = Process("a", await open_db(), clock), Process("b", await open_db(), clock)
    polling = await new_job(a.db, clock, owner="a")
    sending = await new_job(a.db, clock, owner="a", submitted=False)
    await a.scheduler.stop()
    await b.scheduler.recover()  # no waiting for the lease to run out
    assert (await row(b.db, polling)).owner == "b"
    # A submit may still be on the wire in a: only its lease running out makes it an orphan.
    held = await row(b.db, sending)
    assert (held.owner, held.state) == ("a", "submitting")
    assert b.outcomes.failed == []


async def test_submitting_jobs_are_judged_by_their_lease(open_db: OpenDb, clock: Clock) -> None:
    a, b = Process("a", await open_db(), clock), Process("b", await open_db(), clock)
    job_id = await new_job(a.db, clock, owner="a", submitted=False)
    # b starting up does not release a's submit in flight, though it is 'submitting'.
    assert await b.scheduler.recover() == 0
    clock.now += LEASE / 2
    await a.scheduler.heartbeat()
    clock.now += LEASE / 2 + 1
    assert await b.scheduler.recover() == 0
    assert (await row(b.db, job_id)).state == "submitting"
    # a dies mid-submit: once its lease runs out, b settles the job and refunds it.
    clock.now += LEASE
    assert await b.scheduler.recover() == 1
    failed = await row(b.db, job_id)
    reason = orphans.NOT_SENT_REASON  # a died before its request left
    assert (failed.state, failed.failure, failed.owner) == ("failed", reason, "b")
    assert await ledger_kinds(b.db, job_id) == ["reserve", "release"]


async def test_a_rate_limit_pauses_every_process(open_db: OpenDb, clock: Clock) -> None:
    a, b = Process("a", await open_db(), clock), Process("b", await open_db(), clock)
    first = await new_job(a.db, clock, owner="a")
    second = await new_job(b.db, clock, owner="b")
    a.api.answers = [RateLimitedError("slow", status=429, retry_after=30.0)]
    assert await a.scheduler.run_due() == 1
    b.api.answers = [running(f"task-{second}")]
    assert await b.scheduler.run_due() == 0 and b.api.polls == []  # b never got the 429
    for _ in range(7):  # both stay alive, beating, for the 30 s of the pause
        clock.now += LEASE / 4
        await a.scheduler.heartbeat()
        await b.scheduler.heartbeat()
        if clock.now < T0 + 30:
            assert await b.scheduler.run_due() == 0
    assert await b.scheduler.run_due() == 1 and b.api.polls == [f"task-{second}"]
    assert (await row(a.db, first)).errors == 1


class SignallingAPI(GatedAPI):
    def __init__(self) -> None:
        super().__init__()
        self.polled = asyncio.Event()

    async def poll(self, family: str, task_id: str) -> TaskStatus:
        self.polled.set()
        return running(task_id)


async def listening(db: Database, count: int) -> None:
    """Wait until `count` connections LISTEN for job wake-ups (each process opens one)."""

    async def enough() -> bool:
        async with db.read() as conn:
            rows = await conn.execute_fetchall(
                "SELECT count(*) FROM pg_stat_activity WHERE query LIKE ?", ("LISTEN %",)
            )
        return int(rows[0][0]) >= count

    await wait_for(enough, 15, f"{count} listening processes")


async def live_process(name: str, url: str) -> tuple[Scheduler, SignallingAPI, Database]:
    """A scheduler whose own timers would not act for minutes: a 400 s lease (a heartbeat
    every 100 s) and polls every 1,000 s. Whatever it does within seconds, a NOTIFY made it."""
    db = await Database.open(url)
    api = SignallingAPI()
    scheduler = Scheduler(
        db, api, Recorder(),  # type: ignore[arg-type]
        poll_interval=1000, job_timeout=3600, owner=name, lease_s=400,
    )  # fmt: skip
    return scheduler, api, db


async def test_postgres_notify_wakes_the_owner_of_a_job_changed_elsewhere(pg_url: str) -> None:
    a, a_api, a_db = await live_process("a", pg_url)
    b_db = await Database.open(pg_url)
    try:
        clock = Clock()
        clock.now = time.time()
        job_id = await new_job(a_db, clock, owner="a")
        async with a_db.transaction() as conn:  # not due for a long while
            await conn.execute("UPDATE jobs SET next_run_at = ?, lease_until = ? WHERE id = ?",
                               (clock.now + 1000, clock.now + 400, job_id))  # fmt: skip
        a.start()
        await listening(b_db, 1)  # a hears wake-ups from here on
        # Proves a negative (no poll of a job due in 1000 s), so nothing later to wait for:
        # a short look, while a's loop has gone to sleep.
        await asyncio.sleep(0.1)
        assert not a_api.polled.is_set()
        async with b_db.transaction() as conn:  # b (a webhook, say) makes it due now
            await conn.execute(
                "UPDATE jobs SET next_run_at = ? WHERE id = ?", (time.time(), job_id)
            )
            await lease_sql.wake_owner(conn, job_id)
        await asyncio.wait_for(a_api.polled.wait(), 10)
    finally:
        await a.stop()
        await a_db.close()
        await b_db.close()


async def test_postgres_a_clean_stop_is_claimed_by_the_others_at_once(pg_url: str) -> None:
    a, _a_api, a_db = await live_process("a", pg_url)
    b, _b_api, b_db = await live_process("b", pg_url)
    try:
        clock = Clock()
        clock.now = time.time()
        job_id = await new_job(a_db, clock, owner="a")
        async with a_db.transaction() as conn:
            await conn.execute("UPDATE jobs SET lease_until = ? WHERE id = ?",
                               (clock.now + 400, job_id))  # fmt: skip
        a.start()
        b.start()
        await listening(b_db, 2)  # both hear wake-ups: b will hear a's hand-back
        assert (await row(b_db, job_id)).owner == "a"
        await a.stop()  # b's next heartbeat is 100 s away: only the NOTIFY can move the job
        for _ in range(200):
            if (await row(b_db, job_id)).owner == "b":
                break
            await asyncio.sleep(0.05)
        taken = await row(b_db, job_id)
        assert (taken.owner, taken.lease_epoch) == ("b", 2)
    finally:
        await b.stop()
        await a_db.close()
        await b_db.close()
