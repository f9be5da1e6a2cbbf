"""SQL for the jobs table. Functions take a connection from `Database.transaction()`."""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from bot.states import ACTIVE_STATES, FINAL_STATES, Family, JobState
from bot.store.database import Connection, Row

# Accepted locally but not yet confirmed by MusicAPI (`sent_at` says whether it left).
SUBMITTING = JobState.SUBMITTING
# Sent, but no answer said whether MusicAPI made it; held until `next_run_at` in case its
# webhook names the task, then released as a possibly billed orphan.
UNCONFIRMED = JobState.UNCONFIRMED
_ACTIVE_SQL = ", ".join(f"'{state}'" for state in ACTIVE_STATES)
_IN_FLIGHT_SQL = ", ".join(f"'{state}'" for state in (SUBMITTING, UNCONFIRMED, *ACTIVE_STATES))
IN_FLIGHT_SQL = _IN_FLIGHT_SQL  # for the reservation's one standing read (store.reservations)


@dataclass(frozen=True, slots=True)
class MadePersona:
    """A persona a create-voice task made."""

    persona_id: str
    name: str | None = None


@dataclass(frozen=True, slots=True)
class JobResult:
    """What a finished task produced besides clips: files to download, or a persona.

    Kept in the job row as JSON so that delivery after a restart posts the same thing."""

    files: tuple[str, ...] = ()
    persona: MadePersona | None = None

    def to_json(self) -> str:
        data: dict[str, Any] = {"files": list(self.files)}
        if self.persona is not None:
            data["persona"] = {"persona_id": self.persona.persona_id, "name": self.persona.name}
        return json.dumps(data)

    @classmethod
    def from_json(cls, raw: str) -> JobResult:
        data = json.loads(raw)
        persona = data.get("persona")
        return cls(
            files=tuple(str(url) for url in data.get("files") or ()),
            persona=MadePersona(str(persona["persona_id"]), persona.get("name"))
            if persona
            else None,
        )


@dataclass(frozen=True, slots=True)
class JobOrder:
    """Who asked for what, where, at which cost: what a NewJob and a stored Job share."""

    guild_id: int
    channel_id: int
    user_id: int
    operation: str
    request: dict[str, Any]
    summary: str
    cost: int


@dataclass(frozen=True, slots=True)
class Job(JobOrder):
    id: int
    state: JobState
    task_id: str | None
    application_id: int | None
    interaction_token: str | None
    token_expires_at: float | None
    card_message_id: int | None
    upload_limit: int | None
    failure: str | None
    created_at: float
    submitted_at: float | None
    finished_at: float | None
    next_run_at: float | None
    polls: int
    errors: int
    notified: bool
    card_state: str | None  # the last state shown on the job card
    charge_member: bool
    family: Family
    result: JobResult | None
    request_fingerprint: str | None = None
    sent_at: float | None = None
    orphaned_at: float | None = None
    # The lease (see store/leases.py): the process that owns the job, until when, and the
    # epoch every state write of the job is fenced with.
    owner: str | None = None
    lease_until: float | None = None
    lease_epoch: int = 0
    model: str | None = None
    stream_url: str | None = None  # playable while the final files are made
    seen_pending_at: float | None = None  # last time upstream said "not done yet"
    duration_s: float | None = None  # generation time learned from this job

    @classmethod
    def from_row(cls, row: Row) -> Job:
        data = dict(row)
        data["request"] = json.loads(data["request"])
        data["notified"] = bool(data["notified"])
        data["charge_member"] = bool(data["charge_member"])
        data["state"] = JobState(data["state"])
        data["family"] = Family(data["family"])
        data["result"] = JobResult.from_json(data["result"]) if data["result"] else None
        return cls(**data)

    def token_valid(self, now: float) -> bool:
        return bool(self.interaction_token) and (self.token_expires_at or 0) > now


@dataclass(frozen=True, slots=True)
class NewJob(JobOrder):
    application_id: int | None = None
    interaction_token: str | None = None
    token_expires_at: float | None = None
    upload_limit: int | None = None
    # False for an approved community request: the server's pool pays, not the member's limit.
    charge_member: bool = True
    family: Family = Family.SONIC
    # The process that submits the job owns it from the start, so no other process can
    # mistake its submit in flight for an orphan.
    owner: str | None = None
    lease_until: float | None = None
    model: str | None = None  # the learned poll schedule is per family, operation and model


# The new job row; a reservation on PostgreSQL embeds the same statement in its one write.
INSERT_SQL = """INSERT INTO jobs (guild_id, channel_id, user_id, operation, request, summary,
                                 cost, state, application_id, interaction_token,
                                 token_expires_at, upload_limit, created_at, charge_member,
                                 family, owner, lease_until, lease_epoch, model)
               VALUES (?, ?, ?, ?, ?, ?, ?, 'submitting', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
               RETURNING id"""


