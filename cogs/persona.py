"""/persona: saved voices and styles to sing new songs with (`/song persona`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.delivery.embeds import clean
from bot.interactions.file_reads import before_reading_file
from bot.interactions.gate import ACK_PRIVATE
from bot.interactions.jobs import origin_of, start_job
from bot.interactions.options import SonicClipTransformer
from bot.interactions.replies import answer
from bot.jobs.operations import create_voice
from bot.markdown import TITLE_SHOWN, Markdown, bold, code, escape, shorten
from bot.musicapi.models import PersonaResult
from bot.store import personas as persona_sql
from bot.store.clips import StoredClip
from bot.store.database import Connection
from bot.store.jobs import Job
from bot.store.personas import Persona
from bot.validation import attachments
from bot.validation import tools as validate

if TYPE_CHECKING:
    from bot.app import MusicBot


@app_commands.guild_only()
class Personas(commands.GroupCog, group_name="persona", group_description="Saved voices"):
    def __init__(self, bot: MusicBot) -> None:
        self.bot = bot
        super().__init__()

    @app_commands.command(name="create", description="Save a song's voice and style as a persona")
    @app_commands.describe(
        clip="The song whose voice to keep",
        name="A name for the persona",
        description="What the voice is like",
        styles="Styles it sings best",
    )
    async def create(
        self,
        interaction: discord.Interaction,
        clip: app_commands.Transform[StoredClip, SonicClipTransformer],
        name: str,
        description: str | None = None,
        styles: str | None = None,
    ) -> None:
        assert interaction.guild_id is not None
        request = validate.build_persona(
            clip.clip_id, name=name, description=description, styles=styles
        )
        name = request.name
        guild_id, user_id = interaction.guild_id, interaction.user.id

        async def remember(conn: Connection, job: Job, made: PersonaResult) -> None:
            await persona_sql.insert(
                conn,
                Persona(made.persona_id, guild_id, user_id, name, clip.clip_id, self.bot.clock()),
            )

        made = await self.bot.jobs.run_now(
            origin_of(interaction),
            "persona",
            request.to_body(),
            lambda: self.bot.musicapi.create_persona(request),
            record=remember,
        )
        await interaction.followup.send(
            f"Persona {bold(clean(name, 80))} saved (id {code(made.persona_id)}). "
            "Sing with it: `/song persona`."
        )

    @app_commands.command(name="voice", description="Make a persona from a solo vocal recording")
    @app_commands.describe(file="A clear solo voice, longer than 10 seconds (mp3 or wav)")
    async def voice(self, interaction: discord.Interaction, file: discord.Attachment) -> None:
        attachments.check_audio_file(file.filename, file.content_type, file.size)
        # Reading the file's first bytes is network I/O; the gate has acknowledged already.
        await before_reading_file(self.bot, interaction)
        await attachments.checked_audio(self.bot.http_session, file)
        name = validate.voice_name(file.filename)
        summary = Markdown(f"Voice from {escape(name, TITLE_SHOWN)}")
        await start_job(self.bot, interaction, create_voice(file.url, summary))

    @app_commands.command(name="list", description="This server's personas", extras=ACK_PRIVATE)
    async def list(self, interaction: discord.Interaction) -> None:
        assert interaction.guild_id is not None
        async with self.bot.db.read() as conn:
            found = await persona_sql.for_guild(conn, interaction.guild_id)
        if not found:
            await answer(
                interaction,
                "No personas yet: make one with `/persona create` or `/persona voice`.",
            )
            return
        lines = [
            f"{bold(clean(p.name, 80))} — {code(p.persona_id)} (by <@{p.user_id}>, "
            f"<t:{int(p.created_at)}:R>)"
            for p in found
        ]
        embed = discord.Embed(
            title="Personas",
            description=shorten(Markdown("\n".join(lines)), 4000),
            colour=discord.Colour.blurple(),
        )
        await answer(interaction, embed=embed)


async def setup(bot: MusicBot) -> None:
    await bot.add_cog(Personas(bot))
