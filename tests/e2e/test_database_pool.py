"""The bot opens its PostgreSQL pool with DATABASE_POOL_SIZE connections."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.unit.test_database_pool import HOLD_S, busiest


async def test_the_bot_holds_at_most_database_pool_size_connections(
    make_world: Callable[..., Any], pg_url: str
) -> None:
    async with make_world(DATABASE_URL=pg_url, DATABASE_POOL_SIZE="2") as world:
        most, took = await busiest(world.bot.db, 8)
    # The scheduler's own statements share the same two connections (LISTEN has its own,
    # idle one): never more than two run at once, so eight take four rounds at least.
    assert 1 <= most <= 2
    assert took >= 4 * HOLD_S
