"""Benchmark: the cost of one reservation as a period's ledger grows, SQLite vs PostgreSQL.

    python -m bench.reservations [--reservations 200] [--sizes 0,1000,10000,100000]
                                 [--postgres-url postgresql://…]

For each engine the same database grows through each size of history (ledger entries in the
current budget period, spread over 200 members). At each size both approaches reserve the same
number of songs, one after another, in the same run:

- running totals: what the bot does (one `ledger_totals` row per scope, kept by every step);
- sum the period: the approach before it, every reservation summing the period's entries of
  the server and of the member (the baseline).

Every reservation is the real `Quota.reserve` transaction (per-server lock, every limit, job
row, ledger entry, totals); only how the spending is read differs. PostgreSQL is a throwaway
cluster on 127.0.0.1 (tests/pg.py: commits don't wait for the disk, as with SQLite's WAL and
synchronous=NORMAL) unless --postgres-url names one. Nothing is asserted: machines are shared
and noisy, so read the table.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from bot.quota.costs import CostTable
from bot.quota.ledger import Quota
from bot.quota.limits import Standing
from bot.quota.periods import current_window
from bot.states import BudgetPeriod
from bot.store import jobs as job_sql
from bot.store import ledger as ledger_sql
from bot.store import settings as settings_sql
from bot.store.database import Connection, Database

GUILD = 555_000_000_000_000_001
MEMBERS = 200
COST = 10
# Mid-month, so every seeded entry (spread over the hours before it) is in the period.
NOW = 1_795_132_800.0 + 14 * 86400


class SummingQuota(Quota):
    """The reservation before running totals: the period's ledger summed on every call."""

    async def read_standing(
        self,
        conn: Connection,
        guild_id: int,
        user_id: int | None = None,
        role_ids: tuple[int, ...] = (),
    ) -> Standing:
        settings = await self.settings(conn, guild_id)
        window = current_window(settings.budget_period, self.clock())
        standing = Standing(
            settings=settings,
            window=window,
            server_spent=await ledger_sql.server_spent_from_ledger(
                conn, guild_id, window.start, window.end
            ),
            server_active=await job_sql.count_active(conn, guild_id),
            allowed_channels=tuple(await settings_sql.allowed_channels(conn, guild_id)),
        )
        if user_id is None:
            return standing
        return replace(
            standing,
            member_id=user_id,
            member_spent=await ledger_sql.member_spent_from_ledger(
                conn, guild_id, user_id, window.start, window.end
            ),
            member_limit=await settings_sql.member_limit(conn, guild_id, user_id, role_ids),
            member_grants=await ledger_sql.member_grants_from_ledger(
                conn, guild_id, user_id, window.start, window.end
            ),
            member_active=await job_sql.count_active(conn, guild_id, user_id),
            blocked=await settings_sql.is_blocked(conn, guild_id, user_id),
        )


@dataclass(frozen=True, slots=True)
class Row:
    engine: str
    entries: int
    approach: str
    ms_median: float
    ms_p95: float
    per_second: float


async def _grow(db: Database, have: int, want: int) -> None:
    """Append ledger entries (reserve/commit pairs of past songs) until the period holds
    `want`, then rebuild the running totals from the ledger."""
    if want <= have:
        return
    rows = []
    for n in range(have, want):
        member = 1 + n % MEMBERS
        charged = NOW - 3600 - (n % 86400)  # the day before NOW, in this month
        kind = "reserve" if n % 2 == 0 else "commit"
        rows.append((GUILD, member, kind, COST, charged, charged))
    async with db.transaction() as conn:
        for chunk in range(0, len(rows), 5000):
            await conn.executemany(
                """INSERT INTO ledger (guild_id, user_id, kind, amount, charged_at, created_at)
                   VALUES (?, ?, ?, ?, ?, ?)""",
                rows[chunk : chunk + 5000],
            )
        await ledger_sql.rebuild_totals(conn, GUILD)


