"""Run-time permission checks. Default permissions only hide commands in the client; a server
can change them, so every privileged command also checks here when it runs."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord

from bot.errors import NotAllowed

if TYPE_CHECKING:
    from bot.app import MusicBot


def require_moderator(interaction: discord.Interaction) -> None:
    """Manage Server is what makes a moderator here."""
    if interaction.guild_id is None:
        raise NotAllowed("This command works in servers only.")
    if not interaction.permissions.manage_guild:
        raise NotAllowed("Only moderators (Manage Server) can change this server's quotas.")


async def require_owner(bot: MusicBot, interaction: discord.Interaction) -> None:
    if not await bot.is_owner(interaction.user):
        raise NotAllowed("Only the bot's owner can use this command.")
