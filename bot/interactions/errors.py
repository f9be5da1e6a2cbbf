"""The one error path: slash commands, buttons, selects and forms all end here.

The command tree's `on_error`, every button (`ActionButton`), every form (`Form`) and every
view (`GuardedView`) call `report_error`, so a refusal reads the same wherever it came from
and an unexpected error is logged once and answered with a plain apology: never left
unanswered.
"""

from __future__ import annotations

import logging
from typing import Any

import discord
from discord import app_commands

from bot.errors import UserFacingError
from bot.interactions.replies import NO_MENTIONS, fit
from bot.observability.incidents import unexpected_error

log = logging.getLogger(__name__)

GENERIC_FAILURE = "Something went wrong on our side; nothing was charged. Please try again."


def member_text(interaction: discord.Interaction, error: Exception) -> str:
    """What the member is told about `error`; logs what they should not see."""
    original: BaseException = error
    if isinstance(error, app_commands.CommandInvokeError):
        original = error.original
    elif isinstance(error, app_commands.TransformerError) and error.__cause__ is not None:
        original = error.__cause__  # an option's own check, e.g. a clip from another server
    if isinstance(original, UserFacingError):
        return fit(str(original))
    if isinstance(original, app_commands.NoPrivateMessage):
        return "This command works in servers only."
    if isinstance(original, app_commands.MissingPermissions | app_commands.CheckFailure):
        return fit(str(original)) or "You are not allowed to use this command."
    # One id in the log line (with the traceback), the owner's alert and the member's reply.
    incident = unexpected_error(original, where=_what(interaction))
    return f"{GENERIC_FAILURE} (Reference: `{incident}`.)"


def _what(interaction: discord.Interaction) -> str:
    if interaction.command is not None:
        return f"/{interaction.command.qualified_name}"
    data: dict[str, Any] = dict(interaction.data or {})
    custom_id = data.get("custom_id")
    return f"component {custom_id}" if custom_id else f"interaction type {interaction.type}"


async def report_error(interaction: discord.Interaction, error: Exception) -> None:
    """Tell the member what went wrong, privately."""
    await reply_privately(interaction, member_text(interaction, error))


async def reply_privately(interaction: discord.Interaction, text: str) -> None:
    """An ephemeral answer, whether or not the interaction was already deferred publicly."""
    try:
        if not interaction.response.is_done():
            await interaction.response.send_message(
                fit(text), ephemeral=True, allowed_mentions=NO_MENTIONS
            )
            return
        if interaction.response.type is discord.InteractionResponseType.deferred_channel_message:
            # A public "thinking…" placeholder would fill with the error for everyone to see:
            # remove it and answer privately instead. (Any other earlier answer is a message
            # the member already has, e.g. a button's own message: it stays.)
            try:
                await interaction.delete_original_response()
            except discord.HTTPException:
                pass
        await interaction.followup.send(fit(text), ephemeral=True, allowed_mentions=NO_MENTIONS)
    except discord.HTTPException:
        log.warning("could not deliver an error message to the member", exc_info=True)
