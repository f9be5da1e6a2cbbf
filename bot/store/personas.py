"""SQL for personas."""

from __future__ import annotations

from dataclasses import dataclass

from bot.store.database import Connection


@dataclass(frozen=True, slots=True)
class Persona:
    persona_id: str
    guild_id: int
    user_id: int
    name: str
    clip_id: str | None
    created_at: float


async def insert(conn: Connection, persona: Persona) -> None:
    await conn.execute(
        """INSERT INTO personas (persona_id, guild_id, user_id, name, clip_id, created_at)
           VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (persona_id) DO NOTHING""",
        (
            persona.persona_id,
            persona.guild_id,
            persona.user_id,
            persona.name,
            persona.clip_id,
            persona.created_at,
        ),
    )


async def for_guild(conn: Connection, guild_id: int, query: str = "") -> list[Persona]:
    pattern = f"%{query.replace('%', '').replace('_', '')}%"
    cursor = await conn.execute(
        """SELECT * FROM personas WHERE guild_id = ?
               AND (lower(name) LIKE lower(?) OR lower(persona_id) LIKE lower(?))
           ORDER BY created_at DESC LIMIT 25""",
        (guild_id, pattern, pattern),
    )
    return [Persona(**dict(row)) for row in await cursor.fetchall()]


async def get(conn: Connection, guild_id: int, persona_id: str) -> Persona | None:
    cursor = await conn.execute(
        "SELECT * FROM personas WHERE guild_id = ? AND persona_id = ?", (guild_id, persona_id)
    )
    row = await cursor.fetchone()
    return Persona(**dict(row)) if row else None
