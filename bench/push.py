"""Benchmark: learned polling and webhooks against the SDK's fixed 5 s poll, capacity, restart.

    python -m bench.push [--time-scale 10] [--songs 100] [--skip capacity,ceiling,restart]

Everything runs against the project's simulator, started in its own process for each
scenario; each measured side runs in a fresh process too, so its peak RSS is its own.

- **polls and lag** (90 s ± 10 % and ± 30 %): the SDK's fixed 5 s poll; learned polling
  (POLL_TARGET_LAG_S=5) after it has seen 20 finished songs; learned polling with webhooks.
  Polls per song, delivery lag p50/p99 (upstream completion → outcome handed to delivery, file
  download excluded) and time to first listen (upstream starts streaming → the card shows the
  stream link; the SDK has no preview, so its first listen is the final song).
  TIME SCALING: every duration of this scenario (generation, arrivals, poll spacing, target) is
  divided by --time-scale, and the lags printed are multiplied back, so a 90 s song takes 9 s
  at the default scale 10. Polls per song do not depend on the scale.
- **capacity**: 1,000 / 5,000 / 10,000 jobs in flight in one process, against a simulator
  answering after 0.2 s (its `--latency`), every job due every 5 s (the learned spacing once
  completion is plausible: the heaviest load the schedule makes). Polls per second asked for and
  made, event-loop lag p99, peak RSS; the SDK style (one coroutine per job sleeping 5 s) beside it.
- **ceiling** (MUSICAPI_MAX_POLLS_PER_S): 10,000 jobs in flight, all held past their usual
  length (the schedule has learned 90 s songs; these are 200 s old and not done), against the
  same 0.2 s simulator, without the ceiling and with it (the default unless --ceiling). Polls
  per second, how late a status check goes out after its due time (p50/p99, and the longest
  wait), the longest gap between two checks of one job, and how many jobs were checked in the
  window. Without the ceiling the schedule is in its steady state within one spacing, so that
  side runs at real time for --measure seconds; with it, a job's turn comes round once every
  10,000 ÷ ceiling seconds (500 s at 20/s), so that side is time-scaled 1/--time-scale (every
  duration divided, the ceiling multiplied) and measured over one full round after two
  others; its figures are shown in real-time units.
- **restart**: 1,000 unfinished jobs whose polls came due while the bot was down; time from
  opening the database to the first pass, and how the resumed polls spread (the busiest second),
  with and without the restart spread.

Nothing is asserted: machines are shared and noisy. The acknowledgement latency under 100
commands/s needs the Discord layer: `python -m bench.acks` measures it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
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

SDK_POLL_S = 5.0
TARGET_LAG_S = 5.0
POLL_INTERVAL_S = 15.0
GENERATION_S = 90.0
WARMUP_SONGS = 20
ARRIVAL_WINDOW_S = 60.0


class LoopLag:
    """Samples how late a 10 ms sleep wakes up: the event loop's responsiveness."""

    def __init__(self) -> None:
        self.samples: list[float] = []
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            started = time.monotonic()
            await asyncio.sleep(0.01)
            self.samples.append(time.monotonic() - started - 0.01)

    async def stop(self) -> float:
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        return percentile(self.samples, 99)


# -- the simulator ----------------------------------------------------------------------------


@contextlib.contextmanager
def simulator(generation: float, spread: float, latency: float = 0.0):  # type: ignore[no-untyped-def]
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.simulator", "--port", str(port),
         "--generation-time", str(generation), "--generation-spread", str(spread),
         "--credits", "1000000000", "--latency", str(latency), "--seed", "20261130",
         "--webhook-scheme", "both"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_for_port(port, 20)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


async def _sim_times(session: aiohttp.ClientSession, base: str, task_id: str) -> dict[str, float]:
    async with session.get(f"{base}/_sim/tasks/{task_id}") as response:
        return dict(await response.json())


# -- polls and lag ----------------------------------------------------------------------------


