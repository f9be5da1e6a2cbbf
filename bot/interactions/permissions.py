"""Run-time permission checks, in one style.

Default permissions only hide commands in the client; a server can change them, so every
privileged command and button also checks when it runs. Each check is a predicate
(`is_moderator`, `is_owner`, `is_requester_or_moderator`) that answers yes or no:

- a slash command carries it as a decorator, `@moderator_only()` or `@owner_only()`: an
  `app_commands.check` that runs after the gate's acknowledgement and before the command's
  options are converted or its body runs, and refuses with `NotAllowed`;
- a button or form asks the same predicate where it decides, and refuses with the same text
  (`if not await is_moderator(interaction): raise NotAllowed(MODERATORS_ONLY)`).

Either way the refusal is answered by the one error path (`bot.interactions.errors`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

import discord
from discord import app_commands

from bot.errors import NotAllowed

if TYPE_CHECKING:
    from bot.app import MusicBot

T = TypeVar("T")
MODERATORS_ONLY = "Only moderators (Manage Server, or the server's moderator role) can do this."
OWNER_ONLY = "Only the bot's owner can use this command."


def _bot(interaction: discord.Interaction) -> MusicBot:
    return interaction.client  # type: ignore[return-value]  # every client here is a MusicBot


async def is_moderator(interaction: discord.Interaction) -> bool:
    """Manage Server, or the moderator role the server configured with `/quota modrole`."""
    if interaction.guild_id is None:
        return False
    if interaction.permissions.manage_guild:
        return True
    bot = _bot(interaction)
    async with bot.db.read() as conn:
        settings = await bot.quota.settings(conn, interaction.guild_id)
    if settings.mod_role_id is None:
        return False
    return any(role.id == settings.mod_role_id for role in getattr(interaction.user, "roles", ()))


async def is_owner(interaction: discord.Interaction) -> bool:
    """The bot's owner (OWNER_IDS, else the application's owner or team)."""
    return await _bot(interaction).is_owner(interaction.user)


async def is_requester_or_moderator(interaction: discord.Interaction, requester_id: int) -> bool:
    """The member who asked for something, or a moderator of this server."""
    return interaction.user.id == requester_id or await is_moderator(interaction)


def _refusing(
    allowed: Callable[[discord.Interaction], Awaitable[bool]], refusal: str
) -> Callable[[discord.Interaction], Coroutine[Any, Any, bool]]:
    async def check(interaction: discord.Interaction) -> bool:
        if not await allowed(interaction):
            raise NotAllowed(refusal)
        return True

    return check


# The checks the decorators attach (named, so a test can see which command carries which).
moderator_check = _refusing(is_moderator, MODERATORS_ONLY)
owner_check = _refusing(is_owner, OWNER_ONLY)


def moderator_only() -> Callable[[T], T]:
    return app_commands.check(moderator_check)


def owner_only() -> Callable[[T], T]:
    return app_commands.check(owner_check)


__all__ = [
    "MODERATORS_ONLY",
    "OWNER_ONLY",
    "is_moderator",
    "is_owner",
    "is_requester_or_moderator",
    "moderator_check",
    "moderator_only",
    "owner_check",
    "owner_only",
]