async def _settle_all(db: Database) -> None:
    """Finish the measured jobs, so songs in progress stay few, as on a real server."""
    async with db.transaction() as conn:
        await conn.execute(
            "UPDATE jobs SET state = 'failed' WHERE guild_id = ? AND state = 'submitting'",
            (GUILD,),
        )


async def _measure(quota: Quota, count: int) -> list[float]:
    timings = []
    for n in range(count):
        job = job_sql.NewJob(
            guild_id=GUILD, channel_id=1, user_id=1 + n % MEMBERS, operation="create_music",
            request={"n": n}, summary="bench", cost=COST,
        )  # fmt: skip
        started = time.perf_counter()
        await quota.reserve(job)
        timings.append(time.perf_counter() - started)
    return timings


async def run_engine(engine: str, target: Path | str, sizes: list[int], count: int) -> list[Row]:
    db = await Database.open(target)
    clock: Callable[[], float] = lambda: NOW  # noqa: E731 - the whole run is one moment
    approaches: list[tuple[str, Quota]] = [
        (
            name,
            cls(
                db,
                CostTable(),
                default_budget=10**12,
                default_period=BudgetPeriod.MONTH,
                clock=clock,
            ),
        )
        for name, cls in (("running totals", Quota), ("sum the period", SummingQuota))
    ]
    rows: list[Row] = []
    seeded = 0
    try:
        for size in sizes:
            await _grow(db, seeded, size)
            seeded = max(seeded, size)
            for name, quota in approaches:
                await _measure(quota, 5)  # warm caches and plans
                timings = await _measure(quota, count)
                await _settle_all(db)
                seconds = sorted(timings)
                rows.append(
                    Row(
                        engine,
                        size,
                        name,
                        ms_median=statistics.median(seconds) * 1000,
                        ms_p95=seconds[int(len(seconds) * 0.95) - 1] * 1000,
                        per_second=len(seconds) / sum(seconds),
                    )
                )
                print(f"  {engine:<10} {size:>7} {name:<15} {rows[-1].ms_median:7.2f} ms",
                      flush=True)  # fmt: skip
            # Reservations added entries too; count them as history for the next size.
            seeded += 2 * (count + 5)
        async with db.read() as conn:
            if await ledger_sql.check_totals(conn, GUILD):
                raise SystemExit("running totals disagree with the ledger")
    finally:
        await db.close()
    return rows


def print_table(rows: list[Row]) -> None:
    header = (
        "| engine | entries in period | approach | median ms/reservation | p95 ms "
        "| reservations/s | vs totals |"
    )
    print()
    print(header)
    print("|" + "|".join("-" * len(cell) for cell in header.split("|")[1:-1]) + "|")
    totals = {(r.engine, r.entries): r for r in rows if r.approach == "running totals"}
    for r in rows:
        ratio = r.ms_median / totals[(r.engine, r.entries)].ms_median
        print(
            f"| {r.engine} | {r.entries:,} | {r.approach} | {r.ms_median:.2f} | {r.ms_p95:.2f} "
            f"| {r.per_second:,.0f} | {ratio:.1f}x |"
        )


async def main_async(args: argparse.Namespace) -> None:
    sizes = [int(s) for s in args.sizes.split(",")]
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="bench-reservations-") as tmp:
        rows += await run_engine("sqlite", Path(tmp) / "bench.db", sizes, args.reservations)
    if args.postgres_url:
        rows += await run_engine("postgres", args.postgres_url, sizes, args.reservations)
    else:
        from tests.pg import start_cluster

        cluster = start_cluster()
        try:
            # The tests' cluster settings: commits don't wait for the disk, like SQLite's WAL
            # with synchronous=NORMAL, so the two engines are compared on the same terms.
            url = cluster.create_database(prefix="bench")
            rows += await run_engine("postgres", url, sizes, args.reservations)
        finally:
            cluster.stop()
    print_table(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reservations", type=int, default=200)
    parser.add_argument("--sizes", default="0,1000,10000,100000")
    parser.add_argument("--postgres-url", default=None)
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
