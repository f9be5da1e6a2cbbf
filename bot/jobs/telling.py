"""Telling Discord how a job goes, and trying again later when that fails.

Each call to `Outcomes` must be safe to repeat (exactly-once is the implementation's job). A
card edit is cosmetic and simply waits for the next state change; a final outcome that could
not be posted keeps the job due, backing off, until it is: only then is the job marked told.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Protocol

from bot.jobs import timing
from bot.jobs.lifecycle import Lifecycle
from bot.observability import metrics
from bot.states import JobState
from bot.store import jobs as job_sql
from bot.store import leases as lease_sql
from bot.store.database import Database
from bot.store.jobs import Job

log = logging.getLogger(__name__)


class Outcomes(Protocol):
    """What the scheduler tells Discord. Each call must be safe to repeat (exactly-once is
    the implementation's job); raising means "try again later"."""

    async def job_progress(self, job: Job, state: str) -> None: ...
    async def job_succeeded(self, job: Job) -> None: ...
    async def job_failed(self, job: Job) -> None: ...


class Teller:
    def __init__(
        self,
        db: Database,
        outcomes: Outcomes,
        lifecycle: Lifecycle,
        *,
        poll_interval: float,
        clock: Callable[[], float],
    ) -> None:
        self.db = db
        self.outcomes = outcomes
        self.lifecycle = lifecycle
        self.poll_interval = poll_interval
        self.clock = clock

    async def outcome(self, job: Job) -> None:
        """Post how a finished job ended; on failure, look again later."""
        succeeded = job.state == JobState.SUCCEEDED
        post: Callable[[Job], Awaitable[None]] = (
            self.outcomes.job_succeeded if succeeded else self.outcomes.job_failed
        )
        try:
            await post(job)
        except Exception:
            log.warning("job %s: delivery failed; will retry", job.id, exc_info=True)
            await self.postpone(job)
            return
        await self.lifecycle.told(job)
        metrics.job_finished(job.state, job.family)

    async def progress(self, job: Job, state: str) -> None:
        try:
            await self.outcomes.job_progress(job, state)
        except Exception:
            # A card edit is cosmetic; the next state change tries again.
            log.warning("job %s: could not update its card", job.id, exc_info=True)
            return
        async with lease_sql.fenced(self.db, job) as conn:
            await job_sql.set_card_state(conn, job.id, state)

    async def postpone(self, job: Job) -> None:
        """Try `job` again later, backing off with each failure in a row."""
        delay = timing.backoff_delay(self.poll_interval, job.errors + 1)
        async with lease_sql.fenced(self.db, job) as conn:
            await job_sql.postpone(conn, job.id, self.clock() + delay)
