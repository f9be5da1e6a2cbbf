"""Benchmark: what one reservation costs, the statement-by-statement way and folded, on both
engines, and reservations per second with 1, 2 and 4 processes over 100 servers.

    python -m bench.reservations [--reservations 200] [--entries 10000]
                                 [--processes 1,2,4] [--servers 100]
                                 [--throughput-reservations 150] [--postgres-url postgresql://…]

Two ways of reserving, run in the same process against the same database:

- folded (what the bot does): one statement reads every limit, and on PostgreSQL one more
  writes the job, its ledger entry, the running totals and the daily cap's alert claims;
- statement by statement (the baseline, the reservation before it): settings, totals,
  allowance, its spending, songs in progress, channels, member and role limits, block list,
  the daily cap's lock and total, its alert claims, then the job, a second server lock, the
  entry and the totals, each its own statement.

Both run the real limits (`bot.quota.limits`) and the owner's daily cap, with history already
in the period (`--entries` ledger entries over 200 members). "Under lock" counts the
statements sent between taking the server's lock and commit (tests/round_trips.py records
every statement the engine's adapter sends); on PostgreSQL each is one round trip.

The second table runs separate OS processes (each with 4 reservations in flight) released at
the same moment, reserving in 100 servers without a daily cap (a cap serialises every server).
PostgreSQL is a throwaway cluster on 127.0.0.1 (tests/pg.py: commits don't wait for the disk,
as with SQLite's WAL and synchronous=NORMAL) unless --postgres-url names one. Nothing is
asserted: machines are shared and noisy, so read the tables.
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
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from pathlib import Path

from bot.errors import QuotaRefused
from bot.periods import current_window
from bot.quota import limits
from bot.quota.costs import CostTable
from bot.quota.ledger import Quota
from bot.quota.limits import Standing
from bot.states import BudgetPeriod
from bot.store import allowances as allowance_sql
from bot.store import jobs as job_sql
from bot.store import ledger as ledger_sql
from bot.store import settings as settings_sql
from bot.store.database import Connection, Database
from tests.round_trips import CountingDatabase, under_lock

GUILD = 555_000_000_000_000_001
MEMBERS = 200
COST = 10
# Mid-month, so every seeded entry (spread over the hours before it) is in the period.
NOW = 1_795_132_800.0 + 14 * 86400
IN_FLIGHT = 4
ROOT = str(Path(__file__).resolve().parents[1])


class StatementByStatementQuota(Quota):
    """The reservation before its reads and writes were folded: one statement per read and
    per write, as the store's single-purpose functions send them (the baseline)."""

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

    async def reserve(
        self,
        new_job: job_sql.NewJob,
        role_ids: tuple[int, ...] = (),
        *,
        claim: Callable[[Connection, int], Awaitable[None]] | None = None,
    ) -> int:
        now = self.clock()
        refusal: QuotaRefused | None = None
        job_id = 0
        async with self.db.transaction() as conn:
            await conn.lock_guild(new_job.guild_id)
            standing = await self.read_standing(conn, new_job.guild_id, new_job.user_id, role_ids)
            limits.check(
                standing, new_job.cost, new_job.channel_id, member_checks=new_job.charge_member
            )
            if self.daily_cap is not None:
                await conn.lock_daily_cap()
                day = current_window(BudgetPeriod.DAY, now)
                spent = await ledger_sql.bot_spent_on_day(conn, day.start)
                refusal, levels, _ = self._check_daily_cap(new_job.cost, spent, day.resets_at)
                for level in levels:
                    await allowance_sql.claim_cap_alert(conn, day.start, level, now)
            if refusal is None:
                job_id = await job_sql.insert(conn, new_job, now)
                await ledger_sql.add(
                    conn, guild_id=new_job.guild_id, user_id=new_job.user_id, job_id=job_id,
                    kind="reserve", amount=new_job.cost, operation=new_job.operation,
                    charged_at=now, now=now, member_share=new_job.charge_member,
                )  # fmt: skip
                if claim is not None:
                    await claim(conn, job_id)
        if refusal is not None:
            raise refusal
        return job_id


APPROACHES: dict[str, type[Quota]] = {
    "folded": Quota,
    "statement by statement": StatementByStatementQuota,
}


def make_quota(approach: str, db: Database, daily_cap: int | None) -> Quota:
    return APPROACHES[approach](
        db, CostTable(), default_budget=10**12, default_period=BudgetPeriod.MONTH,
        clock=lambda: NOW, daily_cap=daily_cap,
    )  # fmt: skip


