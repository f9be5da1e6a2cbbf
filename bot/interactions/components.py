"""The base of every button and select: the same gate and error path as a slash command.

`GuardedItem` is mixed into each `discord.ui.DynamicItem` (persistent buttons, templated
custom ids) and `GuardedView` is the base of views with ordinary buttons. A press passes the
gate (`MusicTree.admit`: stale, busy, acknowledged before any work as the item asks), counts as
in flight while it runs, and any error takes the one error path. A press acknowledged with a
"thinking…" of its own is written down until its callback answers, so a crash mid-press is
still answered after the restart (bot/delivery/interrupted.py).
"""

from __future__ import annotations

from typing import Any

import discord

from bot.interactions.errors import report_error
from bot.interactions.gate import Ack, track_closed, track_opened, tree_of


class GuardedItem:
    """Mixed in before `discord.ui.DynamicItem`; subclasses implement `run` and may choose
    the acknowledgement per press with `ack`."""

    def ack(self) -> Ack:
        return Ack.PUBLIC

    def name(self) -> str | None:
        """What the member is told was cut off by a crash; None: the custom id's action."""
        return None

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        ack = self.ack()
        admitted = await tree_of(interaction).admit(interaction, ack)
        if admitted:
            await track_opened(interaction, ack, self.name())
        return admitted

    async def callback(self, interaction: discord.Interaction) -> None:
        with tree_of(interaction).serving():
            try:
                await self.run(interaction)
            except Exception as error:  # every refusal reaches the member in plain words
                await report_error(interaction, error)
        # Answered. Not reached when a stop cancels the press: it is answered after the restart.
        await track_closed(interaction)

    async def run(self, interaction: discord.Interaction) -> None:
        raise NotImplementedError


class GuardedView(discord.ui.View):
    """A view whose buttons and selects pass the gate and take the one error path. `ack` says
    how a press is acknowledged before its callback runs (UPDATE: the callback then edits the
    message with `edit_original_response`)."""

    ack: Ack = Ack.UPDATE

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        return await tree_of(interaction).admit(interaction, self.ack)

    async def on_error(
        self, interaction: discord.Interaction, error: Exception, item: discord.ui.Item[Any]
    ) -> None:
        await report_error(interaction, error)
