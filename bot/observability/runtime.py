"""The bot's operations side, started with it and stopped with it (`bot.ops`).

Created in `MusicBot.__init__` (discord.py needs the 429 trace before it opens its HTTP
session), started in `setup_hook` once the database and the MusicAPI client exist. The
/metrics and /healthz server may already listen by then (`server`, handed over by the entry
point, which starts it first thing): it then switches from start-up's answers to these.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

import discord

from bot.observability import alerts, health, metrics
from bot.observability.alerts import OwnerAlerts
from bot.observability.discord_limits import DiscordRateLimits
from bot.observability.health import GatewayWatch, HealthReport
from bot.observability.loop_lag import watch_loop_lag
from bot.observability.server import MetricsServer
from bot.observability.upstream import UpstreamWatch
from bot.store import jobs as job_sql

if TYPE_CHECKING:
    from bot.app import MusicBot

log = logging.getLogger(__name__)

CREDITS_FIRST_CHECK_S = 60.0  # after start-up, which checks the key and balance itself
CREDITS_CHECK_S = 600.0  # a free request; often enough to see a balance fall
OUTAGE_CHECK_S = 60.0  # while MusicAPI is down, look more often to time the outage


class Observability:
    def __init__(self, bot: MusicBot, discord_limits: DiscordRateLimits) -> None:
        self.bot = bot
        self.started_at = time.time()
        self.gateway = GatewayWatch()
        self.upstream = UpstreamWatch(credits_low=bot.settings.credits_low)
        self.discord_limits = discord_limits
        self.alerts = OwnerAlerts(self._send_alert)
        self.server: MetricsServer | None = None
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        bot = self.bot
        alerts.install(self.alerts)
        bot.musicapi.observer = self.upstream.observe
        self.gateway.attach(bot)
        # Labels are public to whoever can scrape: the fact webhooks are on, not the address.
        webhooks = "on" if bot.settings.webhook_public_url else "off"
        metrics.INFO.labels(bot.version, self.database_backend(), webhooks).set(1)
        self._spawn(watch_loop_lag(), "event-loop-lag")
        self._spawn(self._watch_credits(), "credit-watch")
        listen = bot.settings.metrics_listen
        if self.server is not None:
            # Started with the process (`python -m bot`), answering for start-up until now.
            self.server.serve(health=self.health, refresh=self.refresh_gauges)
        elif listen is not None:
            self.server = MetricsServer(
                listen[0], listen[1], health=self.health, refresh=self.refresh_gauges
            )
            await self.server.start()

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        if self.server is not None:
            await self.server.stop()
            self.server = None
        await self.alerts.drain()
        alerts.install(None)

    def _spawn(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        self._tasks.append(asyncio.create_task(coro, name=name))

    # -- health and gauges ------------------------------------------------------------------

    async def health(self) -> HealthReport:
        return await health.check(self.gateway, self._ping_database, self._scheduler_age)

    async def _ping_database(self) -> None:
        async with self.bot.db.read() as conn:
            cursor = await conn.execute("SELECT 1")
            await cursor.fetchone()

    def _scheduler_age(self) -> float | None:
        scheduler = getattr(self.bot, "scheduler", None)
        last = getattr(scheduler, "last_pass_at", None)
        return None if last is None else time.monotonic() - last

    async def refresh_gauges(self) -> None:
        """Values read at scrape time: jobs by state and family, gateway latency."""
        async with self.bot.db.read() as conn:
            counts = await job_sql.count_unfinished(conn)
        metrics.JOBS.clear()
        for state, family, count in counts:
            metrics.JOBS.labels(state, family).set(count)
        latency = self.gateway_latency()
        if latency is not None:
            metrics.GATEWAY_LATENCY.set(latency)

    # -- facts for /musicbot status ---------------------------------------------------------

    def uptime_s(self) -> float:
        return time.time() - self.started_at

    def gateway_latency(self) -> float | None:
        """The worst shard's heartbeat latency; None before the first heartbeat."""
        latencies = [lat for _, lat in getattr(self.bot, "latencies", [])] or [self.bot.latency]
        known = [lat for lat in latencies if lat == lat and lat != float("inf")]  # NaN, inf
        return max(known) if known else None

    def database_backend(self) -> str:
        return "sqlite" if self.bot.settings.postgres_url is None else "postgresql"

    def webhook_mode(self) -> str:
        public = self.bot.settings.webhook_public_url
        return f"on ({public})" if public else "off (polling)"

    # -- background watches -----------------------------------------------------------------

    async def _watch_credits(self) -> None:
        await asyncio.sleep(CREDITS_FIRST_CHECK_S)
        while True:
            await self.upstream.check_credits(self.bot.musicapi)
            down = self.upstream.down_since is not None
            await asyncio.sleep(OUTAGE_CHECK_S if down else CREDITS_CHECK_S)

    async def _send_alert(self, text: str) -> None:
        settings = self.bot.settings
        mentions = discord.AllowedMentions.none()
        if settings.owner_alert_channel_id is not None:
            channel = self.bot.get_partial_messageable(settings.owner_alert_channel_id)
            await channel.send(text, allowed_mentions=mentions)
            return
        owner_id = settings.alert_owner_id or await self._application_owner()
        if owner_id is None:
            log.warning("no owner to alert: set OWNER_ALERT_CHANNEL_ID or OWNER_IDS")
            return
        dm = await self.bot.create_dm(discord.Object(owner_id))
        await dm.send(text, allowed_mentions=mentions)

    async def _application_owner(self) -> int | None:
        info = await self.bot.application_info()
        if info.team is not None and info.team.owner_id is not None:
            return info.team.owner_id
        return info.owner.id