async def sdk_side(base: str, songs: int, scale: float) -> dict[str, Any]:
    from bot.musicapi.client import MusicAPIClient
    from bot.musicapi.families.sonic import SonicCreate

    rng = random.Random(7)
    arrivals = [rng.uniform(0, ARRIVAL_WINDOW_S / scale) for _ in range(songs)]
    done: dict[str, float] = {}
    polls: list[int] = []
    async with aiohttp.ClientSession() as session:
        client = MusicAPIClient(session, base, "bench")

        async def one(n: int, at: float) -> None:
            await asyncio.sleep(at)
            request = SonicCreate(custom_mode=False, mv="sonic-v5", gpt_description_prompt=f"s{n}")
            task_id = await client.create_music(request)
            count = 0
            while True:
                await asyncio.sleep(SDK_POLL_S / scale)
                count += 1
                if (await client.get_task(task_id)).done:
                    break
            done[task_id] = time.monotonic()
            polls.append(count)

        await asyncio.gather(*(one(n, at) for n, at in enumerate(arrivals)))
        lags, listens = [], []
        for task_id, at in done.items():
            times = await _sim_times(session, base, task_id)
            generation = times["completed_at"] - times["created_at"]
            lags.append((at - times["completed_at"]) * scale)
            listens.append((at - (times["created_at"] + 0.6 * generation)) * scale)
    return {"polls": polls, "lags": lags, "listens": listens}


async def bot_side(base: str, songs: int, scale: float, push: bool) -> dict[str, Any]:
    """The bot's real scheduler, service and (with push) webhook receiver; no Discord."""
    from bot.jobs.operations import sonic_create
    from bot.jobs.scheduler import Scheduler
    from bot.jobs.service import JobOrigin, JobService
    from bot.musicapi.client import MusicAPIClient
    from bot.musicapi.families.sonic import SonicCreate
    from bot.quota.costs import CostTable
    from bot.quota.ledger import Quota
    from bot.store.database import Database
    from bot.store.jobs import Job
    from bot.webhooks.address import Addresses
    from bot.webhooks.receiver import WebhookReceiver

    delivered: dict[str, float] = {}
    delivered_wall: dict[str, float] = {}
    listened: dict[str, float] = {}
    expected = 0
    finished = asyncio.Event()

    class Outcomes:
        async def job_progress(self, job: Job, state: str) -> None:
            if job.stream_url and job.task_id and job.task_id not in listened:
                listened[job.task_id] = time.monotonic()

        async def job_succeeded(self, job: Job) -> None:
            assert job.task_id is not None
            delivered[job.task_id] = time.monotonic()
            delivered_wall[job.task_id] = time.time()
            if len(delivered) >= expected:
                finished.set()

        async def job_failed(self, job: Job) -> None:
            await self.job_succeeded(job)

    with tempfile.TemporaryDirectory() as tmp:
        db = await Database.open(Path(tmp) / "bench.db")
        connector = aiohttp.TCPConnector(limit=600)
        async with aiohttp.ClientSession(connector=connector) as session:
            client = MusicAPIClient(session, base, "bench")
            quota = Quota(db, CostTable(), default_budget=10**9, default_period="none")
            scheduler = Scheduler(
                db, client, Outcomes(), poll_interval=POLL_INTERVAL_S / scale,
                job_timeout=3600, target_lag=TARGET_LAG_S / scale, push=push,
            )  # fmt: skip
            addresses = receiver = None
            if push:
                port = free_port()
                addresses = Addresses(
                    f"http://127.0.0.1:{port}", "bench-secret-0123456789", b"k" * 32
                )
                receiver = WebhookReceiver(db, addresses, scheduler)
                await receiver.start("127.0.0.1", port)
            service = JobService(
                db, quota, client, scheduler, poll_interval=POLL_INTERVAL_S / scale,
                webhooks=addresses,
            )  # fmt: skip
            scheduler.start()

            async def batch(count: int, seed: int) -> list[str]:
                nonlocal expected
                delivered.clear()
                finished.clear()
                expected = count
                rng = random.Random(seed)
                arrivals = [rng.uniform(0, ARRIVAL_WINDOW_S / scale) for _ in range(count)]
                ids: list[str] = []

                async def one(n: int, at: float) -> None:
                    await asyncio.sleep(at)
                    request = SonicCreate(
                        custom_mode=False, mv="sonic-v5", gpt_description_prompt=f"s{seed}-{n}"
                    )
                    operation = sonic_create(request, "bench")
                    job_id = await service.reserve(JobOrigin(1, 2, n), operation)
                    job = await service.submit(job_id, operation)
                    assert job.task_id is not None
                    ids.append(job.task_id)

                await asyncio.gather(*(one(n, at) for n, at in enumerate(arrivals)))
                await finished.wait()
                return ids

            await batch(WARMUP_SONGS, 1)  # what the schedule learns from
            polls_before = scheduler.stats["polls"]
            ids = await batch(songs, 7)
            polls = (scheduler.stats["polls"] - polls_before) / songs
            await scheduler.stop()
            if receiver is not None:
                await receiver.stop()
            lags, listens = [], []
            for task_id in ids:
                times = await _sim_times(session, base, task_id)
                generation = times["completed_at"] - times["created_at"]
                lags.append((delivered[task_id] - times["completed_at"]) * scale)
                heard = listened.get(task_id, delivered[task_id])
                listens.append((heard - (times["created_at"] + 0.6 * generation)) * scale)
            est = scheduler.learned.estimate("sonic", "create_music", "sonic-v5")
            # From the moment the completion webhook was received to the outcome: the part
            # of the lag that is the bot's own (unscaled: it does not grow with generation).
            async with db.read() as conn:
                rows = await conn.execute_fetchall(
                    "SELECT task_id, received_at FROM webhook_events WHERE event = ?",
                    ("song.completed",),
                )
            received = {row[0]: row[1] for row in rows}
            hook_ms = [(delivered_wall[t] - received[t]) * 1000 for t in ids if t in received]
        await db.close()
    return {
        "polls_per_song": polls,
        "lags": lags,
        "listens": listens,
        "learned": [est.p01 * scale, est.p50 * scale, est.p99 * scale, est.samples],
        "hook_ms": hook_ms,
    }


