"""Webhooks acted on by the scheduler, the streaming preview, the learned schedule, and the
restart spread. A scripted MusicAPI counts polls, so "no poll" is checked, not assumed."""

from __future__ import annotations

import random
import statistics
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.delivery import embeds
from bot.jobs import learning
from bot.jobs.learning import CompletionTimes, Estimate
from bot.jobs.scheduler import RESTART_POLLS_PER_S, RESTART_WINDOW_S, Scheduler
from bot.jobs.timing import Policy
from bot.musicapi.models import Clip, TaskStatus
from bot.quota.costs import CostTable
from bot.quota.ledger import Quota
from bot.redaction import add_secret
from bot.store import jobs as job_sql
from bot.store import ledger as ledger_sql
from bot.store import webhooks as webhook_sql
from bot.store.database import Database
from bot.store.jobs import Job, NewJob

T0 = 1_800_000_000.0
LAG = 5.0


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


class ScriptedAPI:
    def __init__(self) -> None:
        self.script: list[TaskStatus] = []
        self.polls = 0

    async def poll(self, family: str, task_id: str) -> TaskStatus:
        self.polls += 1
        return self.script.pop(0) if self.script else TaskStatus.pending(task_id)


class Recorder:
    def __init__(self) -> None:
        self.cards: list[tuple[str, Job]] = []
        self.succeeded: list[int] = []
        self.failed: list[int] = []

    async def job_progress(self, job: Job, state: str) -> None:
        self.cards.append((state, job))

    async def job_succeeded(self, job: Job) -> None:
        self.succeeded.append(job.id)

    async def job_failed(self, job: Job) -> None:
        self.failed.append(job.id)


def payload(task_id: str, event: str, state: str) -> dict[str, Any]:
    clips = [
        {
            "clip_id": f"c{n}",
            "state": state,
            "title": "Sun",
            "audio_url": f"https://cdn1.suno.ai/c{n}.mp3",
        }
        for n in (1, 2)
    ]
    return {"code": 200, "data": clips, "message": "success", "task_id": task_id, "event": event}


async def reserved(db: Database, clock: Clock, sched: Scheduler | None = None) -> int:
    """A job reserved by `sched`'s process (which owns it from the start), or by nobody."""
    owner, lease_until = sched.new_lease() if sched is not None else (None, None)
    quota = Quota(db, CostTable(), default_budget=10**7, default_period="month", clock=clock)
    return await quota.reserve(
        NewJob(
            guild_id=1,
            channel_id=2,
            user_id=3,
            operation="create_music",
            request={"mv": "sonic-v5"},
            summary="s",
            cost=10,
            model="sonic-v5",
            owner=owner,
            lease_until=lease_until,
        )
    )


async def submitted(db: Database, sched: Scheduler, clock: Clock, task_id: str) -> int:
    job_id = await reserved(db, clock, sched)
    async with db.transaction() as conn:
        job = await job_sql.get(conn, job_id)
        assert job is not None
        await job_sql.mark_submitted(
            conn, job_id, task_id, clock.now, sched.first_poll_at(job, clock.now)
        )
    return job_id


async def push(db: Database, job_id: int, task_id: str, event: str, state: str, at: float) -> None:
    """What the receiver does with a verified delivery."""
    async with db.transaction() as conn:
        assert await webhook_sql.record(
            conn, job_id, f"id-{event}", task_id, event, payload(task_id, event, state), at
        )
        await job_sql.run_soon(conn, job_id, at)


async def get(db: Database, job_id: int) -> Job:
    async with db.read() as conn:
        job = await job_sql.get(conn, job_id)
    assert job is not None
    return job


@pytest.fixture
async def env(
    db_target: Path | str,
) -> AsyncIterator[tuple[Database, Scheduler, ScriptedAPI, Recorder, Clock]]:
    db = await Database.open(db_target)
    api, rec, clock = ScriptedAPI(), Recorder(), Clock()
    sched = Scheduler(
        db,
        api,
        rec,
        poll_interval=15.0,
        job_timeout=900,
        clock=clock,
        target_lag=LAG,
        push=True,  # type: ignore[arg-type]
    )
    yield db, sched, api, rec, clock
    await db.close()


async def test_a_pushed_completion_settles_the_job_without_any_poll(env) -> None:  # type: ignore[no-untyped-def]
    db, sched, api, rec, clock = env
    job_id = await submitted(db, sched, clock, "task-1")
    first = (await get(db, job_id)).next_run_at
    assert first is not None and first - clock.now >= learning.SONIC_PRIOR.p99  # safety net only
    clock.now += 90
    await push(db, job_id, "task-1", "song.completed", "succeeded", clock.now)
    assert await sched.run_due() == 1
    job = await get(db, job_id)
    assert job.state == "succeeded" and job.notified and rec.succeeded == [job_id]
    assert api.polls == 0  # no confirming poll
    assert job.duration_s == pytest.approx(90)  # learned from the webhook's time
    async with db.read() as conn:
        assert [e.kind for e in await ledger_sql.job_entries(conn, job_id)] == ["reserve", "commit"]
    assert await sched.run_due() == 0


