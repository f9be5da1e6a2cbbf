"""The command tree: one gate and one error handler for every slash command."""

from __future__ import annotations

import logging

import discord
from discord import app_commands

from bot.errors import UserFacingError
from bot.observability.incidents import unexpected_error
from bot.observability.logs import bind

log = logging.getLogger(__name__)

GENERIC_FAILURE = "Something went wrong on our side; nothing was charged. Please try again."


class MusicTree(app_commands.CommandTree):
    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        # Each interaction runs in its own task: tag the rest of its log lines with the server.
        bind(guild_id=interaction.guild_id)
        return True

    async def on_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        await report_error(interaction, error)


async def report_error(interaction: discord.Interaction, error: Exception) -> None:
    """Tell the member what went wrong, privately; log what they should not see."""
    original: BaseException = error
    if isinstance(error, app_commands.CommandInvokeError):
        original = error.original
    elif isinstance(error, app_commands.TransformerError) and error.__cause__ is not None:
        original = error.__cause__  # an option's own check, e.g. a clip from another server
    if isinstance(original, UserFacingError):
        text = str(original)
    elif isinstance(original, app_commands.NoPrivateMessage):
        text = "This command works in servers only."
    elif isinstance(original, app_commands.MissingPermissions | app_commands.CheckFailure):
        text = str(original) or "You are not allowed to use this command."
    else:
        command = interaction.command.qualified_name if interaction.command else "interaction"
        # One id in the log line, the owner's alert and the member's reply.
        incident = unexpected_error(
            original, where=f"/{command}" if interaction.command else command
        )
        text = f"{GENERIC_FAILURE} (Reference: `{incident}`.)"
    await reply_privately(interaction, text)


async def reply_privately(interaction: discord.Interaction, text: str) -> None:
    """An ephemeral answer, whether or not the interaction was already deferred publicly."""
    mentions = discord.AllowedMentions.none()
    try:
        if not interaction.response.is_done():
            await interaction.response.send_message(text, ephemeral=True, allowed_mentions=mentions)
            return
        # A public "thinking…" placeholder would fill with the error for everyone to see:
        # remove it and answer privately instead.
        try:
            await interaction.delete_original_response()
        except discord.HTTPException:
            pass
        await interaction.followup.send(text, ephemeral=True, allowed_mentions=mentions)
    except discord.HTTPException:
        log.warning("could not deliver an error message to the member", exc_info=True)