# -- capacity ---------------------------------------------------------------------------------


async def _create_tasks(client: Any, count: int) -> list[str]:
    from bot.musicapi.families.sonic import SonicCreate

    slots = asyncio.Semaphore(500)

    async def one(n: int) -> str:
        async with slots:
            request = SonicCreate(custom_mode=False, mv="sonic-v5", gpt_description_prompt=f"c{n}")
            return str(await client.create_music(request))

    return list(await asyncio.gather(*(one(n) for n in range(count))))


async def capacity_bot(base: str, jobs: int, measure_s: float) -> dict[str, Any]:
    from bot.jobs.scheduler import Scheduler
    from bot.musicapi.client import MusicAPIClient
    from bot.store import jobs as job_sql
    from bot.store.database import Database
    from bot.store.jobs import Job, NewJob

    class Quiet:
        async def job_progress(self, job: Job, state: str) -> None: ...
        async def job_succeeded(self, job: Job) -> None: ...
        async def job_failed(self, job: Job) -> None: ...

    with tempfile.TemporaryDirectory() as tmp:
        db = await Database.open(Path(tmp) / "cap.db")
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=600)) as session:
            client = MusicAPIClient(session, base, "bench")
            tasks = await _create_tasks(client, jobs)
            scheduler = Scheduler(
                db, client, Quiet(), poll_interval=POLL_INTERVAL_S, job_timeout=36000,
                target_lag=TARGET_LAG_S,
            )  # fmt: skip
            now = time.time()
            owner, lease_until = scheduler.new_lease()
            async with db.transaction() as conn:
                for n, task_id in enumerate(tasks):
                    new = NewJob(1, 2, n, "create_music", {}, "cap", 0, model="sonic-v5",
                                 owner=owner, lease_until=lease_until + 3600)  # fmt: skip
                    job_id = await job_sql.insert(conn, new, now - 200)
                    # Long past the point where completion is plausible: due every 5 s, spread.
                    first = now + 2 + TARGET_LAG_S * n / jobs
                    await job_sql.mark_submitted(conn, job_id, task_id, now - 200, first)
            lag = LoopLag()
            scheduler.start()
            await asyncio.sleep(2 + TARGET_LAG_S)  # reach the steady state
            lag.start()
            before, started = client.stats["poll"], time.monotonic()
            await asyncio.sleep(measure_s)
            made = (client.stats["poll"] - before) / (time.monotonic() - started)
            loop_p99 = await lag.stop()
            await scheduler.stop()
        await db.close()
    return {"asked": jobs / TARGET_LAG_S, "made": made, "loop_p99_ms": loop_p99 * 1000}


