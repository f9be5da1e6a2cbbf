"""SQL for the owner's feature switches. Functions take a connection from `Database`."""

from __future__ import annotations

from dataclasses import dataclass

from bot.store.database import Connection


@dataclass(frozen=True, slots=True)
class FeatureChange:
    name: str
    enabled: bool
    user_id: int
    changed_at: float


async def is_enabled(conn: Connection, name: str) -> bool:
    """A feature without a row is off."""
    cursor = await conn.execute("SELECT enabled FROM features WHERE name = ?", (name,))
    row = await cursor.fetchone()
    return bool(row[0]) if row is not None else False


async def set_enabled(conn: Connection, name: str, enabled: bool, user_id: int, now: float) -> bool:
    """Switch `name`; returns whether that changed anything. Every call is recorded, so the
    history shows who confirmed a state as well as who changed it."""
    changed = await is_enabled(conn, name) != enabled
    await conn.execute(
        """INSERT INTO features (name, enabled, updated_at, updated_by) VALUES (?, ?, ?, ?)
           ON CONFLICT (name) DO UPDATE SET enabled = excluded.enabled,
               updated_at = excluded.updated_at, updated_by = excluded.updated_by""",
        (name, int(enabled), now, user_id),
    )
    await conn.execute(
        "INSERT INTO feature_changes (name, enabled, user_id, changed_at) VALUES (?, ?, ?, ?)",
        (name, int(enabled), user_id, now),
    )
    return changed


async def states(conn: Connection) -> dict[str, bool]:
    """Every feature that has a row (the others are off)."""
    cursor = await conn.execute("SELECT name, enabled FROM features ORDER BY name")
    return {row[0]: bool(row[1]) for row in await cursor.fetchall()}


async def history(conn: Connection, name: str, limit: int = 20) -> list[FeatureChange]:
    """The latest changes of `name`, newest first."""
    cursor = await conn.execute(
        """SELECT name, enabled, user_id, changed_at FROM feature_changes WHERE name = ?
           ORDER BY id DESC LIMIT ?""",
        (name, limit),
    )
    return [FeatureChange(row[0], bool(row[1]), row[2], row[3]) for row in await cursor.fetchall()]
