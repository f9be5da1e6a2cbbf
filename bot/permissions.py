"""Run-time permission checks. Default permissions only hide commands in the client; a server
can change them, so every privileged command also checks here when it runs."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord

from bot.errors import NotAllowed

if TYPE_CHECKING:
    from bot.app import MusicBot


async def is_moderator(bot: MusicBot, interaction: discord.Interaction) -> bool:
    """Manage Server, or the moderator role the server configured with `/quota modrole`."""
    if interaction.guild_id is None:
        return False
    if interaction.permissions.manage_guild:
        return True
    async with bot.db.read() as conn:
        settings = await bot.quota.settings(conn, interaction.guild_id)
    if settings.mod_role_id is None:
        return False
    return any(role.id == settings.mod_role_id for role in getattr(interaction.user, "roles", ()))


async def require_moderator(bot: MusicBot, interaction: discord.Interaction) -> None:
    if not await is_moderator(bot, interaction):
        raise NotAllowed(
            "Only moderators (Manage Server, or the server's moderator role) can do this."
        )


async def require_owner(bot: MusicBot, interaction: discord.Interaction) -> None:
    if not await bot.is_owner(interaction.user):
        raise NotAllowed("Only the bot's owner can use this command.")
