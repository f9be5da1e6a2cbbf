"""/nuro: songs of an exact length from MusicAPI's Nuro family (docs/musicapi/protocol.md §9).

Vocal options are Discord choices (each list fits in 25). The instrumental lists are longer
and take up to five values each, so they autocomplete a comma-separated list instead.
A retired Nuro (410 Gone, as on the sister site) is refused in plain words with the credits
returned: `family_operations` rewords the 410 and the job path releases the reservation.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.interactions.jobs import start_job
from bot.jobs import family_operations as family
from bot.markdown import TEXT_SHOWN, Markdown, escape
from bot.musicapi.families.nuro import (
    MAX_BGM_TAGS,
    NURO_BGM_GENRES,
    NURO_BGM_INSTRUMENTS,
    NURO_BGM_MOODS,
    NURO_GENDERS,
    NURO_TIMBRES,
    NURO_VOCAL_GENRES,
    NURO_VOCAL_MOODS,
)
from bot.validation import families as validate

if TYPE_CHECKING:
    from bot.app import MusicBot

CHOICES_MAX = 25
CHOICE_TEXT_MAX = 100  # Discord's limit on a choice's name and value


def _label(value: str) -> str:
    # Two timbres carry an API suffix members should not have to read.
    return value.removesuffix("_AUDIO_TIMBRE")


def _choices(values: Iterable[str]) -> list[app_commands.Choice[str]]:
    return [app_commands.Choice(name=_label(v), value=v) for v in values]


def list_choices(current: str, allowed: Iterable[str]) -> list[app_commands.Choice[str]]:
    """Suggestions for a comma-separated list: keep what is typed, complete the last item."""
    *typed, partial = current.split(",")
    kept = [t.strip() for t in typed if t.strip()]
    if len(kept) >= MAX_BGM_TAGS:
        return []  # full: nothing more may be added
    needle = partial.strip().casefold()
    taken = {t.casefold() for t in kept}
    choices = []
    for value in allowed:
        if needle in value.casefold() and value.casefold() not in taken:
            text = ", ".join([*kept, value])
            if len(text) <= CHOICE_TEXT_MAX:
                choices.append(app_commands.Choice(name=text, value=text))
        if len(choices) == CHOICES_MAX:
            break
    return choices


@app_commands.guild_only()
class Nuro(commands.GroupCog, group_name="nuro", group_description="Songs of an exact length"):
    def __init__(self, bot: MusicBot) -> None:
        self.bot = bot
        super().__init__()

    @app_commands.command(name="vocal", description="A sung song of exactly the length you set")
    @app_commands.describe(
        lyrics="The lyrics (up to 2000 characters; tags like [verse] [chorus] [outro] help)",
        duration="Length in seconds, 30 to 240",
        genre="Genre (Pop by default)",
        mood="Mood (Romantic by default)",
        gender="Singer (Female by default)",
        timbre="Voice colour (Warm by default)",
    )
    @app_commands.choices(
        genre=_choices(NURO_VOCAL_GENRES),
        mood=_choices(NURO_VOCAL_MOODS),
        gender=_choices(NURO_GENDERS),
        timbre=_choices(NURO_TIMBRES),
    )
    async def vocal(
        self,
        interaction: discord.Interaction,
        lyrics: str,
        duration: int,
        # Plain strings, not Choice: a value outside the list then reaches our own check,
        # which names the option, instead of failing inside discord.py's conversion.
        genre: str | None = None,
        mood: str | None = None,
        gender: str | None = None,
        timbre: str | None = None,
    ) -> None:
        request = validate.build_nuro_vocal(
            lyrics=lyrics, duration=duration, genre=genre, mood=mood, gender=gender, timbre=timbre
        )
        # Every word here is one of Nuro's fixed choices, checked above: nothing to escape.
        summary = Markdown(
            f"Nuro vocal song, {request.duration} s\n{request.genre}, {request.mood}, "
            f"{request.gender} singer, {_label(request.timbre)} voice"
        )
        await start_job(self.bot, interaction, family.nuro_vocal(request, summary))

    async def _genres(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return list_choices(current, NURO_BGM_GENRES)

    async def _moods(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return list_choices(current, NURO_BGM_MOODS)

    async def _instruments(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return list_choices(current, NURO_BGM_INSTRUMENTS)

    @app_commands.command(name="instrumental", description="Background music of an exact length")
    @app_commands.describe(
        description="What the music is for or should feel like",
        duration="Length in seconds, 1 to 60",
        genre="Up to 5 genres, comma-separated (pick from the list)",
        mood="Up to 5 moods, comma-separated (pick from the list)",
        instrument="Up to 5 instruments, comma-separated (pick from the list)",
    )
    @app_commands.autocomplete(genre=_genres, mood=_moods, instrument=_instruments)
    async def instrumental(
        self,
        interaction: discord.Interaction,
        description: str,
        duration: int,
        genre: str | None = None,
        mood: str | None = None,
        instrument: str | None = None,
    ) -> None:
        request = validate.build_nuro_bgm(
            description=description,
            duration=duration,
            genre=genre,
            mood=mood,
            instrument=instrument,
        )
        tags = ", ".join([*request.genre, *request.mood, *request.instrument])
        summary = Markdown(
            f"Nuro instrumental, {request.duration} s\n{escape(request.description, TEXT_SHOWN)}"
            + (f"\n{escape(tags, TEXT_SHOWN)}" if tags else "")
        )
        await start_job(self.bot, interaction, family.nuro_bgm(request, summary))


async def setup(bot: MusicBot) -> None:
    await bot.add_cog(Nuro(bot))
