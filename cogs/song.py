"""/song: making songs. Thin: validate, reserve, submit, show the job card."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.delivery.embeds import clean, clip_embed
from bot.interactions import song_actions
from bot.interactions.file_reads import before_reading_file
from bot.interactions.gate import ACK_PRIVATE, ACK_SELF, acknowledge
from bot.interactions.jobs import origin_of, start_job
from bot.interactions.lyrics_form import CustomOptions, LyricsModal, clip_name, summary_of
from bot.interactions.options import (
    ClipTransformer,
    PersonaTransformer,
    SonicClipTransformer,
)
from bot.interactions.replies import answer
from bot.jobs import operations
from bot.jobs.operations import sonic_create
from bot.markdown import Markdown, bold, code, link
from bot.states import ClipSource
from bot.store import clips as clip_sql
from bot.store.clips import StoredClip
from bot.store.database import Connection
from bot.store.jobs import Job
from bot.store.personas import Persona
from bot.validation import attachments, choices
from bot.validation import sonic as validation
from bot.validation.text import visible_text

if TYPE_CHECKING:
    from bot.app import MusicBot

VOCALS = [
    app_commands.Choice(name="female", value="f"),
    app_commands.Choice(name="male", value="m"),
]


@app_commands.guild_only()
class Song(commands.GroupCog, group_name="song", group_description="Make songs with MusicAPI"):
    def __init__(self, bot: MusicBot) -> None:
        self.bot = bot
        super().__init__()

    async def model_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        current = current.lower()
        return [
            app_commands.Choice(name=model, value=model)
            for model in self.bot.settings.models
            if current in model.lower()
        ][:25]

    @app_commands.command(name="create", description="Make a song from a description")
    @app_commands.describe(
        description="What the song is about; the lyrics are written for you",
        style="Genres, moods, instruments (e.g. 'dreamy synth-pop, female vocals')",
        title="Song title",
        instrumental="No vocals",
        model="MusicAPI model",
        vocal="Singer's voice (sonic-v4-5 and newer)",
        negative="Styles to avoid",
    )
    @app_commands.choices(vocal=VOCALS)
    @app_commands.autocomplete(model=model_autocomplete)
    async def create(
        self,
        interaction: discord.Interaction,
        description: str,
        style: str | None = None,
        title: str | None = None,
        instrumental: bool = False,
        model: str | None = None,
        vocal: app_commands.Choice[str] | None = None,
        negative: str | None = None,
    ) -> None:
        settings = self.bot.settings
        request = validation.build_create(
            description=description,
            style=style,
            title=title,
            instrumental=instrumental,
            model=choices.model(model, settings.models, settings.default_model),
            vocal=vocal.value if vocal else None,
            negative=negative,
        )
        await start_job(self.bot, interaction, sonic_create(request, summary_of(request)))

    # Without a lyrics file it answers with the lyrics form, which must be the first answer.
    @app_commands.command(
        name="custom", description="Make a song from your own lyrics", extras=ACK_SELF
    )
    @app_commands.describe(
        title="Song title",
        style="Genres, moods, instruments",
        model="MusicAPI model",
        instrumental="No vocals",
        vocal="Singer's voice (sonic-v4-5 and newer)",
        lyrics_file="A .txt file with your lyrics (otherwise a form opens to type them)",
    )
    @app_commands.choices(vocal=VOCALS)
    @app_commands.autocomplete(model=model_autocomplete)
    async def custom(
        self,
        interaction: discord.Interaction,
        title: str | None = None,
        style: str | None = None,
        model: str | None = None,
        instrumental: bool = False,
        vocal: app_commands.Choice[str] | None = None,
        lyrics_file: discord.Attachment | None = None,
    ) -> None:
        settings = self.bot.settings
        chosen = choices.model(model, settings.models, settings.default_model)
        options: CustomOptions = {
            "title": title,
            "style": style,
            "model": chosen,
            "vocal": vocal.value if vocal else None,
        }
        # Check every other option now, before the member types their lyrics.
        validation.check_custom_options(instrumental=instrumental, **options)

        if lyrics_file is None:
            modal = LyricsModal(self.bot, instrumental=instrumental, **options)
            await interaction.response.send_modal(modal)
            return

        attachments.check_lyrics_file(
            lyrics_file.filename, lyrics_file.content_type, lyrics_file.size
        )
        # Reading the attachment is network I/O: acknowledge first.
        await acknowledge(interaction)
        await before_reading_file(self.bot, interaction)
        lyrics = await attachments.read_lyrics_file(self.bot.http_session, lyrics_file)
        request = validation.build_custom(lyrics=lyrics, instrumental=instrumental, **options)
        await start_job(self.bot, interaction, sonic_create(request, summary_of(request)))

    def _model(self, model: str | None) -> str:
        return song_actions.model_of(self.bot, model)

    @app_commands.command(name="extend", description="Continue a song from a moment in it")
    @app_commands.describe(
        clip="A song from this server (start typing, or paste its id)",
        at="Where to continue from, in seconds",
        lyrics="Lyrics for the new part (otherwise they are written for you)",
        style="Style of the new part (the song's own style by default)",
        model="MusicAPI model",
    )
    @app_commands.autocomplete(model=model_autocomplete)
    async def extend(
        self,
        interaction: discord.Interaction,
        clip: app_commands.Transform[StoredClip, SonicClipTransformer],
        at: float,
        lyrics: str | None = None,
        style: str | None = None,
        model: str | None = None,
    ) -> None:
        await song_actions.extend(
            self.bot, interaction, clip, at=at, lyrics=lyrics, style=style, model=model
        )

    @app_commands.command(name="cover", description="The same song in another style")
    @app_commands.describe(
        clip="A song from this server",
        style="The new style",
        lyrics="New lyrics (the song's own by default)",
        model="MusicAPI model",
        audio_weight="How closely to follow the original audio, 0 to 1",
    )
    @app_commands.autocomplete(model=model_autocomplete)
    async def cover(
        self,
        interaction: discord.Interaction,
        clip: app_commands.Transform[StoredClip, SonicClipTransformer],
        style: str | None = None,
        lyrics: str | None = None,
        model: str | None = None,
        audio_weight: float | None = None,
    ) -> None:
        await song_actions.cover(
            self.bot, interaction, clip, style=style, lyrics=lyrics, model=model,
            audio_weight=audio_weight,
        )  # fmt: skip

    @app_commands.command(name="full", description="Join an extended part into the whole song")
    @app_commands.describe(clip="A part made with /song extend")
    async def full(
        self,
        interaction: discord.Interaction,
        clip: app_commands.Transform[StoredClip, SonicClipTransformer],
    ) -> None:
        await song_actions.full(self.bot, interaction, clip)

    @app_commands.command(name="remaster", description="Re-render a song (less than 24 h old)")
    @app_commands.describe(
        clip="A song from this server", variation="How much may change", model="MusicAPI model"
    )
    @app_commands.choices(
        variation=[app_commands.Choice(name=v, value=v) for v in validation.VARIATIONS]
    )
    @app_commands.autocomplete(model=model_autocomplete)
    async def remaster(
        self,
        interaction: discord.Interaction,
        clip: app_commands.Transform[StoredClip, SonicClipTransformer],
        variation: app_commands.Choice[str] | None = None,
        model: str | None = None,
    ) -> None:
        await song_actions.remaster(
            self.bot, interaction, clip, variation=variation.value if variation else None,
            model=model,
        )  # fmt: skip

    @app_commands.command(name="replace", description="Regenerate a section of a song")
    @app_commands.describe(
        clip="A song from this server",
        start="Start of the section, in seconds",
        end="End of the section, in seconds",
        lyrics="New lyrics for the section",
        style="Style (the song's own by default)",
    )
    async def replace(
        self,
        interaction: discord.Interaction,
        clip: app_commands.Transform[StoredClip, SonicClipTransformer],
        start: float,
        end: float,
        lyrics: str | None = None,
        style: str | None = None,
    ) -> None:
        request = validation.build_replace(
            clip, start=start, end=end, lyrics=lyrics, style=style, model=self._model(None)
        )
        summary = Markdown(f"Replace {start:g}–{end:g} s of {clip_name(clip)}")
        await start_job(self.bot, interaction, operations.replace_section(request, summary))

    @app_commands.command(name="mashup", description="Blend two songs into a new one")
    @app_commands.describe(
        clip_a="The first song", clip_b="The second song",
        description="What the new song should be", style="Its style",
    )  # fmt: skip
    async def mashup(
        self,
        interaction: discord.Interaction,
        clip_a: app_commands.Transform[StoredClip, SonicClipTransformer],
        clip_b: app_commands.Transform[StoredClip, SonicClipTransformer],
        description: str | None = None,
        style: str | None = None,
    ) -> None:
        request = validation.build_mashup(
            clip_a, clip_b, description=description, style=style, model=self._model(None)
        )
        summary = Markdown(f"Mashup of {clip_name(clip_a)} and {clip_name(clip_b)}")
        await start_job(self.bot, interaction, operations.mashup(request, summary))

    @app_commands.command(name="sample", description="A new song around a piece of this one")
    @app_commands.describe(
        clip="A song from this server",
        start="Start of the sample, in seconds",
        end="End of the sample, in seconds",
        description="What the new song should be",
        style="Its style",
    )
    async def sample(
        self,
        interaction: discord.Interaction,
        clip: app_commands.Transform[StoredClip, SonicClipTransformer],
        start: float,
        end: float,
        description: str | None = None,
        style: str | None = None,
    ) -> None:
        request = validation.build_sample(
            clip, start=start, end=end, description=description, style=style,
            model=self._model(None),
        )  # fmt: skip
        summary = Markdown(f"New song sampling {start:g}–{end:g} s of {clip_name(clip)}")
        await start_job(self.bot, interaction, operations.sample(request, summary))

    @app_commands.command(
        name="persona", description="A new song sung by a saved persona", extras=ACK_SELF
    )
    @app_commands.describe(
        persona="One of this server's personas (`/persona list`)",
        description="A title for the song",
        style="Style",
        model="MusicAPI model",
    )
    @app_commands.autocomplete(model=model_autocomplete)
    async def persona(
        self,
        interaction: discord.Interaction,
        persona: app_commands.Transform[Persona, PersonaTransformer],
        description: str | None = None,
        style: str | None = None,
        model: str | None = None,
    ) -> None:
        chosen = self._model(model)
        options: CustomOptions = {
            "title": description,
            "style": style,
            "model": chosen,
            "vocal": None,
        }
        validation.check_custom_options(instrumental=False, **options)
        modal = LyricsModal(self.bot, instrumental=False, persona_id=persona.persona_id, **options)
        await interaction.response.send_modal(modal)

    @app_commands.command(name="upload", description="Bring your own audio, and work on it")
    @app_commands.describe(
        file="An audio file (mp3, wav, ...) that you own",
        action="What to do with it after the upload",
        at="extend: where to continue from, in seconds (0.1 by default)",
        style="extend / cover / add-vocals / add-instrumental: the style",
        lyrics="add-vocals: the lyrics to sing; extend / cover: new lyrics",
        start="add-vocals / add-instrumental: start of the part to paint over, in seconds",
        end="add-vocals / add-instrumental: end of the part to paint over, in seconds",
    )
    @app_commands.choices(
        action=[app_commands.Choice(name=a, value=a) for a in validation.UPLOAD_ACTIONS]
    )
    async def upload(
        self,
        interaction: discord.Interaction,
        file: discord.Attachment,
        action: app_commands.Choice[str] | None = None,
        at: float | None = None,
        style: str | None = None,
        lyrics: str | None = None,
        start: float | None = None,
        end: float | None = None,
    ) -> None:
        assert interaction.guild_id is not None
        chosen = action.value if action else "none"
        model = self._model(None)
        plan = validation.UploadPlan(
            chosen, at=at, style=style, lyrics=lyrics, start=start, end=end
        )
        # Options first (no I/O), then the standing checks and the rate limit, then the
        # file's bytes; all before the upload is paid for.
        plan.check(model)
        attachments.check_audio_file(file.filename, file.content_type, file.size)
        await before_reading_file(self.bot, interaction)
        _, seconds = await attachments.checked_audio(self.bot.http_session, file)
        validation.check_upload_length(seconds)
        # Every step of the action, against the file's own length.
        plan.check(model, seconds)
        origin = origin_of(interaction)
        title = visible_text(file.filename.rsplit(".", 1)[0])[: validation.TITLE_MAX] or "Upload"

        async def remember(conn: Connection, job: Job, clip_id: str) -> None:
            await clip_sql.upsert(
                conn,
                StoredClip(
                    clip_id=clip_id, guild_id=job.guild_id, job_id=job.id, user_id=job.user_id,
                    title=title, tags="", lyrics="", duration=seconds, model=None, image_url=None,
                    audio_url=None, source=ClipSource.UPLOAD, created_at=self.bot.clock(), raw={},
                ),
            )  # fmt: skip

        clip_id = await self.bot.jobs.run_now(
            origin, "upload", {"url": file.url}, lambda: self.bot.musicapi.upload(file.url),
            record=remember,
        )  # fmt: skip
        if chosen == "none":
            await interaction.followup.send(
                f"Uploaded {bold(clean(title, 80))} as clip {code(clip_id)}. Use it with "
                "`/song extend`, `/song cover` or `/song upload` actions."
            )
            return
        async with self.bot.db.read() as conn:
            stored = await clip_sql.get(conn, interaction.guild_id, clip_id)
        assert stored is not None
        request = plan.request(stored, model)
        action_words = chosen.replace("-", " ").capitalize()
        summary = Markdown(f"{action_words} on your upload {bold(clean(title, 80))}")
        await start_job(self.bot, interaction, sonic_create(request, summary))

    @app_commands.command(
        name="info", description="Details of a song made in this server", extras=ACK_PRIVATE
    )
    @app_commands.describe(clip="A song from this server (start typing, or paste its id)")
    async def info(
        self,
        interaction: discord.Interaction,
        clip: app_commands.Transform[StoredClip, ClipTransformer],
    ) -> None:
        embed = clip_embed(clip, lyrics_inline=True, image_url=clip.image_url)
        embed.add_field(name="Made", value=f"<t:{int(clip.created_at)}:R> (job #{clip.job_id})")
        embed.add_field(name="Source", value=clip.source)
        audio = link("link", clip.audio_url)
        if audio:
            embed.add_field(name="Audio", value=f"{audio} (MusicAPI links may expire)")
        await answer(interaction, embed=embed)


async def setup(bot: MusicBot) -> None:
    await bot.add_cog(Song(bot))