async def capacity_sdk(base: str, jobs: int, measure_s: float) -> dict[str, Any]:
    from bot.musicapi.client import MusicAPIClient

    async with aiohttp.ClientSession() as session:
        client = MusicAPIClient(session, base, "bench")
        tasks = await _create_tasks(client, jobs)

        async def poller(n: int, task_id: str) -> None:
            await asyncio.sleep(SDK_POLL_S * n / jobs)
            while True:
                await client.get_task(task_id)
                await asyncio.sleep(SDK_POLL_S)

        runners = [asyncio.create_task(poller(n, t)) for n, t in enumerate(tasks)]
        await asyncio.sleep(SDK_POLL_S)
        lag = LoopLag()
        lag.start()
        before, started = client.stats["poll"], time.monotonic()
        await asyncio.sleep(measure_s)
        made = (client.stats["poll"] - before) / (time.monotonic() - started)
        loop_p99 = await lag.stop()
        for runner in runners:
            runner.cancel()
        await asyncio.gather(*runners, return_exceptions=True)
    return {"asked": jobs / SDK_POLL_S, "made": made, "loop_p99_ms": loop_p99 * 1000}


# -- ceiling ----------------------------------------------------------------------------------

HELD_AGE_S = 200.0  # how old the held jobs are: past the learned 99th percentile of ~110 s


async def ceiling_side(
    base: str, jobs: int, scale: float, ceiling: float | None, measure_s: float
) -> dict[str, Any]:
    """`jobs` songs held past their usual length, polled by the real scheduler; with
    `ceiling` (per real second) the budget holds the rate, at `scale` times real speed."""
    from bot.jobs.learning import CompletionTimes
    from bot.jobs.scheduler import Scheduler
    from bot.musicapi.client import MusicAPIClient
    from bot.store import jobs as job_sql
    from bot.store.database import Database
    from bot.store.jobs import Job, NewJob

    class Quiet:
        async def job_progress(self, job: Job, state: str) -> None: ...
        async def job_succeeded(self, job: Job) -> None: ...
        async def job_failed(self, job: Job) -> None: ...

    # The schedule has learned 90 s ± 10 % songs: these jobs are far past that.
    learned = CompletionTimes(None)
    rng = random.Random(5)
    for _ in range(40):
        song_s = GENERATION_S / scale * rng.uniform(0.9, 1.1)
        learned.observe("sonic", "create_music", "sonic-v5", song_s)
    checks: list[tuple[float, int, float]] = []  # (when, job, how late), wall clock
    with tempfile.TemporaryDirectory() as tmp:
        db = await Database.open(Path(tmp) / "ceiling.db")
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=600)) as session:
            client = MusicAPIClient(session, base, "bench")
            tasks = await _create_tasks(client, jobs)
            rate = None if ceiling is None else ceiling * scale
            scheduler = Scheduler(
                db, client, Quiet(), poll_interval=POLL_INTERVAL_S / scale, job_timeout=10**6,
                target_lag=TARGET_LAG_S / scale, learned=learned, max_polls_per_s=rate,
            )  # fmt: skip
            process = scheduler.process

            async def timed(job: Job) -> None:
                now = time.time()
                if job.next_run_at is not None:
                    checks.append((now, job.id, now - job.next_run_at))
                await process(job)

            scheduler.process = timed  # type: ignore[method-assign]
            now = time.time()
            owner, lease_until = scheduler.new_lease()
            spacing = POLL_INTERVAL_S / scale  # at most; the first looks spread over it
            async with db.transaction() as conn:
                for n, task_id in enumerate(tasks):
                    new = NewJob(1, 2, n, "create_music", {}, "held", 0, model="sonic-v5",
                                 owner=owner, lease_until=lease_until + 36000)  # fmt: skip
                    submitted = now - HELD_AGE_S / scale
                    job_id = await job_sql.insert(conn, new, submitted)
                    first = now + 2 + spacing * n / jobs
                    await job_sql.mark_submitted(conn, job_id, task_id, submitted, first)
            scheduler.start()
            # The steady state: one spacing without the ceiling; with it, two full rounds (the
            # first look at a job writes more than the later ones, so the first round is
            # slower at this scale and leaves uneven gaps behind it for the second to even out).
            round_s = spacing if rate is None else jobs / rate
            await asyncio.sleep(2 + round_s * (1 if rate is None else 2))
            window = measure_s if rate is None else round_s
            before, started = client.stats["poll"], time.time()
            await asyncio.sleep(window)
            ended = time.time()
            made = (client.stats["poll"] - before) / (ended - started)
            await scheduler.stop()
        await db.close()
    inside = [(at, job, late) for at, job, late in checks if started <= at < ended]
    lates = [late * scale for _, _, late in inside]
    gaps: dict[int, list[float]] = {}
    for at, job, _ in checks:
        gaps.setdefault(job, []).append(at)
    longest_gap = max(
        (
            b - a
            for times in gaps.values()
            for a, b in itertools.pairwise(times)
            if started <= b < ended
        ),
        default=float("nan"),
    )
    return {
        "polls_per_s": made / scale,
        "lag_p50": percentile(lates, 50),
        "lag_p99": percentile(lates, 99),
        "longest_wait": max(lates, default=float("nan")),
        "longest_gap": longest_gap * scale,
        "checked": len({job for _, job, _ in inside}),
        "window_s": window * scale,
    }