async def test_a_webhook_that_beats_the_submit_finds_its_job(env) -> None:  # type: ignore[no-untyped-def]
    db, sched, api, rec, clock = env
    job_id = await reserved(db, clock, sched)  # the POST has not returned: no task id yet
    await push(db, job_id, "task-early", "song.completed", "succeeded", clock.now)
    await sched.run_due()
    job = await get(db, job_id)
    assert job.task_id == "task-early" and job.state == "succeeded"
    assert rec.succeeded == [job_id] and api.polls == 0
    # Then the submit returns: recording its task changes nothing.
    async with db.transaction() as conn:
        await job_sql.mark_submitted(conn, job_id, "task-early", clock.now, clock.now + 100)
    assert (await get(db, job_id)).state == "succeeded"
    assert await sched.run_due() == 0 and rec.succeeded == [job_id]


async def test_streaming_shows_a_play_link_and_the_final_card_drops_it(env) -> None:  # type: ignore[no-untyped-def]
    db, sched, api, rec, clock = env
    job_id = await submitted(db, sched, clock, "task-1")
    clock.now += 40
    await push(db, job_id, "task-1", "song.streaming", "streaming", clock.now)
    await sched.run_due()
    state, shown = rec.cards[-1]
    assert state == "streaming" and shown.stream_url == "https://cdn1.suno.ai/c1.mp3"
    card = embeds.job_card(shown, state)
    listen = [f.value for f in card.fields if f.name == "Listen now"]
    assert listen and "https://cdn1.suno.ai/c1.mp3" in str(listen[0])
    # Still a safety net: the next poll is not right after the streaming event.
    stored = await get(db, job_id)
    assert (
        stored.next_run_at is not None
        and stored.next_run_at - clock.now >= sched.policy.safety_spacing(sched.estimate(stored))
    )
    assert api.polls == 0
    clock.now += 20
    await push(db, job_id, "task-1", "song.completed", "succeeded", clock.now)
    await sched.run_due()
    final = await get(db, job_id)
    assert final.state == "succeeded"
    assert not [f for f in embeds.job_card(final, "succeeded").fields if f.name == "Listen now"]


async def test_a_missing_webhook_is_found_by_the_safety_poll(env) -> None:  # type: ignore[no-untyped-def]
    db, sched, api, rec, clock = env
    job_id = await submitted(db, sched, clock, "task-1")
    api.script = [
        TaskStatus(
            task_id="task-1",
            state="succeeded",
            clips=(Clip("c1", "succeeded", audio_url="https://x/1.mp3"),),
        )
    ]
    job = await get(db, job_id)
    assert job.next_run_at is not None
    clock.now = job.next_run_at
    await sched.run_due()
    assert api.polls == 1 and rec.succeeded == [job_id]


async def test_a_push_whose_name_and_data_disagree_is_checked_by_a_poll(env) -> None:  # type: ignore[no-untyped-def]
    """A signed body named `song.failed` whose data says succeeded fails nothing: the name
    never overrides the data, so upstream is asked, and its answer decides."""
    db, sched, api, rec, clock = env
    job_id = await submitted(db, sched, clock, "task-1")
    api.script = [
        TaskStatus(
            task_id="task-1",
            state="succeeded",
            clips=(Clip("c1", "succeeded", audio_url="https://x/1.mp3"),),
        )
    ]
    await push(db, job_id, "task-1", "song.failed", "succeeded", clock.now)
    await sched.run_due()
    assert api.polls == 1 and rec.failed == [] and rec.succeeded == [job_id]
    assert (await get(db, job_id)).state == "succeeded"


async def test_a_failure_upstream_words_reaches_the_member_without_secrets(env) -> None:  # type: ignore[no-untyped-def]
    db, sched, _api, rec, clock = env
    secret = "whsec-quoted-in-a-failure-0123456789"
    add_secret(secret)
    job_id = await submitted(db, sched, clock, "task-1")
    # A signed failure whose data can't be read: its message is what the member reads.
    body = {"code": 200, "task_id": "task-1", "data": "?", "event": "song.failed"}
    body["message"] = f"bad secret {secret}"
    async with db.transaction() as conn:
        assert await webhook_sql.record(conn, job_id, "id-f", "task-1", "song.failed", body, 1.0)
        await job_sql.run_soon(conn, job_id, clock.now)
    await sched.run_due()
    job = await get(db, job_id)
    assert job.state == "failed" and rec.failed == [job_id]
    assert job.failure is not None and secret not in job.failure and "[redacted]" in job.failure


# -- the learned schedule on recorded distributions ----------------------------------------


