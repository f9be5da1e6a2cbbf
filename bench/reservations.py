"""Benchmark: the cost of one reservation as a period's ledger grows, SQLite vs PostgreSQL.

    python -m bench.reservations [--reservations 200] [--sizes 0,1000,10000,100000]
                                 [--processes 1,2,4] [--postgres-url postgresql://…]

For each engine the same database grows through each size of history (ledger entries in the
current budget period, spread over 200 members). At each size both approaches reserve the same
number of songs, one after another, in the same run:

- running totals: what the bot does (one `ledger_totals` row per scope, kept by every step);
- sum the period: the approach before it, every reservation summing the period's entries of
  the server and of the member (the baseline).

Every reservation is the real `Quota.reserve` transaction (per-server lock, every limit, job
row, ledger entry, totals); only how the spending is read differs.

A second table gives reservations per second with 1, 2 and 4 processes reserving at once (each
with 4 commands in flight), all in one server (serialised by the server's lock) or spread over
50 servers (which only SQLite's single writer serialises). PostgreSQL is a throwaway
cluster on 127.0.0.1 (tests/pg.py: commits don't wait for the disk, as with SQLite's WAL and
synchronous=NORMAL) unless --postgres-url names one. Nothing is asserted: machines are shared
and noisy, so read the table.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from bot.periods import current_window
from bot.quota.costs import CostTable
from bot.quota.ledger import Quota
from bot.quota.limits import Standing
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
                conn, guild_id, window.start, window.end, period=settings.budget_period
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
                conn, guild_id, user_id, window.start, window.end, period=settings.budget_period
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


SERVERS = 50
IN_FLIGHT = 4
ROOT = str(Path(__file__).resolve().parents[1])


async def _worker(target: str, spread: bool, index: int, count: int) -> None:
    """One process of the throughput table: `count` reservations, IN_FLIGHT at a time."""
    db = await Database.open(target, pool_size=IN_FLIGHT)
    quota = Quota(
        db, CostTable(), default_budget=10**12, default_period=BudgetPeriod.MONTH,
        clock=lambda: NOW,
    )  # fmt: skip
    queue = list(range(count))
    print("ready", flush=True)
    sys.stdin.readline()

    async def lane() -> None:
        while queue:
            n = queue.pop()
            guild = GUILD + 1 + (index * count + n) % SERVERS if spread else GUILD + 1
            job = job_sql.NewJob(
                guild_id=guild, channel_id=1, user_id=1 + (index * count + n) % MEMBERS,
                operation="create_music", request={}, summary="bench", cost=COST,
            )  # fmt: skip
            await quota.reserve(job)

    await asyncio.gather(*(lane() for _ in range(IN_FLIGHT)))
    await db.close()
    print("done", flush=True)


async def throughput(target: Path | str, processes: int, spread: bool, count: int) -> float:
    """Reservations per second with `processes` processes released at the same moment."""
    env = {**os.environ, "PYTHONPATH": ROOT}
    pipe = asyncio.subprocess.PIPE
    procs = []
    for index in range(processes):
        worker = json.dumps([str(target), spread, index, count])
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bench.reservations", "--worker", worker,
            env=env, stdin=pipe, stdout=pipe,
        )  # fmt: skip
        procs.append(proc)
    for proc in procs:
        assert proc.stdout is not None
        assert (await proc.stdout.readline()).strip() == b"ready"
    started = time.perf_counter()
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write(b"go\n")
        await proc.stdin.drain()
    for proc in procs:
        assert proc.stdout is not None
        assert (await proc.stdout.readline()).strip() == b"done"
    elapsed = time.perf_counter() - started
    for proc in procs:
        await proc.wait()
    return processes * count / elapsed


async def throughput_rows(
    engine: str, target: Path | str, process_counts: list[int], count: int
) -> list[tuple[str, int, str, float]]:
    rows = []
    db = await Database.open(target)  # migrated before the processes start
    await db.close()
    for processes in process_counts:
        for spread in (False, True):
            rate = await throughput(target, processes, spread, count)
            where = f"{SERVERS} servers" if spread else "one server"
            rows.append((engine, processes, where, rate))
            print(f"  {engine:<10} {processes} process(es), {where}: {rate:,.0f}/s", flush=True)
    return rows


def print_throughput(rows: list[tuple[str, int, str, float]]) -> None:
    header = "| engine | processes | reservations in | reservations/s |"
    print()
    print(header)
    print("|" + "|".join("-" * len(cell) for cell in header.split("|")[1:-1]) + "|")
    for engine, processes, where, rate in rows:
        print(f"| {engine} | {processes} | {where} | {rate:,.0f} |")


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
    process_counts = [int(p) for p in args.processes.split(",") if p]
    per_process = args.throughput_reservations
    rows: list[Row] = []
    flows: list[tuple[str, int, str, float]] = []
    with tempfile.TemporaryDirectory(prefix="bench-reservations-") as tmp:
        rows += await run_engine("sqlite", Path(tmp) / "bench.db", sizes, args.reservations)
        flows += await throughput_rows("sqlite", Path(tmp) / "flow.db", process_counts, per_process)
    if args.postgres_url:
        rows += await run_engine("postgres", args.postgres_url, sizes, args.reservations)
        flows += await throughput_rows("postgres", args.postgres_url, process_counts, per_process)
    else:
        from tests.pg import start_cluster

        cluster = start_cluster()
        try:
            # The tests' cluster settings: commits don't wait for the disk, like SQLite's WAL
            # with synchronous=NORMAL, so the two engines are compared on the same terms.
            rows += await run_engine(
                "postgres", cluster.create_database(prefix="bench"), sizes, args.reservations
            )
            flows += await throughput_rows(
                "postgres", cluster.create_database(prefix="flow"), process_counts, per_process
            )
        finally:
            cluster.stop()
    print_table(rows)
    print_throughput(flows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reservations", type=int, default=200)
    parser.add_argument("--sizes", default="0,1000,10000,100000")
    parser.add_argument("--processes", default="1,2,4")
    parser.add_argument("--throughput-reservations", type=int, default=150,
                        help="reservations per process in the throughput table")  # fmt: skip
    parser.add_argument("--postgres-url", default=None)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        target, spread, index, count = json.loads(args.worker)
        asyncio.run(_worker(target, spread, index, count))
        return
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
