"""The start-a-job helper: the one path every song and task takes from a command or button.

acknowledge → reserve → submit → job card. The acknowledgement comes first (the gate has
usually done it already), so the reservation, which waits for the database, and the MusicAPI
submit, which can take seconds, never hold up the 3-second answer; a refusal of either is then
an ephemeral follow-up through the one error path.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord

from bot.delivery.embeds import job_card
from bot.interactions.gate import acknowledge
from bot.jobs.operations import Operation
from bot.jobs.service import JobOrigin
from bot.states import JobState

if TYPE_CHECKING:
    from bot.app import MusicBot


def role_ids_of(user: discord.User | discord.Member) -> tuple[int, ...]:
    return tuple(role.id for role in getattr(user, "roles", ()))


def origin_of(interaction: discord.Interaction) -> JobOrigin:
    assert interaction.guild_id is not None and interaction.channel_id is not None
    return JobOrigin(
        guild_id=interaction.guild_id,
        channel_id=interaction.channel_id,
        user_id=interaction.user.id,
        application_id=interaction.application_id,
        interaction_token=interaction.token,
        upload_limit=interaction.filesize_limit,
        role_ids=role_ids_of(interaction.user),
    )


async def start_job(
    bot: MusicBot, interaction: discord.Interaction, operation: Operation, *, note: str = ""
) -> int:
    """Reserve, submit and show the job card; returns the job id. `note` is said above the
    card (e.g. what a repeat costs)."""
    await acknowledge(interaction)
    job_id = await bot.jobs.reserve(origin_of(interaction), operation)
    job = await bot.jobs.submit(job_id, operation)
    card = await interaction.followup.send(
        note or discord.utils.MISSING, embed=job_card(job, JobState.QUEUED), wait=True
    )
    await bot.jobs.set_card_message(job_id, card.id)
    return job_id
