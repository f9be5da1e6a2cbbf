"""SQL for the credit ledger.

Kinds: reserve / commit / release (a job's cost; commit only marks the charge final), grant
(extra allowance for one member), reset (a moderator forgives spending so far this period:
for one member when user_id is set, for the server's budget when it is not), setting (a
moderator's change, with amount and note). `charged_at` puts an entry in a budget period; a
release carries its reservation's, so refunds land in the period they were charged.
"""

from __future__ import annotations

from dataclasses import dataclass

import aiosqlite


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
    member_share: int


def _window(start: float, end: float | None) -> tuple[str, list[object]]:
    if end is None:
        return "charged_at >= ?", [start]
    return "charged_at >= ? AND charged_at < ?", [start, end]


async def server_spent(
    conn: aiosqlite.Connection, guild_id: int, start: float, end: float | None
) -> int:
    """Credits counted against the server's budget in [start, end)."""
    where, params = _window(start, end)
    cursor = await conn.execute(
        f"""SELECT COALESCE(SUM(CASE
                WHEN kind = 'reserve' THEN amount
                WHEN kind = 'release' THEN -amount
                WHEN kind = 'reset' AND user_id IS NULL THEN -amount
                ELSE 0 END), 0)
            FROM ledger WHERE guild_id = ? AND {where}""",
        (guild_id, *params),
    )
    row = await cursor.fetchone()
    return max(0, int(row[0])) if row else 0


async def member_spent(
    conn: aiosqlite.Connection, guild_id: int, user_id: int, start: float, end: float | None
) -> int:
    """Credits counted against one member's own limit in [start, end)."""
    where, params = _window(start, end)
    cursor = await conn.execute(
        f"""SELECT COALESCE(SUM(CASE
                WHEN kind = 'reserve' AND member_share = 1 THEN amount
                WHEN kind = 'release' AND member_share = 1 THEN -amount
                WHEN kind = 'reset' THEN -amount
                ELSE 0 END), 0)
            FROM ledger WHERE guild_id = ? AND user_id = ? AND {where}""",
        (guild_id, user_id, *params),
    )
    row = await cursor.fetchone()
    return max(0, int(row[0])) if row else 0


async def member_grants(
    conn: aiosqlite.Connection, guild_id: int, user_id: int, start: float, end: float | None
) -> int:
    where, params = _window(start, end)
    cursor = await conn.execute(
        f"""SELECT COALESCE(SUM(amount), 0) FROM ledger
            WHERE guild_id = ? AND user_id = ? AND kind = 'grant' AND {where}""",
        (guild_id, user_id, *params),
    )
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
    member_share: bool = True,
) -> bool:
    """Append an entry; False when this job already has an entry of this kind (idempotent)."""
    cursor = await conn.execute(
        """INSERT INTO ledger (guild_id, user_id, job_id, kind, amount, operation, moderator_id,
                               note, charged_at, created_at, member_share)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT DO NOTHING""",
        (
            guild_id,
            user_id,
            job_id,
            kind,
            amount,
            operation,
            moderator_id,
            note,
            charged_at,
            now,
            int(member_share),
        ),
    )
    return cursor.rowcount == 1


async def job_entries(conn: aiosqlite.Connection, job_id: int) -> list[LedgerEntry]:
    cursor = await conn.execute("SELECT * FROM ledger WHERE job_id = ? ORDER BY id", (job_id,))
    return [LedgerEntry(**dict(row)) for row in await cursor.fetchall()]


async def guild_entries(conn: aiosqlite.Connection, guild_id: int) -> list[LedgerEntry]:
    cursor = await conn.execute("SELECT * FROM ledger WHERE guild_id = ? ORDER BY id", (guild_id,))
    return [LedgerEntry(**dict(row)) for row in await cursor.fetchall()]


def _about(guild_id: int, member_id: int | None) -> tuple[str, list[object]]:
    """Entries about a member are theirs, or a moderator's acting on or as them."""
    if member_id is None:
        return "guild_id = ?", [guild_id]
    return "guild_id = ? AND (user_id = ? OR moderator_id = ?)", [guild_id, member_id, member_id]


async def history_count(conn: aiosqlite.Connection, guild_id: int, member_id: int | None) -> int:
    where, params = _about(guild_id, member_id)
    cursor = await conn.execute(f"SELECT COUNT(*) FROM ledger WHERE {where}", params)
    row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def history(
    conn: aiosqlite.Connection, guild_id: int, member_id: int | None, *, limit: int, offset: int
) -> list[LedgerEntry]:
    """Newest first."""
    where, params = _about(guild_id, member_id)
    cursor = await conn.execute(
        f"SELECT * FROM ledger WHERE {where} ORDER BY id DESC LIMIT ? OFFSET ?",
        (*params, limit, offset),
    )
    return [LedgerEntry(**dict(r)) for r in await cursor.fetchall()]
