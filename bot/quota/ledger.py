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
from datetime import datetime

from bot.errors import QuotaRefused
from bot.observability import alerts, metrics
from bot.periods import current_window
from bot.quota import limits
from bot.quota.allowance import Allowance, Source, effective
from bot.quota.costs import CostTable
from bot.quota.limits import Standing, describe_reset
from bot.states import BudgetPeriod
from bot.store import allowances as allowance_sql
from bot.store import ledger as ledger_sql
from bot.store import reservations as reservation_sql
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
        standing, _ = await self._read(conn, guild_id, user_id, role_ids)
        return standing

    async def _read(
        self,
        conn: Connection,
        guild_id: int,
        user_id: int | None,
        role_ids: tuple[int, ...],
        *,
        day_start: float | None = None,
    ) -> tuple[Standing, int]:
        """The standing, and (when `day_start` is given) what every server together spent
        on that UTC day: one statement, however many limits there are to check."""
        now = self.clock()
        found = await reservation_sql.standing(
            conn,
            guild_id,
            user_id,
            role_ids,
            starts={period: current_window(period, now).start for period in BudgetPeriod},
            default_period=self.defaults.budget_period,
            default_allowance_period=self.default_allowance.period,
            day_start=day_start,
        )
        settings = found.settings or replace(self.defaults, guild_id=guild_id)
        window = current_window(settings.budget_period, now)
        allowance = effective(found.allowance, self.default_allowance)
        standing = Standing(
            settings=settings,
            window=window,
            # Running totals: indexed reads, however many entries the period holds.
            server_spent=found.server_spent,
            server_active=found.server_active,
            allowed_channels=found.allowed_channels,
            allowance=allowance,
            allowance_window=current_window(allowance.period, now),
            allowance_spent=found.owner_spent[str(allowance.period)],
        )
        if user_id is not None:
            standing = replace(
                standing,
                member_id=user_id,
                member_spent=found.member_spent,
                member_limit=found.member_limit,
                member_grants=found.member_granted,
                member_active=found.member_active,
                blocked=found.blocked,
            )
        return standing, found.bot_spent_today

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
        capped = self.daily_cap is not None
        day = current_window(BudgetPeriod.DAY, now)
        cap_refusal: QuotaRefused | None = None
        cap_alerts: list[int] = []
        spent_today = 0
        job_id = 0
        async with self.db.transaction() as conn:
            # Before reading anything: every reservation in this server waits for the one
            # ahead of it, so two can never both fit under the same remaining budget; with a
            # daily cap, every capped reservation of any server waits too, so the bot's total
            # for the day is read and written one reservation at a time, in every process.
            await conn.lock_reservation(new_job.guild_id, daily_cap=capped)
            standing, spent_today = await self._read(
                conn,
                new_job.guild_id,
                new_job.user_id,
                role_ids,
                day_start=day.start if capped else None,
            )
            try:
                limits.check(
                    standing, new_job.cost, new_job.channel_id, member_checks=new_job.charge_member
                )
            except QuotaRefused as refusal:
                metrics.quota_refused(refusal.limit)
                raise
            levels: list[int] = []
            if capped:
                cap_refusal, levels, spent_today = self._check_daily_cap(
                    new_job.cost, spent_today, day.resets_at
                )
            if cap_refusal is None:
                job_id, cap_alerts = await reservation_sql.record(
                    conn, new_job, now, alert_day=day.start, alert_levels=levels
                )
                if claim is not None:
                    await claim(conn, job_id)
            else:
                cap_alerts = await reservation_sql.claim_cap_alerts(conn, day.start, levels, now)
        self._alert_daily_cap(cap_alerts, spent_today)
        if cap_refusal is not None:  # nothing was written but the record of its alert
            metrics.quota_refused(cap_refusal.limit)
            raise cap_refusal
        metrics.reservation_granted()
        return job_id

    def _check_daily_cap(
        self, cost: int, spent: int, resets_at: datetime | None
    ) -> tuple[QuotaRefused | None, list[int], int]:
        """The owner's daily cap, given what every server together spent today (read under
        the daily cap's lock): (the refusal when this reservation would pass it, the alert
        levels it reaches, to be claimed so that one process sends each, the bot's spending
        today after this reservation)."""
        assert self.daily_cap is not None
        cap = self.daily_cap
        refusal = None
        # A member is told what is left today, never the cap itself: the size of the owner's
        # account-wide limit (and so what every other server spends) is not theirs to know.
        if spent + cost > cap:
            refusal = QuotaRefused(
                "owner's daily cap",
                f"The bot has reached the most its owner lets every server together spend "
                f"today: that costs {cost} credits and {max(0, cap - spent)} are left. "
                f"{describe_reset(resets_at)}",
                resets_at,
            )
        after = spent if refusal is not None else spent + cost
        levels = [level for level in CAP_ALERT_LEVELS if after * 100 >= cap * level]
        if refusal is not None and levels:
            levels.append(100)  # past 80 % and refusing: for the owner the cap is reached
        return refusal, sorted(set(levels)), after

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
