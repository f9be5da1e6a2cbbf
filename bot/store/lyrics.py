"""SQL for lyric drafts."""

from __future__ import annotations

from dataclasses import dataclass

from bot.store.database import Connection


@dataclass(frozen=True, slots=True)
class LyricsDraftRow:
    id: int
    guild_id: int
    user_id: int
    title: str
    lyrics: str
    created_at: float


async def insert(
    conn: Connection, guild_id: int, user_id: int, title: str, lyrics: str, now: float
) -> int:
    cursor = await conn.execute(
        """INSERT INTO lyrics_drafts (guild_id, user_id, title, lyrics, created_at)
           VALUES (?, ?, ?, ?, ?)
           RETURNING id""",
        (guild_id, user_id, title, lyrics, now),
    )
    row = await cursor.fetchone()
    return int(row[0])


async def get(conn: Connection, guild_id: int, draft_id: int) -> LyricsDraftRow | None:
    cursor = await conn.execute(
        "SELECT * FROM lyrics_drafts WHERE guild_id = ? AND id = ?", (guild_id, draft_id)
    )
    row = await cursor.fetchone()
    return LyricsDraftRow(**dict(row)) if row else None
