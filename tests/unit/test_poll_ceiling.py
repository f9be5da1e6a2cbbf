"""The scheduler holds MUSICAPI_MAX_POLLS_PER_S against the simulator: requests are counted
where they arrive, and due jobs are served oldest-due first.

Most of it runs on a clock the test moves (`run_due` once per step); one test runs the real
loop, to show it waits for the budget instead of spinning on the jobs it holds back.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.jobs.scheduler import CEILING_LOG_S, Scheduler
from bot.musicapi.client import MusicAPIClient
from bot.musicapi.families.sonic import SonicCreate
from bot.simulator import MusicAPISimulator, SimulatorConfig
from bot.store import jobs as job_sql
from bot.store.database import Database
from bot.store.jobs import Job, NewJob
from tests.helpers import Clock

KEY = "sk-test-poll-ceiling"
T0 = 1_800_000_000.0
JOBS = 24
RATE = 4.0
STEP = 0.25  # fake seconds between two passes


class Quiet:
    async def job_progress(self, job: Job, state: str) -> None: ...
    async def job_succeeded(self, job: Job) -> None: ...
    async def job_failed(self, job: Job) -> None: ...


def status_checks(sim: MusicAPISimulator) -> list[str]:
    """Task ids of the status checks the simulator received, in the order they came."""
    return [path.rsplit("/", 1)[1] for method, path, _ in sim.requests if "/task/" in path]


@pytest.fixture
async def world(
    db_target: Path | str,
) -> AsyncIterator[tuple[Database, MusicAPISimulator, MusicAPIClient]]:
    # Songs that never finish within the test: every job stays in flight.
    sim = MusicAPISimulator(SimulatorConfig(generation_time=3600.0, api_key=KEY, seed=7))
    base = await sim.start()
    db = await Database.open(db_target)
    async with aiohttp.ClientSession() as session:
        yield db, sim, MusicAPIClient(session, base, KEY)
    await db.close()
    await sim.stop()


async def in_flight(
    db: Database, client: MusicAPIClient, sched: Scheduler, now: float, due: Callable[[int], float]
) -> list[str]:
    """JOBS songs in flight, owned by `sched`, past the point where they may finish (so due
    every POLL_TARGET_LAG_S once polled); job n is due at `due(n)`, which grows with n.
    Returns their task ids, oldest due first."""
    tasks = [
        await client.create_music(
            SonicCreate(custom_mode=False, mv="sonic-v5", gpt_description_prompt=f"song {n}")
        )
        for n in range(JOBS)
    ]
    async with db.transaction() as conn:
        for n, task_id in enumerate(tasks):
            new = NewJob(
                1, 2, 3, "create_music", {}, "s", 0, model="sonic-v5",
                owner=sched.owner, lease_until=now + 3600,
            )  # fmt: skip
            job_id = await job_sql.insert(conn, new, now - 200)
            await job_sql.mark_submitted(conn, job_id, task_id, now - 200, due(n))
    return tasks


async def test_a_ceiling_is_held_and_shared_oldest_due_first(world: Any) -> None:
    db, sim, client = world
    clock = Clock(T0)
    sched = Scheduler(
        db, client, Quiet(), poll_interval=15.0, job_timeout=10**6, clock=clock,
        target_lag=5.0, max_polls_per_s=RATE,
    )  # fmt: skip
    # Every job due already, job 0 the longest; each one due again 5 s after a poll, so the
    # schedule asks for JOBS / 5 = 4.8 checks a second: more than the ceiling gives.
    order = await in_flight(db, client, sched, T0, lambda n: T0 - 30 + n)
    sim.requests.clear()
    per_step: list[list[str]] = []
    polled = dict.fromkeys(order, 0)
    for _ in range(int(3 * JOBS / RATE / STEP)):
        async with db.read() as conn:
            due_at = {j.task_id: j.next_run_at for j in await job_sql.active(conn, sched.owner)}
        seen = len(status_checks(sim))
        await sched.run_due()
        step = status_checks(sim)[seen:]
        per_step.append(step)
        clock.now += STEP
        # Oldest due first: every job this pass left waiting was due no sooner than any it
        # polled ...
        waiting = [at for task, at in due_at.items() if task not in step and at <= clock() - STEP]
        assert not waiting or max(due_at[task] for task in step) <= min(waiting)
        # ... so the jobs take turns: nobody is polled twice more than anyone else.
        for task in step:
            polled[task] += 1
        assert max(polled.values()) - min(polled.values()) <= 1

    # The rate, counted at the simulator: at most one burst plus RATE a second, in any window.
    counts = [len(step) for step in per_step]
    burst = sched.budget.burst
    for width in (1, 4, 16, len(counts)):
        for start in range(len(counts) - width + 1):
            assert sum(counts[start : start + width]) <= burst + RATE * width * STEP
    assert sum(counts) >= RATE * len(counts) * STEP  # and the ceiling is used, not wasted

    # The first round goes oldest due first, each job once, all within ceil(N / rate).
    # (The checks one pass starts go out together and may arrive in any order among them.)
    checks = [task for step in per_step for task in sorted(step, key=order.index)]
    assert checks[:JOBS] == order
    first_step = {task: i for i, step in reversed(list(enumerate(per_step))) for task in step}
    assert max(first_step.values()) * STEP <= math.ceil(JOBS / RATE) + STEP


async def test_a_job_held_back_keeps_its_due_time(world: Any) -> None:
    db, _, client = world
    clock = Clock(T0)
    sched = Scheduler(
        db, client, Quiet(), poll_interval=15.0, job_timeout=10**6, clock=clock,
        max_polls_per_s=RATE,
    )  # fmt: skip
    await in_flight(db, client, sched, T0, lambda n: T0 - 60 + n)
    async with db.read() as conn:
        before = {j.id: j.next_run_at for j in await job_sql.active(conn, sched.owner)}
    assert await sched.run_due() == RATE  # one burst: RATE jobs
    async with db.read() as conn:
        after = {j.id: j.next_run_at for j in await job_sql.active(conn, sched.owner)}
    moved = {job for job in before if after[job] != before[job]}
    assert moved == set(sorted(before, key=before.__getitem__)[: int(RATE)])  # the oldest
    assert all(after[job] == before[job] for job in before if job not in moved)


async def test_without_a_ceiling_every_due_job_is_polled_at_once(world: Any) -> None:
    db, sim, client = world
    clock = Clock(T0)
    sched = Scheduler(db, client, Quiet(), poll_interval=15.0, job_timeout=10**6, clock=clock)
    await in_flight(db, client, sched, T0, lambda n: T0 - 60 + n)
    sim.requests.clear()
    assert await sched.run_due() == JOBS
    assert len(status_checks(sim)) == JOBS


async def test_the_loop_waits_for_the_budget_instead_of_spinning(world: Any) -> None:
    db, sim, client = world
    rate = 8.0
    sched = Scheduler(
        db, client, Quiet(), poll_interval=15.0, job_timeout=10**6, max_polls_per_s=rate
    )  # wall clock: the real loop sleeps
    now = time.time()
    await in_flight(db, client, sched, now, lambda n: now - 60 + n * 0.01)
    passes = 0
    dispatch = sched._dispatch

    async def counted() -> bool:
        nonlocal passes
        passes += 1
        return await dispatch()

    sched._dispatch = counted  # type: ignore[method-assign]  # counts the loop's passes
    all_checked = asyncio.Event()
    poll = client.poll

    async def noted(family: str, task_id: str) -> Any:
        try:
            return await poll(family, task_id)
        finally:
            if len(set(status_checks(sim))) >= JOBS:  # as the simulator counts them
                all_checked.set()

    client.poll = noted
    sim.requests.clear()
    started = time.monotonic()
    sched.start()
    try:
        await asyncio.wait_for(all_checked.wait(), 60)
        took = time.monotonic() - started
    finally:
        await sched.stop()
    # One burst at once, the rest at the rate: they cannot all be in sooner than this.
    assert took >= (JOBS - sched.budget.burst) / rate
    # A pass per token or per finished poll, give or take: not a busy loop.
    assert passes <= 4 * JOBS


async def test_pushed_results_are_applied_without_waiting_for_the_budget(
    database: Database,
) -> None:
    from bot.store import webhooks as webhook_sql
    from tests.unit.test_push_and_learning import Recorder, ScriptedAPI, get, payload, submitted

    api, rec, clock = ScriptedAPI(), Recorder(), Clock(T0)
    sched = Scheduler(
        database, api, rec, poll_interval=15.0, job_timeout=900, clock=clock, push=True,
        max_polls_per_s=1.0,
    )  # type: ignore[arg-type]  # fmt: skip
    jobs = [await submitted(database, sched, clock, f"task-{n}") for n in range(5)]  # type: ignore[arg-type]
    clock.now += 90
    for n, job_id in enumerate(jobs):  # what the receiver does with a verified delivery
        async with database.transaction() as conn:
            body = payload(f"task-{n}", "song.completed", "succeeded")
            await webhook_sql.record(
                conn, job_id, f"id-{n}", f"task-{n}", "song.completed", body, clock.now
            )
            await job_sql.run_soon(conn, job_id, clock.now)
    # Five webhooks and a budget of one check a second: all five settle in one pass, no poll.
    assert await sched.run_due() == 5
    assert sorted(rec.succeeded) == sorted(jobs) and api.polls == 0
    assert [(await get(database, job_id)).state for job_id in jobs] == ["succeeded"] * 5
    assert sched.budget.room() == 1  # nothing was spent on them


async def test_the_log_says_when_the_ceiling_holds_checks_back(
    world: Any, caplog: pytest.LogCaptureFixture
) -> None:
    db, _, client = world
    clock = Clock(T0)
    sched = Scheduler(
        db, client, Quiet(), poll_interval=15.0, job_timeout=10**6, clock=clock,
        max_polls_per_s=RATE,
    )  # fmt: skip
    await in_flight(db, client, sched, T0, lambda n: T0 - 60 + n)
    with caplog.at_level(logging.WARNING, logger="bot.jobs.scheduler"):
        for _ in range(8):  # held back at every pass, but said once
            await sched.run_due()
            clock.now += STEP
        said = [r.getMessage() for r in caplog.records if "MAX_POLLS_PER_S" in r.getMessage()]
        assert said == ["MUSICAPI_MAX_POLLS_PER_S=4 reached: due status checks wait their turn, "
                        "oldest first"]  # fmt: skip
        clock.now += CEILING_LOG_S
        await sched.run_due()
        said = [r for r in caplog.records if "MAX_POLLS_PER_S" in r.getMessage()]
        assert len(said) == 2  # and again while it still binds, ten minutes on
