"""Replies of the synchronous `/tools` commands: files fetched from MusicAPI's links when they
fit the channel, inline results otherwise.

Every reply goes out with mentions off: titles, styles and lyrics are member text, and an
`@everyone` in a song title must stay text.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence

import discord

from bot.delivery.embeds import EMBED_DESCRIPTION_MAX, clean, format_duration
from bot.delivery.media import (
    DEFAULT_UPLOAD_LIMIT,
    TOO_LARGE_NOTE,
    UPLOAD_MARGIN,
    Fetched,
    fetch_with_retries,
    slug,
)
from bot.delivery.safe_http import MediaFetcher
from bot.delivery.timeline import TimedLine, preview
from bot.markdown import Markdown, bold, code
from bot.markdown import link as markdown_link
from bot.musicapi.results import BpmResult, MidiResult, VoxResult
from bot.store.clips import StoredClip

log = logging.getLogger(__name__)

NO_MENTIONS = discord.AllowedMentions.none()
LINK_NOTE = TOO_LARGE_NOTE


def song_name(clip: StoredClip) -> Markdown:
    """A song's title, escaped, for the bot's markdown (bold it with `bold`)."""
    return clean(clip.title or "Untitled", 100)


def upload_budget(interaction: discord.Interaction) -> int:
    return (interaction.filesize_limit or DEFAULT_UPLOAD_LIMIT) - UPLOAD_MARGIN


async def fetch_file(
    http: MediaFetcher, url: str, max_bytes: int, kinds: frozenset[str]
) -> Fetched:
    """The file at a MusicAPI URL if its bytes are one of `kinds`, or the reason a link is
    posted instead."""
    return await fetch_with_retries(http, url, max_bytes, kinds=kinds)


async def send_file_or_link(
    interaction: discord.Interaction,
    http: MediaFetcher,
    *,
    text: str,
    url: str,
    name: str,
    kinds: frozenset[str],
    label: str,
) -> None:
    """Attach the file at `url` as `name.<real extension>` when it fits and its bytes are one
    of `kinds`, else link it with the reason."""
    fetched = await fetch_file(http, url, upload_budget(interaction), kinds)
    data, note = fetched.data, fetched.link_note
    made = markdown_link(label, url)
    link = f"{text}\n🔗 {made}" if made else f"{text}\n{label}: MusicAPI sent no web link."
    if data is None:
        await interaction.followup.send(f"{link}\n{note}", allowed_mentions=NO_MENTIONS)
        return
    filename = f"{slug(name)}.{fetched.ext}"
    try:
        await interaction.followup.send(
            text,
            file=discord.File(io.BytesIO(data), filename=filename),
            allowed_mentions=NO_MENTIONS,
        )
    except discord.HTTPException as error:
        if error.status != 413:
            raise
        # The channel's real limit was lower than the interaction said.
        await interaction.followup.send(f"{link}\n{LINK_NOTE}", allowed_mentions=NO_MENTIONS)


def midi_text(clip: StoredClip, result: MidiResult) -> str:
    text = f"MIDI of {bold(song_name(clip))}"
    parts = [
        f"{clean(i.name or 'Instrument', 50)} ({len(i.notes)} notes)" for i in result.instruments
    ]
    if parts:
        text += "\nInstruments: " + ", ".join(parts[:10])
    return text


def bpm_embed(clip: StoredClip, result: BpmResult) -> discord.Embed:
    embed = discord.Embed(title=f"Tempo of {song_name(clip)}", colour=discord.Colour.green())
    embed.add_field(name="Average", value=f"{result.avg:g} BPM")
    embed.add_field(name="Range", value=f"{result.min:g}–{result.max:g} BPM")
    embed.set_footer(text=f"Clip {clip.clip_id}")
    return embed


def vox_embed(clip: StoredClip, result: VoxResult) -> discord.Embed:
    embed = discord.Embed(
        title=f"Vocal segment of {song_name(clip)}",
        description="Use this id to make a persona from this voice.",
        colour=discord.Colour.green(),
    )
    embed.add_field(name="Segment id", value=code(result.vox_audio_id, 200), inline=False)
    if result.vocal_start_s is not None and result.vocal_end_s is not None:
        window = f"{result.vocal_start_s:g}–{result.vocal_end_s:g} s"
        embed.add_field(name="Window", value=window)
    if result.status:
        embed.add_field(name="Status", value=clean(result.status, 100))
    embed.set_footer(text=f"Clip {clip.clip_id}")
    return embed


def code_block(text: str, limit: int) -> str:
    # A backtick in member text would close the block early; a look-alike keeps it readable.
    body = text.replace("`", "ˋ")
    body = body if len(body) <= limit - 8 else body[: limit - 9] + "…"
    return f"```\n{body}\n```"


def tags_embed(style: str, upsampled: str) -> discord.Embed:
    embed = discord.Embed(
        title="Richer style tags",
        description=code_block(upsampled, EMBED_DESCRIPTION_MAX),
        colour=discord.Colour.green(),
    )
    embed.add_field(name="From", value=code_block(style, 1024), inline=False)
    embed.set_footer(text="Paste them into the style option of /song.")
    return embed


def timeline_embed(clip: StoredClip, lines: Sequence[TimedLine]) -> discord.Embed:
    embed = discord.Embed(
        title=f"Lyrics timeline of {song_name(clip)}",
        description=code_block(preview(lines), EMBED_DESCRIPTION_MAX),
        colour=discord.Colour.green(),
    )
    embed.add_field(name="Lines", value=str(len(lines)))
    embed.add_field(name="Duration", value=format_duration(clip.duration))
    embed.set_footer(text=f"Clip {clip.clip_id} · the full timeline is in the .lrc file")
    return embed
