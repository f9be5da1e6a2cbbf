"""Which process works on which job: heartbeat, claims, hand-back and takeover.

Several processes may share the database. Each unfinished job is leased to one of them
(store/leases.py): the process that submits a job owns it, a heartbeat renews its leases
and claims jobs whose owner stopped renewing, and a clean stop hands its jobs back.

A claim also settles what the former owner left 'submitting' (see `bot.jobs.orphans`), in the
claim's own transaction: only a job whose owner stopped renewing may be judged an orphan, and
the claim is what proves that, so the judgement lives here. The writes themselves go through
`lifecycle`, the one writer of a job's end.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
from collections.abc import Callable

from bot.jobs import lifecycle, orphans
from bot.store import jobs as job_sql
from bot.store import leases as lease_sql
from bot.store.database import Database

log = logging.getLogger(__name__)

# A dead process's jobs are claimed by the others within a lease plus one heartbeat (25 s).
DEFAULT_LEASE_S = 20.0
# Jobs one heartbeat may take over; the rest follow at the next beats (or other processes).
CLAIM_BATCH = 500


def new_owner_id() -> str:
    """Unique per process start, readable in the jobs table: host, pid and a random tail."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(4)}"


class Leases:
    def __init__(
        self,
        db: Database,
        *,
        clock: Callable[[], float],
        wake: Callable[[], None],
        owner: str | None = None,
        lease_s: float = DEFAULT_LEASE_S,
        claim_batch: int = CLAIM_BATCH,
        orphan_hold_s: float = 0.0,
        push: bool = False,
    ) -> None:
        self.db = db
        self.clock = clock
        self.wake = wake  # the scheduler's: claimed jobs are worked on at once
        self.owner = owner or new_owner_id()
        self.lease_s = lease_s
        self.claim_batch = claim_batch
        # See JobService.orphan_hold_s: how long a cut-off submit waits for its webhook.
        self.orphan_hold_s = orphan_hold_s
        self.push = push
        self.renewed_at = float("-inf")

    @property
    def heartbeat_interval(self) -> float:
        # Four beats per lease: a beat or two can be late or fail without losing the jobs.
        return self.lease_s / 4

    def new_lease(self) -> tuple[str, float]:
        """Owner and expiry for a job this process is about to submit."""
        return self.owner, self.clock() + self.lease_s

    async def heartbeat(self) -> None:
        """Renew this process's leases, then take over any job whose owner went quiet."""
        now = self.clock()
        async with self.db.transaction() as conn:
            await lease_sql.renew(conn, self.owner, now + self.lease_s)
        self.renewed_at = now
        await self.recover()

    async def hand_back(self) -> int:
        """A clean stop: free this process's jobs so the others take them at once."""
        async with self.db.transaction() as conn:
            count = await lease_sql.hand_back(conn, self.owner)
            if count:
                await lease_sql.announce_free(conn)
        return count

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
                    if await lifecycle.fail_in(conn, job, now, orphans.NOT_SENT_REASON):
                        not_sent += 1
                elif self.orphan_hold_s > 0:
                    await job_sql.mark_unconfirmed(
                        conn, job.id, now + self.orphan_hold_s, orphans.RESTART_ORPHAN_REASON
                    )
                    held += 1
                elif await lifecycle.release_orphan(conn, job, now, orphans.RESTART_ORPHAN_REASON):
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

    async def heartbeat_loop(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_interval)
            try:
                await self.heartbeat()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("lease heartbeat failed; retrying", exc_info=True)

    async def listen_loop(self) -> None:
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
