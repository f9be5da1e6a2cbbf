"""SQL for community song requests and their votes."""

from __future__ import annotations

from dataclasses import dataclass

from bot.states import RequestState
from bot.store.database import Connection


@dataclass(frozen=True, slots=True)
class SongRequest:
    id: int
    guild_id: int
    channel_id: int
    user_id: int
    description: str
    style: str | None
    state: RequestState
    message_id: int | None
    moderator_id: int | None
    reason: str | None
    job_id: int | None
    created_at: float
    decided_at: float | None


async def insert(
    conn: Connection,
    *,
    guild_id: int,
    channel_id: int,
    user_id: int,
    description: str,
    style: str | None,
    state: RequestState,
    now: float,
    job_id: int | None = None,
) -> int:
    cursor = await conn.execute(
        """INSERT INTO song_requests (guild_id, channel_id, user_id, description, style, state,
                                      job_id, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)
           RETURNING id""",
        (guild_id, channel_id, user_id, description, style, state, job_id, now),
    )
    row = await cursor.fetchone()
    return int(row[0])


async def get(conn: Connection, request_id: int) -> SongRequest | None:
    cursor = await conn.execute("SELECT * FROM song_requests WHERE id = ?", (request_id,))
    row = await cursor.fetchone()
    if row is None:
        return None
    data = dict(row)
    data["state"] = RequestState(data["state"])
    return SongRequest(**data)


async def set_message(conn: Connection, request_id: int, message_id: int) -> None:
    await conn.execute(
        "UPDATE song_requests SET message_id = ? WHERE id = ?", (message_id, request_id)
    )


async def decide(
    conn: Connection,
    request_id: int,
    state: RequestState,
    moderator_id: int,
    now: float,
    *,
    reason: str | None = None,
    job_id: int | None = None,
) -> bool:
    """Approve or reject a pending request; False if someone decided it first."""
    cursor = await conn.execute(
        """UPDATE song_requests SET state = ?, moderator_id = ?, reason = ?, job_id = ?,
                                    decided_at = ?
           WHERE id = ? AND state = 'pending'""",
        (state, moderator_id, reason, job_id, now, request_id),
    )
    return cursor.rowcount == 1


async def add_vote(conn: Connection, request_id: int, user_id: int) -> bool:
    cursor = await conn.execute(
        "INSERT INTO request_votes (request_id, user_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
        (request_id, user_id),
    )
    return cursor.rowcount == 1


async def vote_count(conn: Connection, request_id: int) -> int:
    cursor = await conn.execute(
        "SELECT COUNT(*) FROM request_votes WHERE request_id = ?", (request_id,)
    )
    row = await cursor.fetchone()
    return int(row[0]) if row else 0
