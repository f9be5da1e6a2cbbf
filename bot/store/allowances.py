"""SQL for the owner's ceilings: each server's allowance, and which daily-cap alerts went out.

A server without an allowance row has the configured default. `set_by` is the owner who set
the allowance; NULL marks one kept from the server's own budget when the database was
upgraded to the schema that introduced allowances (see bot.quota.allowance.effective).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.states import BudgetPeriod
from bot.store.database import Connection


@dataclass(frozen=True, slots=True)
class StoredAllowance:
    guild_id: int
    amount: int
    period: BudgetPeriod
    set_by: int | None


async def get(conn: Connection, guild_id: int) -> StoredAllowance | None:
    cursor = await conn.execute(
        "SELECT guild_id, amount, period, set_by FROM guild_allowances WHERE guild_id = ?",
        (guild_id,),
    )
    row = await cursor.fetchone()
    if row is None:
        return None
    return StoredAllowance(int(row[0]), int(row[1]), BudgetPeriod(row[2]), row[3])


async def put(
    conn: Connection, guild_id: int, amount: int, period: BudgetPeriod, owner_id: int, now: float
) -> None:
    await conn.execute(
        """INSERT INTO guild_allowances (guild_id, amount, period, set_by, set_at)
           VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (guild_id) DO UPDATE SET amount = excluded.amount,
               period = excluded.period, set_by = excluded.set_by, set_at = excluded.set_at""",
        (guild_id, amount, str(period), owner_id, now),
    )


async def known_guilds(conn: Connection) -> list[int]:
    """Every server the database knows a budget or an allowance of."""
    cursor = await conn.execute(
        """SELECT guild_id FROM guild_settings
           UNION SELECT guild_id FROM guild_allowances"""
    )
    return [int(row[0]) for row in await cursor.fetchall()]


async def claim_cap_alert(conn: Connection, day_start: float, level: int, now: float) -> bool:
    """True for the one caller (of any process) that first reaches `level` % of the daily cap
    on this UTC day: that one sends the alert."""
    cursor = await conn.execute(
        """INSERT INTO owner_cap_alerts (day_start, level, sent_at) VALUES (?, ?, ?)
           ON CONFLICT DO NOTHING""",
        (day_start, level, now),
    )
    return cursor.rowcount == 1
