"""What /healthz checks: the Discord gateway, the database, the job scheduler loop.

Healthy means all three at once: every gateway shard this process runs is connected, the
database answers a trivial query within a couple of seconds, and the scheduler loop has
finished a pass recently. Anything else is unhealthy, with one reason per failed check, so
that `docker inspect` or a load balancer's log says what is wrong.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import discord
from discord.ext import commands

# The scheduler loop wakes at least once a minute even when idle (and after each due job), so
# three minutes without a pass means it is stuck, not resting.
SCHEDULER_STALE_S = 180.0
DB_TIMEOUT_S = 2.0


class GatewayWatch:
    """Which gateway shards are connected, from discord.py's connect/disconnect events.

    A plain client is one shard (id 0) and gets `connect`/`disconnect`/`resumed`; an
    `AutoShardedClient` gets the `shard_*` events with the shard's id, which are the ones
    that count there (its plain `disconnect` does not say which shard dropped). Its shards
    are known only once it has connected (Discord may choose the count), so they are read
    from the client at each check.
    """

    def __init__(self) -> None:
        self._up: dict[int, bool] = {}
        self._client: discord.Client | None = None

    def attach(self, client: commands.Bot | commands.AutoShardedBot) -> None:
        self._client = client
        if isinstance(client, discord.AutoShardedClient):
            client.add_listener(self._shard_up, "on_shard_connect")
            client.add_listener(self._shard_up, "on_shard_resumed")
            client.add_listener(self._shard_down, "on_shard_disconnect")
        else:
            client.add_listener(self._up0, "on_connect")
            client.add_listener(self._up0, "on_resumed")
            client.add_listener(self._down0, "on_disconnect")

    def expected(self) -> tuple[int, ...]:
        client = self._client
        if isinstance(client, discord.AutoShardedClient):
            if client.shard_ids:
                return tuple(client.shard_ids)
            return tuple(range(client.shard_count or 1))
        return (0,)

    async def _up0(self) -> None:
        self._up[0] = True

    async def _down0(self) -> None:
        self._up[0] = False

    async def _shard_up(self, shard_id: int) -> None:
        self._up[shard_id] = True

    async def _shard_down(self, shard_id: int) -> None:
        self._up[shard_id] = False

    def down_shards(self) -> list[int]:
        return [shard for shard in self.expected() if not self._up.get(shard, False)]


@dataclass(frozen=True, slots=True)
class HealthReport:
    healthy: bool
    reasons: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, object]:
        return {"status": "ok" if self.healthy else "unhealthy", "reasons": self.reasons}


async def check(
    gateway: GatewayWatch,
    ping_database: Callable[[], Awaitable[object]],
    seconds_since_scheduler_pass: Callable[[], float | None],
    *,
    scheduler_stale_s: float = SCHEDULER_STALE_S,
    db_timeout_s: float = DB_TIMEOUT_S,
) -> HealthReport:
    reasons: list[str] = []
    down = gateway.down_shards()
    if down:
        shards = ", ".join(str(s) for s in down)
        reasons.append(f"gateway: not connected (shard {shards})")
    try:
        await asyncio.wait_for(ping_database(), timeout=db_timeout_s)
    except TimeoutError:
        reasons.append(f"database: no answer within {db_timeout_s:g} s")
    except Exception as error:  # any driver's error: the point is that it did not answer
        reasons.append(f"database: {type(error).__name__}")
    age = seconds_since_scheduler_pass()
    if age is None:
        reasons.append("scheduler: has not run yet")
    elif age > scheduler_stale_s:
        reasons.append(f"scheduler: last pass {age:.0f} s ago")
    return HealthReport(healthy=not reasons, reasons=reasons)
