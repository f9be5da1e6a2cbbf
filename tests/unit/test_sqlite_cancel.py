"""A transaction cancelled at any await (a stopping scheduler cancels its tasks) leaves the
SQLite connection usable: the next transaction starts, and nothing of the cancelled one lands."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.store.database import Database


@pytest.mark.parametrize("yields", [0, 1, 2, 3])
async def test_a_cancelled_transaction_leaves_the_connection_usable(
    tmp_path: Path, yields: int
) -> None:
    db = await Database.open(tmp_path / "c.db")
    try:

        async def write() -> None:
            async with db.transaction() as conn:
                await conn.execute("INSERT INTO upstream_pause (name, until_at) VALUES ('x', 1)")

        task = asyncio.create_task(write())
        for _ in range(yields):  # cancelled while BEGIN, the INSERT or COMMIT is queued
            await asyncio.sleep(0)
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass
        async with db.transaction() as conn:  # raised "cannot start a transaction within a
            await conn.execute("DELETE FROM upstream_pause")  # transaction" before the fix
            await conn.execute("INSERT INTO upstream_pause (name, until_at) VALUES ('y', 2)")
        async with db.read() as conn:
            cursor = await conn.execute("SELECT name FROM upstream_pause")
            assert [row[0] for row in await cursor.fetchall()] == ["y"]
    finally:
        await db.close()
