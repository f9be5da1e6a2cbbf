"""SQL for the credit ledger.

Kinds: reserve / commit / release (a job's cost; commit only marks the charge final), grant
(extra allowance for one member), reset (a moderator forgives spending so far this period:
for one member when user_id is set, for the server's budget when it is not), setting (a
moderator's change, with amount and note). `charged_at` puts an entry in a budget period; a
release carries its reservation's, so refunds land in the period they were charged. A reset
names the budget period it forgives (`period`) and moves only that period's totals; it forgives
committed spending only, never a reservation still in flight, so the job's later release
cannot hand the same credits back a second time.

Every entry also moves the running totals in `ledger_totals` (server, member and the owner's
scope, for each kind of budget period), in the same transaction, so reading what a server or
member has spent costs one row however long the period's history is. The ledger stays the
source of truth: `check_totals` recomputes the totals from it and reports any difference.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from bot.periods import BUDGET_PERIODS, current_window
from bot.store.database import Connection

# ledger_totals.user_id of the row that counts against the server's budget (no Discord id
# is negative).
SERVER = -1
# ledger_totals.user_id of the row the owner's ceilings count (the server's allowance, and,
# summed over every server, the bot's daily cap): reserves - releases, which no reset forgives.
OWNER = -2


# One entry; a reservation on PostgreSQL embeds it in its one write, with the new job's id.
ENTRY_SQL = """INSERT INTO ledger (guild_id, user_id, job_id, kind, amount, operation,
                                  moderator_id, note, charged_at, created_at, member_share,
                                  period)
               VALUES (?, ?, {job_id}, ?, ?, ?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT DO NOTHING"""
# The running totals an entry moves: rows (guild, scope, period, start, spent, granted) given
# by {rows}, added to the rows already there.
MOVE_TOTALS_SQL = """INSERT INTO ledger_totals (guild_id, user_id, period, period_start, spent,
                                               granted)
                     {rows}
                     ON CONFLICT (guild_id, user_id, period, period_start) DO UPDATE SET
                         spent = ledger_totals.spent + excluded.spent,
                         granted = ledger_totals.granted + excluded.granted"""


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
    period: str | None = None


# A reset counts in the totals of the period it names; one written before resets named their
# period (NULL) counts in every period's.
_RESET_OF_PERIOD = "(period IS NULL OR period = ?)"


def _window(start: float, end: float | None) -> tuple[str, list[object]]:
    if end is None:
        return "charged_at >= ?", [start]
    return "charged_at >= ? AND charged_at < ?", [start, end]


async def server_spent_from_ledger(
    conn: Connection, guild_id: int, start: float, end: float | None, *, period: str
) -> int:
    """Credits counted against the server's `period` budget in [start, end), summed from the
    ledger (cost grows with the period's entries: for checks and the benchmark's baseline)."""
    where, params = _window(start, end)
    cursor = await conn.execute(
        f"""SELECT COALESCE(SUM(CASE
                WHEN kind = 'reserve' THEN amount
                WHEN kind = 'release' THEN -amount
                WHEN kind = 'reset' AND user_id IS NULL AND {_RESET_OF_PERIOD} THEN -amount
                ELSE 0 END), 0)
            FROM ledger WHERE guild_id = ? AND {where}""",
        (str(period), guild_id, *params),
    )
    row = await cursor.fetchone()
    return max(0, int(row[0])) if row else 0


async def spending(
    conn: Connection, guild_id: int, start: float, end: float | None
) -> list[tuple[int | None, int, float]]:
    """(member, credits, charged_at) of each reservation (+) and release (-) in [start, end):
    what `/quota usage` draws, day by day."""
    where, params = _window(start, end)
    cursor = await conn.execute(
        f"""SELECT user_id, CASE WHEN kind = 'reserve' THEN amount ELSE -amount END, charged_at
            FROM ledger WHERE guild_id = ? AND kind IN ('reserve', 'release') AND {where}""",
        [guild_id, *params],
    )
    return [(row[0], int(row[1]), float(row[2])) for row in await cursor.fetchall()]


async def member_spent_from_ledger(
    conn: Connection,
    guild_id: int,
    user_id: int,
    start: float,
    end: float | None,
    *,
    period: str,
) -> int:
    """Credits counted against one member's own `period` limit in [start, end), summed from
    the ledger."""
    where, params = _window(start, end)
    cursor = await conn.execute(
        f"""SELECT COALESCE(SUM(CASE
                WHEN kind = 'reserve' AND member_share = 1 THEN amount
                WHEN kind = 'release' AND member_share = 1 THEN -amount
                WHEN kind = 'reset' AND {_RESET_OF_PERIOD} THEN -amount
                ELSE 0 END), 0)
            FROM ledger WHERE guild_id = ? AND user_id = ? AND {where}""",
        (str(period), guild_id, user_id, *params),
    )
    row = await cursor.fetchone()
    return max(0, int(row[0])) if row else 0


async def in_flight(
    conn: Connection, guild_id: int, user_id: int | None, start: float, end: float | None
) -> int:
    """Credits reserved in [start, end) by jobs neither committed nor released yet: of one
    member's own limit when `user_id` is given, else of the server's budget. A reset leaves
    these counted, so that their release (or commit) settles them exactly once."""
    where, params = _window(start, end)
    scope, scope_params = ("", []) if user_id is None else ("AND user_id = ?", [user_id])
    if user_id is not None:
        scope += " AND member_share = 1"  # a pooled job never counted in the member's own
    cursor = await conn.execute(
        f"""SELECT COALESCE(SUM(amount), 0) FROM ledger AS r
            WHERE guild_id = ? AND kind = 'reserve' {scope} AND {where}
              AND NOT EXISTS (SELECT 1 FROM ledger AS s
                              WHERE s.job_id = r.job_id AND s.kind IN ('commit', 'release'))""",
        (guild_id, *scope_params, *params),
    )
    row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def member_grants_from_ledger(
    conn: Connection, guild_id: int, user_id: int, start: float, end: float | None
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
    conn: Connection,
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
    period: str | None = None,
) -> bool:
    """Append an entry and move the running totals with it; False when this job already has
    an entry of this kind (idempotent: then nothing moves). A reset names the budget `period`
    it forgives.

    Every ledger step of a server runs under the server's lock (already held by a
    reservation or a settlement; taking it again in the same transaction is free), so the
    server's totals rows are only ever updated one transaction at a time."""
    await conn.lock_guild(guild_id)
    cursor = await conn.execute(
        ENTRY_SQL.format(job_id="?"),
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
            None if period is None else str(period),
        ),
    )
    if cursor.rowcount != 1:
        return False
    await _move_totals(
        conn, guild_id, user_id, charged_at, _deltas(kind, amount, user_id, member_share), period
    )
    return True


