"""One loop per process that polls the jobs it owns and hands finished ones to delivery.

Modelled on a database-backed timer: the loop sleeps until the earliest `next_run_at` among
its jobs (or until `wake()` says a sooner job was added), takes the due rows, and works on
them with bounded concurrency. Nothing lives only in memory, so a restart simply picks up
where the table says each job is. Delivery retries go through the same loop: a finished job
stays due until its outcome is posted.

Several processes may share the database. Each unfinished job is leased to one of them
(store/leases.py): the process that submits a job owns it, a heartbeat renews its leases
and claims jobs whose owner stopped renewing, and a clean stop hands its jobs back. Every
state write of a job runs in a transaction fenced by the lease epoch the scheduler read, so
a process that stalled past its lease and comes back writes nothing.

Throughput: each due job runs as its own task as soon as a slot is free, so one slow poll
never holds up others (there are no batches to wait on). A job being worked on (or whose
result is not written yet) is left out of the due query, in memory only, so a crash leaves
every job's real schedule behind. The many "not done yet" results are written back together,
one transaction per few milliseconds instead of one per poll, which leaves the database lock
to commands. At most MUSICAPI_MAX_POLLS_PER_S polls a second go out (`poll_budget.py`, spent
in `_due`): when that binds, due jobs wait their turn in order of due time.

Webhooks: a verified webhook is stored by the receiver and the job made due; `process` applies
stored events before it would poll, so a pushed result settles the job without a poll.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Protocol

from bot.jobs import orphans, timing
from bot.jobs.learning import CompletionTimes, Estimate
from bot.jobs.poll_budget import PollBudget
from bot.markdown import Markdown, plain
from bot.musicapi.client import MusicAPIClient
from bot.musicapi.errors import MusicAPIError, NotFoundError, RateLimitedError
from bot.musicapi.models import Clip, TaskStatus
from bot.observability import logs, metrics
from bot.quota import ledger
from bot.states import ACTIVE_STATES, ClipSource, JobState
from bot.store import clips as clip_sql
from bot.store import jobs as job_sql
from bot.store import leases as lease_sql
from bot.store import personas as persona_sql
from bot.store import webhooks as webhook_sql
from bot.store.clips import StoredClip
from bot.store.database import Connection, Database
from bot.store.jobs import Job, JobResult, MadePersona
from bot.store.leases import LeaseLost
from bot.store.personas import Persona
from bot.store.webhooks import WebhookEvent
from bot.webhooks import events as webhook_events

log = logging.getLogger(__name__)

MAX_IDLE_SLEEP_S = 60.0
# A dead process's jobs are claimed by the others within a lease plus one heartbeat (25 s).
DEFAULT_LEASE_S = 20.0
# Jobs one heartbeat may take over; the rest follow at the next beats (or other processes).
CLAIM_BATCH = 500
# Enough polls in flight to keep 10,000 jobs on schedule at a 0.2 s upstream round trip.
DEFAULT_CONCURRENCY = 256
MAX_CLAIM = 500  # rows one pass takes
WRITE_BEHIND_S = 0.02  # "not done yet" results are written together after this long
# After a restart: overdue polls go out at most this fast, spread over at most this window,
# which is also how soon a job that may have finished while the bot was down is looked at.
RESTART_POLLS_PER_S = 50.0
RESTART_WINDOW_S = 60.0
# While MUSICAPI_MAX_POLLS_PER_S holds polls back, the log says so at most this often.
CEILING_LOG_S = 600.0


def new_owner_id() -> str:
    """Unique per process start, readable in the jobs table: host, pid and a random tail."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(4)}"