# -- restart ----------------------------------------------------------------------------------


async def restart_side(base: str, jobs: int, spread: bool) -> dict[str, Any]:
    from bot.jobs.scheduler import Scheduler
    from bot.musicapi.client import MusicAPIClient
    from bot.store import jobs as job_sql
    from bot.store.database import Database
    from bot.store.jobs import Job, NewJob

    first_poll: dict[str, float] = {}

    class Quiet:
        async def job_progress(self, job: Job, state: str) -> None: ...
        async def job_succeeded(self, job: Job) -> None: ...
        async def job_failed(self, job: Job) -> None: ...

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "restart.db"
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=600)) as session:
            client = MusicAPIClient(session, base, "bench")
            tasks = await _create_tasks(client, jobs)
            db = await Database.open(path)
            now = time.time()
            async with db.transaction() as conn:
                for n, task_id in enumerate(tasks):
                    # Owned by a process that died 20 s ago; their polls came due meanwhile.
                    new = NewJob(1, 2, n, "create_music", {}, "r", 0, model="sonic-v5",
                                 owner="dead-process", lease_until=now - 20)  # fmt: skip
                    job_id = await job_sql.insert(conn, new, now - 120)
                    await job_sql.mark_submitted(conn, job_id, task_id, now - 120, now - 15)
            await db.close()

            original = client.get_task
            all_polled = asyncio.Event()

            async def timed(task_id: str) -> Any:
                first_poll.setdefault(task_id, time.monotonic())
                if len(first_poll) >= jobs:
                    all_polled.set()
                return await original(task_id)

            client.get_task = timed  # type: ignore[method-assign]
            started = time.monotonic()
            db = await Database.open(path)
            scheduler = Scheduler(
                db, client, Quiet(), poll_interval=POLL_INTERVAL_S, job_timeout=36000,
                target_lag=TARGET_LAG_S,
            )  # fmt: skip
            # Ready: the database is open, the dead process's jobs are claimed and scheduled,
            # and the loop starts its first pass (the bot would now take commands as well).
            resumed = asyncio.Event()
            real_spread = scheduler.spread_after_restart

            async def spread_then_ready() -> int:
                moved = await real_spread() if spread else 0
                resumed.set()
                return moved

            scheduler.spread_after_restart = spread_then_ready  # type: ignore[method-assign]
            scheduler.start()
            await resumed.wait()
            ready = time.monotonic() - started
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(all_polled.wait(), 90)
            await scheduler.stop()
            await db.close()
    offsets = sorted(at - started for at in first_poll.values())
    busiest = max(sum(1 for t in offsets if s <= t < s + 1) for s in range(int(offsets[-1]) + 2))
    return {
        "ready_s": ready,
        "polled": len(offsets),
        "first_s": offsets[0],
        "last_s": offsets[-1],
        "busiest_second": busiest,
    }


