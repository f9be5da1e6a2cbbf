"""Benchmark: the job scheduler against a fixed 5-second poll per job, in the same run.

    python -m bench.scheduler [--jobs 200] [--generation-time 40] [--poll-interval 15]

Starts the MusicAPI simulator in its own process, then runs each strategy in a fresh process
(so peak RSS is that strategy's own) submitting the same number of songs at once:

- baseline: what the official SDK does, one task per job sleeping 5 s between polls;
- scheduler: the bot's real Scheduler and JobService (SQLite ledger, job rows, adaptive poll).

Songs arrive spread over --arrival-window seconds (the same seeded arrival times for both
strategies), as members' commands do, and each takes --generation-time ± --generation-spread
(seeded, so both strategies see the same task times). Delivery lag is the time from the
simulator finishing a song (read from its timing route on the machine-wide monotonic clock) to
the job's outcome being handed to delivery. Numbers are printed as a table; nothing is
asserted, since machines are shared and noisy.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

from bench.common import free_port, peak_rss_mib, percentile, wait_for_port

BASELINE_POLL_S = 5.0


def _arrivals(jobs: int, window: float) -> list[float]:
    rng = random.Random(20261123)
    return [rng.uniform(0, window) for _ in range(jobs)]


async def _baseline(base_url: str, jobs: int, window: float) -> dict[str, Any]:
    from bot.musicapi.client import MusicAPIClient
    from bot.musicapi.families.sonic import SonicCreate

    delivered: dict[str, float] = {}
    polls: list[int] = []
    async with aiohttp.ClientSession() as session:
        client = MusicAPIClient(session, base_url, "bench-key")

        async def one(n: int, arrival: float) -> None:
            await asyncio.sleep(arrival)
            request = SonicCreate(custom_mode=False, mv="sonic-v5", gpt_description_prompt=f"s{n}")
            task_id = await client.create_music(request)
            count = 0
            while True:
                await asyncio.sleep(BASELINE_POLL_S)
                count += 1
                status = await client.get_task(task_id)
                if status.done:
                    break
            delivered[task_id] = time.monotonic()
            polls.append(count)

        await asyncio.gather(*(one(n, t) for n, t in enumerate(_arrivals(jobs, window))))
        lags = await _lags(session, base_url, delivered)
    return {"lags": lags, "polls": polls}


async def _lags(
    session: aiohttp.ClientSession, base_url: str, delivered: dict[str, float]
) -> list[float]:
    """Delivery time minus the simulator's exact completion time, per task."""
    lags = []
    for task_id, at in delivered.items():
        async with session.get(f"{base_url}/_sim/tasks/{task_id}") as response:
            lags.append(at - (await response.json())["completed_at"])
    return lags


async def _scheduler(
    base_url: str, jobs: int, poll_interval: float, window: float
) -> dict[str, Any]:
    from bot.jobs.operations import sonic_create
    from bot.jobs.scheduler import Scheduler
    from bot.jobs.service import JobOrigin, JobService
    from bot.musicapi.client import MusicAPIClient
    from bot.musicapi.families.sonic import SonicCreate
    from bot.quota.costs import CostTable
    from bot.quota.ledger import Quota
    from bot.store.database import Database
    from bot.store.jobs import Job

    delivered: dict[str, float] = {}
    finished = asyncio.Event()

    class Recorder:
        async def job_progress(self, job: Job, state: str) -> None:
            return None

        async def job_succeeded(self, job: Job) -> None:
            assert job.task_id is not None
            delivered[job.task_id] = time.monotonic()
            if len(delivered) == jobs:
                finished.set()

        async def job_failed(self, job: Job) -> None:
            await self.job_succeeded(job)

    with tempfile.TemporaryDirectory() as tmp:
        db = await Database.open(Path(tmp) / "bench.db")
        async with aiohttp.ClientSession() as session:
            client = MusicAPIClient(session, base_url, "bench-key")
            quota = Quota(db, CostTable(), default_budget=10**9, default_period="none")
            scheduler = Scheduler(
                db, client, Recorder(), poll_interval=poll_interval, job_timeout=3600
            )
            service = JobService(db, quota, client, scheduler, poll_interval=poll_interval)
            scheduler.start()

            async def one(n: int, arrival: float) -> None:
                await asyncio.sleep(arrival)
                request = SonicCreate(
                    custom_mode=False, mv="sonic-v5", gpt_description_prompt=f"s{n}"
                )
                origin = JobOrigin(guild_id=1, channel_id=2, user_id=n)
                operation = sonic_create(request, f"s{n}")
                job_id = await service.reserve(origin, operation)
                await service.submit(job_id, operation)

            await asyncio.gather(*(one(n, t) for n, t in enumerate(_arrivals(jobs, window))))
            await finished.wait()
            await scheduler.stop()
            async with db.read() as conn:
                cursor = await conn.execute("SELECT polls FROM jobs")
                polls = [row[0] for row in await cursor.fetchall()]
            lags = await _lags(session, base_url, delivered)
        await db.close()
    return {"lags": lags, "polls": polls}