async def job_entries(conn: Connection, job_id: int) -> list[LedgerEntry]:
    cursor = await conn.execute("SELECT * FROM ledger WHERE job_id = ? ORDER BY id", (job_id,))
    return [LedgerEntry(**dict(row)) for row in await cursor.fetchall()]


async def guild_entries(conn: Connection, guild_id: int) -> list[LedgerEntry]:
    cursor = await conn.execute("SELECT * FROM ledger WHERE guild_id = ? ORDER BY id", (guild_id,))
    return [LedgerEntry(**dict(row)) for row in await cursor.fetchall()]


def _about(guild_id: int, member_id: int | None) -> tuple[str, list[object]]:
    """Entries about a member are theirs, or a moderator's acting on or as them."""
    if member_id is None:
        return "guild_id = ?", [guild_id]
    return "guild_id = ? AND (user_id = ? OR moderator_id = ?)", [guild_id, member_id, member_id]


async def history_count(conn: Connection, guild_id: int, member_id: int | None) -> int:
    where, params = _about(guild_id, member_id)
    cursor = await conn.execute(f"SELECT COUNT(*) FROM ledger WHERE {where}", params)
    row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def history(
    conn: Connection, guild_id: int, member_id: int | None, *, limit: int, offset: int
) -> list[LedgerEntry]:
    """Newest first."""
    where, params = _about(guild_id, member_id)
    cursor = await conn.execute(
        f"SELECT * FROM ledger WHERE {where} ORDER BY id DESC LIMIT ? OFFSET ?",
        (*params, limit, offset),
    )
    return [LedgerEntry(**dict(r)) for r in await cursor.fetchall()]


