"""What `/song extend|cover|full|remaster` do, shared by those commands and the song buttons.

A command and its button call the same function here, so a press runs exactly the checks of
the slash command (validation, then the start-a-job path: block list, channel allow-list,
caps, quota).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord

from bot.interactions.jobs import start_job
from bot.interactions.lyrics_form import clip_name
from bot.jobs.operations import sonic_create
from bot.markdown import TEXT_SHOWN, Markdown, escape
from bot.store.clips import StoredClip
from bot.validation import choices
from bot.validation import sonic as validation

if TYPE_CHECKING:
    from bot.app import MusicBot


def model_of(bot: MusicBot, model: str | None) -> str:
    settings = bot.settings
    return choices.model(model, settings.models, settings.default_model)


async def extend(
    bot: MusicBot,
    interaction: discord.Interaction,
    clip: StoredClip,
    *,
    at: float,
    lyrics: str | None = None,
    style: str | None = None,
    model: str | None = None,
) -> None:
    request = validation.build_extend(
        clip, at=at, lyrics=lyrics, style=style, model=model_of(bot, model)
    )
    summary = Markdown(f"Extend {clip_name(clip)} from {request.continue_at:g} s")
    await start_job(bot, interaction, sonic_create(request, summary))


async def cover(
    bot: MusicBot,
    interaction: discord.Interaction,
    clip: StoredClip,
    *,
    style: str | None = None,
    lyrics: str | None = None,
    model: str | None = None,
    audio_weight: float | None = None,
) -> None:
    request = validation.build_cover(
        clip, style=style, lyrics=lyrics, model=model_of(bot, model), audio_weight=audio_weight
    )
    summary = Markdown(
        f"Cover of {clip_name(clip)}"
        + (f"\nStyle: {escape(request.tags, TEXT_SHOWN)}" if style else "")
    )
    await start_job(bot, interaction, sonic_create(request, summary))


async def full(bot: MusicBot, interaction: discord.Interaction, clip: StoredClip) -> None:
    made_by = (await bot.jobs.get(clip.job_id)).operation
    request = validation.build_full(clip, made_by)
    summary = Markdown(f"Full song of {clip_name(clip)}")
    await start_job(bot, interaction, sonic_create(request, summary))


async def remaster(
    bot: MusicBot,
    interaction: discord.Interaction,
    clip: StoredClip,
    *,
    variation: str | None = None,
    model: str | None = None,
) -> None:
    request = validation.build_remaster(
        clip, variation=variation, model=model_of(bot, model), now=bot.clock()
    )
    summary = Markdown(f"Remaster of {clip_name(clip)}")
    await start_job(bot, interaction, sonic_create(request, summary))
