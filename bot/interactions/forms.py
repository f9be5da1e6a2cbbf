"""The base of every form (Discord modal).

A submitted form passes the same gate as a slash command (`MusicTree.admit`: stale, busy,
acknowledged before any work) and its errors take the one error path, so no form repeats
that wiring.
"""

from __future__ import annotations

import discord

from bot.interactions.errors import report_error
from bot.interactions.gate import Ack, tree_of


class Form(discord.ui.Modal):
    """Subclasses define their text inputs and `on_submit`; `ack` says how a submit is
    acknowledged before `on_submit` runs (PUBLIC: a "thinking…" the result fills)."""

    ack: Ack = Ack.PUBLIC

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        return await tree_of(interaction).admit(interaction, self.ack)

    async def on_error(self, interaction: discord.Interaction, error: Exception) -> None:  # type: ignore[override]  # typed with View's item argument
        await report_error(interaction, error)
