"""SQL for a reservation: what it reads under the server's lock, and what it writes.

A reservation holds the server's lock (on PostgreSQL an advisory lock) from its first read to
its commit, so every round trip in between is time no other reservation of the server can
use. Hence one statement for every standing read (settings, allowance, running totals, songs
in progress, block list, channel allow-list, limits, the bot's spending today), the same on
both engines, and on PostgreSQL one statement for every write (the job row, its ledger
entry, the running totals and the daily cap's alert claims). SQLite has no network between
the bot and the file, and no data-modifying WITH, so it writes with the ledger's own steps.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.states import BudgetPeriod
from bot.store import jobs as job_sql
from bot.store import ledger as ledger_sql
from bot.store.allowances import StoredAllowance
from bot.store.database import POSTGRES, Connection
from bot.store.jobs import NewJob
from bot.store.settings import GuildSettings


@dataclass(frozen=True, slots=True)
class StandingRows:
    """What the standing read found; totals not found count as 0, as in `ledger.totals`."""

    settings: GuildSettings | None  # None: the server runs on the defaults
    allowance: StoredAllowance | None  # None: the server has the default allowance
    server_spent: int  # in the budget period's current window
    member_spent: int
    member_granted: int
    owner_spent: Mapping[str, int]  # by allowance period (the stored one and the default)
    server_active: int
    member_active: int
    blocked: bool
    allowed_channels: tuple[int, ...]
    member_limit: int | None
    bot_spent_today: int  # 0 unless the day's start was given


def _in(count: int) -> str:
    return ", ".join("?" for _ in range(count))


async def standing(
    conn: Connection,
    guild_id: int,
    user_id: int | None,
    role_ids: tuple[int, ...],
    *,
    starts: Mapping[BudgetPeriod, float],
    default_period: BudgetPeriod,
    default_allowance_period: BudgetPeriod,
    day_start: float | None = None,
) -> StandingRows:
    """Every standing read of a server (and one member) in one statement and one row.

    `starts` gives each budget period's current window start; the budget's and the
    allowance's period are only known from the rows read here, so the statement picks the
    totals of the right windows itself. `day_start` (the UTC day of the owner's daily cap)
    also reads what every server together spent that day.
    """
    windows = [value for period in BudgetPeriod for value in (str(period), starts[period])]
    roles = (*role_ids, guild_id)  # the @everyone role shares the server's id
    budget_period = "COALESCE(s.budget_period, ?)"
    bot_today = "0"
    day_params: list[object] = []
    if day_start is not None:
        bot_today = """(SELECT COALESCE(SUM(spent), 0) FROM ledger_totals
                        WHERE user_id = ? AND period = 'day' AND period_start = ?)"""
        day_params = [ledger_sql.OWNER, day_start]
    sql = f"""
        WITH w (period, start) AS (VALUES {", ".join("(?, ?)" for _ in BudgetPeriod)}),
        s AS (SELECT budget, budget_period, member_jobs_cap, server_jobs_cap, approval,
                     mod_role_id
              FROM guild_settings WHERE guild_id = ?),
        a AS (SELECT amount, period, set_by FROM guild_allowances WHERE guild_id = ?),
        t AS (SELECT ledger_totals.user_id, ledger_totals.period, spent, granted
              FROM ledger_totals
              JOIN w ON w.period = ledger_totals.period AND w.start = ledger_totals.period_start
              WHERE guild_id = ? AND user_id IN (?, ?, ?))
        SELECT s.budget, s.budget_period, s.member_jobs_cap, s.server_jobs_cap, s.approval,
               s.mod_role_id, a.amount, a.period, a.set_by,
               (SELECT spent FROM t WHERE user_id = ? AND period = {budget_period}),
               (SELECT spent FROM t WHERE user_id = ? AND period = {budget_period}),
               (SELECT granted FROM t WHERE user_id = ? AND period = {budget_period}),
               (SELECT spent FROM t WHERE user_id = ? AND period = a.period),
               (SELECT spent FROM t WHERE user_id = ? AND period = ?),
               (SELECT COUNT(*) FROM jobs
                WHERE guild_id = ? AND state IN ({job_sql.IN_FLIGHT_SQL})),
               (SELECT COUNT(*) FROM jobs
                WHERE guild_id = ? AND user_id = ? AND state IN ({job_sql.IN_FLIGHT_SQL})),
               EXISTS (SELECT 1 FROM blocked_members WHERE guild_id = ? AND user_id = ?),
               (SELECT {conn.dialect.joined_ids("channel_id")} FROM allowed_channels
                WHERE guild_id = ?),
               COALESCE(
                   (SELECT amount FROM member_limits WHERE guild_id = ? AND user_id = ?),
                   (SELECT MAX(amount) FROM role_limits
                    WHERE guild_id = ? AND role_id IN ({_in(len(roles))}))),
               {bot_today}
        FROM (SELECT 1 AS one) AS base LEFT JOIN s ON 1 = 1 LEFT JOIN a ON 1 = 1"""
    period = str(default_period)
    params: Sequence[object] = (
        *windows,
        guild_id,
        guild_id,
        guild_id, ledger_sql.SERVER, ledger_sql.OWNER, user_id,
        ledger_sql.SERVER, period,
        user_id, period,
        user_id, period,
        ledger_sql.OWNER,
        ledger_sql.OWNER, str(default_allowance_period),
        guild_id,
        guild_id, user_id,
        guild_id, user_id,
        guild_id,
        guild_id, user_id,
        guild_id, *roles,
        *day_params,
    )  # fmt: skip
    cursor = await conn.execute(sql, params)
    row = await cursor.fetchone()
    settings = None
    if row[1] is not None:  # budget_period is never NULL in a stored row
        settings = GuildSettings(
            guild_id, row[0], BudgetPeriod(row[1]), row[2], row[3], bool(row[4]), row[5]
        )
    allowance = None
    owner_spent = {str(default_allowance_period): max(0, int(row[13] or 0))}
    if row[6] is not None:
        allowance = StoredAllowance(guild_id, int(row[6]), BudgetPeriod(row[7]), row[8])
        owner_spent[str(allowance.period)] = max(0, int(row[12] or 0))
    channels = tuple(sorted(int(c) for c in row[17].split(","))) if row[17] else ()
    return StandingRows(
        settings=settings,
        allowance=allowance,
        server_spent=max(0, int(row[9] or 0)),
        member_spent=max(0, int(row[10] or 0)) if user_id is not None else 0,
        member_granted=int(row[11] or 0) if user_id is not None else 0,
        owner_spent=owner_spent,
        server_active=int(row[14]),
        member_active=int(row[15]),
        blocked=bool(row[16]),
        allowed_channels=channels,
        member_limit=None if row[18] is None else int(row[18]),
        bot_spent_today=max(0, int(row[19])),
    )


async def claim_cap_alerts(
    conn: Connection, day_start: float, levels: Sequence[int], now: float
) -> list[int]:
    """The levels (% of the daily cap) this caller is the first, of any process, to reach on
    this UTC day: it sends their alerts. One statement for all of them."""
    if not levels:
        return []
    cursor = await conn.execute(
        f"""INSERT INTO owner_cap_alerts (day_start, level, sent_at)
            VALUES {", ".join("(?, ?, ?)" for _ in levels)}
            ON CONFLICT DO NOTHING RETURNING level""",
        [value for level in levels for value in (day_start, level, now)],
    )
    return sorted(int(row[0]) for row in await cursor.fetchall())


async def record(
    conn: Connection,
    job: NewJob,
    now: float,
    *,
    alert_day: float | None = None,
    alert_levels: Sequence[int] = (),
) -> tuple[int, list[int]]:
    """Write a reservation that passed every limit: the job row, its `reserve` entry and the
    running totals it moves, and claim the daily cap's alert levels it reached (on
    `alert_day`). Returns the job's id and the levels claimed. Run under the server's lock."""
    if conn.dialect != POSTGRES:
        job_id = await job_sql.insert(conn, job, now)
        await ledger_sql.add(
            conn,
            guild_id=job.guild_id,
            user_id=job.user_id,
            job_id=job_id,
            kind="reserve",
            amount=job.cost,
            operation=job.operation,
            charged_at=now,
            now=now,
            member_share=job.charge_member,
        )
        claimed = []
        if alert_day is not None:
            claimed = await claim_cap_alerts(conn, alert_day, alert_levels, now)
        return job_id, claimed
    # PostgreSQL: one statement. Each part sees the rows as they were before it, and passes
    # on only what it returns: the new id to the entry, the entry to the totals (which move
    # only when the entry was written, as in `ledger.add`).
    totals = ledger_sql.reservation_totals(
        job.guild_id, job.user_id, job.cost, now, member_share=job.charge_member
    )
    entry = ledger_sql.ENTRY_SQL.format(job_id="(SELECT id FROM job)")
    moved = ledger_sql.MOVE_TOTALS_SQL.format(
        rows=f"""SELECT * FROM (VALUES {", ".join("(?, ?, ?, ?, ?, ?)" for _ in totals)})
                 AS v WHERE EXISTS (SELECT 1 FROM entry)"""
    )
    levels = list(alert_levels) if alert_day is not None else []
    alerts = "SELECT NULL::integer AS level WHERE false"
    if levels:
        alerts = f"""INSERT INTO owner_cap_alerts (day_start, level, sent_at)
                     VALUES {", ".join("(?, ?, ?)" for _ in levels)}
                     ON CONFLICT DO NOTHING RETURNING level"""
    cursor = await conn.execute(
        f"""WITH job AS ({job_sql.INSERT_SQL}),
            entry AS ({entry} RETURNING id),
            moved AS ({moved}),
            alerts AS ({alerts})
            SELECT job.id, alerts.level FROM job LEFT JOIN alerts ON true""",
        (
            *job_sql.insert_params(job, now),
            *_entry_params(job, now),
            *(value for row in totals for value in row),
            *(value for level in levels for value in (alert_day, level, now)),
        ),
    )
    rows = list(await cursor.fetchall())
    return int(rows[0][0]), sorted(int(row[1]) for row in rows if row[1] is not None)


def _entry_params(job: NewJob, now: float) -> tuple[object, ...]:
    """ENTRY_SQL's parameters for the job's reservation (the job id comes from the row)."""
    return (
        job.guild_id, job.user_id, "reserve", job.cost, job.operation, None, None, now, now,
        int(job.charge_member), None,
    )  # fmt: skip
