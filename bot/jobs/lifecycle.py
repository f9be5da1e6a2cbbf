"""The one writer of a job's end together with its ledger step.

A job ends one of four ways, and each is one transaction that writes the job's final state and
settles its reservation together, so a crash never leaves a finished job holding credits or
a charge without its job:

- `succeed`: state 'succeeded', what it made stored, the reservation committed (charged);
- `fail`: state 'failed' with the reason the member reads, the reservation released;
- `orphan`: failed and released although MusicAPI may have made (and billed) it, counted for
  the owner (see `bot.jobs.orphans`);
- `abandon`: failed and released for a member who is told right away, so no channel notice
  follows.

Each is fenced by the lease epoch the caller read (`store.leases.fenced`): a process that lost
the job to another writes nothing and gets `LeaseLost`. Each is idempotent: a job that already
ended is left as it is (the ledger, too, settles a job once). The `*_in` functions do the
same writes on a connection the caller holds, for the claim that settles jobs in the very
transaction that took them over (fenced by that claim).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from bot.jobs import orphans
from bot.observability import alerts
from bot.quota import ledger
from bot.states import JobState
from bot.store import jobs as job_sql
from bot.store import leases as lease_sql
from bot.store import ledger as ledger_sql
from bot.store.database import Connection, Database
from bot.store.jobs import Job

log = logging.getLogger(__name__)

# What a success stores besides the state (clips, files, a persona), in its transaction.
Store = Callable[[Connection], Awaitable[None]]


async def fail_in(conn: Connection, job: Job, now: float, reason: str) -> bool:
    """Fail `job` and release its reservation; False (nothing written) if it had ended."""
    if not await job_sql.finish(conn, job.id, JobState.FAILED, now, failure=reason):
        return False
    await ledger.release(conn, job, now, reason)
    return True


async def release_orphan(conn: Connection, job: Job, now: float, reason: str) -> bool:
    """Fail and release a job MusicAPI may have made; False if it had already finished.

    The failure stored (what the member reads) is `reason` and then what became of the
    credits, read from the ledger in the same transaction as the release."""
    if not await job_sql.finish(conn, job.id, JobState.FAILED, now, failure=reason):
        return False
    released = await ledger.release(conn, job, now, reason)
    kinds = {entry.kind for entry in await ledger_sql.job_entries(conn, job.id)}
    note = orphans.credits_note(kinds, job.cost, released=released)
    await job_sql.set_failure(conn, job.id, f"{reason}\n{note}")
    await job_sql.mark_orphaned(conn, job.id, now)
    log.warning(
        "job %s released as a possibly billed orphan: its %s request (fingerprint %s, sent "
        "at %s) may have made a MusicAPI task the bot cannot track",
        job.id,
        job.operation,
        (job.request_fingerprint or "?")[:16],
        f"{job.sent_at:.0f}" if job.sent_at is not None else "?",
    )
    alerts.notify(
        alerts.AlertKind.ORPHANED_TASKS,
        f"Job {job.id} ({job.operation}) was released as a possibly billed orphan: MusicAPI may "
        "have made (and charged for) a task the bot cannot deliver. Count and details: "
        "`/musicbot status` and the logs.",
    )
    return True


class Lifecycle:
    def __init__(self, db: Database, clock: Callable[[], float]) -> None:
        self.db = db
        self.clock = clock

    async def succeed(
        self,
        job: Job,
        *,
        store: Store | None = None,
        duration: float | None = None,
        told: bool = False,
    ) -> Job:
        """Succeed `job`: what `store` writes, the charge, and how long it took (for the
        learned schedule); `told` when the member already has the result. Returns the row."""
        now = self.clock()
        async with lease_sql.fenced(self.db, job) as conn:
            if await job_sql.finish(conn, job.id, JobState.SUCCEEDED, now):
                if store is not None:
                    await store(conn)
                await ledger.commit(conn, job, now)
                if duration is not None:
                    await job_sql.set_duration(conn, job.id, duration)
                if told:
                    await job_sql.mark_notified(conn, job.id)
            return await _reread(conn, job)

    async def fail(self, job: Job, reason: str, *, told: bool = False) -> Job:
        """Fail `job` and return its credits; returns the row."""
        async with lease_sql.fenced(self.db, job) as conn:
            if await fail_in(conn, job, self.clock(), reason) and told:
                await job_sql.mark_notified(conn, job.id)
            return await _reread(conn, job)

    async def abandon(self, job: Job, reason: str) -> Job:
        """Fail a job whose member is told right away (so no channel notice follows)."""
        return await self.fail(job, reason, told=True)

    async def orphan(self, job: Job, reason: str, *, told: bool = False) -> Job:
        """Release `job` as a possibly billed orphan; returns the row."""
        async with lease_sql.fenced(self.db, job) as conn:
            if await release_orphan(conn, job, self.clock(), reason) and told:
                await job_sql.mark_notified(conn, job.id)
            return await _reread(conn, job)

    async def told(self, job: Job) -> None:
        """The member has been told how `job` ended: it is done with for good."""
        async with lease_sql.fenced(self.db, job) as conn:
            await job_sql.mark_notified(conn, job.id)


async def _reread(conn: Connection, job: Job) -> Job:
    fresh = await job_sql.get(conn, job.id)
    assert fresh is not None
    return fresh
