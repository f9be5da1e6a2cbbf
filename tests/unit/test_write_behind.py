"""Write-behind of "not done yet" poll results: whatever is added, even while a flush waits on
the database, is written, and its job becomes due again."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import pytest

from bot.jobs import write_behind
from bot.jobs.write_behind import WriteBehind


def stored_job(job_id: int) -> Any:
    """What `WriteBehind.add` reads of a job: its id and the lease it was read with."""
    return SimpleNamespace(id=job_id, owner="host:1:abc", lease_epoch=1)


class SlowDatabase:
    """A database whose first transaction waits until the test lets it go on."""

    def __init__(self) -> None:
        self.first_entered = asyncio.Event()
        self.go_on = asyncio.Event()
        self.transactions = 0

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[object]:
        self.transactions += 1
        if self.transactions == 1:
            self.first_entered.set()
            await self.go_on.wait()
        yield object()


async def test_a_result_added_while_a_flush_waits_is_written_too(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    written: list[list[int]] = []

    async def record_polls(conn: Any, rows: list[tuple[Any, ...]]) -> None:
        written.append([row[4] for row in rows])

    monkeypatch.setattr(write_behind.job_sql, "record_polls", record_polls)
    db = SlowDatabase()
    wakes = asyncio.Event()
    behind = WriteBehind(db, clock=lambda: 0.0, push=False, written=wakes.set)  # type: ignore[arg-type]

    behind.add(stored_job(1), "running", 10.0, 0.0, True)
    await db.first_entered.wait()  # the first flush now waits on the database
    behind.add(stored_job(2), "running", 10.0, 0.0, True)  # the flusher is still running
    assert behind.unwritten == {1, 2}
    db.go_on.set()

    async def both_written() -> None:
        while behind.unwritten:
            await wakes.wait()
            wakes.clear()

    await asyncio.wait_for(both_written(), timeout=5.0)
    assert written == [[1], [2]]
    await behind.stop()


async def test_a_failed_flush_lets_its_jobs_go_and_still_writes_what_came_after(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[list[int]] = []
    failed_once = asyncio.Event()

    async def record_polls(conn: Any, rows: list[tuple[Any, ...]]) -> None:
        calls.append([row[4] for row in rows])
        if len(calls) == 1:
            behind.add(stored_job(2), "running", 10.0, 0.0, True)  # arrives mid-flush
            failed_once.set()
            raise RuntimeError("database went away")

    monkeypatch.setattr(write_behind.job_sql, "record_polls", record_polls)
    db = SlowDatabase()
    db.go_on.set()
    wakes = asyncio.Event()
    behind = WriteBehind(db, clock=lambda: 0.0, push=False, written=wakes.set)  # type: ignore[arg-type]
    behind.add(stored_job(1), "running", 10.0, 0.0, True)

    await asyncio.wait_for(failed_once.wait(), timeout=5.0)
    await asyncio.wait_for(wakes.wait(), timeout=5.0)  # the second flush went through
    assert calls == [[1], [2]] and not behind.unwritten
    await behind.stop()
