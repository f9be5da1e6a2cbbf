"""What `/tools stems|wav|midi|bpm|timeline` do, shared by those commands and the song buttons.

Stems are an upstream task and take the start-a-job path; the others are one synchronous
MusicAPI call through the quota (`JobService.run_now`: reserved first, charged only if it
succeeds), acknowledged before anything is reserved.
"""

from __future__ import annotations

import io
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

import discord

from bot.delivery import tool_replies
from bot.delivery.media import AUDIO_KINDS, MIDI_KINDS, slug
from bot.delivery.timeline import timed_lines, to_lrc
from bot.errors import UserFacingError
from bot.interactions.gate import acknowledge
from bot.interactions.jobs import origin_of, start_job
from bot.jobs import operations
from bot.jobs.service import SubmitRefused
from bot.markdown import Markdown, bold
from bot.musicapi.errors import NotReadyError
from bot.store.clips import StoredClip

if TYPE_CHECKING:
    from bot.app import MusicBot

T = TypeVar("T")
MIDI_NOT_READY = (
    "MusicAPI is still preparing this song's MIDI file. Try again in a minute; "
    "you were not charged."
)


async def run_now(
    bot: MusicBot,
    interaction: discord.Interaction,
    name: str,
    body: dict[str, Any],
    call: Callable[[], Awaitable[T]],
) -> T:
    """One synchronous MusicAPI call through the quota (acknowledged first)."""
    await acknowledge(interaction)
    return await bot.jobs.run_now(origin_of(interaction), name, body, call)


async def stems(
    bot: MusicBot, interaction: discord.Interaction, clip: StoredClip, mode: str = "basic"
) -> None:
    summary = Markdown(f"Stems ({mode}) of {bold(tool_replies.song_name(clip))}")
    await start_job(bot, interaction, operations.stems(clip.clip_id, mode, summary))


async def wav(bot: MusicBot, interaction: discord.Interaction, clip: StoredClip) -> None:
    api = bot.musicapi
    url = await run_now(
        bot, interaction, "wav", {"clip_id": clip.clip_id}, lambda: api.wav(clip.clip_id)
    )
    await tool_replies.send_file_or_link(
        interaction,
        bot.media,
        text=f"WAV of {bold(tool_replies.song_name(clip))}",
        url=url,
        name=clip.title or "song",
        kinds=AUDIO_KINDS,
        label="WAV",
    )


async def midi(bot: MusicBot, interaction: discord.Interaction, clip: StoredClip) -> None:
    api = bot.musicapi
    try:
        result = await run_now(
            bot, interaction, "midi", {"clip_id": clip.clip_id}, lambda: api.midi(clip.clip_id)
        )
    except SubmitRefused as refused:
        # HTTP 202: nothing is wrong, the file is just not made yet. run_now has already
        # released the reservation (NotReadyError is a MusicAPIError); say it plainly.
        if isinstance(refused.__cause__, NotReadyError):
            raise UserFacingError(MIDI_NOT_READY) from refused
        raise
    await tool_replies.send_file_or_link(
        interaction,
        bot.media,
        text=tool_replies.midi_text(clip, result),
        url=result.midi_url,
        name=clip.title or "song",
        kinds=MIDI_KINDS,
        label="MIDI",
    )


async def bpm(bot: MusicBot, interaction: discord.Interaction, clip: StoredClip) -> None:
    api = bot.musicapi
    result = await run_now(
        bot, interaction, "bpm", {"clip_id": clip.clip_id}, lambda: api.bpm(clip.clip_id)
    )
    await interaction.followup.send(
        embed=tool_replies.bpm_embed(clip, result), allowed_mentions=tool_replies.NO_MENTIONS
    )


async def timeline(bot: MusicBot, interaction: discord.Interaction, clip: StoredClip) -> None:
    api = bot.musicapi
    assert interaction.guild_id is not None
    await acknowledge(interaction)
    if await bot.jobs.paid_before(interaction.guild_id, "aligned_lyrics", clip.clip_id):
        # MusicAPI charges only the first timeline of a clip and serves repeats from its
        # cache (docs/musicapi/protocol.md §3.10), so this server is not charged again either. Free
        # is not unchecked: the block list, the channel and the concurrency caps still apply.
        origin = origin_of(interaction)
        await bot.quota.check_standing(
            origin.guild_id, origin.user_id, origin.channel_id, origin.role_ids
        )
        words = await api.aligned_lyrics(clip.clip_id)
    else:
        words = await run_now(
            bot,
            interaction,
            "aligned_lyrics",
            {"clip_id": clip.clip_id},
            lambda: api.aligned_lyrics(clip.clip_id),
        )
    lines = timed_lines(words, clip.lyrics)
    if not lines:
        await interaction.followup.send(
            f"MusicAPI found no sung words in {bold(tool_replies.song_name(clip))}.",
            allowed_mentions=tool_replies.NO_MENTIONS,
        )
        return
    data = to_lrc(lines, clip.title).encode("utf-8")
    await interaction.followup.send(
        embed=tool_replies.timeline_embed(clip, lines),
        file=discord.File(io.BytesIO(data), filename=f"{slug(clip.title)}.lrc"),
        allowed_mentions=tool_replies.NO_MENTIONS,
    )
