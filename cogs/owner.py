"""/musicbot: the bot owner's commands."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.features import FEATURES, Features
from bot.interactions.gate import ACK_PRIVATE
from bot.interactions.permissions import owner_only
from bot.interactions.replies import answer
from bot.musicapi.errors import MusicAPIError
from bot.observability.status import StatusFacts
from bot.observability.status import render as render_status
from bot.store import jobs as job_sql
from bot.validation.choices import required_choice

if TYPE_CHECKING:
    from bot.app import MusicBot

FEATURE_CHOICES = [app_commands.Choice(name=f.title, value=f.name) for f in FEATURES.values()]
ON_OFF = [app_commands.Choice(name="on", value="on"), app_commands.Choice(name="off", value="off")]


# Default permissions only hide the commands; a server can change them, so every command
# here also checks for the owner when it runs.
@app_commands.default_permissions(administrator=True)
class Owner(
    commands.GroupCog,
    group_name="musicbot",
    group_description="Bot owner only",
    group_extras=ACK_PRIVATE,
):
    def __init__(self, bot: MusicBot) -> None:
        self.bot = bot
        self.features = Features(bot.db, clock=bot.clock)
        super().__init__()

    @app_commands.command(name="sync", description="Register the slash commands with Discord")
    @owner_only()
    @app_commands.describe(
        scope="global (all servers, may take a while), this server only, or remove this "
        "server's copies once the global ones show"
    )
    @app_commands.choices(
        scope=[
            app_commands.Choice(name="global", value="global"),
            app_commands.Choice(name="this server", value="here"),
            app_commands.Choice(name="clear this server's copies", value="clear-here"),
        ]
    )
    async def sync(
        self, interaction: discord.Interaction, scope: app_commands.Choice[str] | None = None
    ) -> None:
        chosen = scope.value if scope is not None else "global"
        if chosen == "clear-here" and interaction.guild is not None:
            await interaction.followup.send(
                await self._clear_server_copies(interaction.guild), ephemeral=True
            )
            return
        if chosen == "here" and interaction.guild is not None:
            self.bot.tree.copy_global_to(guild=interaction.guild)
            count = len(await self.bot.tree.sync(guild=interaction.guild))
        else:
            count = len(await self.bot.tree.sync())
        await interaction.followup.send(f"Synced {count} command(s).", ephemeral=True)

    async def _clear_server_copies(self, guild: discord.abc.Snowflake) -> str:
        """After going global, a server that also has its own copies shows every command
        twice. Removing the copies is refused while no global commands exist: it would take
        away the last /musicbot there too."""
        if not await self.bot.tree.fetch_commands():
            return (
                "No global commands are registered yet, so this server's copies stay: run "
                "`/musicbot sync scope:global` first, wait until the commands show up "
                "everywhere, then clear this server's copies."
            )
        self.bot.tree.clear_commands(guild=guild)
        await self.bot.tree.sync(guild=guild)
        return (
            "Removed this server's copies of the commands; the global ones remain. Discord may "
            "take a moment to refresh the list."
        )

    @app_commands.command(name="status", description="Health, upstream credits, jobs, version")
    @owner_only()
    async def status(self, interaction: discord.Interaction) -> None:
        bot, ops = self.bot, self.bot.ops
        try:
            credits = await bot.musicapi.get_credits()
            ops.upstream.credits_seen(credits)
            balance = f"{credits.credits:g} monthly + {credits.extra_credits:g} extra"
        except MusicAPIError as error:
            balance = f"unavailable ({type(error).__name__})"
        async with bot.db.read() as conn:
            counts = await job_sql.count_unfinished(conn)
        jobs: dict[str, int] = {}
        for state, _family, count in counts:
            jobs[state] = jobs.get(state, 0) + count
        orphans = await bot.jobs.count_orphans()
        facts = StatusFacts(
            version=bot.version,
            mode="simulator" if bot.settings.musicapi_simulate else "live",
            uptime_s=ops.uptime_s(),
            gateway_latency_s=ops.gateway_latency(),
            shards=_shards(bot),
            servers=len(bot.guilds),
            database=ops.database_backend(),
            jobs_by_state=jobs,
            webhooks=ops.webhook_mode(),
            balance=balance,
            orphans=orphans,
            last_upstream_error=ops.upstream.last_error,
            features=await self._feature_summary(),
        )
        await interaction.followup.send(render_status(facts), ephemeral=True)

    @app_commands.command(name="feature", description="Turn an optional command family on or off")
    @owner_only()
    @app_commands.describe(
        name="The family (off by default because upstream retired it)",
        state="on: members may use it (and spend credits on it); off: it refuses",
    )
    @app_commands.choices(name=FEATURE_CHOICES, state=ON_OFF)
    async def feature(
        self,
        interaction: discord.Interaction,
        # Plain strings with choices: a value outside them gets a refusal naming the option.
        name: str,
        state: str,
    ) -> None:
        chosen = FEATURES[required_choice("name", name, FEATURES)]
        enabled = required_choice("state", state, ("on", "off")) == "on"
        changed = await self.features.set(chosen.name, enabled, interaction.user.id)
        now = "on" if enabled else "off"
        head = f"{chosen.title} is {'now' if changed else 'already'} {now}"
        effect = (
            f"`/{chosen.name}` works in every server, through each server's quota."
            if enabled
            else f"`/{chosen.name}` refuses in every server."
        )
        await answer(interaction, f"{head}: {effect}\nFeatures: {await self._feature_summary()}.")

    async def _feature_summary(self) -> str:
        states = await self.features.states()
        return ", ".join(f"{name} {'on' if on else 'off'}" for name, on in states.items())


def _shards(bot: commands.AutoShardedBot) -> str:
    """`0, 1 of 4` for a process running a range; `all 2` when it runs every shard."""
    count = bot.shard_count or 1
    if bot.shard_ids:
        return f"{', '.join(str(i) for i in bot.shard_ids)} of {count}"
    return f"all {count}"


async def setup(bot: MusicBot) -> None:
    await bot.add_cog(Owner(bot))