def insert_params(job: NewJob, now: float) -> tuple[object, ...]:
    return (
        job.guild_id,
        job.channel_id,
        job.user_id,
        job.operation,
        json.dumps(job.request),
        job.summary,
        job.cost,
        job.application_id,
        job.interaction_token,
        job.token_expires_at,
        job.upload_limit,
        now,
        int(job.charge_member),
        job.family,
        job.owner,
        job.lease_until,
        1 if job.owner else 0,
        job.model,
    )


async def insert(conn: Connection, job: NewJob, now: float) -> int:
    cursor = await conn.execute(INSERT_SQL, insert_params(job, now))
    row = await cursor.fetchone()
    return int(row[0])


async def get(conn: Connection, job_id: int) -> Job | None:
    cursor = await conn.execute("SELECT * FROM jobs WHERE id = ?", (job_id,))
    row = await cursor.fetchone()
    return Job.from_row(row) if row else None


async def mark_submitted(
    conn: Connection, job_id: int, task_id: str, now: float, next_run_at: float
) -> None:
    # A sooner next_run_at stays: a webhook may have made the job due while it was sent.
    await conn.execute(
        """UPDATE jobs SET state = 'queued', task_id = ?, submitted_at = ?,
               next_run_at = CASE WHEN next_run_at IS NOT NULL AND next_run_at < ?
                                  THEN next_run_at ELSE ? END
           WHERE id = ? AND state = 'submitting'""",
        (task_id, now, next_run_at, next_run_at, job_id),
    )


async def mark_sending(conn: Connection, job_id: int, fingerprint: str, now: float) -> None:
    """Stamp the intent to send, committed before the request leaves: from here on a crash
    leaves a job that MusicAPI may have made."""
    await conn.execute(
        """UPDATE jobs SET request_fingerprint = ?, sent_at = ?
           WHERE id = ? AND state = 'submitting'""",
        (fingerprint, now, job_id),
    )


async def mark_unconfirmed(conn: Connection, job_id: int, hold_until: float, reason: str) -> None:
    """Hold a sent job without an answer; `reason` is what the member is told if no webhook
    names its task before `hold_until`."""
    await conn.execute(
        """UPDATE jobs SET state = 'unconfirmed', next_run_at = ?, failure = ?
           WHERE id = ? AND state = 'submitting'""",
        (hold_until, reason, job_id),
    )


async def adopt_task(
    conn: Connection, job_id: int, task_id: str, now: float, next_run_at: float
) -> bool:
    """Give a job whose submit was cut off the task MusicAPI made for it (learned from its
    webhook); False when the job is no longer waiting for one."""
    cursor = await conn.execute(
        """UPDATE jobs SET state = 'queued', task_id = ?, submitted_at = ?, next_run_at = ?,
                          failure = NULL
           WHERE id = ? AND state IN ('submitting', 'unconfirmed') AND task_id IS NULL""",
        (task_id, now, next_run_at, job_id),
    )
    return cursor.rowcount == 1


async def set_failure(conn: Connection, job_id: int, failure: str) -> None:
    """Reword a failed job's reason (what its member reads), e.g. once its credits are settled."""
    await conn.execute("UPDATE jobs SET failure = ? WHERE id = ?", (failure, job_id))


async def mark_orphaned(conn: Connection, job_id: int, now: float) -> None:
    await conn.execute("UPDATE jobs SET orphaned_at = ? WHERE id = ?", (now, job_id))


async def orphans(conn: Connection, since: float = 0.0) -> list[Job]:
    """Jobs released although MusicAPI may have made (and billed) them, newest first."""
    cursor = await conn.execute(
        "SELECT * FROM jobs WHERE orphaned_at >= ? ORDER BY orphaned_at DESC", (since,)
    )
    return [Job.from_row(row) for row in await cursor.fetchall()]


async def record_poll(
    conn: Connection,
    job_id: int,
    state: str,
    next_run_at: float,
    *,
    seen_at: float | None = None,
    polled: bool = True,
) -> None:
    """Upstream says the job is not done (`state`); look again at `next_run_at`. `seen_at`
    is when upstream said so (it bounds the generation time the schedule learns from)."""
    await conn.execute(
        f"""UPDATE jobs SET state = ?, polls = polls + ?, errors = 0, next_run_at = ?,
                seen_pending_at = COALESCE(?, seen_pending_at)
           WHERE id = ? AND state IN ({_ACTIVE_SQL})""",
        (state, 1 if polled else 0, next_run_at, seen_at, job_id),
    )


