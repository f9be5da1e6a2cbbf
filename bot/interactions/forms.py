"""The base of every form (Discord modal).

A submitted form passes the same gate as a slash command (`MusicTree.admit`: stale, busy,
acknowledged before any work), its errors take the one error path, and a submit acknowledged
with a "thinking…" is written down until it answers, so a crash mid-submit is still answered
after the restart (bot/delivery/interrupted.py). No form repeats that wiring: subclasses
implement `submit`, which `on_submit` wraps.
"""

from __future__ import annotations

import discord

from bot.interactions.errors import report_error
from bot.interactions.gate import Ack, track_closed, track_opened, tree_of


class Form(discord.ui.Modal):
    """Subclasses define their text inputs and `submit`; `ack` says how a submit is
    acknowledged before `submit` runs (PUBLIC: a "thinking…" the result fills)."""

    ack: Ack = Ack.PUBLIC

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        admitted = await tree_of(interaction).admit(interaction, self.ack)
        if admitted:
            await track_opened(interaction, self.ack, f"{self.title} form")
        return admitted

    async def on_submit(self, interaction: discord.Interaction) -> None:
        try:
            await self.submit(interaction)
        except Exception as error:  # every refusal reaches the member in plain words
            await report_error(interaction, error)
        # Answered. Not reached when a stop cancels the submit: it is answered after the restart.
        await track_closed(interaction)

    async def submit(self, interaction: discord.Interaction) -> None:
        raise NotImplementedError

    async def on_error(self, interaction: discord.Interaction, error: Exception) -> None:  # type: ignore[override]  # typed with View's item argument
        await report_error(interaction, error)
