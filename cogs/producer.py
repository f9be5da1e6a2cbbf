"""/producer: songs from MusicAPI's Producer family (Google Lyria 3 Pro,
docs/musicapi/protocol.md §7).

Thin, like /song: check the options (`bot.jobs.family_operations`), then `start_job`. Producer
only edits its own songs, so the `clip` option here lists and accepts Producer songs only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.interactions import producer_actions
from bot.interactions.jobs import start_job
from bot.interactions.options import ProducerSong
from bot.interactions.producer_actions import song_title
from bot.jobs import family_operations as family
from bot.markdown import TEXT_SHOWN, TITLE_SHOWN, Markdown, escape
from bot.musicapi.families.producer import PRODUCER_DOWNLOAD_FORMATS
from bot.validation import families as validate

if TYPE_CHECKING:
    from bot.app import MusicBot

FORMATS = [app_commands.Choice(name=f, value=f) for f in PRODUCER_DOWNLOAD_FORMATS]


@app_commands.guild_only()
class Producer(
    commands.GroupCog, group_name="producer", group_description="Songs with MusicAPI's Producer"
):
    def __init__(self, bot: MusicBot) -> None:
        self.bot = bot
        super().__init__()

    @app_commands.command(name="create", description="A new Producer song from lyrics or a sound")
    @app_commands.describe(
        lyrics="Lyrics to sing (leave out, with a sound, for an instrumental)",
        sound="The sound: genres, moods, instruments ('instrumental, no vocals' for no singing)",
        title="Song title (up to 80 characters)",
        length="Length in seconds, 1 to 240",
    )
    async def create(
        self,
        interaction: discord.Interaction,
        lyrics: str | None = None,
        sound: str | None = None,
        title: str | None = None,
        length: int | None = None,
    ) -> None:
        request = validate.build_producer_create(
            lyrics=lyrics, sound=sound, title=title, length=length
        )
        summary = "\n".join(
            part
            for part in (
                f"Producer song: {escape(request.title, TITLE_SHOWN)}"
                if request.title
                else "Producer song",
                f"Sound: {escape(request.sound, TEXT_SHOWN)}" if request.sound else "",
                "Your lyrics" if request.lyrics else "",
                f"Length: {request.length} s" if request.length else "",
            )
            if part
        )
        await start_job(self.bot, interaction, family.producer_create(request, Markdown(summary)))

    @app_commands.command(name="extend", description="Continue a Producer song from a moment")
    @app_commands.describe(
        clip="A Producer song from this server (start typing, or paste its id)",
        starts_at="Where to continue from, in seconds (up to the song's end)",
        instruction="What the new part should do",
        lyrics="Lyrics for the new part",
        length="Length of the new part in seconds, 1 to 240 (60 by default)",
    )
    async def extend(
        self,
        interaction: discord.Interaction,
        clip: ProducerSong,
        starts_at: float,
        instruction: str | None = None,
        lyrics: str | None = None,
        length: int | None = None,
    ) -> None:
        request = validate.build_producer_extend(
            clip.clip, uploaded=clip.uploaded, starts_at=starts_at,
            instruction=instruction, lyrics=lyrics, length=length,
        )  # fmt: skip
        summary = Markdown(
            f"Extend {song_title(clip.clip)} (Producer) from {request.starts_at:g} s"
        )
        await start_job(self.bot, interaction, family.producer_extend(request, summary))

    @app_commands.command(name="replace", description="Regenerate a section of a Producer song")
    @app_commands.describe(
        clip="A Producer song from this server",
        starts_at="Start of the section, in seconds",
        ends_at="End of the section, in seconds",
        instruction="What the section should become",
    )
    async def replace(
        self,
        interaction: discord.Interaction,
        clip: ProducerSong,
        starts_at: float,
        ends_at: float,
        instruction: str | None = None,
    ) -> None:
        request = validate.build_producer_replace(
            clip.clip, uploaded=clip.uploaded, starts_at=starts_at, ends_at=ends_at,
            instruction=instruction,
        )  # fmt: skip
        summary = Markdown(
            f"Replace {request.starts_at:g}–{request.ends_at:g} s of {song_title(clip.clip)} "
            "(Producer)"
        )
        await start_job(self.bot, interaction, family.producer_replace(request, summary))

    @app_commands.command(name="cover", description="A Producer song redone in another way")
    @app_commands.describe(
        clip="A Producer song from this server",
        instruction="How to redo it (e.g. 'as an acoustic ballad')",
        strength="How far it may move from the original, 0 to 1 (0.5 by default)",
    )
    async def cover(
        self,
        interaction: discord.Interaction,
        clip: ProducerSong,
        instruction: str | None = None,
        strength: float | None = None,
    ) -> None:
        await producer_actions.cover(
            self.bot, interaction, clip, instruction=instruction, strength=strength
        )

    @app_commands.command(name="download", description="An MP3 or WAV file of a Producer song")
    @app_commands.describe(clip="A Producer song from this server", format="mp3 or wav")
    @app_commands.choices(format=FORMATS)
    async def download(
        self,
        interaction: discord.Interaction,
        clip: ProducerSong,
        # The public option name; shadows a builtin here only. A plain string (not Choice), so
        # that a value outside the list gets our own refusal naming the option.
        format: str,
    ) -> None:
        await producer_actions.download(self.bot, interaction, clip, format)


async def setup(bot: MusicBot) -> None:
    await bot.add_cog(Producer(bot))
