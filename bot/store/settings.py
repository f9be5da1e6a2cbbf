"""SQL for per-server settings: budget, caps, approval, moderator role, limits, blocks, channels.

A server with no row runs on the configured defaults; the row is created the first time a
moderator changes something.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.states import BudgetPeriod
from bot.store.database import Connection

_UPDATABLE = frozenset(
    {"budget", "budget_period", "member_jobs_cap", "server_jobs_cap", "approval", "mod_role_id"}
)


@dataclass(frozen=True, slots=True)
class GuildSettings:
    guild_id: int
    budget: int
    budget_period: BudgetPeriod
    member_jobs_cap: int | None = None
    server_jobs_cap: int | None = None
    approval: bool = False
    mod_role_id: int | None = None


async def get(conn: Connection, guild_id: int) -> GuildSettings | None:
    cursor = await conn.execute(
        """SELECT guild_id, budget, budget_period, member_jobs_cap, server_jobs_cap, approval,
                  mod_role_id
           FROM guild_settings WHERE guild_id = ?""",
        (guild_id,),
    )
    row = await cursor.fetchone()
    if row is None:
        return None
    return GuildSettings(row[0], row[1], BudgetPeriod(row[2]), row[3], row[4], bool(row[5]), row[6])


async def update(
    conn: Connection,
    guild_id: int,
    *,
    defaults: GuildSettings,
    moderator_id: int | None,
    now: float,
    **changes: object,
) -> None:
    unknown = set(changes) - _UPDATABLE
    if unknown:
        raise KeyError(f"not a guild setting: {sorted(unknown)}")
    await conn.execute(
        """INSERT INTO guild_settings (guild_id, budget, budget_period, updated_at, updated_by)
           VALUES (?, ?, ?, ?, ?) ON CONFLICT (guild_id) DO NOTHING""",
        (guild_id, defaults.budget, defaults.budget_period, now, moderator_id),
    )
    assignments = ", ".join(f"{column} = ?" for column in changes)
    await conn.execute(
        f"UPDATE guild_settings SET {assignments}, updated_at = ?, updated_by = ? "
        "WHERE guild_id = ?",
        (*changes.values(), now, moderator_id, guild_id),
    )


# -- limits ---------------------------------------------------------------------------------


async def set_member_limit(
    conn: Connection, guild_id: int, user_id: int, amount: int | None
) -> None:
    if amount is None:
        await conn.execute(
            "DELETE FROM member_limits WHERE guild_id = ? AND user_id = ?", (guild_id, user_id)
        )
        return
    await conn.execute(
        """INSERT INTO member_limits (guild_id, user_id, amount) VALUES (?, ?, ?)
           ON CONFLICT (guild_id, user_id) DO UPDATE SET amount = excluded.amount""",
        (guild_id, user_id, amount),
    )


async def set_role_limit(conn: Connection, guild_id: int, role_id: int, amount: int | None) -> None:
    if amount is None:
        await conn.execute(
            "DELETE FROM role_limits WHERE guild_id = ? AND role_id = ?", (guild_id, role_id)
        )
        return
    await conn.execute(
        """INSERT INTO role_limits (guild_id, role_id, amount) VALUES (?, ?, ?)
           ON CONFLICT (guild_id, role_id) DO UPDATE SET amount = excluded.amount""",
        (guild_id, role_id, amount),
    )


async def member_limit(
    conn: Connection, guild_id: int, user_id: int, role_ids: tuple[int, ...]
) -> int | None:
    """The member's own limit, else the highest of their roles' (with @everyone), else None."""
    cursor = await conn.execute(
        "SELECT amount FROM member_limits WHERE guild_id = ? AND user_id = ?", (guild_id, user_id)
    )
    row = await cursor.fetchone()
    if row is not None:
        return int(row[0])
    roles = (*role_ids, guild_id)  # the @everyone role shares the server's id
    marks = ", ".join("?" for _ in roles)
    cursor = await conn.execute(
        f"SELECT MAX(amount) FROM role_limits WHERE guild_id = ? AND role_id IN ({marks})",
        (guild_id, *roles),
    )
    row = await cursor.fetchone()
    return None if row is None or row[0] is None else int(row[0])


async def role_limits(conn: Connection, guild_id: int) -> dict[int, int]:
    cursor = await conn.execute(
        "SELECT role_id, amount FROM role_limits WHERE guild_id = ? ORDER BY amount DESC",
        (guild_id,),
    )
    return {row[0]: row[1] for row in await cursor.fetchall()}


async def member_limits(conn: Connection, guild_id: int) -> dict[int, int]:
    cursor = await conn.execute(
        "SELECT user_id, amount FROM member_limits WHERE guild_id = ?", (guild_id,)
    )
    return {row[0]: row[1] for row in await cursor.fetchall()}


# -- blocks and channels ----------------------------------------------------------------------


async def set_blocked(
    conn: Connection,
    guild_id: int,
    user_id: int,
    blocked: bool,
    moderator_id: int,
    now: float,
) -> bool:
    """Returns whether anything changed."""
    if blocked:
        cursor = await conn.execute(
            """INSERT INTO blocked_members (guild_id, user_id, moderator_id, created_at)
               VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING""",
            (guild_id, user_id, moderator_id, now),
        )
    else:
        cursor = await conn.execute(
            "DELETE FROM blocked_members WHERE guild_id = ? AND user_id = ?", (guild_id, user_id)
        )
    return cursor.rowcount == 1


async def is_blocked(conn: Connection, guild_id: int, user_id: int) -> bool:
    cursor = await conn.execute(
        "SELECT 1 FROM blocked_members WHERE guild_id = ? AND user_id = ?", (guild_id, user_id)
    )
    return await cursor.fetchone() is not None


async def blocked_members(conn: Connection, guild_id: int) -> list[int]:
    cursor = await conn.execute(
        "SELECT user_id FROM blocked_members WHERE guild_id = ? ORDER BY created_at", (guild_id,)
    )
    return [row[0] for row in await cursor.fetchall()]


async def set_channel_allowed(
    conn: Connection, guild_id: int, channel_id: int, allowed: bool
) -> None:
    if allowed:
        await conn.execute(
            "INSERT INTO allowed_channels (guild_id, channel_id) VALUES (?, ?) "
            "ON CONFLICT DO NOTHING",
            (guild_id, channel_id),
        )
    else:
        await conn.execute(
            "DELETE FROM allowed_channels WHERE guild_id = ? AND channel_id = ?",
            (guild_id, channel_id),
        )


async def clear_channels(conn: Connection, guild_id: int) -> None:
    await conn.execute("DELETE FROM allowed_channels WHERE guild_id = ?", (guild_id,))


async def allowed_channels(conn: Connection, guild_id: int) -> list[int]:
    cursor = await conn.execute(
        "SELECT channel_id FROM allowed_channels WHERE guild_id = ? ORDER BY channel_id",
        (guild_id,),
    )
    return [row[0] for row in await cursor.fetchall()]