# -- running totals ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Deltas:
    """How one entry moves the running totals."""

    server: int  # spent against the server's budget
    owner: int  # spent against the owner's ceilings (no reset forgives it)
    member: int  # spent against the member's own limit
    granted: int  # the member's extra allowance


def _deltas(kind: str, amount: int, user_id: int | None, member_share: bool) -> Deltas:
    """The same rules as the sums in `server_spent_from_ledger` and friends."""
    owner = {"reserve": amount, "release": -amount}.get(kind, 0)
    server = owner
    if kind == "reset" and user_id is None:
        server = -amount
    if user_id is None:
        return Deltas(server, owner, 0, 0)
    member = 0
    if kind in ("reserve", "release") and member_share:
        member = owner
    elif kind == "reset":
        member = -amount
    return Deltas(server, owner, member, amount if kind == "grant" else 0)


def _total_rows(
    guild_id: int,
    user_id: int | None,
    charged_at: float,
    deltas: Deltas,
    reset_period: str | None,
) -> list[tuple[int, int, str, float, int, int]]:
    """(guild, scope, period, period start, spent, granted) that one entry adds to."""
    rows: list[tuple[int, int, str, float, int, int]] = []
    for period in BUDGET_PERIODS:
        start = current_window(period, charged_at).start
        # A reset forgives the period it names only (all of them when it names none: the
        # resets written before they did).
        forgiven_here = reset_period is None or reset_period == period
        if deltas.owner:
            rows.append((guild_id, OWNER, str(period), start, deltas.owner, 0))
        if deltas.server and forgiven_here:
            rows.append((guild_id, SERVER, str(period), start, deltas.server, 0))
        if user_id is not None and ((deltas.member and forgiven_here) or deltas.granted):
            member = deltas.member if forgiven_here else 0
            rows.append((guild_id, user_id, str(period), start, member, deltas.granted))
    return rows


async def _move_totals(
    conn: Connection,
    guild_id: int,
    user_id: int | None,
    charged_at: float,
    deltas: Deltas,
    reset_period: str | None,
) -> None:
    rows = _total_rows(guild_id, user_id, charged_at, deltas, reset_period)
    if not rows:
        return
    marks = ", ".join("(?, ?, ?, ?, ?, ?)" for _ in rows)
    await conn.execute(
        MOVE_TOTALS_SQL.format(rows=f"VALUES {marks}"), [value for row in rows for value in row]
    )


def reservation_totals(
    guild_id: int, user_id: int, amount: int, charged_at: float, *, member_share: bool
) -> list[tuple[int, int, str, float, int, int]]:
    """The totals rows a reservation of `amount` moves (what `add` would move for it)."""
    return _total_rows(
        guild_id, user_id, charged_at, _deltas("reserve", amount, user_id, member_share), None
    )


async def owner_spent(conn: Connection, guild_id: int, period: str, start: float) -> int:
    """What the server spent against its allowance in the `period` starting at `start`."""
    cursor = await conn.execute(
        """SELECT spent FROM ledger_totals
           WHERE guild_id = ? AND user_id = ? AND period = ? AND period_start = ?""",
        (guild_id, OWNER, str(period), start),
    )
    row = await cursor.fetchone()
    return max(0, int(row[0])) if row else 0


async def bot_spent_on_day(conn: Connection, day_start: float) -> int:
    """What every server together reserved (less releases) on the UTC day starting at
    `day_start`: the owner's daily cap counts this."""
    cursor = await conn.execute(
        """SELECT COALESCE(SUM(spent), 0) FROM ledger_totals
           WHERE user_id = ? AND period = 'day' AND period_start = ?""",
        (OWNER, day_start),
    )
    row = await cursor.fetchone()
    return max(0, int(row[0])) if row else 0


@dataclass(frozen=True, slots=True)
class Totals:
    """Where a server (and one member) stands in one budget period."""

    server_spent: int
    member_spent: int = 0
    member_granted: int = 0


