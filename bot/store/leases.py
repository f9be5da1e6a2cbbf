"""SQL for job leases: which process owns which unfinished job, and the shared 429 pause.

A lease is `(owner, lease_until, lease_epoch)` on the job row. A claim takes jobs whose lease
is free (no owner, or expired) and bumps the epoch; the owner's heartbeat pushes
`lease_until` forward; `check` fences a transaction to the epoch the caller read, so a former
owner that stalled past its lease and came back writes nothing.

Functions take a connection from `Database.transaction()` (claims and checks are writes: on
SQLite they run under `BEGIN IMMEDIATE`, which serialises them across processes).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from bot.store.database import Connection, Database
from bot.store.jobs import Job

# The pause after a MusicAPI 429 is account-wide: one row every process reads.
UPSTREAM_PAUSE = "musicapi"
# PostgreSQL NOTIFY channel between the processes: the payload is the owner id of a process
# whose job changed (wake up and look), or '' when jobs became free to claim.
WAKE_CHANNEL = "musicbot_jobs"


class LeaseLost(Exception):
    """Another process took this job over: whatever the caller was about to write is dropped."""


async def claim(
    conn: Connection, owner: str, now: float, lease_until: float, limit: int
) -> list[int]:
    """Take up to `limit` unfinished jobs nobody holds (never owned, handed back, or whose
    owner stopped renewing); returns their ids. Each claim bumps the job's epoch."""
    # On PostgreSQL, rows another process is claiming right now are skipped, not waited
    # for; on SQLite the whole transaction already holds the file's one write lock.
    skip_locked = " FOR UPDATE SKIP LOCKED" if conn.dialect.name == "postgres" else ""
    cursor = await conn.execute(
        f"""UPDATE jobs SET owner = ?, lease_until = ?, lease_epoch = lease_epoch + 1
           WHERE id IN (SELECT id FROM jobs
                        WHERE notified = 0 AND (owner IS NULL OR lease_until < ?)
                        ORDER BY id LIMIT ?{skip_locked})
           RETURNING id""",
        (owner, lease_until, now, limit),
    )
    return sorted(int(row[0]) for row in await cursor.fetchall())


async def renew(conn: Connection, owner: str, lease_until: float) -> int:
    """The heartbeat: extend every lease `owner` still holds. A lease that expired but that
    nobody claimed is still this owner's (a claim would have changed `owner`)."""
    cursor = await conn.execute(
        "UPDATE jobs SET lease_until = ? WHERE owner = ? AND notified = 0", (lease_until, owner)
    )
    return cursor.rowcount


async def hand_back(conn: Connection, owner: str) -> int:
    """A clean stop: free this owner's jobs at once so the others claim them now.

    A job still 'submitting' keeps its lease: its request may be on the wire in this very
    process, and only the lease running out (the process really gone) makes it an orphan."""
    cursor = await conn.execute(
        """UPDATE jobs SET owner = NULL, lease_until = NULL
           WHERE owner = ? AND notified = 0 AND state != 'submitting'""",
        (owner,),
    )
    return cursor.rowcount


async def wake_owner(conn: Connection, job_id: int) -> None:
    """Tell the process that owns `job_id` to look at it now (sent when the transaction
    commits). PostgreSQL only: on SQLite the caller wakes its own scheduler."""
    if conn.dialect.name == "postgres":
        await conn.execute(
            "SELECT pg_notify(?, owner) FROM jobs WHERE id = ? AND owner IS NOT NULL",
            (WAKE_CHANNEL, job_id),
        )


async def announce_free(conn: Connection) -> None:
    """Tell every process that jobs were handed back, so one claims them now."""
    if conn.dialect.name == "postgres":
        await conn.execute("SELECT pg_notify(?, '')", (WAKE_CHANNEL,))


async def check(conn: Connection, job: Job) -> None:
    """Fence: raise LeaseLost unless `job`'s owner still holds it at the epoch it was read.

    A write (not a SELECT) so that on PostgreSQL it takes the row lock: a concurrent claim
    either waits for this transaction or has already bumped the epoch and this fails."""
    cursor = await conn.execute(
        "UPDATE jobs SET lease_epoch = lease_epoch WHERE id = ? AND owner = ? AND lease_epoch = ?",
        (job.id, job.owner, job.lease_epoch),
    )
    if cursor.rowcount != 1:
        raise LeaseLost(f"job {job.id} is no longer held by {job.owner} at epoch {job.lease_epoch}")


@asynccontextmanager
async def fenced(db: Database, job: Job) -> AsyncIterator[Connection]:
    """A transaction that commits only while `job`'s owner still holds it at its epoch: the
    way every state write of a leased job is made (a job read without an owner, from before
    leases, is not fenced)."""
    async with db.transaction() as conn:
        if job.owner is not None:
            await check(conn, job)
        yield conn


async def held(conn: Connection, owner: str) -> int:
    cursor = await conn.execute(
        "SELECT COUNT(*) FROM jobs WHERE owner = ? AND notified = 0", (owner,)
    )
    row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def pause_until(conn: Connection) -> float:
    cursor = await conn.execute(
        "SELECT until_at FROM upstream_pause WHERE name = ?", (UPSTREAM_PAUSE,)
    )
    row = await cursor.fetchone()
    return float(row[0]) if row else 0.0


async def extend_pause(conn: Connection, until: float) -> None:
    """Push the shared pause to `until` (never pulls it back)."""
    greatest = "GREATEST" if conn.dialect.name == "postgres" else "MAX"
    await conn.execute(
        f"""INSERT INTO upstream_pause (name, until_at) VALUES (?, ?)
           ON CONFLICT (name) DO UPDATE
           SET until_at = {greatest}(upstream_pause.until_at, excluded.until_at)""",
        (UPSTREAM_PAUSE, until),
    )
