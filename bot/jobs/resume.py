"""How jobs resume: after a restart, and after a submit a crash cut off.

A restart finds polls that came due while the bot was down; they are spread out instead of
fired in one burst. A job held 'unconfirmed' (its submit's answer never came) resumes when a
webhook names the task MusicAPI made for it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from bot.jobs.learning import Estimate
from bot.store import jobs as job_sql
from bot.store import leases as lease_sql
from bot.store.database import Database
from bot.store.jobs import Job

log = logging.getLogger(__name__)

# After a restart: overdue polls go out at most this fast, spread over at most this window,
# which is also how soon a job that may have finished while the bot was down is looked at.
RESTART_POLLS_PER_S = 50.0
RESTART_WINDOW_S = 60.0


async def spread_after_restart(
    db: Database, owner: str, now: float, *, push: bool, estimate: Callable[[Job], Estimate]
) -> int:
    """Spread the polls a restart finds due, instead of firing them in one burst.

    Due now: every job whose poll came due while the bot was down. With webhooks also every
    job that may have finished meanwhile (its webhook may have been lost while nobody
    listened): it is looked at within RESTART_WINDOW_S rather than at its safety poll.
    Returns how many were moved."""
    async with db.read() as conn:
        jobs = await job_sql.active(conn, owner)
    horizon = now + (RESTART_WINDOW_S if push else 0.0)
    moving = []
    for job in jobs:
        at = job.next_run_at if job.next_run_at is not None else now
        started = job.submitted_at or job.created_at
        plausible = now - started >= estimate(job).p01
        if at <= now or (push and plausible and at > horizon):
            moving.append((at, job.id))
    if not moving:
        return 0
    moving.sort()
    window = min(RESTART_WINDOW_S, len(moving) / RESTART_POLLS_PER_S)
    step = window / len(moving)
    moves = [(now + i * step, job_id) for i, (_, job_id) in enumerate(moving)]
    async with db.transaction() as conn:
        await job_sql.reschedule(conn, moves, owner=owner)
    log.info("resuming %d job(s), spread over %.1f s", len(moves), window)
    return len(moves)


async def adopt_task(
    db: Database,
    job_id: int,
    task_id: str,
    now: float,
    first_poll_at: Callable[[Job, float], float],
) -> bool:
    """Resume a job whose submit was cut off, now that its webhook names the task MusicAPI
    made for it. False when the job no longer waits for one (it has its task, or it was
    already released)."""
    async with db.transaction() as conn:
        job = await job_sql.get(conn, job_id)
        if job is None:
            return False
        first = first_poll_at(job, now)
        adopted = await job_sql.adopt_task(conn, job_id, task_id, now, first)
        if adopted:
            # The webhook may reach any process; the job's owner is the one to poll it.
            await lease_sql.wake_owner(conn, job_id)
    if adopted:
        log.info("job %s: adopted task %s after an interrupted submit", job_id, task_id)
    return adopted
