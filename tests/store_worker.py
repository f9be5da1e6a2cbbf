"""A separate OS process that uses the store, for the multi-process tests.

    python -m tests.store_worker migrate TARGET
    python -m tests.store_worker reserve TARGET GUILD COUNT COST BUDGET [DAILY_CAP]

Each prints `ready` once it is set up, waits for a line on stdin (so that every process
starts its work at the same moment), does the work, and prints one JSON line. The tests start
them with `run_together`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
import time
from pathlib import Path

from bot.errors import QuotaRefused
from bot.quota.costs import CostTable
from bot.quota.ledger import Quota
from bot.states import BudgetPeriod
from bot.store.database import Database
from bot.store.jobs import NewJob

ROOT = Path(__file__).resolve().parents[1]


async def run_together(commands: list[list[str]]) -> list[dict[str, object]]:
    """Start a worker per command, wait until all are ready, release them at the same
    moment, and return their results (each worker must exit 0)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    pipe = asyncio.subprocess.PIPE
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.store_worker",
            *command,
            env=env,
            cwd=ROOT,
            stdin=pipe,
            stdout=pipe,
            stderr=pipe,
        )
        for command in commands
    ]
    for proc in procs:
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), 60)
        if line.strip() != b"ready":
            _, err = await proc.communicate()
            raise AssertionError(f"worker did not start: {line!r} {err.decode()}")
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write(b"go\n")
        await proc.stdin.drain()
    results = []
    for proc in procs:
        out, err = await asyncio.wait_for(proc.communicate(), 120)
        assert proc.returncode == 0, err.decode()
        results.append(json.loads(out.decode().strip().splitlines()[-1]))
    return results


class _Applied(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.names: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("applying database migration"):
            self.names.append(str(record.args[0]) if record.args else record.getMessage())


def _wait_for_go() -> None:
    print("ready", flush=True)
    sys.stdin.readline()


async def migrate(target: str) -> dict[str, object]:
    applied = _Applied()
    for name in ("bot.store.sqlite", "bot.store.postgres"):
        logger = logging.getLogger(name)
        logger.setLevel(logging.INFO)
        logger.addHandler(applied)
    _wait_for_go()
    db = await Database.open(target)
    await db.close()
    return {"applied": applied.names}


async def reserve(
    target: str, guild: int, count: int, cost: int, budget: int, cap: int | None = None
) -> dict[str, object]:
    db = await Database.open(target)
    quota = Quota(
        db, CostTable(), default_budget=budget, default_period=BudgetPeriod.MONTH, clock=time.time,
        daily_cap=cap,
    )  # fmt: skip
    base = os.getpid() * 1000  # distinct members in every process: only the budget limits
    jobs = [
        NewJob(
            guild_id=guild,
            channel_id=1,
            user_id=base + n,
            operation="create_music",
            request={"n": n},
            summary="race",
            cost=cost,
        )
        for n in range(count)
    ]
    _wait_for_go()
    results = await asyncio.gather(*(quota.reserve(job) for job in jobs), return_exceptions=True)
    await db.close()
    errors = [repr(r) for r in results if isinstance(r, BaseException)]
    return {
        "granted": sum(isinstance(r, int) for r in results),
        "refused": sum(isinstance(r, QuotaRefused) for r in results),
        "errors": [e for e in errors if "QuotaRefused" not in e],
    }


def main() -> None:
    command, target, *rest = sys.argv[1:]
    if command == "migrate":
        result = asyncio.run(migrate(target))
    else:
        guild, count, cost, budget, *cap = (int(value) for value in rest)
        result = asyncio.run(reserve(target, guild, count, cost, budget, *cap))
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