class Outcomes(Protocol):
    """What the scheduler tells Discord. Each call must be safe to repeat (exactly-once is
    the implementation's job); raising means "try again later"."""

    async def job_progress(self, job: Job, state: str) -> None: ...
    async def job_succeeded(self, job: Job) -> None: ...
    async def job_failed(self, job: Job) -> None: ...


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
        # See JobService.orphan_hold_s: how long a cut-off submit waits for its webhook.
        self.orphan_hold_s = orphan_hold_s
        self.client = client
        self.outcomes = outcomes
        self.poll_interval = poll_interval
        self.job_timeout = job_timeout
        self.clock = clock
        self.concurrency = concurrency
        self.policy = timing.Policy(target_lag, poll_interval, push)
        self.learned = learned or CompletionTimes(db, clock=clock)
        self.owner = owner or new_owner_id()
        self.lease_s = lease_s
        self.claim_batch = claim_batch
        # MUSICAPI_MAX_POLLS_PER_S (None: no ceiling): when reached, the oldest due go first.
        self.budget = PollBudget(max_polls_per_s, clock)
        self._running: dict[int, asyncio.Task[None]] = {}
        self._slot_free = asyncio.Event()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._beat: asyncio.Task[None] | None = None
        self._stopping = False
        self._listener: asyncio.Task[None] | None = None
        self._renewed_at = float("-inf")
        self._ceiling_logged_at = float("-inf")
        self._paused_until = 0.0  # after a 429 (ours or another process's), no poll before this
        self.last_pass_at: float | None = None  # monotonic; /healthz wants it recent
        # (next_run_at, seen_at, state, polled, job_id) of "not done yet" results, written
        # together.
        self._pending_writes: list[tuple[float, float, str, int, int, str | None, int]] = []
        self._flusher: asyncio.Task[None] | None = None
        self._unwritten: set[int] = set()
        # What upstream said when, for tests and benchmarks: polls sent, pushes applied.
        self.stats: dict[str, int] = {"polls": 0, "pushed": 0}

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

    @property
    def heartbeat_interval(self) -> float:
        # Four beats per lease: a beat or two can be late or fail without losing the jobs.
        return self.lease_s / 4

    def new_lease(self) -> tuple[str, float]:
        """Owner and expiry for a job this process is about to submit."""
        return self.owner, self.clock() + self.lease_s

    def start(self) -> None:
        if self._task is None:
            self._stopping = False
            self._task = asyncio.create_task(self._run(), name="job-scheduler")
            self._beat = asyncio.create_task(self._heartbeat_loop(), name="job-leases")
            self._listener = asyncio.create_task(self._listen_loop(), name="job-wakeups")

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
        if self._flusher is not None:
            self._flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flusher
        try:
            await self._flush()
            async with self.db.transaction() as conn:
                count = await lease_sql.hand_back(conn, self.owner)
                if count:
                    await lease_sql.announce_free(conn)
        except Exception:
            # The leases still run out by themselves; others take over within one lease.
            log.warning("could not hand jobs back at stop", exc_info=True)
            return
        if count:
            log.info("handed %d job(s) back", count)

    def wake(self) -> None:
        self._wake.set()

    async def recover(self) -> int:
        """Claim jobs nobody holds, and settle those a former owner left 'submitting'.

        Runs at start-up and at every heartbeat, because a process may die at any time, not
        only before this one starts. A job is judged by its lease: only a job whose owner
        stopped renewing (or never had one) is taken, so another live process's submit in
        flight is never mistaken for an orphan. Of those: a job whose request never left is
        released ("not made"); one whose request may have reached MusicAPI is held for a
        webhook (`orphan_hold_s`) or released at once as a possibly billed orphan (see
        `bot.jobs.orphans`). Either way the member's failure notice goes out through the
        loop. Everything else resumes by itself, because the loop reads state from the table.
        Returns how many jobs were settled or held.

        Claims go in batches of `claim_batch`, each its own short transaction, until no
        free job is left: a dead process's thousands of jobs all move within one beat.
        """
        settled = 0
        while True:
            batch, claimed = await self._claim_batch()
            settled += batch
            if claimed < self.claim_batch:
                return settled

    async def _claim_batch(self) -> tuple[int, int]:
        """One claim (see `recover`): (jobs settled or held, jobs claimed)."""
        now = self.clock()
        not_sent = held = orphaned = 0
        async with self.db.transaction() as conn:
            claimed = await lease_sql.claim(
                conn, self.owner, now, now + self.lease_s, self.claim_batch
            )
            stale = await job_sql.owned_submitting(conn, self.owner, claimed)
            for job in stale:
                if job.sent_at is None:
                    await job_sql.finish(
                        conn, job.id, JobState.FAILED, now, failure=orphans.NOT_SENT_REASON
                    )
                    await ledger.release(conn, job, now, orphans.NOT_SENT_REASON)
                    not_sent += 1
                elif self.orphan_hold_s > 0:
                    await job_sql.mark_unconfirmed(
                        conn, job.id, now + self.orphan_hold_s, orphans.RESTART_ORPHAN_REASON
                    )
                    held += 1
                elif await orphans.release_orphan(conn, job, now, orphans.RESTART_ORPHAN_REASON):
                    orphaned += 1
            if self.push:
                # A webhook may have come for a job before this process claimed it (e.g. a
                # restart's receiver listens first): act on it now, not after the hold.
                await job_sql.due_if_pushed(conn, claimed, now)
            total_orphans = await orphans.count(conn)
        if claimed:
            log.info("took over %d job(s) nobody held", len(claimed))
            self.wake()
        if not_sent:
            log.warning("released %d job(s) the restart cut off before sending", not_sent)
        if held:
            log.warning(
                "%d job(s) were cut off while being sent; waiting %.0f s for MusicAPI's webhook "
                "to name their tasks",
                held,
                self.orphan_hold_s,
            )
        if orphaned:
            log.warning(
                "%d job(s) were cut off while being sent and may have been made and billed by "
                "MusicAPI; released (possibly billed orphans so far: %d, see /musicbot status)",
                orphaned,
                total_orphans,
            )
        return len(stale), len(claimed)

    async def adopt_task(self, job_id: int, task_id: str) -> bool:
        """Resume a job whose submit was cut off, now that its webhook names the task MusicAPI
        made for it. False when the job no longer waits for one (it has its task, or it was
        already released)."""
        now = self.clock()
        async with self.db.transaction() as conn:
            job = await job_sql.get(conn, job_id)
            if job is None:
                return False
            first = self.first_poll_at(job, now)
            adopted = await job_sql.adopt_task(conn, job_id, task_id, now, first)
            if adopted:
                # The webhook may reach any process; the job's owner is the one to poll it.
                await lease_sql.wake_owner(conn, job_id)
        if adopted:
            log.info("job %s: adopted task %s after an interrupted submit", job_id, task_id)
            self.wake()
        return adopted

    async def spread_after_restart(self) -> int:
        """Spread the polls a restart finds due, instead of firing them in one burst.

        Due now: every job whose poll came due while the bot was down. With webhooks also every
        job that may have finished meanwhile (its webhook may have been lost while nobody
        listened): it is looked at within RESTART_WINDOW_S rather than at its safety poll.
        Returns how many were moved."""
        now = self.clock()
        async with self.db.read() as conn:
            jobs = await job_sql.active(conn, self.owner)
        horizon = now + (RESTART_WINDOW_S if self.push else 0.0)
        moving = []
        for job in jobs:
            at = job.next_run_at if job.next_run_at is not None else now
            started = job.submitted_at or job.created_at
            plausible = now - started >= self.estimate(job).p01
            if at <= now or (self.push and plausible and at > horizon):
                moving.append((at, job.id))
        if not moving:
            return 0
        moving.sort()
        window = min(RESTART_WINDOW_S, len(moving) / RESTART_POLLS_PER_S)
        step = window / len(moving)
        moves = [(now + i * step, job_id) for i, (_, job_id) in enumerate(moving)]
        async with self.db.transaction() as conn:
            await job_sql.reschedule(conn, moves, owner=self.owner)
        log.info("resuming %d job(s), spread over %.1f s", len(moves), window)
        return len(moves)

    async def heartbeat(self) -> None:
        """Renew this process's leases, then take over any job whose owner went quiet."""
        now = self.clock()
        async with self.db.transaction() as conn:
            await lease_sql.renew(conn, self.owner, now + self.lease_s)
        self._renewed_at = now
        await self.recover()

    async def _heartbeat_loop(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_interval)
            try:
                await self.heartbeat()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("lease heartbeat failed; retrying", exc_info=True)

    async def _listen_loop(self) -> None:
        """On PostgreSQL: wake when another process changed one of this process's jobs (a
        webhook it received, say), and claim at once when a process hands its jobs back."""
        while True:
            stream = self.db.listen(lease_sql.WAKE_CHANNEL)
            if stream is None:
                return  # SQLite: the heartbeat's claims and in-process wakes are all there is
            try:
                async for payload in stream:
                    if payload == self.owner:
                        self.wake()
                    elif not payload:
                        await self.recover()
            except asyncio.CancelledError:
                raise
            except Exception:
                # Only promptness is lost meanwhile: the heartbeat still claims and polls.
                log.warning("job wake-ups: listening failed; reconnecting", exc_info=True)
                await asyncio.sleep(min(self.heartbeat_interval, 5.0))

    async def _run(self) -> None:
        await self.recover()
        self._renewed_at = self.clock()
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
        now = self.clock()
        if now - self._renewed_at >= self.heartbeat_interval:
            # The heartbeat task normally does this; a pass after a long stall renews first,
            # so it works only on leases it still holds.
            await self.heartbeat()
        if now < self._paused_until:
            return False
        free = min(self.concurrency - len(self._running), MAX_CLAIM)
        if free <= 0:
            return False
        async with self.db.read() as conn:
            self._paused_until = max(self._paused_until, await lease_sql.pause_until(conn))
            if now < self._paused_until:
                return False
            due, full = await self._due(conn, now, free)
        for job in due:
            self._start(job)
        return full

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
        return set(self._running) | self._unwritten

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

    async def run_due(self) -> int:
        """Work on every job due now, once, and wait for all of it (written back included);
        returns how many were looked at. The loop does the same without waiting."""
        now = self.clock()
        if now - self._renewed_at >= self.heartbeat_interval:
            await self.heartbeat()
        async with self.db.read() as conn:
            self._paused_until = max(self._paused_until, await lease_sql.pause_until(conn))
            if now < self._paused_until:
                return 0
            due, _ = await self._due(conn, now, 10**9)
        await asyncio.gather(*(self._start(job) for job in due))
        if self._flusher is not None:
            # A write-behind already under way is part of "written back" too.
            await asyncio.wait({self._flusher})
        await self._flush()
        return len(due)

    def _fenced(self, job: Job) -> contextlib.AbstractAsyncContextManager[Connection]:
        """A transaction that writes only if this process still holds `job` at its epoch."""
        return lease_sql.fenced(self.db, job)

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
                await self._postpone(job)

    async def process(self, job: Job) -> None:
        if job.lease_until is None or self.clock() >= job.lease_until:
            # The lease ran out since it was read (this process stalled): another process
            # may own the job now, so neither poll nor post; the heartbeat sorts it out.
            return
        if job.state == JobState.SUCCEEDED:
            await self._notify(job, self.outcomes.job_succeeded)
            return
        if job.state == JobState.FAILED:
            await self._notify(job, self.outcomes.job_failed)
            return
        pushed = await self._pushed_events(job) if self.push else []
        if pushed:
            await self._apply_pushed(job, pushed)
        elif job.state in ACTIVE_STATES:
            await self._poll(job)
        elif job.state == job_sql.UNCONFIRMED:
            await self._release_unconfirmed(job)
        # 'submitting' without a webhook: the submit in flight records its task itself.

    async def _release_unconfirmed(self, job: Job) -> None:
        """No webhook named the task within the hold: release the job as an orphan."""
        reason = job.failure or orphans.NO_ANSWER_ORPHAN_REASON
        now = self.clock()
        async with self._fenced(job) as conn:
            await orphans.release_orphan(conn, job, now, reason)
            failed = await job_sql.get(conn, job.id)
        assert failed is not None
        await self._notify(failed, self.outcomes.job_failed)

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
        async with self._fenced(job) as conn:
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
        if final:
            event, status = final[-1]
            await self._apply(job, status, pushed_at=event.received_at)
        elif readable and len(readable) == len(statuses):
            event, status = readable[-1]
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
        stream_url = _stream_url(status)
        if status.state == job.card_state and stream_url == job.stream_url:
            # Nothing to show: only the schedule changes, written with others shortly.
            seen = pushed_at if pushed_at is not None else now
            self._record_later(job, status.state, now + delay, seen, pushed_at is None)
            return
        async with self._fenced(job) as conn:
            await job_sql.record_poll(
                conn,
                job.id,
                status.state,
                now + delay,
                seen_at=pushed_at if pushed_at is not None else now,
                polled=pushed_at is None,
            )
            if stream_url != job.stream_url:
                await job_sql.set_stream_url(conn, job.id, stream_url)
        shown = replace(job, state=JobState(status.state), stream_url=stream_url)
        await self._progress(shown, status.state)

    async def _succeeded(
        self, job: Job, status: TaskStatus, now: float, pushed_at: float | None
    ) -> None:
        stem = job.operation.startswith("stems_")
        source = ClipSource.STEM if stem else ClipSource.GENERATED
        duration = self._duration(job, now, pushed_at)
        async with self._fenced(job) as conn:
            for clip in status.usable_clips:
                await clip_sql.upsert(conn, _stored(job, clip, now, source))
            if status.persona is not None or status.files:
                await job_sql.set_result(conn, job.id, _result_of(status))
            if status.persona is not None:
                await persona_sql.insert(
                    conn,
                    Persona(
                        status.persona.persona_id,
                        job.guild_id,
                        job.user_id,
                        status.persona.name or plain(Markdown(job.summary))[:79],
                        None,
                        now,
                    ),
                )
            if await job_sql.finish(conn, job.id, JobState.SUCCEEDED, now):
                await ledger.commit(conn, job, now)
                if duration is not None:
                    await job_sql.set_duration(conn, job.id, duration)
            finished = await job_sql.get(conn, job.id)
        assert finished is not None
        if duration is not None:
            self.learned.observe(job.family, job.operation, job.model, duration)
        log.info("job %s succeeded with %d clip(s)", job.id, len(status.usable_clips))
        await self._notify(finished, self.outcomes.job_succeeded)

    def _duration(self, job: Job, now: float, pushed_at: float | None) -> float | None:
        """How long upstream took, as well as this job can tell, for the learned schedule.

        A webhook arrives when the task finishes. A poll only bounds it: after the last time
        upstream said "not done" (the middle of that gap is the estimate), or, when the first
        poll already found it done, some time before: one target spacing earlier is assumed,
        which errs towards polling a little early rather than noticing late."""
        if job.submitted_at is None:
            return None
        if pushed_at is not None:
            return max(0.0, pushed_at - job.submitted_at)
        if job.seen_pending_at is not None and job.seen_pending_at > job.submitted_at:
            return (job.seen_pending_at + now) / 2 - job.submitted_at
        return max(0.0, now - job.submitted_at - self.policy.target_lag)

    def _record_later(
        self, job: Job, state: str, next_run_at: float, seen_at: float, polled: bool
    ) -> None:
        # Fenced like every state write: the row changes only at the epoch that was read.
        write = (next_run_at, seen_at, state, int(polled), job.id, job.owner, job.lease_epoch)
        self._pending_writes.append(write)
        self._unwritten.add(job.id)
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush_soon())

    async def _flush_soon(self) -> None:
        await asyncio.sleep(WRITE_BEHIND_S)
        await self._flush()

    async def _flush(self) -> None:
        writes, self._pending_writes = self._pending_writes, []
        if not writes:
            return
        now = self.clock()
        try:
            async with self.db.transaction() as conn:
                await job_sql.record_polls(conn, writes)
                if self.push:
                    # A webhook stored while these polls were out must not wait for its poll.
                    await job_sql.due_if_pushed(conn, [w[4] for w in writes], now)
        finally:
            # Written (or not: then the old, past time stands and the job is simply due).
            self._unwritten.difference_update(w[4] for w in writes)
        self.wake()

    async def _progress(self, job: Job, state: str) -> None:
        try:
            await self.outcomes.job_progress(job, state)
        except Exception:
            # A card edit is cosmetic; the next state change tries again.
            log.warning("job %s: could not update its card", job.id, exc_info=True)
            return
        async with self._fenced(job) as conn:
            await job_sql.set_card_state(conn, job.id, state)

    async def _fail(self, job: Job, reason: str) -> None:
        now = self.clock()
        async with self._fenced(job) as conn:
            if await job_sql.finish(conn, job.id, JobState.FAILED, now, failure=reason):
                await ledger.release(conn, job, now, reason)
            failed = await job_sql.get(conn, job.id)
        assert failed is not None
        log.info("job %s failed: %s", job.id, reason)
        await self._notify(failed, self.outcomes.job_failed)

    async def _notify(self, job: Job, post: Callable[[Job], Awaitable[None]]) -> None:
        try:
            await post(job)
        except Exception:
            log.warning("job %s: delivery failed; will retry", job.id, exc_info=True)
            await self._postpone(job)
            return
        async with self._fenced(job) as conn:
            await job_sql.mark_notified(conn, job.id)
        metrics.job_finished(job.state, job.family)

    async def _backoff(
        self, job: Job, retry_after: float | None, *, pause_all: bool = False
    ) -> None:
        delay = timing.backoff_delay(self.poll_interval, job.errors + 1, retry_after)
        async with self._fenced(job) as conn:
            await job_sql.record_transient_error(conn, job.id, self.clock() + delay, polled=True)
            if pause_all:
                # The rate limit is the account's, so every process holds back its polls.
                await lease_sql.extend_pause(conn, self._paused_until)

    async def _postpone(self, job: Job) -> None:
        delay = timing.backoff_delay(self.poll_interval, job.errors + 1)
        async with self._fenced(job) as conn:
            await job_sql.postpone(conn, job.id, self.clock() + delay)


def _stream_url(status: TaskStatus) -> str | None:
    """A playable link while the final files are made: the first streaming clip's audio."""
    if status.state != "streaming":
        return None
    for clip in status.clips:
        if clip.state == "streaming" and clip.audio_url:
            return clip.audio_url
    return None


def _result_of(status: TaskStatus) -> JobResult:
    """What a task produced besides clips: a persona, or files to download."""
    persona = status.persona
    return JobResult(
        files=tuple(status.files),
        persona=MadePersona(persona.persona_id, persona.name) if persona is not None else None,
    )


def _stored(job: Job, clip: Clip, now: float, source: ClipSource) -> StoredClip:
    return StoredClip(
        clip_id=clip.clip_id,
        guild_id=job.guild_id,
        job_id=job.id,
        user_id=job.user_id,
        title=clip.title,
        tags=clip.tags,
        lyrics=clip.lyrics,
        duration=clip.duration,
        model=clip.mv,
        image_url=clip.image_url,
        audio_url=clip.audio_url,
        source=source,
        created_at=now,
        raw=clip.raw,
    )
