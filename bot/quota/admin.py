"""Moderators' changes to a server's quotas. Every change is written to the ledger with the
acting moderator, so `/quota history` shows who did what and when."""

from __future__ import annotations

from dataclasses import dataclass

from bot.errors import QuotaRefused
from bot.quota.allowance import fits, most_spent_within
from bot.quota.ledger import Quota
from bot.quota.limits import Standing
from bot.quota.usage import Spend, Usage, UsagePeriod, aggregate, chart_window
from bot.states import BudgetPeriod
from bot.store import ledger as ledger_sql
from bot.store import settings as settings_sql
from bot.store.database import Connection
from bot.store.ledger import LedgerEntry

HISTORY_PAGE = 10


@dataclass(frozen=True, slots=True)
class QuotaOverview:
    """A server's quota at a glance: its standing, per-role and per-member limits (credits
    per period, by id) and the members blocked from making songs."""

    standing: Standing
    role_limits: dict[int, int]
    member_limits: dict[int, int]
    blocked: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class HistoryPage:
    entries: list[LedgerEntry]
    page: int
    pages: int
    total: int


class QuotaAdmin:
    def __init__(self, quota: Quota) -> None:
        self.quota = quota
        self.db = quota.db

    async def _record(
        self,
        conn: Connection,
        guild_id: int,
        moderator_id: int,
        note: str,
        *,
        kind: str = "setting",
        amount: int = 0,
        user_id: int | None = None,
    ) -> None:
        now = self.quota.clock()
        await ledger_sql.add(
            conn,
            guild_id=guild_id,
            kind=kind,
            amount=amount,
            charged_at=now,
            now=now,
            user_id=user_id,
            moderator_id=moderator_id,
            note=note,
        )

    async def _update(
        self, conn: Connection, guild_id: int, moderator_id: int, **changes: object
    ) -> None:
        await settings_sql.update(
            conn,
            guild_id,
            defaults=self.quota.defaults,
            moderator_id=moderator_id,
            now=self.quota.clock(),
            **changes,
        )

    async def set_budget(
        self, guild_id: int, amount: int, period: BudgetPeriod, moderator_id: int
    ) -> Standing:
        async with self.db.transaction() as conn:
            await conn.lock_guild(guild_id)  # the allowance read is the one that applies
            allowance = await self.quota.allowance(conn, guild_id)
            if not fits(amount, period, allowance):
                most = most_spent_within(amount, period, allowance.period)
                could = (
                    "keeps resetting, without end"
                    if most is None
                    else f"could spend up to {most} in one {allowance.period}"
                    if allowance.period != BudgetPeriod.NONE
                    else f"could spend up to {most}"
                )
                raise QuotaRefused(
                    "owner's allowance",
                    f"The bot's owner allows this server at most {allowance.describe()} "
                    f"(its allowance); a budget of {amount} "
                    + ("in total" if period == BudgetPeriod.NONE else f"per {period}")
                    + f" {could}. Choose a smaller budget, or ask the bot's owner to raise "
                    "the allowance.",
                )
            await self._update(conn, guild_id, moderator_id, budget=amount, budget_period=period)
            await self._record(
                conn, guild_id, moderator_id, f"budget {amount} per {period}", amount=amount
            )
            return await self.quota.read_standing(conn, guild_id)

    async def set_member_limit(
        self, guild_id: int, user_id: int, amount: int | None, moderator_id: int
    ) -> None:
        async with self.db.transaction() as conn:
            await settings_sql.set_member_limit(conn, guild_id, user_id, amount)
            note = "member limit removed" if amount is None else f"member limit {amount}"
            await self._record(
                conn, guild_id, moderator_id, note, amount=amount or 0, user_id=user_id
            )

    async def set_role_limit(
        self, guild_id: int, role_id: int, amount: int | None, moderator_id: int
    ) -> None:
        async with self.db.transaction() as conn:
            await settings_sql.set_role_limit(conn, guild_id, role_id, amount)
            note = (
                f"role <@&{role_id}> limit removed"
                if amount is None
                else f"role <@&{role_id}> limit {amount}"
            )
            await self._record(conn, guild_id, moderator_id, note, amount=amount or 0)

    async def grant(self, guild_id: int, user_id: int, amount: int, moderator_id: int) -> None:
        async with self.db.transaction() as conn:
            await self._record(
                conn, guild_id, moderator_id, "grant", kind="grant", amount=amount, user_id=user_id
            )

    async def reset(self, guild_id: int, user_id: int | None, moderator_id: int) -> int:
        """Forgive spending so far this budget period (a member's, or the server budget's).

        Only what is committed (or settled) is forgiven: a job still in flight stays counted,
        so its release later returns its credits once, not a second time on top of the
        reset. The reset moves only the totals of the budget period it names."""
        async with self.db.transaction() as conn:
            await conn.lock_guild(guild_id)  # the amount read is the amount forgiven
            standing = await self.quota.read_standing(conn, guild_id, user_id)
            spent = standing.member_spent if user_id is not None else standing.server_spent
            window = standing.window
            pending = await ledger_sql.in_flight(conn, guild_id, user_id, window.start, window.end)
            amount = max(0, spent - pending)
            note = "member spending reset" if user_id is not None else "server spending reset"
            now = self.quota.clock()
            await ledger_sql.add(
                conn,
                guild_id=guild_id,
                kind="reset",
                amount=amount,
                charged_at=now,
                now=now,
                user_id=user_id,
                moderator_id=moderator_id,
                note=note,
                period=standing.settings.budget_period,
            )
            return amount

    async def set_blocked(
        self, guild_id: int, user_id: int, blocked: bool, moderator_id: int
    ) -> bool:
        async with self.db.transaction() as conn:
            changed = await settings_sql.set_blocked(
                conn, guild_id, user_id, blocked, moderator_id, self.quota.clock()
            )
            if changed:
                note = "blocked" if blocked else "unblocked"
                await self._record(conn, guild_id, moderator_id, note, user_id=user_id)
            return changed

    async def set_channel(
        self, guild_id: int, action: str, channel_id: int | None, moderator_id: int
    ) -> list[int]:
        async with self.db.transaction() as conn:
            if action == "clear":
                await settings_sql.clear_channels(conn, guild_id)
                await self._record(conn, guild_id, moderator_id, "channel allow-list cleared")
            elif channel_id is not None and action in ("add", "remove"):
                await settings_sql.set_channel_allowed(conn, guild_id, channel_id, action == "add")
                verb = "allowed" if action == "add" else "no longer allowed"
                await self._record(conn, guild_id, moderator_id, f"channel <#{channel_id}> {verb}")
            return await settings_sql.allowed_channels(conn, guild_id)

    async def set_approval(self, guild_id: int, on: bool, moderator_id: int) -> None:
        async with self.db.transaction() as conn:
            await self._update(conn, guild_id, moderator_id, approval=int(on))
            await self._record(
                conn, guild_id, moderator_id, f"request approval {'on' if on else 'off'}"
            )

    async def set_concurrency(
        self, guild_id: int, per_member: int | None, per_server: int | None, moderator_id: int
    ) -> None:
        async with self.db.transaction() as conn:
            await self._update(
                conn, guild_id, moderator_id, member_jobs_cap=per_member, server_jobs_cap=per_server
            )
            await self._record(
                conn,
                guild_id,
                moderator_id,
                f"songs in progress: {per_member or 'no cap'} per member, "
                f"{per_server or 'no cap'} per server",
            )

    async def set_mod_role(self, guild_id: int, role_id: int | None, moderator_id: int) -> None:
        async with self.db.transaction() as conn:
            await self._update(conn, guild_id, moderator_id, mod_role_id=role_id)
            note = "moderator role removed" if role_id is None else f"moderator role <@&{role_id}>"
            await self._record(conn, guild_id, moderator_id, note)

    async def history(self, guild_id: int, member_id: int | None, page: int) -> HistoryPage:
        async with self.db.read() as conn:
            total = await ledger_sql.history_count(conn, guild_id, member_id)
            pages = max(1, -(-total // HISTORY_PAGE))
            page = min(max(1, page), pages)
            entries = await ledger_sql.history(
                conn, guild_id, member_id, limit=HISTORY_PAGE, offset=(page - 1) * HISTORY_PAGE
            )
        return HistoryPage(entries, page, pages, total)

    async def usage(self, guild_id: int, which: UsagePeriod) -> tuple[Usage, Standing]:
        """Spending per day and member for `/quota usage`, and the server's standing now."""
        async with self.db.read() as conn:
            standing = await self.quota.read_standing(conn, guild_id)
            settings = standing.settings
            period = BudgetPeriod(settings.budget_period)
            window = chart_window(period, which, self.quota.clock())
            rows = await ledger_sql.spending(conn, guild_id, window.start, window.end)
            # A budget that never resets counts what was spent before the days drawn, too.
            before = (
                await ledger_sql.server_spent_from_ledger(
                    conn, guild_id, 0.0, window.start, period=period
                )
                if period == BudgetPeriod.NONE
                else 0
            )
        usage = aggregate(
            (Spend(user, amount, at) for user, amount, at in rows),
            window,
            budget=settings.budget,
            budget_period=period,
            resets_at=standing.resets_at,
            spent_before=before,
        )
        return usage, standing

    async def overview(self, guild_id: int) -> QuotaOverview:
        """Everything `/quota show` lists, read together."""
        async with self.db.read() as conn:
            return QuotaOverview(
                standing=await self.quota.read_standing(conn, guild_id),
                role_limits=await settings_sql.role_limits(conn, guild_id),
                member_limits=await settings_sql.member_limits(conn, guild_id),
                blocked=tuple(await settings_sql.blocked_members(conn, guild_id)),
            )
