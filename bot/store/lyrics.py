"""SQL for lyric drafts."""

from __future__ import annotations

from dataclasses import dataclass

import aiosqlite


@dataclass(frozen=True, slots=True)
class LyricsDraftRow:
    id: int
    guild_id: int
    user_id: int
    title: str
    lyrics: str
    created_at: float


async def insert(
    conn: aiosqlite.Connection, guild_id: int, user_id: int, title: str, lyrics: str, now: float
) -> int:
    cursor = await conn.execute(
        """INSERT INTO lyrics_drafts (guild_id, user_id, title, lyrics, created_at)
           VALUES (?, ?, ?, ?, ?)""",
        (guild_id, user_id, title, lyrics, now),
    )
    assert cursor.lastrowid is not None
    return cursor.lastrowid


async def get(conn: aiosqlite.Connection, guild_id: int, draft_id: int) -> LyricsDraftRow | None:
    cursor = await conn.execute(
        "SELECT * FROM lyrics_drafts WHERE guild_id = ? AND id = ?", (guild_id, draft_id)
    )
    row = await cursor.fetchone()
    return LyricsDraftRow(**dict(row)) if row else None
