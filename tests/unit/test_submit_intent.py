"""A submit killed at each of its steps, then a restart on the same database.

The kill is a BaseException raised at the step (nothing after it runs, an open transaction rolls
back, as with `kill -9`), followed by a new scheduler on the reopened database. Against the real
simulator, so "MusicAPI made a task" is a fact the test can count; on both database engines.
Every case must end with the
job settled, the member told (truthfully: made, not made, or may have been made), the credits
committed or released once, and each possibly billed orphan counted for the owner.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, replace
from pathlib import Path

import aiohttp
import pytest

from bot.delivery import embeds
from bot.jobs import lifecycle, orphans
from bot.jobs.operations import Operation, sonic_create
from bot.jobs.scheduler import Scheduler
from bot.jobs.service import JobOrigin, JobService, SubmitRefused
from bot.musicapi.client import MusicAPIClient
from bot.musicapi.families.sonic import SonicCreate
from bot.quota import ledger
from bot.quota.costs import CostTable
from bot.quota.ledger import Quota
from bot.simulator import MusicAPISimulator, SimulatorConfig
from bot.store import jobs as job_sql
from bot.store import ledger as ledger_sql
from bot.store.database import Database
from bot.store.jobs import Job
from tests.helpers import Clock

T0 = 1_800_000_000.0
POLL = 5.0
REQ = SonicCreate(custom_mode=False, mv="sonic-v5", gpt_description_prompt="a road trip song")
ORIGIN = JobOrigin(guild_id=1, channel_id=2, user_id=3)


class Kill(BaseException):
    """The process dies here: not an Exception, so no handler of the bot's catches it."""


class Recorder:
    def __init__(self) -> None:
        self.succeeded: list[int] = []
        self.failed: list[tuple[int, str | None]] = []

    async def job_progress(self, job: Job, state: str) -> None:
        pass

    async def job_succeeded(self, job: Job) -> None:
        self.succeeded.append(job.id)

    async def job_failed(self, job: Job) -> None:
        self.failed.append((job.id, job.failure))


@dataclass
class Bot:
    """One process's worth of job machinery on a shared database file and simulator."""

    db: Database
    service: JobService
    scheduler: Scheduler
    outcomes: Recorder


@dataclass
class World:
    target: Path | str  # the same database for every "process": SQLite file or PostgreSQL URL
    clock: Clock
    sim: MusicAPISimulator
    client: MusicAPIClient
    bots: list[Bot]

    async def start(self, orphan_hold_s: float = 0.0) -> Bot:
        db = await Database.open(self.target)
        quota = Quota(db, CostTable(), default_budget=100, default_period="month", clock=self.clock)
        outcomes = Recorder()
        scheduler = Scheduler(
            db,
            self.client,
            outcomes,
            poll_interval=POLL,
            job_timeout=600,
            clock=self.clock,
            orphan_hold_s=orphan_hold_s,
        )
        service = JobService(
            db,
            quota,
            self.client,
            scheduler,
            poll_interval=POLL,
            clock=self.clock,
            orphan_hold_s=orphan_hold_s,
        )
        bot = Bot(db, service, scheduler, outcomes)
        self.bots.append(bot)
        return bot

    async def restart(self, dead: Bot, orphan_hold_s: float = 0.0) -> Bot:
        await dead.db.close()
        # The dead process's jobs stay leased to it until the lease runs out; only then may
        # another process (this restart) judge them.
        self.clock.now += dead.scheduler.lease_s + 1
        bot = await self.start(orphan_hold_s)
        await bot.scheduler.recover()
        return bot

    async def settle(self, bot: Bot, rounds: int = 30) -> None:
        """Run the loop's passes with time moving on, until nothing is left to do."""
        for _ in range(rounds):
            await bot.scheduler.run_due()
            async with bot.db.read() as conn:
                next_at = await job_sql.next_due_at(conn, bot.scheduler.owner)
            if next_at is None:
                return
            self.clock.now = max(self.clock.now, next_at)
        raise AssertionError("jobs did not settle")