# -- driver -----------------------------------------------------------------------------------


def _run_worker(kind: str, **options: Any) -> dict[str, Any]:
    command = [sys.executable, "-m", "bench.push", "--worker", kind,
               "--options", json.dumps(options)]  # fmt: skip
    started = time.monotonic()
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    result: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
    result["wall_s"] = time.monotonic() - started
    return result


def _worker(kind: str, options: dict[str, Any]) -> None:
    runs = {
        "sdk": lambda: sdk_side(options["base"], options["songs"], options["scale"]),
        "learned": lambda: bot_side(options["base"], options["songs"], options["scale"], False),
        "webhooks": lambda: bot_side(options["base"], options["songs"], options["scale"], True),
        "cap-bot": lambda: capacity_bot(options["base"], options["jobs"], options["measure"]),
        "cap-sdk": lambda: capacity_sdk(options["base"], options["jobs"], options["measure"]),
        "restart": lambda: restart_side(options["base"], options["jobs"], options["spread"]),
        "ceiling": lambda: ceiling_side(
            options["base"],
            options["jobs"],
            options["scale"],
            options["ceiling"],
            options["measure"],
        ),
    }
    result = asyncio.run(runs[kind]())
    result["rss_mib"] = peak_rss_mib()
    print(json.dumps(result))


def polls_and_lag(args: argparse.Namespace) -> None:
    scale = args.time_scale
    print(
        f"\n## Polls and lag: {args.songs} songs over {ARRIVAL_WINDOW_S:g} s after {WARMUP_SONGS} "
        f"learning songs; POLL_TARGET_LAG_S={TARGET_LAG_S:g}, POLL_INTERVAL_S={POLL_INTERVAL_S:g}; "
        f"time scale 1/{scale:g} (lags shown in real-time seconds)\n"
    )
    print("| generation | strategy | polls/song | lag p50 s | lag p99 s | first listen p50 s "
          "| first listen p99 s | webhook→outcome p50/p99 ms | learned p01/p50/p99 s |"
    )  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|")
    for spread in (0.10, 0.30):
        with simulator(GENERATION_S / scale, spread) as base:
            for kind, label in (("sdk", f"SDK fixed {SDK_POLL_S:g} s"),
                                ("learned", "learned polling"),
                                ("webhooks", "learned + webhooks")):  # fmt: skip
                r = _run_worker(kind, base=base, songs=args.songs, scale=scale)
                per_song = r.get("polls_per_song", statistics.fmean(r.get("polls", [0])))
                learned = r.get("learned")
                shown = "—" if not learned else "/".join(f"{v:.0f}" for v in learned[:3])
                hook = r.get("hook_ms") or []
                hooked = f"{percentile(hook, 50):.0f}/{percentile(hook, 99):.0f}" if hook else "—"
                print(
                    f"| 90 s ± {spread:.0%} | {label} | {per_song:.2f} | "
                    f"{percentile(r['lags'], 50):.2f} | {percentile(r['lags'], 99):.2f} | "
                    f"{percentile(r['listens'], 50):.1f} | {percentile(r['listens'], 99):.1f} | "
                    f"{hooked} | "
                    f"{shown} |",
                    flush=True,
                )


