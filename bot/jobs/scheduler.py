"""One loop per process that polls the jobs it owns and hands finished ones to delivery.

Modelled on a database-backed timer: the loop sleeps until the earliest `next_run_at` among
its jobs (or until `wake()` says a sooner job was added), takes the due rows, and works on
them with bounded concurrency. Nothing lives only in memory, so a restart simply picks up
where the table says each job is. Delivery retries go through the same loop: a finished job
stays due until its outcome is posted (`telling.py`).

This module only decides what is due and what upstream says about it (a poll, or a pushed
webhook); how a job ends is written by `lifecycle.py`, which process holds which job by
`leases.py`. Every state write of a job runs in a transaction fenced by the lease epoch the
scheduler read, so a process that stalled past its lease and comes back writes nothing.

Throughput: each due job runs as its own task as soon as a slot is free, so one slow poll
never holds up others (there are no batches to wait on). A job being worked on (or whose
result is not written yet) is left out of the due query, in memory only, so a crash leaves
every job's real schedule behind. The many "not done yet" results are written back together
(`write_behind.py`). At most MUSICAPI_MAX_POLLS_PER_S polls a second go out (`poll_budget.py`,
spent in `_due`): when that binds, due jobs wait their turn in order of due time.

Webhooks: a verified webhook is stored by the receiver and the job made due; `process` applies
stored events before it would poll, so a pushed result settles the job without a poll.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import replace

from bot.jobs import orphans, results, resume, timing
from bot.jobs.learning import CompletionTimes, Estimate, generation_time
from bot.jobs.leases import CLAIM_BATCH, DEFAULT_LEASE_S, Leases, new_owner_id
from bot.jobs.lifecycle import Lifecycle
from bot.jobs.poll_budget import PollBudget
from bot.jobs.resume import RESTART_POLLS_PER_S, RESTART_WINDOW_S
from bot.jobs.telling import Outcomes, Teller
from bot.jobs.write_behind import WriteBehind
from bot.musicapi.client import MusicAPIClient
from bot.musicapi.errors import MusicAPIError, NotFoundError, RateLimitedError
from bot.musicapi.models import TaskStatus
from bot.observability import logs, metrics
from bot.states import ACTIVE_STATES, JobState
from bot.store import jobs as job_sql
from bot.store import leases as lease_sql
from bot.store import webhooks as webhook_sql
from bot.store.database import Connection, Database
from bot.store.jobs import Job
from bot.store.leases import LeaseLost
from bot.store.webhooks import WebhookEvent
from bot.webhooks import events as webhook_events

__all__ = [
    "CLAIM_BATCH",
    "DEFAULT_LEASE_S",
    "RESTART_POLLS_PER_S",
    "RESTART_WINDOW_S",
    "Outcomes",
    "Scheduler",
    "new_owner_id",
]

log = logging.getLogger(__name__)

MAX_IDLE_SLEEP_S = 60.0
# Enough polls in flight to keep 10,000 jobs on schedule at a 0.2 s upstream round trip.
DEFAULT_CONCURRENCY = 256
MAX_CLAIM = 500  # rows one pass takes
# While MUSICAPI_MAX_POLLS_PER_S holds polls back, the log says so at most this often.
CEILING_LOG_S = 600.0


class Scheduler:
    def __init__(
        self,
        db: Database,
        client: MusicAPIClient,
        outcomes: Outcomes,
        *,
        poll_interval: float,
        job_timeout: float,
        clock: Callable[[], float] = time.time,
        concurrency: int = DEFAULT_CONCURRENCY,
        target_lag: float = 5.0,
        push: bool = False,
        learned: CompletionTimes | None = None,
        orphan_hold_s: float = 0.0,
        owner: str | None = None,
        lease_s: float = DEFAULT_LEASE_S,
        claim_batch: int = CLAIM_BATCH,
        max_polls_per_s: float | None = None,
    ) -> None:
        self.db = db
        self.client = client
        self.outcomes = outcomes
        self.poll_interval = poll_interval
        self.job_timeout = job_timeout
        self.clock = clock
        self.concurrency = concurrency
        self.policy = timing.Policy(target_lag, poll_interval, push)
        self.learned = learned or CompletionTimes(db, clock=clock)
        self.leases = Leases(
            db,
            clock=clock,
            wake=self.wake,
            owner=owner,
            lease_s=lease_s,
            claim_batch=claim_batch,
            orphan_hold_s=orphan_hold_s,
            push=push,
        )
        self.lifecycle = Lifecycle(db, clock)
        self.teller = Teller(db, outcomes, self.lifecycle, poll_interval=poll_interval, clock=clock)
        self.write_behind = WriteBehind(db, clock=clock, push=push, written=self.wake)
        # MUSICAPI_MAX_POLLS_PER_S (None: no ceiling): when reached, the oldest due go first.
        self.budget = PollBudget(max_polls_per_s, clock)
        self._running: dict[int, asyncio.Task[None]] = {}
        self._slot_free = asyncio.Event()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._beat: asyncio.Task[None] | None = None
        self._stopping = False
        self._listener: asyncio.Task[None] | None = None
        self._ceiling_logged_at = float("-inf")
        self._paused_until = 0.0  # after a 429 (ours or another process's), no poll before this
        self.last_pass_at: float | None = None  # monotonic; /healthz wants it recent
        # What upstream said when, for tests and benchmarks: polls sent, pushes applied.
        self.stats: dict[str, int] = {"polls": 0, "pushed": 0}

    # The leases' face, as the rest of the bot (and its tests) knows it.
    @property
    def owner(self) -> str:
        return self.leases.owner

    @property
    def lease_s(self) -> float:
        return self.leases.lease_s

    @property
    def heartbeat_interval(self) -> float:
        return self.leases.heartbeat_interval

    def new_lease(self) -> tuple[str, float]:
        return self.leases.new_lease()

    async def recover(self) -> int:
        return await self.leases.recover()

    async def heartbeat(self) -> None:
        await self.leases.heartbeat()

    @property
    def push(self) -> bool:
        return self.policy.push

    def estimate(self, job: Job) -> Estimate:
        est = self.learned.estimate(job.family, job.operation, job.model)
        if est.samples == 0:
            # Nothing learned yet for this kind of job: the prior, but never a first look
            # later than POLL_INTERVAL_S (an operator's or a test's short interval wins).
            est = replace(est, p01=min(est.p01, self.poll_interval))
        return est

    def first_poll_at(self, job: Job, submitted_at: float) -> float:
        """When a job just submitted is first looked at."""
        return submitted_at + self.policy.first_delay(self.estimate(job))

    def start(self) -> None:
        if self._task is None:
            self._stopping = False
            self._task = asyncio.create_task(self._run(), name="job-scheduler")
            self._beat = asyncio.create_task(self.leases.heartbeat_loop(), name="job-leases")
            self._listener = asyncio.create_task(self.leases.listen_loop(), name="job-wakeups")

    async def stop(self) -> None:
        """Stop polling and hand every job back, so the other processes take them at once."""
        self._stopping = True
        for task in (self._task, self._beat, self._listener):
            if task is None:
                continue
            # Cancelled again until it ends: asyncio.wait_for (Python 3.11) can swallow a
            # cancellation that lands as its inner wait completes, e.g. just after a wake().
            while not task.done():
                task.cancel()
                await asyncio.wait({task}, timeout=0.1)
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._task = self._beat = self._listener = None
        running = list(self._running.values())
        for job_task in running:
            job_task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
        await self.write_behind.stop()
        try:
            await self.write_behind.flush()
            count = await self.leases.hand_back()
        except Exception:
            # The leases still run out by themselves; others take over within one lease.
            log.warning("could not hand jobs back at stop", exc_info=True)
            return
        if count:
            log.info("handed %d job(s) back", count)

    def wake(self) -> None:
        self._wake.set()

    async def adopt_task(self, job_id: int, task_id: str) -> bool:
        """See `resume.adopt_task`: a held job resumes once its webhook names its task."""
        adopted = await resume.adopt_task(
            self.db, job_id, task_id, self.clock(), self.first_poll_at
        )
        if adopted:
            self.wake()
        return adopted

    async def spread_after_restart(self) -> int:
        """See `resume.spread_after_restart`: a restart's due polls, spread out."""
        return await resume.spread_after_restart(
            self.db, self.owner, self.clock(), push=self.push, estimate=self.estimate
        )

    async def _run(self) -> None:
        await self.recover()
        self.leases.renewed_at = self.clock()
        await self.learned.refresh(force=True)
        await self.spread_after_restart()
        while not self._stopping:
            try:
                await self.learned.refresh()
                more = await self._dispatch()
                self.last_pass_at = time.monotonic()
                metrics.scheduler_pass()
                if more:
                    continue
                if len(self._running) >= self.concurrency:
                    self._slot_free.clear()
                    await self._slot_free.wait()
                    continue
                await self._sleep()
            except asyncio.CancelledError:
                raise
            except Exception:  # the loop must outlive any one bad row or outage
                log.exception("scheduler pass failed; retrying shortly")
                await asyncio.sleep(min(self.poll_interval, 5.0))

    async def _dispatch(self) -> bool:
        """Claim due jobs for the free slots and start them; True if more may be due now."""
        due, more = await self._take_due(min(self.concurrency - len(self._running), MAX_CLAIM))
        for job in due:
            self._start(job)
        return more

    async def run_due(self) -> int:
        """Work on every job due now, once, and wait for all of it (written back included);
        returns how many were looked at. The loop does the same without waiting."""
        due, _ = await self._take_due(10**9)
        await asyncio.gather(*(self._start(job) for job in due))
        await self.write_behind.settle()  # a write-behind under way is "written back" too
        return len(due)

    async def _take_due(self, limit: int) -> tuple[list[Job], bool]:
        """Up to `limit` jobs to start now (none while upstream's 429 pause lasts), after a
        lease renewal if a stall kept the heartbeat from it: this pass then works only on
        leases it still holds. Also whether more may be due at once."""
        now = self.clock()
        if now - self.leases.renewed_at >= self.heartbeat_interval:
            await self.heartbeat()
        if now < self._paused_until or limit <= 0:
            return [], False
        async with self.db.read() as conn:
            self._paused_until = max(self._paused_until, await lease_sql.pause_until(conn))
            if now < self._paused_until:
                return [], False
            return await self._due(conn, now, limit)

    async def _due(self, conn: Connection, now: float, limit: int) -> tuple[list[Job], bool]:
        """Up to `limit` due jobs to start now, oldest due first, with no more polls among
        them than MUSICAPI_MAX_POLLS_PER_S allows; and whether more may be due at once.

        Jobs held back keep their due time, so they come first at the next pass. Posting an
        outcome or applying a pushed webhook sends no status check and needs no budget."""
        room = self.budget.room()
        if room is not None and not self.push:
            # Without webhooks nearly every due row is a poll: read one row more than can be
            # polled now (it tells whether the ceiling binds), so a pass held back by the
            # budget stays a small query.
            limit = min(limit, room + 1)
        due = await job_sql.due(conn, self.owner, now, limit, self._busy())
        pushed = await webhook_sql.with_pending(conn, [j.id for j in due]) if self.push else set()
        admitted = self.budget.admit(
            due, lambda job: job.state in ACTIVE_STATES and job.id not in pushed
        )
        if self.budget.held and now - self._ceiling_logged_at >= CEILING_LOG_S:
            # The owner's cue: songs are noticed later than the schedule wants.
            self._ceiling_logged_at = now
            log.warning(
                "MUSICAPI_MAX_POLLS_PER_S=%g reached: due status checks wait their turn, "
                "oldest first",
                self.budget.rate,
            )
        return admitted, len(due) == limit and not self.budget.held

    def _start(self, job: Job) -> asyncio.Task[None]:
        task = asyncio.create_task(self._guarded(job), name=f"job-{job.id}")
        self._running[job.id] = task
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task[None]) -> None:
        job_id = int(task.get_name().removeprefix("job-"))
        if self._running.get(job_id) is task:
            del self._running[job_id]
        self._slot_free.set()
        self._wake.set()  # a slot is free: the loop may take the next due job

    def _busy(self) -> set[int]:
        """Jobs being worked on, or whose "not done yet" is not written yet: not due again."""
        return set(self._running) | self.write_behind.unwritten

    async def _sleep(self) -> None:
        self._wake.clear()  # before reading: a wake() during the read must not be lost
        async with self.db.read() as conn:
            next_at = await job_sql.next_due_at(conn, self.owner, self._busy())
            self._paused_until = max(self._paused_until, await lease_sql.pause_until(conn))
        now = self.clock()
        delay = MAX_IDLE_SLEEP_S if next_at is None else max(0.0, next_at - now)
        delay = max(delay, self._paused_until - now)
        if self.budget.held:
            # Due polls wait for the budget: not before it allows the next one.
            delay = max(delay, self.budget.wait_s())
        if delay <= 0:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=min(delay, MAX_IDLE_SLEEP_S))

    async def _guarded(self, job: Job) -> None:
        # Each job runs in its own task: these ids tag its log lines only.
        logs.bind(job_id=job.id, guild_id=job.guild_id, task_id=job.task_id)
        try:
            await self.process(job)
        except asyncio.CancelledError:
            raise
        except LeaseLost:
            # Another process took it over while this one was stalled: its work stands.
            log.info("job %s: lease lost to another process; dropping this pass", job.id)
        except Exception:
            log.exception("job %s: unexpected error; will retry", job.id)
            with contextlib.suppress(LeaseLost):
                await self.teller.postpone(job)

    async def process(self, job: Job) -> None:
        if job.lease_until is None or self.clock() >= job.lease_until:
            # The lease ran out since it was read (this process stalled): another process
            # may own the job now, so neither poll nor post; the heartbeat sorts it out.
            return
        if job.state in (JobState.SUCCEEDED, JobState.FAILED):
            await self.teller.outcome(job)
            return
        pushed = await self._pushed_events(job) if self.push else []
        if pushed:
            await self._apply_pushed(job, pushed)
        elif job.state in ACTIVE_STATES:
            await self._poll(job)
        elif job.state == job_sql.UNCONFIRMED:
            # No webhook named the task within the hold: release the job as an orphan.
            reason = job.failure or orphans.NO_ANSWER_ORPHAN_REASON
            await self.teller.outcome(await self.lifecycle.orphan(job, reason))
        # 'submitting' without a webhook: the submit in flight records its task itself.

    async def _pushed_events(self, job: Job) -> list[WebhookEvent]:
        async with self.db.read() as conn:
            return await webhook_sql.pending(conn, job.id)

    async def _apply_pushed(self, job: Job, pushed: list[WebhookEvent]) -> None:
        """Act on verified webhooks: the most final one wins; no poll to confirm it."""
        now = self.clock()
        statuses = [
            (event, webhook_events.status_of(job.family, event.task_id, event.event, event.payload))
            for event in pushed
        ]
        async with lease_sql.fenced(self.db, job) as conn:
            for event in pushed:
                await webhook_sql.mark_applied(conn, event.id, now)
            if job.task_id is None:
                # The webhook came before the submit returned, or after a crash cut the submit
                # off: it is the only link between the job and its task.
                task_id = pushed[0].task_id
                started = job.sent_at or job.created_at
                if await job_sql.adopt_task(conn, job.id, task_id, started, now):
                    log.info("job %s: task %s named by its webhook", job.id, task_id)
            fresh = await job_sql.get(conn, job.id)
        assert fresh is not None
        job = fresh
        self.stats["pushed"] += len(pushed)
        final = [(e, s) for e, s in statuses if s is not None and s.done]
        readable = [(e, s) for e, s in statuses if s is not None]
        if final or (readable and len(readable) == len(statuses)):
            event, status = (final or readable)[-1]
            await self._apply(job, status, pushed_at=event.received_at)
        else:
            # A verified event whose body this family's parser can't read: ask upstream now.
            await self._poll(job)

    async def _poll(self, job: Job) -> None:
        now = self.clock()
        started = job.submitted_at or job.created_at
        if now - started > self.job_timeout:
            minutes = max(1, round(self.job_timeout / 60))
            await self._fail(job, f"MusicAPI did not finish it within {minutes} minutes.")
            return
        assert job.task_id is not None
        self.stats["polls"] += 1
        try:
            status = await self.client.poll(job.family, job.task_id)
        except NotFoundError:
            await self._fail(job, "MusicAPI no longer knows this job (it may have expired).")
            return
        except RateLimitedError as error:
            retry_after = error.retry_after or self.poll_interval
            self._paused_until = max(self._paused_until, self.clock() + retry_after)
            await self._backoff(job, retry_after, pause_all=True)
            return
        except MusicAPIError as error:
            # 5xx, timeouts, garbage bodies, even auth trouble: the job is not lost; look
            # again later, and JOB_TIMEOUT_S bounds how long that can go on.
            log.warning("job %s: poll failed (%s); backing off", job.id, type(error).__name__)
            await self._backoff(job, None)
            return
        await self._apply(job, status)

    async def _apply(self, job: Job, status: TaskStatus, *, pushed_at: float | None = None) -> None:
        """What upstream says (by a poll, or pushed at `pushed_at` by a webhook)."""
        now = self.clock()
        if status.state == "failed":
            failure = status.failure.message if status.failure else "MusicAPI reported a failure."
            # Upstream's words (a poll or a webhook body), shown to the member: no secrets.
            await self._fail(job, logs.redact(failure or "MusicAPI reported a failure."))
            return
        if status.state == "succeeded":
            await self._succeeded(job, status, now, pushed_at)
            return
        age = now - (job.submitted_at or job.created_at)
        delay = self.policy.next_delay(self.estimate(job), status.state, age, status.progress)
        stream_url = results.stream_url(status)
        seen = pushed_at if pushed_at is not None else now
        if status.state == job.card_state and stream_url == job.stream_url:
            # Nothing to show: only the schedule changes, written with others shortly.
            self.write_behind.add(job, status.state, now + delay, seen, pushed_at is None)
            return
        async with lease_sql.fenced(self.db, job) as conn:
            await job_sql.record_poll(
                conn, job.id, status.state, now + delay, seen_at=seen, polled=pushed_at is None
            )
            if stream_url != job.stream_url:
                await job_sql.set_stream_url(conn, job.id, stream_url)
        shown = replace(job, state=JobState(status.state), stream_url=stream_url)
        await self.teller.progress(shown, status.state)

    async def _succeeded(
        self, job: Job, status: TaskStatus, now: float, pushed_at: float | None
    ) -> None:
        duration = generation_time(job, now, pushed_at, self.policy.target_lag)
        store = results.store_for(job, status, now)
        finished = await self.lifecycle.succeed(job, store=store, duration=duration)
        if duration is not None:
            self.learned.observe(job.family, job.operation, job.model, duration)
        log.info("job %s succeeded with %d clip(s)", job.id, len(status.usable_clips))
        await self.teller.outcome(finished)

    async def _fail(self, job: Job, reason: str) -> None:
        failed = await self.lifecycle.fail(job, reason)
        log.info("job %s failed: %s", job.id, reason)
        await self.teller.outcome(failed)

    async def _backoff(
        self, job: Job, retry_after: float | None, *, pause_all: bool = False
    ) -> None:
        delay = timing.backoff_delay(self.poll_interval, job.errors + 1, retry_after)
        async with lease_sql.fenced(self.db, job) as conn:
            await job_sql.record_transient_error(conn, job.id, self.clock() + delay, polled=True)
            if pause_all:
                # The rate limit is the account's, so every process holds back its polls.
                await lease_sql.extend_pause(conn, self._paused_until)
