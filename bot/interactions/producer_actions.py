"""What `/producer cover|download` do, shared by those commands and the Producer song buttons."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord

from bot.interactions.jobs import start_job
from bot.interactions.options import ProducerSource
from bot.jobs import family_operations as family
from bot.markdown import TITLE_SHOWN, Markdown, escape
from bot.store.clips import StoredClip
from bot.validation import families as validate

if TYPE_CHECKING:
    from bot.app import MusicBot


def song_title(clip: StoredClip) -> Markdown:
    """A Producer song's title, escaped, for a job's summary."""
    return escape(clip.title or "Untitled", TITLE_SHOWN)


async def cover(
    bot: MusicBot,
    interaction: discord.Interaction,
    source: ProducerSource,
    *,
    instruction: str | None = None,
    strength: float | None = None,
) -> None:
    request = validate.build_producer_cover(
        source.clip, uploaded=source.uploaded, instruction=instruction, strength=strength
    )
    summary = Markdown(f"Cover of {song_title(source.clip)} (Producer)")
    await start_job(bot, interaction, family.producer_cover(request, summary))


async def download(
    bot: MusicBot, interaction: discord.Interaction, source: ProducerSource, file_format: str
) -> None:
    chosen = validate.check_download_format(file_format)
    summary = Markdown(f"{chosen.upper()} download of {song_title(source.clip)} (Producer)")
    operation = family.producer_download(source.clip.clip_id, chosen, summary)
    await start_job(bot, interaction, operation)
