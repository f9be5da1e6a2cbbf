"""Benchmark: songs per second through the scheduler with 1, 2 and 4 processes on SQLite and
on PostgreSQL, and the takeover time after a `kill -9`, in one run.

    python -m bench.scale_out [--songs 400] [--processes 1,2,4] [--lease 20]

Starts the MusicAPI simulator (instant generation) and a throwaway PostgreSQL cluster on
127.0.0.1. For each engine and process count, that many worker processes share one fresh
database; each takes an equal share of the songs and runs the bot's real JobService and
Scheduler with leases (reserve → submit → poll → ledger commit → outcome handed to
delivery). Songs per second is all songs over the time from the common start to the last
outcome. The baseline is the single process on SQLite, today's deployment.

Takeover: process A accepts songs and keeps their leases renewed (its heartbeat runs, its
poll loop does not), then is killed -9 half-way through a lease; process B, already running,
takes them over once the leases run out and delivers them. The time is from the kill to B's
last delivery, with JOB_LEASE_S=--lease (default 20, the bot's default).

Each throughput figure is the best of --repeat runs (default 2): the machine is shared, and
the best run is the one least disturbed by others. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

from bench.common import free_port, wait_for_port

POLL_FAST = 0.02  # the scheduler's base interval in the throughput runs: polls are immediate


async def _work(args: argparse.Namespace) -> dict[str, Any]:
    """One bot process: submit its share of songs, run the scheduler until `--expect`
    outcomes were handed to delivery (0: run until killed)."""
    from bot.jobs.operations import sonic_create
    from bot.jobs.scheduler import Scheduler
    from bot.jobs.service import JobOrigin, JobService
    from bot.musicapi.client import MusicAPIClient
    from bot.musicapi.families.sonic import SonicCreate
    from bot.quota.costs import CostTable
    from bot.quota.ledger import Quota
    from bot.store.database import Database
    from bot.store.jobs import Job

    delivered: list[float] = []
    done = asyncio.Event()

    class Outcomes:
        async def job_progress(self, job: Job, state: str) -> None:
            return None

        async def job_succeeded(self, job: Job) -> None:
            delivered.append(time.monotonic())
            if args.expect and len(delivered) >= args.expect:
                done.set()

        async def job_failed(self, job: Job) -> None:
            await self.job_succeeded(job)

    db = await Database.open(args.target)
    async with aiohttp.ClientSession() as session:
        client = MusicAPIClient(session, args.sim, "bench-key")
        quota = Quota(db, CostTable(), default_budget=10**9, default_period="none")
        scheduler = Scheduler(
            db, client, Outcomes(), poll_interval=POLL_FAST, job_timeout=3600,
            lease_s=args.lease, concurrency=32,
        )  # fmt: skip
        service = JobService(db, quota, client, scheduler, poll_interval=POLL_FAST)
        await asyncio.sleep(max(0.0, args.go_at - time.monotonic()))  # a common start
        started = time.monotonic()
        if args.hold:
            # Accept songs and keep their leases alive, but never poll: the process whose
            # death the takeover run measures.
            async def beat() -> None:
                while True:
                    await asyncio.sleep(scheduler.heartbeat_interval)
                    await scheduler.heartbeat()

            heartbeat = asyncio.create_task(beat())
        else:
            scheduler.start()
        gate = asyncio.Semaphore(16)

        async def one(n: int) -> None:
            async with gate:
                request = SonicCreate(custom_mode=False, mv="sonic-v5", gpt_description_prompt="s")
                # Servers spread over many ids, as real traffic is (one lock per server).
                origin = JobOrigin(guild_id=1 + n % 50, channel_id=2, user_id=args.index)
                operation = sonic_create(request, f"s{n}")
                job_id = await service.reserve(origin, operation)
                await service.submit(job_id, operation)

        await asyncio.gather(*(one(n) for n in range(args.songs)))
        submitted = time.monotonic()
        print(json.dumps({"submitted": submitted}), flush=True)
        if args.hold:
            await heartbeat  # until killed
        await done.wait()
        await scheduler.stop()
    await db.close()
    return {"started": started, "delivered": delivered}


def _spawn(index: int, target: str, sim: str, songs: int, expect: int, lease: float,
           go_at: float, *, hold: bool = False) -> subprocess.Popen[str]:  # fmt: skip
    command = [
        sys.executable, "-m", "bench.scale_out", "--worker", "--index", str(index),
        "--target", target, "--sim", sim, "--songs", str(songs), "--expect", str(expect),
        "--lease", str(lease), "--go-at", str(go_at), *(["--hold"] if hold else []),
    ]  # fmt: skip
    return subprocess.Popen(command, stdout=subprocess.PIPE, text=True)


def _result(proc: subprocess.Popen[str], timeout: float = 300) -> dict[str, Any]:
    out, _ = proc.communicate(timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"worker failed with {proc.returncode}")
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


async def _fresh(engine: str, cluster: Any, tmp: Path, label: str) -> str:
    """A new, migrated database: the schema is made once, before the processes start."""
    from bot.store.database import Database

    target = (
        cluster.create_database(prefix=label) if engine == "postgres" else str(tmp / f"{label}.db")
    )
    db = await Database.open(target)
    await db.close()
    return target


def throughput(engine: str, processes: int, songs: int, sim: str, cluster: Any,
               tmp: Path, lease: float) -> float:  # fmt: skip
    label = f"t{engine[0]}{processes}_{time.monotonic_ns()}"
    target = asyncio.run(_fresh(engine, cluster, tmp, label))
    share = songs // processes
    go_at = time.monotonic() + 2.0 + 0.3 * processes  # every worker imported and connected
    workers = [_spawn(n, target, sim, share, share, lease, go_at) for n in range(processes)]
    results = [_result(w) for w in workers]
    start = min(r["started"] for r in results)
    end = max(max(r["delivered"]) for r in results)
    return share * processes / (end - start)


def takeover(engine: str, songs: int, sim: str, cluster: Any, tmp: Path, lease: float) -> float:
    target = asyncio.run(_fresh(engine, cluster, tmp, f"k{engine[0]}"))
    go_at = time.monotonic() + 2.0
    # A accepts the songs and renews their leases but never polls; B runs as usual.
    holder = _spawn(0, target, sim, songs, 0, lease, go_at, hold=True)
    assert holder.stdout is not None
    json.loads(holder.stdout.readline())  # A has accepted every song
    survivor = _spawn(1, target, sim, 0, songs, lease, time.monotonic())
    time.sleep(lease / 2)  # mid-lease, as a real crash would be
    holder.send_signal(signal.SIGKILL)
    killed_at = time.monotonic()
    holder.wait()
    result = _result(survivor, timeout=3 * lease + 60)
    return float(max(result["delivered"]) - killed_at)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--songs", type=int, default=400)
    parser.add_argument("--processes", default="1,2,4")
    parser.add_argument("--lease", type=float, default=20.0)
    parser.add_argument("--takeover-songs", type=int, default=50)
    parser.add_argument("--worker", action="store_true")
    parser.add_argument("--index", type=int, default=0)
    parser.add_argument("--target")
    parser.add_argument("--sim")
    parser.add_argument("--expect", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--hold", action="store_true")
    parser.add_argument("--go-at", type=float, default=0.0)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(asyncio.run(_work(args))))
        return

    from tests.pg import start_cluster

    counts = [int(n) for n in args.processes.split(",")]
    port = free_port()
    simulator = subprocess.Popen(
        [sys.executable, "-m", "bot.simulator", "--port", str(port), "--generation-time", "0",
         "--credits", "1000000000", "--seed", "1"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ},
    )  # fmt: skip
    sim = f"http://127.0.0.1:{port}"
    cluster = start_cluster()
    try:
        wait_for_port(port, 15)
        with tempfile.TemporaryDirectory() as tmp_dir:
            tmp = Path(tmp_dir)
            print(
                f"{args.songs} songs per run through reserve → submit → poll → commit → "
                f"outcome; simulator with instant generation; {os.cpu_count()} CPU(s)\n"
            )
            print("| engine     | processes | songs/s | vs baseline |")
            print("|------------|-----------|---------|-------------|")
            baseline = None
            for engine in ("sqlite", "postgres"):
                for processes in counts:
                    rate = max(
                        throughput(engine, processes, args.songs, sim, cluster, tmp, args.lease)
                        for _ in range(args.repeat)
                    )
                    baseline = baseline or rate
                    note = " (baseline)" if rate is baseline else ""
                    print(
                        f"| {engine:<10} | {processes:>9} | {rate:>7.1f} | "
                        f"{rate / baseline:>10.2f}x |{note}",
                        flush=True,
                    )
            print(
                f"\nTakeover after kill -9 ({args.takeover_songs} songs, "
                f"JOB_LEASE_S={args.lease:g}, killed mid-lease)\n"
            )
            print("| engine     | kill → last song delivered by the survivor |")
            print("|------------|--------------------------------------------|")
            for engine in ("sqlite", "postgres"):
                took = takeover(engine, args.takeover_songs, sim, cluster, tmp, args.lease)
                print(f"| {engine:<10} | {took:>40.1f} s |", flush=True)
    finally:
        cluster.stop()
        simulator.terminate()
        simulator.wait(timeout=10)


if __name__ == "__main__":
    main()
