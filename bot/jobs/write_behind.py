"""Results that say "not done yet", written back together instead of one transaction per poll.

Most polls change nothing anyone sees: only the job's schedule moves. Those writes wait a few
milliseconds (`WRITE_BEHIND_S`) and go in one transaction, which leaves the database lock to
commands. A job whose write is pending is not due again (`unwritten`), in memory only, so a
crash leaves its old, past due time behind and the job is simply looked at again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass

from bot.store import jobs as job_sql
from bot.store.database import Database
from bot.store.jobs import Job

log = logging.getLogger(__name__)

WRITE_BEHIND_S = 0.02  # "not done yet" results are written together after this long


@dataclass(frozen=True, slots=True)
class PendingPoll:
    """One "not done yet": when to look again, and the lease it is fenced by."""

    job_id: int
    state: str  # what upstream said (queued, running, …)
    next_run_at: float
    seen_at: float  # when upstream said so
    polled: bool  # a poll said it (False: a pushed webhook did)
    owner: str | None  # the lease read with the job: a row that moved on is left alone
    lease_epoch: int

    def row(self) -> tuple[float, float, str, int, int, str | None, int]:
        """In the order `store.jobs.record_polls` takes."""
        return (
            self.next_run_at,
            self.seen_at,
            self.state,
            int(self.polled),
            self.job_id,
            self.owner,
            self.lease_epoch,
        )


class WriteBehind:
    def __init__(
        self,
        db: Database,
        *,
        clock: Callable[[], float],
        push: bool,
        written: Callable[[], None],
    ) -> None:
        self.db = db
        self.clock = clock
        self.push = push
        self.written = written  # called after each flush: the jobs may be due again
        self._pending: list[PendingPoll] = []
        self._flusher: asyncio.Task[None] | None = None
        self.unwritten: set[int] = set()

    def add(self, job: Job, state: str, next_run_at: float, seen_at: float, polled: bool) -> None:
        # Fenced like every state write: the row changes only at the epoch that was read.
        self._pending.append(
            PendingPoll(job.id, state, next_run_at, seen_at, polled, job.owner, job.lease_epoch)
        )
        self.unwritten.add(job.id)
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush_soon())

    async def _flush_soon(self) -> None:
        await asyncio.sleep(WRITE_BEHIND_S)
        # Until nothing is left: a job added while a flush was waiting on the database found
        # this task still running and started none of its own, so it is this task's to write
        # (otherwise it would stay `unwritten`, never due again, until its lease moved on).
        while self._pending:
            try:
                await self.flush()
            except Exception:
                # Those jobs keep their old, past due time (`flush` let go of them): they are
                # simply looked at again. What was added meanwhile is still written.
                log.exception("writing back %d poll result(s) failed", len(self._pending))

    async def settle(self) -> None:
        """Wait for a write-behind under way, then write whatever is left."""
        if self._flusher is not None:
            await asyncio.wait({self._flusher})
        await self.flush()

    async def stop(self) -> None:
        if self._flusher is not None:
            self._flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flusher

    async def flush(self) -> None:
        writes, self._pending = self._pending, []
        if not writes:
            return
        now = self.clock()
        ids = [write.job_id for write in writes]
        try:
            async with self.db.transaction() as conn:
                await job_sql.record_polls(conn, [write.row() for write in writes])
                if self.push:
                    # A webhook stored while these polls were out must not wait for its poll.
                    await job_sql.due_if_pushed(conn, ids, now)
        finally:
            # Written (or not: then the old, past time stands and the job is simply due).
            self.unwritten.difference_update(ids)
        self.written()
