"""/credits and /queue: where a member stands and what the server is making."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.delivery.embeds import STATE_LABELS, clean
from bot.interactions.gate import ACK_PRIVATE
from bot.interactions.jobs import role_ids_of
from bot.interactions.replies import answer
from bot.markdown import Markdown, shorten
from bot.periods import current_window
from bot.quota.limits import describe_reset, spendable
from bot.states import BudgetPeriod

if TYPE_CHECKING:
    from bot.app import MusicBot

PERIOD_WORDS = {"day": "today", "week": "this week", "month": "this month", "none": "in total"}
QUEUE_SHOWN = 20


class Members(commands.Cog):
    def __init__(self, bot: MusicBot) -> None:
        self.bot = bot

    @app_commands.command(
        name="credits", description="What you and this server can still spend", extras=ACK_PRIVATE
    )
    @app_commands.guild_only()
    async def credits(self, interaction: discord.Interaction) -> None:
        assert interaction.guild_id is not None
        standing = await self.bot.quota.standing(
            interaction.guild_id, interaction.user.id, role_ids_of(interaction.user)
        )
        settings = standing.settings
        when = PERIOD_WORDS.get(settings.budget_period, "this period")
        # The truth about what can still be spent is the tightest of every limit a request is
        # held to. The owner's allowance is this server's own ceiling (its moderators see it
        # in /quota show, and a refusal names it), so it is shown when it binds. The daily cap
        # is the owner's, over every server: its size and what other servers spend are not a
        # member's to know, so only what is left of it today is shown, and only when that is
        # the tightest limit (then the headline figure reveals it anyway).
        cap_left = await self.bot.quota.daily_cap_left()
        tightest = spendable(standing, cap_left)
        embed = discord.Embed(
            title="Credits",
            description=f"You can spend **{tightest.amount}** more credits now.",
            colour=discord.Colour.blurple(),
        )
        embed.add_field(
            name="Server budget",
            value=f"**{standing.server_remaining}** of {settings.budget} credits left {when}",
            inline=False,
        )
        you = f"{standing.member_spent} credits spent {when}"
        if standing.member_allowance is not None:
            you = (
                f"**{standing.member_remaining}** of {standing.member_allowance} credits left "
                f"{when} ({standing.member_spent} spent"
                + (f", {standing.member_grants} granted" if standing.member_grants else "")
                + ")"
            )
        if standing.blocked:
            you += "\nA moderator has blocked you from making songs here."
        embed.add_field(name="You", value=you, inline=False)
        allowance, allowance_left = standing.allowance, standing.allowance_remaining
        if (
            allowance is not None
            and allowance_left is not None
            and allowance_left < standing.server_remaining
        ):
            window = standing.allowance_window
            resets = describe_reset(window.resets_at if window else None)
            if window is None or window.resets_at is None:
                resets = "It does not reset; only the bot's owner can raise it."
            embed.add_field(
                name="Owner's allowance",
                value=(
                    f"This server can spend **{allowance_left}** more under the allowance the "
                    f"bot's owner set for it ({allowance.describe()}). {resets}"
                ),
                inline=False,
            )
        if cap_left is not None and tightest.limit == "owner's daily cap":
            day = current_window(BudgetPeriod.DAY, self.bot.clock())
            embed.add_field(
                name="Every server together",
                value=(
                    f"The bot's owner limits what every server together may spend per day: "
                    f"**{cap_left}** credits are left today. {describe_reset(day.resets_at)}"
                ),
                inline=False,
            )
        if settings.member_jobs_cap is not None:
            embed.add_field(
                name="In progress",
                value=f"{standing.member_active} of {settings.member_jobs_cap} songs at once",
                inline=False,
            )
        embed.add_field(name="Resets", value=describe_reset(standing.resets_at), inline=False)
        cost = self.bot.jobs.cost_of("create_music")
        embed.set_footer(text=f"A new song (/song create) costs {cost} credits.")
        await answer(interaction, embed=embed)

    @app_commands.command(
        name="queue", description="This server's songs in progress", extras=ACK_PRIVATE
    )
    @app_commands.guild_only()
    async def queue(self, interaction: discord.Interaction) -> None:
        assert interaction.guild_id is not None
        jobs = await self.bot.jobs.in_flight(interaction.guild_id)
        if not jobs:
            await answer(interaction, "Nothing is being made right now.")
            return
        now = self.bot.clock()
        lines = []
        for job in jobs[:QUEUE_SHOWN]:
            icon, label = STATE_LABELS.get(job.state, ("⏳", job.state))
            # The summary's first line is the bot's own markdown (member text already escaped).
            first = job.summary.splitlines()[0] if job.summary else ""
            summary = shorten(Markdown(first), 100) if first else clean(job.operation, 80)
            minutes = max(0, int(now - job.created_at)) // 60
            lines.append(
                f"{icon} **#{job.id}** {summary} — <@{job.user_id}>, {label.lower()}, "
                f"running {minutes} min (since <t:{int(job.created_at)}:t>)"
            )
        if len(jobs) > QUEUE_SHOWN:
            lines.append(f"…and {len(jobs) - QUEUE_SHOWN} more.")
        embed = discord.Embed(
            title=f"In progress ({len(jobs)})",
            description="\n".join(lines),
            colour=discord.Colour.blurple(),
        )
        await answer(interaction, embed=embed)


async def setup(bot: MusicBot) -> None:
    await bot.add_cog(Members(bot))
