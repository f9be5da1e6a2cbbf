"""/quota: moderators run their server's share of the owner's MusicAPI credit."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.config import BUDGET_PERIODS, BudgetPeriod
from bot.errors import InputError
from bot.permissions import require_moderator
from bot.quota.ledger import describe_reset

if TYPE_CHECKING:
    from bot.app import MusicBot

MAX_BUDGET = 10_000_000


@app_commands.guild_only()
@app_commands.default_permissions(manage_guild=True)
class QuotaCog(
    commands.GroupCog, group_name="quota", group_description="Moderators: credit quotas"
):
    def __init__(self, bot: MusicBot) -> None:
        self.bot = bot
        super().__init__()

    @app_commands.command(name="budget", description="Set how many credits this server may spend")
    @app_commands.describe(amount="Credits per period", period="How often the budget resets")
    @app_commands.choices(period=[app_commands.Choice(name=p, value=p) for p in BUDGET_PERIODS])
    async def budget(
        self,
        interaction: discord.Interaction,
        amount: int,
        period: app_commands.Choice[str],
    ) -> None:
        require_moderator(interaction)
        if not 0 <= amount <= MAX_BUDGET:
            raise InputError("amount", f"must be between 0 and {MAX_BUDGET}.")
        assert interaction.guild_id is not None
        chosen: BudgetPeriod = period.value  # type: ignore[assignment]
        status = await self.bot.quota.set_budget(
            interaction.guild_id, amount, chosen, interaction.user.id
        )
        per = "in total" if chosen == "none" else f"per {chosen}"
        await interaction.response.send_message(
            f"Budget set to **{amount}** credits {per}. {status.spent} already spent this "
            f"period, {status.remaining} left. {describe_reset(status.resets_at)} "
            "Jobs already running are not affected.",
            ephemeral=True,
        )


async def setup(bot: MusicBot) -> None:
    await bot.add_cog(QuotaCog(bot))