async def totals(
    conn: Connection, guild_id: int, user_id: int | None, period: str, start: float
) -> Totals:
    """The running totals of the period starting at `start`: one or two rows by key."""
    scopes = [SERVER] if user_id is None else [SERVER, user_id]
    marks = ", ".join("?" for _ in scopes)
    cursor = await conn.execute(
        f"""SELECT user_id, spent, granted FROM ledger_totals
            WHERE guild_id = ? AND period = ? AND period_start = ? AND user_id IN ({marks})""",
        (guild_id, str(period), start, *scopes),
    )
    found = {int(row[0]): (int(row[1]), int(row[2])) for row in await cursor.fetchall()}
    server = found.get(SERVER, (0, 0))
    member = found.get(user_id, (0, 0)) if user_id is not None else (0, 0)
    return Totals(max(0, server[0]), max(0, member[0]), member[1])


TotalsKey = tuple[int, int, str, float]


async def expected_totals(
    conn: Connection, guild_id: int | None = None
) -> dict[TotalsKey, tuple[int, int]]:
    """The totals recomputed from the ledger (of one server when `guild_id` is given):
    {(guild, user or SERVER, period, period start): (spent, granted)}. Reads every entry."""
    where, params = ("WHERE guild_id = ?", [guild_id]) if guild_id is not None else ("", [])
    expected: dict[TotalsKey, list[int]] = defaultdict(lambda: [0, 0])
    cursor = await conn.execute(
        f"""SELECT guild_id, user_id, kind, amount, member_share, charged_at, period
            FROM ledger {where}""",
        params,
    )
    for row in await cursor.fetchall():
        guild, user, kind, amount, share, charged_at, period = (row[i] for i in range(7))
        deltas = _deltas(kind, amount, user, bool(share))
        for key_guild, scope, key_period, start, spent, granted in _total_rows(
            guild, user, charged_at, deltas, period
        ):
            entry = expected[(key_guild, scope, key_period, start)]
            entry[0] += spent
            entry[1] += granted
    return {key: (spent, granted) for key, (spent, granted) in expected.items()}


async def check_totals(
    conn: Connection, guild_id: int | None = None
) -> dict[TotalsKey, tuple[int, int]]:
    """Differences between the running totals and the ledger they summarise.

    Returns {(guild, user or SERVER, period, period start): (spent, granted) the totals are
    off by}; empty when they agree. Reads the whole ledger (of one server when `guild_id` is
    given); `rebuild_totals` repairs what this finds.
    """
    expected = await expected_totals(conn, guild_id)
    where, params = ("WHERE guild_id = ?", [guild_id]) if guild_id is not None else ("", [])
    cursor = await conn.execute(
        f"""SELECT guild_id, user_id, period, period_start, spent, granted
            FROM ledger_totals {where}""",
        params,
    )
    actual = {
        (int(row[0]), int(row[1]), str(row[2]), float(row[3])): (int(row[4]), int(row[5]))
        for row in await cursor.fetchall()
    }
    differences: dict[TotalsKey, tuple[int, int]] = {}
    for key in set(expected) | set(actual):
        want = expected.get(key, (0, 0))
        have = actual.get(key, (0, 0))
        if want != have:
            differences[key] = (have[0] - want[0], have[1] - want[1])
    return differences


async def rebuild_totals(conn: Connection, guild_id: int | None = None) -> int:
    """Replace the running totals (of one server) with the ledger's own; returns the rows
    written. Run it inside a transaction that holds the server's lock, or while idle."""
    where, params = ("WHERE guild_id = ?", [guild_id]) if guild_id is not None else ("", [])
    expected = await expected_totals(conn, guild_id)
    await conn.execute(f"DELETE FROM ledger_totals {where}", params)
    rows = [(*key, spent, granted) for key, (spent, granted) in expected.items()]
    await conn.executemany(
        """INSERT INTO ledger_totals (guild_id, user_id, period, period_start, spent, granted)
           VALUES (?, ?, ?, ?, ?, ?)""",
        rows,
    )
    return len(rows)
