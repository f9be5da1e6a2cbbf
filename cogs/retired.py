"""/riffusion and /studio: families upstream has retired (docs/musicapi/protocol.md §6 Deprecated,
§8 Unavailable). The API client still speaks them, but the commands refuse until the bot owner
turns them on with `/musicbot feature`; then they take the normal job path and quota.

The switch is checked first, so while a family is off no option is even looked at.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.features import Features
from bot.interactions.jobs import start_job
from bot.jobs import family_operations as family
from bot.markdown import TEXT_SHOWN, TITLE_SHOWN, Markdown, escape
from bot.musicapi.families.riffusion import RIFFUSION_MODELS
from bot.validation import families as validate

if TYPE_CHECKING:
    from bot.app import MusicBot


@app_commands.guild_only()
class Riffusion(
    commands.GroupCog,
    group_name="riffusion",
    group_description="Riffusion songs (deprecated upstream; the owner turns it on)",
):
    def __init__(self, bot: MusicBot) -> None:
        self.bot = bot
        self.features = Features(bot.db, clock=bot.clock)
        super().__init__()

    @app_commands.command(name="create", description="A Riffusion song (deprecated upstream)")
    @app_commands.describe(
        description="What the song is about; lyrics are written for you (up to 200 characters)",
        lyrics="Your own lyrics instead of a description (up to 3000 characters)",
        sound="The sound: genres, moods, instruments (up to 200 characters)",
        title="Song title",
        instrumental="No vocals",
        model="Riffusion model (MusicAPI's default if left out)",
    )
    @app_commands.choices(model=[app_commands.Choice(name=m, value=m) for m in RIFFUSION_MODELS])
    async def create(
        self,
        interaction: discord.Interaction,
        description: str | None = None,
        lyrics: str | None = None,
        sound: str | None = None,
        title: str | None = None,
        instrumental: bool = False,
        model: app_commands.Choice[str] | None = None,
    ) -> None:
        await self.features.require("riffusion")
        request = validate.build_riffusion(
            description=description, lyrics=lyrics, sound=sound, title=title,
            instrumental=instrumental, model=model.value if model else None,
        )  # fmt: skip
        summary = "\n".join(
            part
            for part in (
                f"Riffusion song: {escape(request.title, TITLE_SHOWN)}"
                if request.title
                else "Riffusion song",
                escape(request.prompt, TEXT_SHOWN) or ("Your lyrics" if request.lyrics else ""),
                f"Sound: {escape(request.sound, TEXT_SHOWN)}" if request.sound else "",
                "Instrumental" if request.make_instrumental else "",
            )
            if part
        )
        await start_job(self.bot, interaction, family.riffusion_create(request, Markdown(summary)))


@app_commands.guild_only()
class Studio(
    commands.GroupCog,
    group_name="studio",
    group_description="Studio songs (unavailable upstream; the owner turns it on)",
):
    def __init__(self, bot: MusicBot) -> None:
        self.bot = bot
        self.features = Features(bot.db, clock=bot.clock)
        super().__init__()

    @app_commands.command(name="create", description="A Studio song (unavailable upstream)")
    @app_commands.describe(
        style="The style, and what the song is about when you give no lyrics",
        lyrics="Your own lyrics (otherwise they are written for you)",
        instrumental="No vocals",
    )
    async def create(
        self,
        interaction: discord.Interaction,
        style: str,
        lyrics: str | None = None,
        instrumental: bool = False,
    ) -> None:
        await self.features.require("studio")
        request = validate.build_studio(style=style, lyrics=lyrics, instrumental=instrumental)
        kind = {"user": "your lyrics", "instrumental": "instrumental", "generate": "lyrics written"}
        style = escape(request.prompt, TEXT_SHOWN)
        summary = Markdown(f"Studio song ({kind[request.lyrics_type]})\nStyle: {style}")
        await start_job(self.bot, interaction, family.studio_create(request, summary))


async def setup(bot: MusicBot) -> None:
    await bot.add_cog(Riffusion(bot))
    await bot.add_cog(Studio(bot))
