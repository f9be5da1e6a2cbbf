"""SQL for the credit ledger and per-server settings."""

from __future__ import annotations

from dataclasses import dataclass

import aiosqlite


@dataclass(frozen=True, slots=True)
class GuildSettings:
    guild_id: int
    budget: int
    budget_period: str


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    id: int
    guild_id: int
    user_id: int | None
    job_id: int | None
    kind: str
    amount: int
    operation: str | None
    moderator_id: int | None
    note: str | None
    charged_at: float
    created_at: float


async def guild_settings(conn: aiosqlite.Connection, guild_id: int) -> GuildSettings | None:
    cursor = await conn.execute(
        "SELECT guild_id, budget, budget_period FROM guild_settings WHERE guild_id = ?",
        (guild_id,),
    )
    row = await cursor.fetchone()
    return GuildSettings(row[0], row[1], row[2]) if row else None


async def set_budget(
    conn: aiosqlite.Connection,
    guild_id: int,
    budget: int,
    period: str,
    moderator_id: int | None,
    now: float,
) -> None:
    await conn.execute(
        """INSERT INTO guild_settings (guild_id, budget, budget_period, updated_at, updated_by)
           VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (guild_id) DO UPDATE SET budget = excluded.budget,
               budget_period = excluded.budget_period, updated_at = excluded.updated_at,
               updated_by = excluded.updated_by""",
        (guild_id, budget, period, now, moderator_id),
    )


async def spent(
    conn: aiosqlite.Connection,
    guild_id: int,
    start: float,
    end: float | None,
    user_id: int | None = None,
) -> int:
    """Credits charged in [start, end): reservations (pending or committed) minus releases."""
    sql = """SELECT COALESCE(SUM(CASE kind WHEN 'reserve' THEN amount
                                           WHEN 'release' THEN -amount ELSE 0 END), 0)
             FROM ledger WHERE guild_id = ? AND charged_at >= ?"""
    params: list[object] = [guild_id, start]
    if end is not None:
        sql += " AND charged_at < ?"
        params.append(end)
    if user_id is not None:
        sql += " AND user_id = ?"
        params.append(user_id)
    cursor = await conn.execute(sql, params)
    row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def add(
    conn: aiosqlite.Connection,
    *,
    guild_id: int,
    kind: str,
    amount: int,
    charged_at: float,
    now: float,
    user_id: int | None = None,
    job_id: int | None = None,
    operation: str | None = None,
    moderator_id: int | None = None,
    note: str | None = None,
) -> bool:
    """Append an entry; False when this job already has an entry of this kind (idempotent)."""
    cursor = await conn.execute(
        """INSERT INTO ledger (guild_id, user_id, job_id, kind, amount, operation, moderator_id,
                               note, charged_at, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT DO NOTHING""",
        (guild_id, user_id, job_id, kind, amount, operation, moderator_id, note, charged_at, now),
    )
    return cursor.rowcount == 1


async def job_entries(conn: aiosqlite.Connection, job_id: int) -> list[LedgerEntry]:
    cursor = await conn.execute("SELECT * FROM ledger WHERE job_id = ? ORDER BY id", (job_id,))
    return [LedgerEntry(**dict(row)) for row in await cursor.fetchall()]


async def guild_entries(conn: aiosqlite.Connection, guild_id: int) -> list[LedgerEntry]:
    cursor = await conn.execute("SELECT * FROM ledger WHERE guild_id = ? ORDER BY id", (guild_id,))
    return [LedgerEntry(**dict(row)) for row in await cursor.fetchall()]
