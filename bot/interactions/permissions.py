"""Run-time permission checks, in one style.

Default permissions only hide commands in the client; a server can change them, so every
privileged command and button also checks here when it runs. Each check is a `require_*`
coroutine that raises `NotAllowed` (answered by the one error path); `moderator_only()` and
`owner_only()` put the same checks on a slash command as `app_commands.check`s, so they run
after the gate's acknowledgement and before the command's body.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

import discord
from discord import app_commands

from bot.errors import NotAllowed

if TYPE_CHECKING:
    from bot.app import MusicBot

T = TypeVar("T")
MODERATORS_ONLY = "Only moderators (Manage Server, or the server's moderator role) can do this."


def _bot(interaction: discord.Interaction) -> MusicBot:
    return interaction.client  # type: ignore[return-value]  # every client here is a MusicBot


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
        raise NotAllowed(MODERATORS_ONLY)


async def require_owner(bot: MusicBot, interaction: discord.Interaction) -> None:
    if not await bot.is_owner(interaction.user):
        raise NotAllowed("Only the bot's owner can use this command.")


async def require_requester_or_moderator(
    bot: MusicBot, interaction: discord.Interaction, requester_id: int, what: str
) -> None:
    """The member who asked for something, or a moderator of this server."""
    if interaction.user.id == requester_id:
        return
    if not await is_moderator(bot, interaction):
        raise NotAllowed(f"Only the member who asked for it, or a moderator, can {what}.")


def moderator_only() -> Callable[[T], T]:
    async def predicate(interaction: discord.Interaction) -> bool:
        await require_moderator(_bot(interaction), interaction)
        return True

    return app_commands.check(predicate)


def owner_only() -> Callable[[T], T]:
    async def predicate(interaction: discord.Interaction) -> bool:
        await require_owner(_bot(interaction), interaction)
        return True

    return app_commands.check(predicate)


__all__ = [
    "is_moderator",
    "moderator_only",
    "owner_only",
    "require_moderator",
    "require_owner",
    "require_requester_or_moderator",
]