async def record_polls(
    conn: Connection, writes: list[tuple[float, float, str, int, int, str | None, int]]
) -> None:
    """Many `record_poll`s in one statement:
    [(next_run_at, seen_at, state, polled, id, owner, lease_epoch)]. Fenced per row: a row
    whose lease moved on (another process took the job over) is left alone."""
    await conn.executemany(
        f"""UPDATE jobs SET next_run_at = ?, seen_pending_at = ?, state = ?,
                polls = polls + ?, errors = 0
           WHERE id = ? AND state IN ({_ACTIVE_SQL})
             AND (owner = ? OR owner IS NULL) AND lease_epoch = ?""",
        writes,
    )


async def due_if_pushed(conn: Connection, job_ids: list[int], now: float) -> None:
    """Make due now those of `job_ids` that have a stored webhook not yet acted on."""
    if not job_ids:
        return
    marks = ", ".join("?" for _ in job_ids)
    await conn.execute(
        f"""UPDATE jobs SET next_run_at = ?
           WHERE id IN ({marks}) AND id IN
               (SELECT job_id FROM webhook_events WHERE applied_at IS NULL)""",
        (now, *job_ids),
    )


async def set_stream_url(conn: Connection, job_id: int, url: str | None) -> None:
    await conn.execute("UPDATE jobs SET stream_url = ? WHERE id = ?", (url, job_id))


async def set_duration(conn: Connection, job_id: int, duration_s: float) -> None:
    await conn.execute("UPDATE jobs SET duration_s = ? WHERE id = ?", (duration_s, job_id))


async def run_soon(conn: Connection, job_id: int, at: float) -> None:
    """Bring an unfinished (or undelivered) job's next look forward to `at`, never back."""
    await conn.execute(
        """UPDATE jobs SET next_run_at = ?
           WHERE id = ? AND notified = 0 AND (next_run_at IS NULL OR next_run_at > ?)""",
        (at, job_id, at),
    )


async def reschedule(
    conn: Connection, moves: list[tuple[float, int]], *, owner: str | None = None
) -> None:
    """Set `next_run_at` of many jobs at once: [(next_run_at, job_id), ...]; with `owner`,
    only of jobs it still holds."""
    if owner is None:
        await conn.executemany("UPDATE jobs SET next_run_at = ? WHERE id = ?", moves)
        return
    await conn.executemany(
        "UPDATE jobs SET next_run_at = ? WHERE id = ? AND owner = ?",
        [(at, job_id, owner) for at, job_id in moves],
    )


async def active(conn: Connection, owner: str | None = None) -> list[Job]:
    """Every job upstream is working on (of `owner`, if given): the restart spread."""
    if owner is None:
        cursor = await conn.execute(f"SELECT * FROM jobs WHERE state IN ({_ACTIVE_SQL})")
    else:
        cursor = await conn.execute(
            f"SELECT * FROM jobs WHERE state IN ({_ACTIVE_SQL}) AND owner = ?", (owner,)
        )
    return [Job.from_row(row) for row in await cursor.fetchall()]


@dataclass(frozen=True, slots=True)
class Finished:
    family: str
    operation: str
    model: str | None
    duration_s: float


async def recent_durations(conn: Connection, since: float, limit: int) -> list[Finished]:
    """Generation times of jobs finished since `since`, newest first."""
    cursor = await conn.execute(
        """SELECT family, operation, model, duration_s FROM jobs
           WHERE duration_s IS NOT NULL AND finished_at >= ?
           ORDER BY finished_at DESC LIMIT ?""",
        (since, limit),
    )
    return [Finished(row[0], row[1], row[2], row[3]) for row in await cursor.fetchall()]


async def record_transient_error(
    conn: Connection, job_id: int, next_run_at: float, *, polled: bool
) -> None:
    await conn.execute(
        "UPDATE jobs SET errors = errors + 1, polls = polls + ?, next_run_at = ? WHERE id = ?",
        (1 if polled else 0, next_run_at, job_id),
    )


async def finish(
    conn: Connection,
    job_id: int,
    state: JobState,
    now: float,
    *,
    failure: str | None = None,
) -> bool:
    """Move an unfinished job to succeeded/failed; False if it had already finished."""
    assert state in FINAL_STATES
    cursor = await conn.execute(
        """UPDATE jobs SET state = ?, failure = ?, finished_at = ?, next_run_at = ?
           WHERE id = ? AND state NOT IN ('succeeded', 'failed')""",
        (state, failure, now, now, job_id),
    )
    return cursor.rowcount == 1


async def set_result(conn: Connection, job_id: int, result: JobResult) -> None:
    await conn.execute("UPDATE jobs SET result = ? WHERE id = ?", (result.to_json(), job_id))


