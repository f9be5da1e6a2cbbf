"""Credit rules: reserve on submit, commit on success, release on failure.

Reservation is one database transaction that checks every limit, writes the job row and the
reservation together, so any number of simultaneous commands can never overspend. Commit and
release are idempotent per job and exclude each other: a retried or resumed job is charged
once or refunded once, never both and never twice.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import replace

from bot.errors import QuotaRefused
from bot.observability import alerts, metrics
from bot.periods import current_window
from bot.quota import limits
from bot.quota.allowance import Allowance, Source, effective
from bot.quota.costs import CostTable
from bot.quota.limits import Standing, describe_reset
from bot.states import BudgetPeriod
from bot.store import allowances as allowance_sql
from bot.store import jobs as job_sql
from bot.store import ledger as ledger_sql
from bot.store import settings as settings_sql
from bot.store.database import Connection, Database
from bot.store.jobs import Job, NewJob
from bot.store.settings import GuildSettings

# Percentages of OWNER_DAILY_CAP at which the owner is told, once each per UTC day.
CAP_ALERT_LEVELS = (80, 100)


class Quota:
    def __init__(
        self,
        db: Database,
        costs: CostTable,
        *,
        default_budget: int,
        default_period: BudgetPeriod,
        clock: Callable[[], float] = time.time,
        daily_cap: int | None = None,
    ) -> None:
        self.db = db
        self.costs = costs
        self.defaults = GuildSettings(0, default_budget, default_period)
        self.default_allowance = Allowance(default_budget, default_period, Source.DEFAULT)
        self.clock = clock
        # OWNER_DAILY_CAP: credits every server together may reserve per UTC day.
        self.daily_cap = daily_cap

    async def settings(self, conn: Connection, guild_id: int) -> GuildSettings:
        found = await settings_sql.get(conn, guild_id)
        return found or replace(self.defaults, guild_id=guild_id)

    async def allowance(self, conn: Connection, guild_id: int) -> Allowance:
        return effective(await allowance_sql.get(conn, guild_id), self.default_allowance)

    async def read_standing(
        self,
        conn: Connection,
        guild_id: int,
        user_id: int | None = None,
        role_ids: tuple[int, ...] = (),
    ) -> Standing:
        settings = await self.settings(conn, guild_id)
        now = self.clock()
        window = current_window(settings.budget_period, now)
        # Running totals: one indexed read, however many entries the period holds.
        totals = await ledger_sql.totals(
            conn, guild_id, user_id, settings.budget_period, window.start
        )
        allowance = await self.allowance(conn, guild_id)
        allowance_window = current_window(allowance.period, now)
        standing = Standing(
            settings=settings,
            window=window,
            server_spent=totals.server_spent,
            server_active=await job_sql.count_active(conn, guild_id),
            allowed_channels=tuple(await settings_sql.allowed_channels(conn, guild_id)),
            allowance=allowance,
            allowance_window=allowance_window,
            allowance_spent=await ledger_sql.owner_spent(
                conn, guild_id, allowance.period, allowance_window.start
            ),
        )
        if user_id is None:
            return standing
        return replace(
            standing,
            member_id=user_id,
            member_spent=totals.member_spent,
            member_limit=await settings_sql.member_limit(conn, guild_id, user_id, role_ids),
            member_grants=totals.member_granted,
            member_active=await job_sql.count_active(conn, guild_id, user_id),
            blocked=await settings_sql.is_blocked(conn, guild_id, user_id),
        )

    async def standing(
        self, guild_id: int, user_id: int | None = None, role_ids: tuple[int, ...] = ()
    ) -> Standing:
        async with self.db.read() as conn:
            return await self.read_standing(conn, guild_id, user_id, role_ids)

    async def daily_cap_left(self) -> int | None:
        """What every server together may still reserve today under OWNER_DAILY_CAP (None
        without a cap). A plain read: the reservation checks it again under its lock."""
        if self.daily_cap is None:
            return None
        day = current_window(BudgetPeriod.DAY, self.clock())
        async with self.db.read() as conn:
            spent = await ledger_sql.bot_spent_on_day(conn, day.start)
        return max(0, self.daily_cap - spent)

    async def check_standing(
        self,
        guild_id: int,
        user_id: int,
        channel_id: int,
        role_ids: tuple[int, ...] = (),
    ) -> None:
        """The standing checks (block list, channel allow-list, concurrency caps) on a read of
        the server, without reserving anything: for what must be refused before any work is
        done (a file fetched and parsed) or what MusicAPI serves without a charge (a repeat of
        a timeline). The reservation runs the same rules again, atomically."""
        standing = await self.standing(guild_id, user_id, role_ids)
        try:
            limits.check_standing(standing, channel_id)
        except QuotaRefused as refusal:
            metrics.quota_refused(refusal.limit)
            raise

    async def reserve(
        self,
        new_job: NewJob,
        role_ids: tuple[int, ...] = (),
        *,
        claim: Callable[[Connection, int], Awaitable[None]] | None = None,
    ) -> int:
        """Check every limit, then write the job and its reservation, atomically.

        Raises QuotaRefused naming the limit; returns the job id. An approved community
        request (charge_member=False) is paid from the server's pool, so the requester's own
        limits do not apply to it. `claim(conn, job_id)` runs inside the same transaction
        (e.g. marking a request approved); if it raises, nothing is written.
        """
        now = self.clock()
        cap_refusal: QuotaRefused | None = None
        cap_alerts: list[int] = []
        spent_today = 0
        job_id = 0
        async with self.db.transaction() as conn:
            # Before reading anything: every reservation in this server waits for the one
            # ahead of it, so two can never both fit under the same remaining budget.
            await conn.lock_guild(new_job.guild_id)
            standing = await self.read_standing(conn, new_job.guild_id, new_job.user_id, role_ids)
            try:
                limits.check(
                    standing, new_job.cost, new_job.channel_id, member_checks=new_job.charge_member
                )
            except QuotaRefused as refusal:
                metrics.quota_refused(refusal.limit)
                raise
            if self.daily_cap is not None:
                cap_refusal, cap_alerts, spent_today = await self._check_daily_cap(
                    conn, new_job.cost, now
                )
            if cap_refusal is None:
                job_id = await job_sql.insert(conn, new_job, now)
                await ledger_sql.add(
                    conn,
                    guild_id=new_job.guild_id,
                    user_id=new_job.user_id,
                    job_id=job_id,
                    kind="reserve",
                    amount=new_job.cost,
                    operation=new_job.operation,
                    charged_at=now,
                    now=now,
                    member_share=new_job.charge_member,
                )
                if claim is not None:
                    await claim(conn, job_id)
        self._alert_daily_cap(cap_alerts, spent_today)
        if cap_refusal is not None:  # nothing was written but the record of its alert
            metrics.quota_refused(cap_refusal.limit)
            raise cap_refusal
        metrics.reservation_granted()
        return job_id

    async def _check_daily_cap(
        self, conn: Connection, cost: int, now: float
    ) -> tuple[QuotaRefused | None, list[int], int]:
        """The owner's daily cap, in the reservation's transaction: (the refusal when this
        reservation would pass it, the alert levels this process is the first to reach today,
        the bot's spending today after this reservation).

        Under a lock every server's capped reservations share, taken after the server's own:
        the bot's total for the day is read and written one reservation at a time, in every
        process."""
        assert self.daily_cap is not None
        cap = self.daily_cap
        await conn.lock_daily_cap()
        day = current_window(BudgetPeriod.DAY, now)
        spent = await ledger_sql.bot_spent_on_day(conn, day.start)
        refusal = None
        # A member is told what is left today, never the cap itself: the size of the owner's
        # account-wide limit (and so what every other server spends) is not theirs to know.
        if spent + cost > cap:
            refusal = QuotaRefused(
                "owner's daily cap",
                f"The bot has reached the most its owner lets every server together spend "
                f"today: that costs {cost} credits and {max(0, cap - spent)} are left. "
                f"{describe_reset(day.resets_at)}",
                day.resets_at,
            )
        after = spent if refusal is not None else spent + cost
        levels = [level for level in CAP_ALERT_LEVELS if after * 100 >= cap * level]
        if refusal is not None and levels:
            levels.append(100)  # past 80 % and refusing: for the owner the cap is reached
        claimed = [
            level
            for level in sorted(set(levels))
            if await allowance_sql.claim_cap_alert(conn, day.start, level, now)
        ]
        return refusal, claimed, after

    def _alert_daily_cap(self, levels: list[int], spent: int) -> None:
        """Tell the owner (through the usual alerts) about each level this process claimed."""
        if not levels:
            return
        assert self.daily_cap is not None
        resets = describe_reset(current_window(BudgetPeriod.DAY, self.clock()).resets_at)
        cap = self.daily_cap
        used = f"every server together has reserved {spent} of the {cap} credits it allows today"
        for level in levels:
            if level >= 100:
                kind = alerts.AlertKind.DAILY_CAP_REACHED
                text = (
                    f"OWNER_DAILY_CAP is reached (100 %): {used}, and spending commands that no "
                    f"longer fit are refused until the next UTC midnight. {resets}"
                )
            else:
                kind = alerts.AlertKind.DAILY_CAP_NEAR
                text = f"OWNER_DAILY_CAP is {level} % used: {used}. {resets}"
            alerts.notify(kind, text)


async def commit(conn: Connection, job: Job, now: float) -> bool:
    """Turn the job's reservation into a charge. Idempotent; refused after a release."""
    return await _settle(conn, job, "commit", now)


async def release(conn: Connection, job: Job, now: float, reason: str) -> bool:
    """Return the job's reservation. Idempotent; refused after a commit."""
    return await _settle(conn, job, "release", now, note=reason[:500])


async def _settle(
    conn: Connection, job: Job, kind: str, now: float, note: str | None = None
) -> bool:
    """Close a reservation one way. A job is settled once: commit and release exclude each
    other, and the unique (job_id, kind) index makes a repeat a no-op."""
    kinds = {entry.kind for entry in await ledger_sql.job_entries(conn, job.id)}
    if "reserve" not in kinds or kinds & {"commit", "release"}:
        return False
    added = await ledger_sql.add(
        conn,
        guild_id=job.guild_id,
        user_id=job.user_id,
        job_id=job.id,
        kind=kind,
        amount=job.cost,
        operation=job.operation,
        # Charges and refunds land in the period of the reservation, which was written in
        # the same transaction as the job row (so at job.created_at).
        charged_at=job.created_at,
        now=now,
        note=note,
        member_share=job.charge_member,
    )
    if added:
        metrics.credits_settled(kind, job.cost)
    return added
