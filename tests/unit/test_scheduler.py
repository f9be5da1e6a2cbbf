"""The scheduler against a scripted MusicAPI and a recording Discord: each branch of a job."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.jobs.learning import SONIC_PRIOR
from bot.jobs.orphans import NOT_SENT_REASON
from bot.jobs.scheduler import Scheduler
from bot.musicapi.errors import NotFoundError, RateLimitedError, ServerError
from bot.musicapi.models import Clip, TaskStatus
from bot.quota.costs import CostTable
from bot.quota.ledger import Quota
from bot.store import clips as clip_sql
from bot.store import jobs as job_sql
from bot.store import ledger as ledger_sql
from bot.store.database import Database
from bot.store.jobs import Job, NewJob
from tests.helpers import Clock

BASE = 10.0
TARGET_LAG = 5.0
T0 = 1_800_000_000.0


class ScriptedAPI:
    def __init__(self) -> None:
        self.script: list[TaskStatus | Exception] = []
        self.polls = 0

    async def poll(self, family: str, task_id: str) -> TaskStatus:
        assert family == "sonic"
        self.polls += 1
        item = self.script.pop(0)
        if isinstance(item, Exception):
            raise item
        return item


class Recorder:
    def __init__(self) -> None:
        self.progress: list[str] = []
        self.succeeded: list[int] = []
        self.failed: list[tuple[int, str | None]] = []
        self.fail_deliveries = 0

    async def job_progress(self, job: Job, state: str) -> None:
        self.progress.append(state)

    async def job_succeeded(self, job: Job) -> None:
        if self.fail_deliveries:
            self.fail_deliveries -= 1
            raise ConnectionError("discord is down")
        self.succeeded.append(job.id)

    async def job_failed(self, job: Job) -> None:
        self.failed.append((job.id, job.failure))


def clip(n: int, state: str = "succeeded") -> Clip:
    return Clip(
        clip_id=f"clip-{n}", state=state, title="T", audio_url=f"http://x/{n}.mp3", duration=12.5
    )


@pytest.fixture
async def env(
    db_target: Path | str,
) -> AsyncIterator[tuple[Database, Scheduler, ScriptedAPI, Recorder, Clock]]:
    # Every test here runs on SQLite and on PostgreSQL (see tests/conftest.py).
    db = await Database.open(db_target)
    api, rec, clock = ScriptedAPI(), Recorder(), Clock(T0)
    sched = Scheduler(db, api, rec, poll_interval=BASE, job_timeout=300, clock=clock)  # type: ignore[arg-type]
    yield db, sched, api, rec, clock
    await db.close()


async def submitted_job(db: Database, clock: Clock, cost: int = 20) -> int:
    q = Quota(db, CostTable(), default_budget=100, default_period="month", clock=clock)
    job_id = await q.reserve(
        NewJob(
            guild_id=1,
            channel_id=2,
            user_id=3,
            operation="create_music",
            request={},
            summary="s",
            cost=cost,
        )
    )
    async with db.transaction() as conn:
        await job_sql.mark_submitted(conn, job_id, f"task-{job_id}", clock.now, clock.now)
    return job_id


async def job(db: Database, job_id: int) -> Job:
    async with db.read() as conn:
        found = await job_sql.get(conn, job_id)
    assert found is not None
    return found


async def kinds(db: Database, job_id: int) -> list[str]:
    async with db.read() as conn:
        return [e.kind for e in await ledger_sql.job_entries(conn, job_id)]


async def test_polls_adapt_to_state_then_deliver_and_charge_once(env) -> None:  # type: ignore[no-untyped-def]
    db, sched, api, rec, clock = env
    job_id = await submitted_job(db, clock)
    api.script = [
        TaskStatus.pending("t"),
        TaskStatus(task_id="t", state="running", clips=(clip(1, "running"), clip(2, "pending"))),
        TaskStatus(
            task_id="t", state="streaming", clips=(clip(1, "streaming"), clip(2, "streaming"))
        ),
        TaskStatus(task_id="t", state="succeeded", clips=(clip(1), clip(2))),
    ]
    delays = []
    for _ in range(4):
        before = clock.now
        assert await sched.run_due() == 1
        state = await job(db, job_id)
        if state.next_run_at and state.state != "succeeded":
            delays.append(state.next_run_at - before)
            clock.now = state.next_run_at
    # Nothing learned yet: the prior says when completion becomes plausible, then one look
    # every POLL_TARGET_LAG_S (neither ever longer than POLL_INTERVAL_S).
    assert delays == pytest.approx([min(SONIC_PRIOR.p01, BASE), TARGET_LAG, TARGET_LAG])
    final = await job(db, job_id)
    assert final.state == "succeeded" and final.notified
    assert rec.succeeded == [job_id] and rec.progress == ["pending", "running", "streaming"]
    assert await kinds(db, job_id) == ["reserve", "commit"]
    async with db.read() as conn:
        assert [c.clip_id for c in await clip_sql.for_job(conn, job_id)] == ["clip-1", "clip-2"]
    assert await sched.run_due() == 0  # nothing left to do: never delivered twice


async def test_upstream_failure_releases_and_tells_the_member(env) -> None:  # type: ignore[no-untyped-def]
    db, sched, api, rec, clock = env
    job_id = await submitted_job(db, clock)
    api.script = [TaskStatus.failed("t", "forbidden", "lyrics refused: 'x'")]
    await sched.run_due()
    assert rec.failed == [(job_id, "lyrics refused: 'x'")]
    assert await kinds(db, job_id) == ["reserve", "release"]


async def test_rate_limit_pauses_every_poll_and_backs_off(env) -> None:  # type: ignore[no-untyped-def]
    db, sched, api, _rec, clock = env
    job_id = await submitted_job(db, clock)
    api.script = [RateLimitedError("slow down", status=429, retry_after=42.0)]
    await sched.run_due()
    state = await job(db, job_id)
    assert state.errors == 1 and state.next_run_at is not None
    assert state.next_run_at - clock.now >= 42.0
    clock.now += 30
    assert await sched.run_due() == 0 and api.polls == 1  # still paused


async def test_server_errors_back_off_exponentially_then_recover(env) -> None:  # type: ignore[no-untyped-def]
    db, sched, api, rec, clock = env
    job_id = await submitted_job(db, clock)
    api.script = [
        ServerError("boom", status=502),
        ServerError("boom", status=503),
        TaskStatus(task_id="t", state="succeeded", clips=(clip(1),)),
    ]
    gaps = []
    for _ in range(2):
        await sched.run_due()
        state = await job(db, job_id)
        assert state.next_run_at is not None
        gaps.append(state.next_run_at - clock.now)
        clock.now = state.next_run_at
    assert gaps[1] > gaps[0] * 1.3  # exponential (with jitter)
    await sched.run_due()
    assert rec.succeeded == [job_id] and await kinds(db, job_id) == ["reserve", "commit"]


async def test_unknown_task_fails_and_refunds(env) -> None:  # type: ignore[no-untyped-def]
    db, sched, api, rec, clock = env
    job_id = await submitted_job(db, clock)
    api.script = [NotFoundError("task not found.", status=404)]
    await sched.run_due()
    assert rec.failed and rec.failed[0][0] == job_id
    assert await kinds(db, job_id) == ["reserve", "release"]


async def test_timeout_fails_without_polling(env) -> None:  # type: ignore[no-untyped-def]
    db, sched, api, rec, clock = env
    job_id = await submitted_job(db, clock)
    clock.now += 301
    await sched.run_due()
    assert api.polls == 0
    assert rec.failed == [(job_id, "MusicAPI did not finish it within 5 minutes.")]
    assert await kinds(db, job_id) == ["reserve", "release"]


async def test_delivery_outage_retries_without_charging_twice(env) -> None:  # type: ignore[no-untyped-def]
    db, sched, api, rec, clock = env
    job_id = await submitted_job(db, clock)
    rec.fail_deliveries = 2
    api.script = [TaskStatus(task_id="t", state="succeeded", clips=(clip(1),))]
    for _ in range(3):
        await sched.run_due()
        state = await job(db, job_id)
        if state.next_run_at:
            clock.now = state.next_run_at
    assert rec.succeeded == [job_id] and api.polls == 1
    assert await kinds(db, job_id) == ["reserve", "commit"]
    assert (await job(db, job_id)).notified


async def test_restart_releases_jobs_cut_off_before_submission(env) -> None:  # type: ignore[no-untyped-def]
    db, sched, _api, rec, clock = env
    q = Quota(db, CostTable(), default_budget=100, default_period="month", clock=clock)
    job_id = await q.reserve(
        NewJob(
            guild_id=1,
            channel_id=2,
            user_id=3,
            operation="create_music",
            request={},
            summary="s",
            cost=20,
        )
    )
    assert await sched.recover() == 1
    await sched.run_due()
    assert rec.failed == [(job_id, NOT_SENT_REASON)]
    assert await kinds(db, job_id) == ["reserve", "release"]


async def test_run_now_releases_on_any_failure(env) -> None:  # type: ignore[no-untyped-def]
    from bot.jobs.service import JobOrigin, JobService

    db, sched, api, _rec, clock = env
    quota = Quota(db, CostTable(), default_budget=100, default_period="month", clock=clock)
    service = JobService(db, quota, api, sched, poll_interval=BASE, clock=clock)  # type: ignore[arg-type]

    async def broken() -> str:
        raise RuntimeError("a bug, not MusicAPI")

    with pytest.raises(RuntimeError):
        await service.run_now(JobOrigin(1, 2, 3), "bpm", {}, broken)
    assert await kinds(db, 1) == ["reserve", "release"]
    assert (await quota.standing(1)).server_spent == 0