def capacity(args: argparse.Namespace) -> None:
    print(
        f"\n## Capacity: jobs in flight, each due every {TARGET_LAG_S:g} s, simulator round trip "
        f"0.2 s, measured over {args.measure:g} s\n"
    )
    print(
        "| in flight | strategy | polls/s asked | polls/s made | loop lag p99 ms | peak RSS MiB |"
    )
    print("|---|---|---|---|---|---|")
    with simulator(3600.0, 0.0, latency=0.2) as base:
        for jobs in args.capacity:
            for kind, label in (("cap-sdk", f"SDK fixed {SDK_POLL_S:g} s"), ("cap-bot", "bot")):
                r = _run_worker(kind, base=base, jobs=jobs, measure=args.measure)
                print(
                    f"| {jobs} | {label} | {r['asked']:.0f} | {r['made']:.0f} | "
                    f"{r['loop_p99_ms']:.1f} | {r['rss_mib']:.0f} |",
                    flush=True,
                )


def ceiling(args: argparse.Namespace) -> None:
    from bot.config import DEFAULT_MAX_POLLS_PER_S

    limit = args.ceiling or DEFAULT_MAX_POLLS_PER_S
    print(
        f"\n## Ceiling: {args.ceiling_jobs} jobs in flight, held past their usual length "
        f"(learned 90 s, {HELD_AGE_S:g} s old), simulator round trip 0.2 s; with the ceiling "
        f"time-scaled 1/{args.time_scale:g}, figures in real-time units\n"
    )
    print("| MUSICAPI_MAX_POLLS_PER_S | polls/s | lag p50 s | lag p99 s | longest wait s "
          "| longest gap between checks of a job s | jobs checked | window s |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|")
    with simulator(36000.0, 0.0, latency=0.2) as base:
        sides = (("none", None, 1.0), (f"{limit:g}", limit, args.time_scale))
        for label, limit_per_s, scale in sides:
            r = _run_worker("ceiling", base=base, jobs=args.ceiling_jobs, scale=scale,
                            ceiling=limit_per_s, measure=args.measure)  # fmt: skip
            print(
                f"| {label} | {r['polls_per_s']:.0f} | {r['lag_p50']:.1f} | {r['lag_p99']:.1f} | "
                f"{r['longest_wait']:.1f} | {r['longest_gap']:.1f} | "
                f"{r['checked']} of {args.ceiling_jobs} | {r['window_s']:.0f} |",
                flush=True,
            )


def restart(args: argparse.Namespace) -> None:
    print(
        f"\n## Restart with {args.restart_jobs} unfinished jobs, all due while the bot was down\n"
    )
    print("| strategy | time to first pass s | polls resumed | first s | last s | busiest second |")
    print("|---|---|---|---|---|---|")
    with simulator(3600.0, 0.0) as base:
        for spread, label in ((False, "no spread (before)"), (True, "spread")):
            r = _run_worker("restart", base=base, jobs=args.restart_jobs, spread=spread)
            print(
                f"| {label} | {r['ready_s']:.2f} | {r['polled']} | {r['first_s']:.2f} | "
                f"{r['last_s']:.2f} | {r['busiest_second']} |",
                flush=True,
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-scale", type=float, default=10.0)
    parser.add_argument("--songs", type=int, default=100)
    parser.add_argument("--capacity", type=lambda s: [int(x) for x in s.split(",")],
                        default=[1000, 5000, 10000])  # fmt: skip
    parser.add_argument("--measure", type=float, default=15.0)
    parser.add_argument("--restart-jobs", type=int, default=1000)
    parser.add_argument("--ceiling-jobs", type=int, default=10000)
    # Polls/s for the ceiling section; unset: the product's default.
    parser.add_argument("--ceiling", type=float, default=None)
    parser.add_argument("--skip", default="")
    parser.add_argument("--worker")
    parser.add_argument("--options")
    args = parser.parse_args()
    if args.worker:
        _worker(args.worker, json.loads(args.options))
        return
    skip = set(args.skip.split(","))
    os.environ.setdefault("PYTHONHASHSEED", "0")
    if "lag" not in skip:
        polls_and_lag(args)
    if "capacity" not in skip:
        capacity(args)
    if "ceiling" not in skip:
        ceiling(args)
    if "restart" not in skip:
        restart(args)


if __name__ == "__main__":
    main()