@pytest.fixture
async def world(db_target: Path | str) -> AsyncIterator[World]:
    clock = Clock(T0)
    sim = MusicAPISimulator(SimulatorConfig(generation_time=20.0, api_key="k", clock=clock))
    base_url = await sim.start()
    async with aiohttp.ClientSession() as session:
        client = MusicAPIClient(session, base_url, "k", backoff_base=0.01, backoff_max=0.02)
        w = World(db_target, clock, sim, client, [])
        yield w
        for bot in w.bots:
            try:
                await bot.db.close()
            except ValueError:  # already closed by a restart
                pass
    await sim.stop()


def killing(operation: Operation, *, after_send: bool) -> Operation:
    """The operation with a kill just before its request leaves, or just after MusicAPI
    answered (the task made, the answer never recorded)."""

    async def send(client: MusicAPIClient) -> str:
        if not after_send:
            raise Kill
        await operation.send(client)
        raise Kill

    return replace(operation, send=send)


async def ledger_kinds(db: Database, job_id: int) -> list[str]:
    async with db.read() as conn:
        return [entry.kind for entry in await ledger_sql.job_entries(conn, job_id)]


async def the_job(db: Database, job_id: int) -> Job:
    async with db.read() as conn:
        job = await job_sql.get(conn, job_id)
    assert job is not None
    return job


async def start_killed(bot: Bot, step: Callable[[Bot, int, Operation], Awaitable[None]]) -> int:
    operation = sonic_create(REQ, "a road trip song")
    job_id = await bot.service.reserve(ORIGIN, operation)
    with pytest.raises(Kill):
        await step(bot, job_id, operation)
    return job_id


async def kill_before_sending(bot: Bot, job_id: int, operation: Operation) -> None:
    raise Kill  # between the reservation and the submit


async def kill_as_it_leaves(bot: Bot, job_id: int, operation: Operation) -> None:
    await bot.service.submit(job_id, killing(operation, after_send=False))


async def kill_after_musicapi_made_it(bot: Bot, job_id: int, operation: Operation) -> None:
    await bot.service.submit(job_id, killing(operation, after_send=True))


async def test_killed_before_the_request_left_is_released_as_not_made(world: World) -> None:
    bot = await world.start()
    job_id = await start_killed(bot, kill_before_sending)
    bot = await world.restart(bot)
    await world.settle(bot)
    assert bot.outcomes.failed == [(job_id, orphans.NOT_SENT_REASON)]
    assert await ledger_kinds(bot.db, job_id) == ["reserve", "release"]
    assert await bot.service.count_orphans() == 0
    assert world.sim.tasks == {}


@pytest.mark.parametrize(
    ("step", "tasks_made"),
    [(kill_as_it_leaves, 0), (kill_after_musicapi_made_it, 1)],
    ids=["as-it-leaves", "after-musicapi-made-it"],
)
async def test_killed_once_sent_is_a_counted_orphan_and_the_member_is_told_it_may_exist(
    world: World, step: Callable[[Bot, int, Operation], Awaitable[None]], tasks_made: int
) -> None:
    bot = await world.start()
    job_id = await start_killed(bot, step)
    before = await the_job(bot.db, job_id)
    assert before.state == "submitting" and before.sent_at is not None
    assert before.request_fingerprint == orphans.fingerprint("create_music", "sonic", REQ.to_body())
    bot = await world.restart(bot)
    await world.settle(bot)
    cost = (await the_job(bot.db, job_id)).cost
    told = f"{orphans.RESTART_ORPHAN_REASON}\nIts {cost} credits were returned."
    assert bot.outcomes.failed == [(job_id, told)]
    assert "might still have been made" in orphans.RESTART_ORPHAN_REASON
    assert await ledger_kinds(bot.db, job_id) == ["reserve", "release"]
    assert await bot.service.count_orphans() == 1
    # Never sent again: MusicAPI holds at most the one task the first process made.
    assert len(world.sim.tasks) == tasks_made