async def mark_notified(conn: Connection, job_id: int) -> None:
    await conn.execute("UPDATE jobs SET notified = 1, next_run_at = NULL WHERE id = ?", (job_id,))


async def postpone(conn: Connection, job_id: int, next_run_at: float) -> None:
    await conn.execute(
        "UPDATE jobs SET errors = errors + 1, next_run_at = ? WHERE id = ?", (next_run_at, job_id)
    )


async def set_card_message(conn: Connection, job_id: int, message_id: int) -> None:
    await conn.execute("UPDATE jobs SET card_message_id = ? WHERE id = ?", (message_id, job_id))


async def set_card_state(conn: Connection, job_id: int, card_state: str) -> None:
    await conn.execute("UPDATE jobs SET card_state = ? WHERE id = ?", (card_state, job_id))


def _not_in(busy: Collection[int]) -> tuple[str, tuple[int, ...]]:
    if not busy:
        return "", ()
    return f" AND id NOT IN ({', '.join('?' for _ in busy)})", tuple(busy)


async def due(
    conn: Connection, owner: str, now: float, limit: int, busy: Collection[int] = ()
) -> list[Job]:
    """Jobs `owner` should look at now: its polls that are due and its unsent outcomes,
    except the `busy` ones it is working on already."""
    skip, skipped = _not_in(busy)
    cursor = await conn.execute(
        f"""SELECT * FROM jobs
           WHERE notified = 0 AND owner = ? AND next_run_at IS NOT NULL AND next_run_at <= ?
           {skip}
           ORDER BY next_run_at LIMIT ?""",
        (owner, now, *skipped, limit),
    )
    return [Job.from_row(row) for row in await cursor.fetchall()]


async def next_due_at(conn: Connection, owner: str, busy: Collection[int] = ()) -> float | None:
    skip, skipped = _not_in(busy)
    cursor = await conn.execute(
        f"""SELECT MIN(next_run_at) FROM jobs
           WHERE notified = 0 AND owner = ? AND next_run_at IS NOT NULL{skip}""",
        (owner, *skipped),
    )
    row = await cursor.fetchone()
    return row[0] if row else None


async def owned_submitting(conn: Connection, owner: str, ids: list[int]) -> list[Job]:
    """Of the jobs just claimed by `owner`, those a former owner left 'submitting': it died
    (or stalled past its lease) between the reservation and MusicAPI's answer."""
    if not ids:
        return []
    marks = ", ".join("?" for _ in ids)
    cursor = await conn.execute(
        f"""SELECT * FROM jobs WHERE owner = ? AND state = 'submitting' AND id IN ({marks})
           ORDER BY id""",
        (owner, *ids),
    )
    return [Job.from_row(row) for row in await cursor.fetchall()]


async def in_flight(conn: Connection, guild_id: int) -> list[Job]:
    cursor = await conn.execute(
        f"""SELECT * FROM jobs
           WHERE guild_id = ? AND state IN ({_IN_FLIGHT_SQL})
           ORDER BY created_at""",
        (guild_id,),
    )
    return [Job.from_row(row) for row in await cursor.fetchall()]


async def count_in_flight(conn: Connection) -> int:
    cursor = await conn.execute(f"SELECT COUNT(*) FROM jobs WHERE state IN ({_IN_FLIGHT_SQL})")
    row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def count_unfinished(conn: Connection) -> list[tuple[str, str, int]]:
    """(state, family, count) of jobs whose outcome is not posted yet: metrics and status."""
    cursor = await conn.execute(
        "SELECT state, family, COUNT(*) FROM jobs WHERE notified = 0 GROUP BY state, family"
    )
    return [(str(row[0]), str(row[1]), int(row[2])) for row in await cursor.fetchall()]


async def count_active(conn: Connection, guild_id: int, user_id: int | None = None) -> int:
    """Jobs in flight in a server (or of one member there), for the concurrency caps."""
    sql = f"SELECT COUNT(*) FROM jobs WHERE guild_id = ? AND state IN ({_IN_FLIGHT_SQL})"
    params: list[object] = [guild_id]
    if user_id is not None:
        sql += " AND user_id = ?"
        params.append(user_id)
    cursor = await conn.execute(sql, params)
    row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def paid_before(conn: Connection, guild_id: int, operation: str, clip_id: str) -> bool:
    """Whether this server already paid for `operation` on this clip."""
    cursor = await conn.execute(
        f"""SELECT 1 FROM jobs WHERE guild_id = ? AND operation = ? AND state = 'succeeded'
           AND {conn.dialect.json_text("request", "clip_id")} = ? LIMIT 1""",
        (guild_id, operation, clip_id),
    )
    return await cursor.fetchone() is not None
