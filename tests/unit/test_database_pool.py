"""DATABASE_POOL_SIZE: the most PostgreSQL connections one process holds at once."""

from __future__ import annotations

import asyncio
import time

from bot.store.database import Database

HOLD_S = 0.1


async def busiest(db: Database, statements: int) -> tuple[int, float]:
    """Run `statements` queries at once, each holding its connection for HOLD_S; returns the
    most statements PostgreSQL saw running together in this database, and the time taken."""

    async def one() -> int:
        async with db.read() as conn:
            rows = await conn.execute_fetchall(
                """SELECT pg_sleep(?), (SELECT count(*) FROM pg_stat_activity
                   WHERE datname = current_database() AND state = 'active')""",
                (HOLD_S,),
            )
            return int(rows[0][1])

    started = time.monotonic()
    seen = await asyncio.gather(*(one() for _ in range(statements)))
    return max(seen), time.monotonic() - started


async def test_the_pool_never_holds_more_than_its_size(pg_url: str) -> None:
    db = await Database.open(pg_url, pool_size=3)
    try:
        most, took = await busiest(db, 12)
    finally:
        await db.close()
    assert 1 <= most <= 3
    # Twelve statements three at a time: four rounds at least.
    assert took >= 4 * HOLD_S