async def test_killed_after_the_task_id_was_recorded_resumes_and_delivers(world: World) -> None:
    bot = await world.start()
    operation = sonic_create(REQ, "a road trip song")
    job_id = await bot.service.reserve(ORIGIN, operation)
    await bot.service.submit(job_id, operation)  # killed right after: the card never posted
    bot = await world.restart(bot)
    world.clock.now += 60  # the song finishes while the bot is down
    await world.settle(bot)
    assert bot.outcomes.succeeded == [job_id] and bot.outcomes.failed == []
    assert await ledger_kinds(bot.db, job_id) == ["reserve", "commit"]
    assert await bot.service.count_orphans() == 0
    assert len(world.sim.tasks) == 1


# What MusicAPI's side of a submit looked like, and what the member must be told about it.
NO_ANSWER = ("gateway-gave-up", 502, "<html>bad gateway</html>", orphans.NO_ANSWER_ORPHAN_REASON)
UNREADABLE = ("garbage-2xx", 200, "<html>ok?</html>", orphans.UNREADABLE_ORPHAN_REASON)
NO_TASK_ID = ("2xx-without-task-id", 200, {"code": 200, "message": "success"}, UNREADABLE[3])
UNKNOWN_OUTCOMES = [NO_ANSWER, UNREADABLE, NO_TASK_ID]


@pytest.mark.parametrize(
    ("status", "body", "reason"),
    [case[1:] for case in UNKNOWN_OUTCOMES],
    ids=[case[0] for case in UNKNOWN_OUTCOMES],
)
async def test_a_create_without_an_answer_is_not_resent_and_is_released_honestly(
    world: World, status: int, body: object, reason: str
) -> None:
    bot = await world.start()
    world.sim.inject("/api/v1/sonic/create", status, body=body)  # type: ignore[arg-type]
    operation = sonic_create(REQ, "a road trip song")
    job_id = await bot.service.reserve(ORIGIN, operation)
    with pytest.raises(SubmitRefused) as refused:
        await bot.service.submit(job_id, operation)
    job = await the_job(bot.db, job_id)
    # What happened (which of the two), that it may still be made, and the credits' fate.
    told = f"{reason}\nIts {job.cost} credits were returned."
    assert str(refused.value) == told == job.failure
    assert "might still be made" in told and job.cost > 0
    assert await ledger_kinds(bot.db, job_id) == ["reserve", "release"]
    assert await bot.service.count_orphans() == 1
    creates = [r for r in world.sim.requests if r[1] == "/api/v1/sonic/create"]
    assert len(creates) == 1
    # Told through the interaction already: no channel notice follows.
    await world.settle(bot)
    assert bot.outcomes.failed == []


def test_the_two_unknown_outcomes_are_told_apart() -> None:
    assert "did not answer in time" in orphans.NO_ANSWER_ORPHAN_REASON
    assert "could not be read" in orphans.UNREADABLE_ORPHAN_REASON
    assert "did not answer" not in orphans.UNREADABLE_ORPHAN_REASON
    assert "could not be read" not in orphans.NO_ANSWER_ORPHAN_REASON