def simulate(policy: Policy, est: Estimate, durations: list[float]) -> tuple[float, float]:
    """Polls per song and the worst lag when polling by `policy` with `est`."""
    polls, lags = [], []
    for duration in durations:
        at, count = policy.first_delay(est), 1
        while at < duration:
            at += policy.next_delay(est, "running", at)
            count += 1
        polls.append(count)
        lags.append(at - duration)
    return statistics.fmean(polls), max(lags)


@pytest.mark.parametrize(("spread", "max_polls"), [(0.10, 6.0), (0.30, 10.0)])
def test_learned_schedule_meets_the_target_on_recorded_times(
    spread: float, max_polls: float
) -> None:
    rng = random.Random(20261130)
    recorded = [
        rng.uniform(90 * (1 - spread), 90 * (1 + spread)) for _ in range(learning.MIN_SAMPLES)
    ]
    later = [rng.uniform(90 * (1 - spread), 90 * (1 + spread)) for _ in range(500)]
    times = CompletionTimes(None)
    policy = Policy(target_lag=LAG, max_interval=15.0)
    prior = times.estimate("sonic", "create_music", "sonic-v5")
    assert prior.samples == 0
    for duration in recorded:
        times.observe("sonic", "create_music", "sonic-v5", duration)
    est = times.estimate("sonic", "create_music", "sonic-v5")
    assert est.samples == learning.MIN_SAMPLES  # learned within 20 finished songs
    polls, worst_lag = simulate(policy, est, later)
    prior_polls, _ = simulate(policy, prior, later)
    assert polls <= max_polls and worst_lag <= LAG
    assert polls < prior_polls / 2
    # Other kinds of job keep their own estimate.
    assert times.estimate("sonic", "create_music", "sonic-v4").samples == 0


async def test_the_estimate_comes_back_from_the_database(database: Database) -> None:
    clock = Clock()
    quota = Quota(database, CostTable(), default_budget=10**6, default_period="month", clock=clock)
    for n in range(learning.MIN_SAMPLES):
        job_id = await quota.reserve(NewJob(1, 2, 3, "create_music", {}, "s", 1, model="sonic-v5"))
        async with database.transaction() as conn:
            await job_sql.mark_submitted(conn, job_id, f"t{n}", clock.now, clock.now)
            await job_sql.finish(conn, job_id, "succeeded", clock.now + 60 + n)
            await job_sql.set_duration(conn, job_id, 60.0 + n)
    # A fresh process (or another one) reads what the others learned.
    times = CompletionTimes(database, clock=clock)
    await times.refresh(force=True)
    est = times.estimate("sonic", "create_music", "sonic-v5")
    assert est.samples == learning.MIN_SAMPLES and 55 <= est.p01 <= 60 and 65 <= est.p50 <= 72


# -- restart ------------------------------------------------------------------------------


async def test_a_restart_spreads_due_polls_instead_of_a_burst(database: Database) -> None:
    clock = Clock()
    api, rec = ScriptedAPI(), Recorder()
    sched = Scheduler(database, api, rec, poll_interval=15.0, job_timeout=3600, clock=clock)  # type: ignore[arg-type]
    count = 300
    for n in range(count):
        job_id = await reserved(database, clock)
        async with database.transaction() as conn:
            await job_sql.mark_submitted(conn, job_id, f"t{n}", clock.now - 100, clock.now - 5)
    await sched.recover()  # as at start-up: the jobs nobody holds become this process's
    assert await sched.spread_after_restart() == count
    async with database.read() as conn:
        times = sorted(j.next_run_at for j in await job_sql.active(conn) if j.next_run_at)
    assert len(times) == count
    window = count / RESTART_POLLS_PER_S
    assert times[0] >= clock.now and times[-1] - times[0] == pytest.approx(window, rel=0.05)
    per_second = max(
        sum(1 for t in times if s <= t - clock.now < s + 1) for s in range(int(window) + 1)
    )
    assert per_second <= RESTART_POLLS_PER_S + 1


async def test_with_webhooks_a_restart_looks_at_possibly_finished_jobs_within_a_minute(
    database: Database,
) -> None:
    clock = Clock()
    sched = Scheduler(
        database,
        ScriptedAPI(),
        Recorder(),
        poll_interval=15.0,
        job_timeout=3600,
        clock=clock,
        push=True,
    )  # type: ignore[arg-type]
    old = await reserved(database, clock)
    young = await reserved(database, clock)
    async with database.transaction() as conn:
        # Its webhook may have come while nobody listened: safety poll far off.
        await job_sql.mark_submitted(conn, old, "t-old", clock.now - 200, clock.now + 400)
        # Submitted a second ago: nothing could have finished yet.
        await job_sql.mark_submitted(conn, young, "t-young", clock.now - 1, clock.now + 400)
    await sched.recover()
    await sched.spread_after_restart()
    assert (await get(database, old)).next_run_at <= clock.now + RESTART_WINDOW_S  # type: ignore[operator]
    assert (await get(database, young)).next_run_at == clock.now + 400
