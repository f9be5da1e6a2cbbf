"""The bot: owns the shared resources and wires command → quota → job → delivery."""

from __future__ import annotations

import asyncio
import logging
import pkgutil
import secrets
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import aiohttp
import discord
from discord.ext import commands

from bot import __version__
from bot.community import CommunityRequests
from bot.config import Settings
from bot.delivery.interrupted import OpenReplies
from bot.delivery.poster import DiscordPoster
from bot.delivery.safe_http import MediaFetcher, MediaPolicy
from bot.interactions.buttons import ClipAction, clip_view
from bot.interactions.file_reads import FileReadLimit
from bot.interactions.gate import MusicTree
from bot.jobs.scheduler import DEFAULT_CONCURRENCY, Scheduler
from bot.jobs.service import JobService
from bot.musicapi.client import MusicAPIClient
from bot.observability.discord_limits import DiscordRateLimits
from bot.observability.logs import add_secret
from bot.observability.runtime import Observability
from bot.quota.admin import QuotaAdmin
from bot.quota.costs import CostTable
from bot.quota.ledger import Quota
from bot.quota.owner import OwnerCeilings
from bot.store import webhooks as webhook_sql
from bot.store.database import Database
from bot.webhooks.address import Addresses
from bot.webhooks.receiver import WebhookReceiver

if TYPE_CHECKING:
    from bot.simulator import MusicAPISimulator

log = logging.getLogger(__name__)
# How long a stop waits for submits already on their way to MusicAPI.
SUBMIT_DRAIN_S = 4.0

# The bot never joins voice, so discord.py's start-up warnings about missing voice libraries
# (PyNaCl, davey) would only alarm an owner reading the log.
discord.VoiceClient.warn_nacl = False
discord.VoiceClient.warn_dave = False


def extensions() -> list[str]:
    """Every module in cogs/ is one command family with a setup(): adding a family is adding
    a file."""
    import cogs

    return sorted(f"cogs.{m.name}" for m in pkgutil.iter_modules(cogs.__path__) if not m.ispkg)


def _shard_options(settings: Settings) -> dict[str, Any]:
    """AutoShardedBot's shard_count/shard_ids, only when SHARD_COUNT was configured."""
    if settings.shard_count is None:
        return {}
    return {"shard_count": settings.shard_count, "shard_ids": list(settings.shard_ids or ())}