@pytest.mark.parametrize(
    ("status", "body", "reason"),
    [case[1:] for case in UNKNOWN_OUTCOMES],
    ids=[case[0] for case in UNKNOWN_OUTCOMES],
)
async def test_a_held_orphan_keeps_why_its_outcome_is_unknown_until_it_is_released(
    world: World, status: int, body: object, reason: str
) -> None:
    bot = await world.start(orphan_hold_s=300)
    world.sim.inject("/api/v1/sonic/create", status, body=body)  # type: ignore[arg-type]
    operation = sonic_create(REQ, "a road trip song")
    job_id = await bot.service.reserve(ORIGIN, operation)
    held = await bot.service.submit(job_id, operation)
    assert held.state == "unconfirmed" and held.failure == reason  # stored with the job
    await world.settle(bot)  # no webhook names a task: the hold ends
    job = await the_job(bot.db, job_id)
    told = f"{reason}\nIts {job.cost} credits were returned."
    assert bot.outcomes.failed == [(job_id, told)]
    assert await ledger_kinds(bot.db, job_id) == ["reserve", "release"]
    # The channel notice and the card say it once, without a second credits line.
    notice, card = embeds.failure_text(job), embeds.job_card(job, "failed")
    assert reason.split(",")[0] in notice and notice.count("credits") == 1
    (field,) = [f for f in card.fields if f.name == "What happened"]
    assert field.value is not None and field.value.count("credits") == 1


async def test_an_orphan_whose_credits_were_already_returned_is_told_so(world: World) -> None:
    bot = await world.start()
    operation = sonic_create(REQ, "a road trip song")
    job_id = await bot.service.reserve(ORIGIN, operation)
    job = await the_job(bot.db, job_id)
    async with bot.db.transaction() as conn:
        assert await ledger.release(conn, job, world.clock.now, "returned earlier")
        assert await lifecycle.release_orphan(
            conn, job, world.clock.now, orphans.NO_ANSWER_ORPHAN_REASON
        )
    told = (await the_job(bot.db, job_id)).failure
    assert told == (
        f"{orphans.NO_ANSWER_ORPHAN_REASON}\nIts {job.cost} credits had already been returned."
    )
    assert await ledger_kinds(bot.db, job_id) == ["reserve", "release"]  # not returned twice


def test_the_credits_note_says_what_is_true() -> None:
    assert orphans.credits_note({"reserve", "release"}, 10, released=True) == (
        "Its 10 credits were returned."
    )
    assert orphans.credits_note({"reserve", "commit"}, 10, released=False) == (
        "Its 10 credits stay charged."
    )
    assert orphans.credits_note(set(), 10, released=False) == "Nothing was charged for it."
    assert orphans.credits_note({"reserve", "release"}, 0, released=True) == (
        "Nothing was charged for it."
    )


async def test_a_held_orphan_is_adopted_when_its_webhook_names_the_task(world: World) -> None:
    bot = await world.start()
    job_id = await start_killed(bot, kill_after_musicapi_made_it)
    (task_id,) = world.sim.tasks
    bot = await world.restart(bot, orphan_hold_s=300)
    assert (await the_job(bot.db, job_id)).state == "unconfirmed"
    assert await bot.scheduler.adopt_task(job_id, task_id)
    assert not await bot.scheduler.adopt_task(job_id, task_id)  # a repeated webhook
    world.clock.now += 60
    await world.settle(bot)
    assert bot.outcomes.succeeded == [job_id]
    assert await ledger_kinds(bot.db, job_id) == ["reserve", "commit"]
    assert await bot.service.count_orphans() == 0


async def test_a_held_orphan_nobody_names_is_released_when_the_hold_ends(world: World) -> None:
    bot = await world.start()
    job_id = await start_killed(bot, kill_as_it_leaves)
    bot = await world.restart(bot, orphan_hold_s=300)
    await bot.scheduler.run_due()
    assert bot.outcomes.failed == []  # still waiting for a webhook
    await world.settle(bot)
    cost = (await the_job(bot.db, job_id)).cost
    told = f"{orphans.RESTART_ORPHAN_REASON}\nIts {cost} credits were returned."
    assert bot.outcomes.failed == [(job_id, told)]
    assert await ledger_kinds(bot.db, job_id) == ["reserve", "release"]
    assert await bot.service.count_orphans() == 1
    assert not await bot.scheduler.adopt_task(job_id, "late-task")
