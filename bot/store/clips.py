"""SQL for clips and per-clip delivery records."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from bot.states import ClipSource
from bot.store.database import Connection, Row


@dataclass(frozen=True, slots=True)
class StoredClip:
    clip_id: str
    guild_id: int
    job_id: int
    user_id: int
    title: str
    tags: str
    lyrics: str
    duration: float | None
    model: str | None
    image_url: str | None
    audio_url: str | None
    source: ClipSource
    created_at: float
    raw: dict[str, Any]

    @classmethod
    def from_row(cls, row: Row) -> StoredClip:
        data = dict(row)
        data.pop("seq", None)  # storage order only
        data["raw"] = json.loads(data["raw"])
        data["source"] = ClipSource(data["source"])
        return cls(**data)


async def upsert(conn: Connection, clip: StoredClip) -> None:
    await conn.execute(
        """INSERT INTO clips (clip_id, guild_id, job_id, user_id, title, tags, lyrics, duration,
                              model, image_url, audio_url, source, created_at, raw)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (clip_id) DO UPDATE SET title = excluded.title, tags = excluded.tags,
               lyrics = excluded.lyrics, duration = excluded.duration, model = excluded.model,
               image_url = excluded.image_url, audio_url = excluded.audio_url,
               raw = excluded.raw""",
        (
            clip.clip_id,
            clip.guild_id,
            clip.job_id,
            clip.user_id,
            clip.title,
            clip.tags,
            clip.lyrics,
            clip.duration,
            clip.model,
            clip.image_url,
            clip.audio_url,
            clip.source,
            clip.created_at,
            json.dumps(clip.raw),
        ),
    )


async def for_job(conn: Connection, job_id: int) -> list[StoredClip]:
    cursor = await conn.execute(
        "SELECT * FROM clips WHERE job_id = ? ORDER BY created_at, seq", (job_id,)
    )
    return [StoredClip.from_row(row) for row in await cursor.fetchall()]


async def get(conn: Connection, guild_id: int, clip_id: str) -> StoredClip | None:
    """A clip of this server only: another server's clip is never returned."""
    cursor = await conn.execute(
        "SELECT * FROM clips WHERE guild_id = ? AND clip_id = ?", (guild_id, clip_id)
    )
    row = await cursor.fetchone()
    return StoredClip.from_row(row) if row else None


async def known_elsewhere(conn: Connection, guild_id: int, clip_id: str) -> bool:
    """Whether the id belongs to another server's clip (so the refusal can say so)."""
    cursor = await conn.execute(
        "SELECT 1 FROM clips WHERE clip_id = ? AND guild_id != ?", (clip_id, guild_id)
    )
    return await cursor.fetchone() is not None


async def recent(conn: Connection, guild_id: int, query: str, limit: int) -> list[StoredClip]:
    """This server's clips, most recent first, whose title or id contains `query` (in any
    case: lower() on both sides, as PostgreSQL's LIKE is case-sensitive)."""
    pattern = f"%{query.replace('%', '').replace('_', '')}%"
    cursor = await conn.execute(
        """SELECT * FROM clips
           WHERE guild_id = ? AND source != 'stem'
               AND (lower(title) LIKE lower(?) OR lower(clip_id) LIKE lower(?))
           ORDER BY created_at DESC, seq DESC LIMIT ?""",
        (guild_id, pattern, pattern, limit),
    )
    return [StoredClip.from_row(row) for row in await cursor.fetchall()]


async def delivered(conn: Connection, job_id: int) -> dict[str, int]:
    """item -> message id of everything already posted for this job."""
    cursor = await conn.execute(
        "SELECT item, message_id FROM deliveries WHERE job_id = ?", (job_id,)
    )
    return {row[0]: row[1] for row in await cursor.fetchall()}


async def record_delivery(
    conn: Connection, job_id: int, item: str, message_id: int, now: float
) -> None:
    await conn.execute(
        """INSERT INTO deliveries (job_id, item, message_id, delivered_at) VALUES (?, ?, ?, ?)
           ON CONFLICT DO NOTHING""",
        (job_id, item, message_id, now),
    )
