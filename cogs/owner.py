"""/musicbot: the bot owner's commands."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.musicapi.errors import MusicAPIError
from bot.permissions import require_owner

if TYPE_CHECKING:
    from bot.app import MusicBot


@app_commands.default_permissions(administrator=True)
class Owner(commands.GroupCog, group_name="musicbot", group_description="Bot owner only"):
    def __init__(self, bot: MusicBot) -> None:
        self.bot = bot
        super().__init__()

    @app_commands.command(name="sync", description="Register the slash commands with Discord")
    @app_commands.describe(scope="global (all servers, may take a while) or this server only")
    @app_commands.choices(
        scope=[
            app_commands.Choice(name="global", value="global"),
            app_commands.Choice(name="this server", value="here"),
        ]
    )
    async def sync(
        self, interaction: discord.Interaction, scope: app_commands.Choice[str] | None = None
    ) -> None:
        await require_owner(self.bot, interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        if scope is not None and scope.value == "here" and interaction.guild is not None:
            self.bot.tree.copy_global_to(guild=interaction.guild)
            count = len(await self.bot.tree.sync(guild=interaction.guild))
        else:
            count = len(await self.bot.tree.sync())
        await interaction.followup.send(f"Synced {count} command(s).", ephemeral=True)

    @app_commands.command(name="status", description="Upstream credits, jobs in flight, version")
    async def status(self, interaction: discord.Interaction) -> None:
        await require_owner(self.bot, interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            credits = await self.bot.musicapi.get_credits()
            balance = f"{credits.credits:g} monthly + {credits.extra_credits:g} extra"
        except MusicAPIError as error:
            balance = f"unavailable ({type(error).__name__})"
        in_flight = await self.bot.jobs.count_in_flight()
        mode = "simulator" if self.bot.settings.musicapi_simulate else "live"
        await interaction.followup.send(
            f"MusicAPI credits: {balance}\nJobs in flight: {in_flight}\n"
            f"Version {self.bot.version} ({mode}), {len(self.bot.guilds)} server(s).",
            ephemeral=True,
        )


async def setup(bot: MusicBot) -> None:
    await bot.add_cog(Owner(bot))