def _worker(args: argparse.Namespace) -> None:
    if args.worker == "baseline":
        result = asyncio.run(_baseline(args.base_url, args.jobs, args.arrival_window))
    else:
        result = asyncio.run(
            _scheduler(
                args.base_url,
                args.jobs,
                args.poll_interval,
                args.arrival_window,
            )
        )
    result["rss_mib"] = peak_rss_mib()
    print(json.dumps(result))


def _run_worker(name: str, base_url: str, args: argparse.Namespace) -> dict[str, Any]:
    command = [
        sys.executable, "-m", "bench.scheduler", "--worker", name, "--base-url", base_url,
        "--jobs", str(args.jobs), "--generation-time", str(args.generation_time),
        "--poll-interval", str(args.poll_interval),
        "--arrival-window", str(args.arrival_window),
    ]  # fmt: skip
    started = time.monotonic()
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    result: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
    result["wall_s"] = time.monotonic() - started
    return result


def _row(name: str, result: dict[str, Any]) -> str:
    lags, polls = result["lags"], result["polls"]
    return (
        f"| {name:<28} | {len(lags):>4} | {percentile(lags, 50):>8.2f} | "
        f"{percentile(lags, 99):>8.2f} | {statistics.mean(polls):>10.2f} | "
        f"{sum(polls):>11} | {result['rss_mib']:>13.1f} | {result['wall_s']:>6.1f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--generation-time", type=float, default=40.0)
    parser.add_argument("--poll-interval", type=float, default=15.0)
    parser.add_argument("--arrival-window", type=float, default=60.0)
    parser.add_argument("--generation-spread", type=float, default=0.3)
    parser.add_argument("--worker", choices=("baseline", "scheduler"))
    parser.add_argument("--base-url")
    args = parser.parse_args()
    if args.worker:
        _worker(args)
        return

    port = free_port()
    simulator = subprocess.Popen(
        [sys.executable, "-m", "bot.simulator", "--port", str(port),
         "--generation-time", str(args.generation_time), "--credits", "100000000",
         "--generation-spread", str(args.generation_spread), "--seed", "1"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ},
    )  # fmt: skip
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_for_port(port, 15)
        print(
            f"{args.jobs} songs arriving over {args.arrival_window:g} s, simulated generation "
            f"{args.generation_time:g} s ± {args.generation_spread:.0%}, "
            f"POLL_INTERVAL_S={args.poll_interval:g}\n"
        )
        header = (
            "| strategy                     | jobs | lag p50s | lag p99s | polls/job  "
            "| polls total | peak RSS MiB  | wall s |"
        )
        print(header)
        print("|" + "|".join("-" * (len(cell)) for cell in header.split("|")[1:-1]) + "|")
        baseline = _run_worker("baseline", base_url, args)
        print(_row(f"baseline: fixed {BASELINE_POLL_S:g} s poll", baseline))
        scheduler = _run_worker("scheduler", base_url, args)
        print(_row("scheduler (adaptive)", scheduler))
    finally:
        simulator.terminate()
        simulator.wait(timeout=10)


if __name__ == "__main__":
    main()