def new_job(guild: int, n: int) -> job_sql.NewJob:
    return job_sql.NewJob(
        guild_id=guild, channel_id=1, user_id=1 + n % MEMBERS, operation="create_music",
        request={"n": n}, summary="bench", cost=COST,
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class Row:
    engine: str
    approach: str
    daily_cap: bool
    under_lock: int
    ms_median: float
    ms_p95: float


async def _seed(db: Database, entries: int) -> None:
    """Reserve/commit pairs of past songs in this month, then the running totals they make."""
    rows = []
    for n in range(entries):
        charged = NOW - 3600 - (n % 86400)
        kind = "reserve" if n % 2 == 0 else "commit"
        rows.append((GUILD, 1 + n % MEMBERS, kind, COST, charged, charged))
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


async def _measure(quota: Quota, db: CountingDatabase, count: int) -> tuple[list[float], int]:
    timings = []
    locked = []
    for n in range(count):
        started = time.perf_counter()
        await quota.reserve(new_job(GUILD, n))
        timings.append(time.perf_counter() - started)
        locked.append(len(under_lock(db.last())))
    return timings, max(locked)


async def run_engine(engine: str, target: Path | str, entries: int, count: int) -> list[Row]:
    db = CountingDatabase(await Database.open(target))
    rows: list[Row] = []
    try:
        await _seed(db, entries)
        for capped in (False, True):
            for approach in APPROACHES:
                quota = make_quota(approach, db, 10**12 if capped else None)
                await _measure(quota, db, 5)  # warm caches and plans
                timings, locked = await _measure(quota, db, count)
                await _settle_all(db)
                seconds = sorted(timings)
                median = statistics.median(seconds) * 1000
                p95 = seconds[int(len(seconds) * 0.95) - 1] * 1000
                rows.append(Row(engine, approach, capped, locked, median, p95))
                cap = "daily cap" if capped else "no cap"
                print(f"  {engine:<8} {approach:<22} {cap:<9} {locked:>2} under lock "
                      f"{rows[-1].ms_median:6.2f} ms", flush=True)  # fmt: skip
        async with db.read() as conn:
            if await ledger_sql.check_totals(conn, GUILD):
                raise SystemExit("running totals disagree with the ledger")
    finally:
        await db.close()
    return rows


async def _worker(target: str, approach: str, servers: int, index: int, count: int) -> None:
    """One process of the throughput table: `count` reservations, IN_FLIGHT at a time."""
    db = await Database.open(target, pool_size=IN_FLIGHT)
    quota = make_quota(approach, db, None)
    queue = list(range(count))
    print("ready", flush=True)
    sys.stdin.readline()

    async def lane() -> None:
        while queue:
            n = index * count + queue.pop()
            await quota.reserve(new_job(GUILD + 1 + n % servers, n))

    await asyncio.gather(*(lane() for _ in range(IN_FLIGHT)))
    await db.close()
    print("done", flush=True)


async def throughput(
    target: Path | str, approach: str, servers: int, processes: int, count: int
) -> float:
    """Reservations per second with `processes` processes released at the same moment."""
    env = {**os.environ, "PYTHONPATH": ROOT}
    pipe = asyncio.subprocess.PIPE
    procs = []
    for index in range(processes):
        worker = json.dumps([str(target), approach, servers, index, count])
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


Flow = tuple[str, str, int, float]


async def throughput_rows(
    engine: str, target: Path | str, process_counts: list[int], servers: int, count: int
) -> list[Flow]:
    rows = []
    db = await Database.open(target)  # migrated before the processes start
    await db.close()
    for processes in process_counts:
        for approach in APPROACHES:
            rate = await throughput(target, approach, servers, processes, count)
            rows.append((engine, approach, processes, rate))
            print(f"  {engine:<8} {approach:<22} {processes} process(es): {rate:,.0f}/s",
                  flush=True)  # fmt: skip
    return rows


def _rule(header: str) -> str:
    return "|" + "|".join("-" * len(cell) for cell in header.split("|")[1:-1]) + "|"


def print_table(rows: list[Row]) -> None:
    header = (
        "| engine | daily cap | reservation | statements under lock | median ms | p95 ms "
        "| median vs folded |"
    )
    print()
    print(header)
    print(_rule(header))
    folded = {(r.engine, r.daily_cap): r for r in rows if r.approach == "folded"}
    for r in rows:
        ratio = r.ms_median / folded[(r.engine, r.daily_cap)].ms_median
        cap = "on" if r.daily_cap else "off"
        print(
            f"| {r.engine} | {cap} | {r.approach} | {r.under_lock} | {r.ms_median:.2f} "
            f"| {r.ms_p95:.2f} | {ratio:.2f}x |"
        )


def print_throughput(rows: list[Flow], servers: int) -> None:
    header = f"| engine | reservation | processes | reservations/s over {servers} servers |"
    print()
    print(header)
    print(_rule(header))
    for engine, approach, processes, rate in rows:
        print(f"| {engine} | {approach} | {processes} | {rate:,.0f} |")


async def main_async(args: argparse.Namespace) -> None:
    process_counts = [int(p) for p in args.processes.split(",") if p]
    per_process = args.throughput_reservations
    rows: list[Row] = []
    flows: list[Flow] = []
    with tempfile.TemporaryDirectory(prefix="bench-reservations-") as tmp:
        rows += await run_engine("sqlite", Path(tmp) / "bench.db", args.entries, args.reservations)
        flows += await throughput_rows(
            "sqlite", Path(tmp) / "flow.db", process_counts, args.servers, per_process
        )
    if args.postgres_url:
        rows += await run_engine("postgres", args.postgres_url, args.entries, args.reservations)
        flows += await throughput_rows(
            "postgres", args.postgres_url, process_counts, args.servers, per_process
        )
    else:
        from tests.pg import start_cluster

        cluster = start_cluster()
        try:
            rows += await run_engine(
                "postgres", cluster.create_database(prefix="bench"), args.entries,
                args.reservations,
            )  # fmt: skip
            flows += await throughput_rows(
                "postgres", cluster.create_database(prefix="flow"), process_counts,
                args.servers, per_process,
            )  # fmt: skip
        finally:
            cluster.stop()
    print_table(rows)
    print_throughput(flows, args.servers)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reservations", type=int, default=200)
    parser.add_argument("--entries", type=int, default=10_000,
                        help="ledger entries already in the period")  # fmt: skip
    parser.add_argument("--processes", default="1,2,4")
    parser.add_argument("--servers", type=int, default=100)
    parser.add_argument("--throughput-reservations", type=int, default=150,
                        help="reservations per process in the throughput table")  # fmt: skip
    parser.add_argument("--postgres-url", default=None)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        target, approach, servers, index, count = json.loads(args.worker)
        asyncio.run(_worker(target, approach, servers, index, count))
        return
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
