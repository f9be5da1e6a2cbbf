"""Benchmark: what watching the bot costs. A Prometheus scrape, /healthz, the usage chart.

    python -m bench.observability [--jobs 0,1000,10000] [--scrapes 200]

For each number of unfinished jobs in a SQLite database, the real `MetricsServer` on
127.0.0.1 is asked `/healthz` (the baseline: a trivial query, no gauges) and `/metrics` (which
also reads the jobs by state and family from the database and renders every metric) the same
number of times, one after another, in the same run. Then the `/quota usage` PNG is drawn for
a month with 30 members' spending. Nothing is asserted: the machine is shared and noisy, so
read the table.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import aiohttp

from bot.observability import health, metrics
from bot.observability.health import GatewayWatch
from bot.observability.server import MetricsServer
from bot.quota.usage import Spend, UsagePeriod, aggregate, chart_window
from bot.quota.usage_chart import render
from bot.states import BudgetPeriod, Family
from bot.store import jobs as job_sql
from bot.store.database import Database
from bot.store.jobs import NewJob


async def fill(db: Database, count: int) -> None:
    async with db.transaction() as conn:
        for n in range(count):
            job = NewJob(
                guild_id=1 + n % 50, channel_id=2, user_id=3 + n % 200, operation="create_music",
                request={}, summary="", cost=20, family=(Family.SONIC, Family.NURO)[n % 2],
            )  # fmt: skip
            await job_sql.insert(conn, job, time.time())


async def timed(http: aiohttp.ClientSession, url: str, times: int) -> list[float]:
    spent = []
    for _ in range(times):
        started = time.perf_counter()
        async with http.get(url) as response:
            await response.read()
        spent.append((time.perf_counter() - started) * 1000)
    return spent


def p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) > 1 else values[0]


async def scrape_table(sizes: list[int], scrapes: int) -> None:
    print(f"{'unfinished jobs':>15} | {'/healthz p50':>12} {'p99':>7} | {'/metrics p50':>12} "
          f"{'p99':>7} | {'body':>8}")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        db = await Database.open(Path(tmp) / "bench.db")
        gateway = GatewayWatch()
        gateway._up[0] = True  # no Discord here: the gateway check is not what is measured
        metrics.scheduler_pass()

        async def ping() -> None:
            async with db.read() as conn:
                await (await conn.execute("SELECT 1")).fetchone()

        async def refresh() -> None:
            async with db.read() as conn:
                counts = await job_sql.count_unfinished(conn)
            metrics.JOBS.clear()
            for state, family, count in counts:
                metrics.JOBS.labels(state, family).set(count)

        server = MetricsServer(
            "127.0.0.1", 0,
            health=lambda: health.check(gateway, ping, lambda: 1.0), refresh=refresh,
        )  # fmt: skip
        base = await server.start()
        have = 0
        async with aiohttp.ClientSession() as http:
            for size in sizes:
                await fill(db, size - have)
                have = size
                healthz = await timed(http, f"{base}/healthz", scrapes)
                scraped = await timed(http, f"{base}/metrics", scrapes)
                async with http.get(f"{base}/metrics") as response:
                    body = len(await response.read())
                print(
                    f"{size:>15} | {p(healthz, 50):>10.2f}ms {p(healthz, 99):>5.2f}ms | "
                    f"{p(scraped, 50):>10.2f}ms {p(scraped, 99):>5.2f}ms | {body:>7}B"
                )
        await server.stop()
        await db.close()


def chart_row() -> None:
    now = time.time()
    window = chart_window(BudgetPeriod.MONTH, UsagePeriod.CURRENT, now)
    entries = [
        Spend(1 + n % 30, 20, window.start + (n * 7919) % max(1, int(now - window.start)))
        for n in range(3000)
    ]
    usage = aggregate(entries, window, budget=100_000, budget_period=BudgetPeriod.MONTH,
                      resets_at=window.resets_at)  # fmt: skip
    labels = [f"member {s.user_id}" if s.user_id else "others" for s in usage.series]
    render(usage, labels, title="warm-up", subtitle="")
    spent = []
    for _ in range(20):
        started = time.perf_counter()
        png = render(usage, labels, title="Server · spending", subtitle="budget 100000")
        spent.append((time.perf_counter() - started) * 1000)
    print(f"\n/quota usage chart, 3000 songs by 30 members in a month: render p50 "
          f"{p(spent, 50):.1f} ms, p99 {p(spent, 99):.1f} ms, PNG {len(png)} bytes")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", default="0,1000,10000")
    parser.add_argument("--scrapes", type=int, default=200)
    args = parser.parse_args()
    asyncio.run(scrape_table([int(n) for n in args.jobs.split(",")], args.scrapes))
    chart_row()


if __name__ == "__main__":
    main()