class MusicBot(commands.AutoShardedBot):
    # Created in setup_hook; typed here so cogs can rely on them.
    http_session: aiohttp.ClientSession
    musicapi_session: aiohttp.ClientSession
    # Every download of a file MusicAPI points at: public https:// (and MEDIA_HOSTS) only.
    media: MediaFetcher
    db: Database
    musicapi: MusicAPIClient
    quota: Quota
    quota_admin: QuotaAdmin
    file_reads: FileReadLimit
    owner_ceilings: OwnerCeilings
    scheduler: Scheduler
    jobs: JobService
    open_replies: OpenReplies
    requests: CommunityRequests
    ops: Observability

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Callable[[], float] = time.time,
        guild_ready_timeout: float = 2.0,
    ) -> None:
        # Made before discord.py's HTTP session, which counts Discord's 429s through its trace.
        discord_limits = DiscordRateLimits()
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=discord.Intents.default(),
            # Nothing the bot says pings anyone unless a message opts in for its requester.
            allowed_mentions=discord.AllowedMentions.none(),
            tree_cls=MusicTree,
            help_command=None,
            owner_ids=set(settings.owner_ids) or None,
            guild_ready_timeout=guild_ready_timeout,
            # Neither set: discord.py asks Discord how many shards and runs them all here.
            **_shard_options(settings),
            http_trace=discord_limits.trace_config(),
        )
        self.settings = settings
        self.clock = clock
        self.version = __version__
        self.simulator: MusicAPISimulator | None = None
        self.ops = Observability(self, discord_limits)
        # Set once setup_hook begins: from then on a failed login cannot simply be retried.
        self.setup_started = False
        self.webhook_receiver: WebhookReceiver | None = None

    async def setup_hook(self) -> None:
        self.setup_started = True
        settings = self.settings
        self.http_session = aiohttp.ClientSession()
        self.db = await Database.open(settings.database, pool_size=settings.database_pool_size)

        base_url, key = settings.musicapi_base_url, settings.musicapi_key or ""
        if settings.musicapi_simulate:
            # Imported here, not at the top: a live bot never loads the simulator.
            from bot.simulator import MusicAPISimulator, SimulatorConfig

            self.simulator = MusicAPISimulator(
                SimulatorConfig(
                    generation_time=settings.simulator_generation_s, seed=settings.simulator_seed
                )
            )
            base_url, key = await self.simulator.start(), "simulated"
            log.info("MUSICAPI_SIMULATE=1: using the built-in MusicAPI simulator at %s", base_url)

        # Its own connection pool, sized for the scheduler's polls in flight (aiohttp's default
        # of 100 connections would cap polls near 100 ÷ round-trip time).
        self.musicapi_session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=DEFAULT_CONCURRENCY + 32)
        )
        self.musicapi = MusicAPIClient(self.musicapi_session, base_url, key)
        # The simulator's (or a test's) loopback MusicAPI serves its own files: the one
        # non-public address downloads may reach.
        self.media = MediaFetcher(MediaPolicy.for_musicapi(base_url, settings.media_hosts))
        addresses = await self._webhook_addresses()
        # With webhooks, a submit cut off before its answer waits this long for the webhook
        # that names its task (by then the task has surely finished) before it is released.
        orphan_hold_s = settings.job_timeout_s if addresses is not None else 0.0
        self.quota = Quota(
            self.db,
            CostTable(settings.cost_overrides),
            default_budget=settings.default_guild_budget,
            default_period=settings.default_budget_period,
            clock=self.clock,
            daily_cap=settings.owner_daily_cap,
        )
        self.quota_admin = QuotaAdmin(self.quota)
        self.file_reads = FileReadLimit(clock=self.clock)
        self.owner_ceilings = OwnerCeilings(self.quota)
        poster = DiscordPoster(self, self.db, self.media, clip_views=clip_view, clock=self.clock)
        self.scheduler = Scheduler(
            self.db,
            self.musicapi,
            poster,
            poll_interval=settings.poll_interval_s,
            job_timeout=settings.job_timeout_s,
            clock=self.clock,
            lease_s=settings.job_lease_s,
            target_lag=settings.poll_target_lag_s,
            push=addresses is not None,
            orphan_hold_s=orphan_hold_s,
            max_polls_per_s=settings.max_polls_per_s,
        )
        self.jobs = JobService(
            self.db,
            self.quota,
            self.musicapi,
            self.scheduler,
            poll_interval=settings.poll_interval_s,
            clock=self.clock,
            webhooks=addresses,
            orphan_hold_s=orphan_hold_s,
        )
        if addresses is not None:
            # Listening before the gateway connects: a webhook may arrive for a job an earlier
            # run submitted, and it is stored at once whatever Discord is doing.
            self.webhook_receiver = WebhookReceiver(
                self.db, addresses, self.scheduler, clock=self.clock
            )
            host, port = settings.webhook_listen
            port = await self.webhook_receiver.start(host, port)
            log.info("webhook receiver listening on %s:%d for %s", host, port, addresses.public_url)
        self.requests = CommunityRequests(self.db, self.jobs, clock=self.clock)
        await self.ops.start()
        # Registered before any message arrives, so buttons posted before a restart still work.
        self.add_dynamic_items(ClipAction)
        for extension in extensions():
            await self.load_extension(extension)
        if await self.sync_commands(settings.sync_commands) == 0:
            await self._hint_registration()
        # Resumes every unfinished job from the database: nothing is kept only in memory.
        self.scheduler.start()
        # Answers commands a crash or stop cut off after their "thinking…" (not jobs: above).
        self.open_replies = OpenReplies(self, self.db, clock=self.clock)
        self.open_replies.start()

    async def _webhook_addresses(self) -> Addresses | None:
        """With WEBHOOK_PUBLIC_URL: the secret (WEBHOOK_SECRET, or one made once and kept in
        the database) and the key of the per-job tokens (always made once and kept)."""
        public_url = self.settings.webhook_public_url
        if public_url is None:
            return None
        now = self.clock()
        async with self.db.transaction() as conn:
            secret = self.settings.webhook_secret or await webhook_sql.secret(
                conn, "webhook_secret", lambda: secrets.token_urlsafe(32), now
            )
            token_key = await webhook_sql.secret(
                conn, "webhook_token_key", lambda: secrets.token_hex(32), now
            )
        # Whether from WEBHOOK_SECRET or made here, it never appears in a log line.
        add_secret(secret)
        return Addresses(public_url, secret, bytes.fromhex(token_key))

    async def sync_commands(self, scope: str) -> int:
        """Register slash commands with Discord; returns how many were synced."""
        if scope == "none":
            return 0
        if scope == "guild":
            assert self.settings.dev_guild_id is not None
            guild = discord.Object(self.settings.dev_guild_id)
            self.tree.copy_global_to(guild=guild)
            synced = await self.tree.sync(guild=guild)
        else:
            synced = await self.tree.sync()
        log.info("synced %d command(s) (%s)", len(synced), scope)
        return len(synced)

    async def _hint_registration(self) -> None:
        """A start that registers nothing, with nothing registered before, is a dead end for
        a new owner (even /musicbot sync is missing): say how to get out of it."""
        if self.application_id is None:
            return  # not logged in (set-up driven by hand, as in tests)
        try:
            registered = await asyncio.wait_for(self.tree.fetch_commands(), 10)
        except (discord.HTTPException, TimeoutError):
            return  # cannot tell; stay quiet rather than guess
        if not registered:
            log.warning(
                "no slash commands are registered with Discord: start once with "
                "SYNC_COMMANDS=global (every server; can take a while to appear), or set "
                "DEV_GUILD_ID=<server id> for instant commands in one server"
            )

    async def on_ready(self) -> None:
        assert self.user is not None
        log.info(
            "ready as %s in %d server(s) on shard(s) %s of %s",
            self.user,
            len(self.guilds),
            ",".join(str(n) for n in sorted(self.shards)),
            self.shard_count,
        )
        # Servers that added the bot while it was stopped, or before ALLOWED_GUILDS was set.
        for guild in list(self.guilds):
            await self._leave_unless_allowed(guild)

    async def on_guild_join(self, guild: discord.Guild) -> None:
        await self._leave_unless_allowed(guild)

    async def _leave_unless_allowed(self, guild: discord.Guild) -> None:
        """ALLOWED_GUILDS keeps the bot to the owner's servers: it leaves any other one."""
        allowed = self.settings.allowed_guilds
        if allowed is None or guild.id in allowed:
            return
        try:
            await guild.leave()
        except discord.HTTPException as error:
            log.warning(
                "server %d is not in ALLOWED_GUILDS, but leaving it failed (%s); will try again "
                "at the next start",
                guild.id,
                type(error).__name__,
            )
            return
        log.warning("left server %d: it is not in ALLOWED_GUILDS", guild.id)

    async def close(self) -> None:
        if hasattr(self, "jobs"):
            # A submit cut off now would leave a possibly billed orphan: let it finish.
            left = await self.jobs.drain(SUBMIT_DRAIN_S)
            if left:
                log.warning(
                    "stopping with %d submit(s) unanswered by MusicAPI; they are settled at "
                    "the next start",
                    left,
                )
        if hasattr(self, "open_replies"):
            await self.open_replies.stop()
        if self.webhook_receiver is not None:
            await self.webhook_receiver.stop()
        if hasattr(self, "scheduler"):
            await self.scheduler.stop()  # hands this process's jobs to the others
        await self.ops.stop()
        try:
            await super().close()
        finally:
            # Even if the gateway side fails to close: an open database connection keeps
            # its worker thread, and with it the process, alive.
            if self.simulator is not None:
                await self.simulator.stop()
            if hasattr(self, "http_session"):
                await self.http_session.close()
            if hasattr(self, "musicapi_session"):
                await self.musicapi_session.close()
            if hasattr(self, "media"):
                await self.media.close()
            if hasattr(self, "db"):
                await self.db.close()
