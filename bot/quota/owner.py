"""The owner's view and control of every server's spending: allowances."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bot.quota.allowance import Allowance
from bot.quota.ledger import Quota
from bot.quota.limits import Standing
from bot.states import BudgetPeriod
from bot.store import allowances as allowance_sql
from bot.store import ledger as ledger_sql

SERVERS_PAGE = 10


@dataclass(frozen=True, slots=True)
class ServerLine:
    guild_id: int
    standing: Standing

    @property
    def allowance(self) -> Allowance:
        assert self.standing.allowance is not None  # read_standing always fills it
        return self.standing.allowance


@dataclass(frozen=True, slots=True)
class ServersPage:
    lines: list[ServerLine]
    page: int
    pages: int
    total: int


class OwnerCeilings:
    def __init__(self, quota: Quota) -> None:
        self.quota = quota
        self.db = quota.db

    async def set_allowance(
        self, guild_id: int, amount: int, period: BudgetPeriod, owner_id: int
    ) -> Standing:
        """Set the most this server's moderators may budget (and the server may spend) per
        period. A budget already above it stays, but every reservation is held to it."""
        now = self.quota.clock()
        async with self.db.transaction() as conn:
            await conn.lock_guild(guild_id)
            await allowance_sql.put(conn, guild_id, amount, period, owner_id, now)
            per = "in total" if period == BudgetPeriod.NONE else f"per {period}"
            await ledger_sql.add(
                conn,
                guild_id=guild_id,
                kind="setting",
                amount=amount,
                charged_at=now,
                now=now,
                moderator_id=owner_id,
                note=f"allowance {amount} {per} (bot owner)",
            )
            return await self.quota.read_standing(conn, guild_id)

    async def servers(self, present: Iterable[int], page: int) -> ServersPage:
        """Every server this process is in (`present`) or the database has settings for,
        sorted by id, one page at a time."""
        async with self.db.read() as conn:
            ids = sorted(set(present) | set(await allowance_sql.known_guilds(conn)))
            pages = max(1, -(-len(ids) // SERVERS_PAGE))
            page = min(max(1, page), pages)
            chosen = ids[(page - 1) * SERVERS_PAGE : page * SERVERS_PAGE]
            lines = [ServerLine(g, await self.quota.read_standing(conn, g)) for g in chosen]
        return ServersPage(lines, page, pages, len(ids))
