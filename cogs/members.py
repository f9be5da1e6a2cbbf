"""/credits and /queue: where a member stands and what the server is making."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.delivery.embeds import STATE_LABELS, clean
from bot.quota.ledger import describe_reset

if TYPE_CHECKING:
    from bot.app import MusicBot

PERIOD_WORDS = {"day": "today", "week": "this week", "month": "this month", "none": "in total"}
QUEUE_SHOWN = 20


class Members(commands.Cog):
    def __init__(self, bot: MusicBot) -> None:
        self.bot = bot

    @app_commands.command(name="credits", description="What you and this server can still spend")
    @app_commands.guild_only()
    async def credits(self, interaction: discord.Interaction) -> None:
        assert interaction.guild_id is not None
        status = await self.bot.quota.status(interaction.guild_id, interaction.user.id)
        when = PERIOD_WORDS[status.period]
        cost = self.bot.jobs.cost_of("create_music")
        embed = discord.Embed(title="Credits", colour=discord.Colour.blurple())
        embed.add_field(
            name="Server budget",
            value=f"**{status.remaining}** of {status.budget} credits left {when}",
            inline=False,
        )
        embed.add_field(
            name="You", value=f"{status.member_spent or 0} credits spent {when}", inline=False
        )
        embed.add_field(name="Resets", value=describe_reset(status.resets_at), inline=False)
        embed.set_footer(text=f"A new song (/song create) costs {cost} credits.")
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @app_commands.command(name="queue", description="This server's songs in progress")
    @app_commands.guild_only()
    async def queue(self, interaction: discord.Interaction) -> None:
        assert interaction.guild_id is not None
        jobs = await self.bot.jobs.in_flight(interaction.guild_id)
        if not jobs:
            await interaction.response.send_message(
                "Nothing is being made right now.", ephemeral=True
            )
            return
        lines = []
        for job in jobs[:QUEUE_SHOWN]:
            icon, label = STATE_LABELS.get(job.state, ("⏳", job.state))
            summary = clean(job.summary.splitlines()[0] if job.summary else job.operation, 80)
            lines.append(
                f"{icon} **#{job.id}** {summary} — <@{job.user_id}>, {label.lower()}, "
                f"started <t:{int(job.created_at)}:R>"
            )
        if len(jobs) > QUEUE_SHOWN:
            lines.append(f"…and {len(jobs) - QUEUE_SHOWN} more.")
        embed = discord.Embed(
            title=f"In progress ({len(jobs)})",
            description="\n".join(lines),
            colour=discord.Colour.blurple(),
        )
        await interaction.response.send_message(embed=embed, ephemeral=True)


async def setup(bot: MusicBot) -> None:
    await bot.add_cog(Members(bot))
