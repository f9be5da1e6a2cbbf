"""/tools: analysis and exports of a song made in this server.

Stems are an upstream task and take the job path (`start_job`: reserve → defer → submit → job
card → delivery by the scheduler). Everything else is a synchronous MusicAPI call: validate →
defer → `JobService.run_now` (reserved first, charged only if it succeeds) → reply.
"""

from __future__ import annotations

import io
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

import discord
from discord import app_commands
from discord.ext import commands

from bot.clip_option import ClipTransformer
from bot.delivery import tool_replies
from bot.delivery.media import slug
from bot.delivery.timeline import timed_lines, to_lrc
from bot.errors import UserFacingError
from bot.jobs import operations
from bot.jobs.service import SubmitRefused
from bot.musicapi.errors import NotReadyError
from bot.musicapi.requests_sonic import MAX_VOX_WINDOW_S
from bot.store.clips import StoredClip
from bot.validation import tools as validate
from cogs.song import origin_of, start_job

if TYPE_CHECKING:
    from bot.app import MusicBot

T = TypeVar("T")
ClipOption = app_commands.Transform[StoredClip, ClipTransformer]
CLIP_HELP = "A song from this server (start typing, or paste its id)"
STEM_MODES = [
    app_commands.Choice(name="basic: vocals and instrumental", value="basic"),
    app_commands.Choice(name="full: one stem per instrument", value="full"),
]
MIDI_NOT_READY = (
    "MusicAPI is still preparing this song's MIDI file. Try again in a minute; "
    "you were not charged."
)


@app_commands.guild_only()
class Tools(commands.GroupCog, group_name="tools", group_description="Analyse and export songs"):
    def __init__(self, bot: MusicBot) -> None:
        self.bot = bot
        super().__init__()

    async def _run(
        self,
        interaction: discord.Interaction,
        name: str,
        body: dict[str, Any],
        call: Callable[[], Awaitable[T]],
    ) -> T:
        """Acknowledge, then one synchronous MusicAPI call through the quota."""
        await interaction.response.defer(thinking=True)
        return await self.bot.jobs.run_now(origin_of(interaction), name, body, call)

    @app_commands.command(name="stems", description="Split a song into stems")
    @app_commands.describe(clip=CLIP_HELP, mode="basic (2 stems) or full (every instrument)")
    @app_commands.choices(mode=STEM_MODES)
    async def stems(
        self,
        interaction: discord.Interaction,
        clip: ClipOption,
        mode: app_commands.Choice[str] | None = None,
    ) -> None:
        chosen = mode.value if mode else "basic"
        summary = f"Stems ({chosen}) of {clip.title or 'Untitled'}"
        operation = operations.stems(clip.clip_id, chosen, summary)
        await start_job(self.bot, interaction, operation)

    @app_commands.command(name="wav", description="The song as a lossless WAV file")
    @app_commands.describe(clip=CLIP_HELP)
    async def wav(self, interaction: discord.Interaction, clip: ClipOption) -> None:
        api = self.bot.musicapi
        url = await self._run(
            interaction, "wav", {"clip_id": clip.clip_id}, lambda: api.wav(clip.clip_id)
        )
        await tool_replies.send_file_or_link(
            interaction,
            self.bot.http_session,
            text=f"WAV of **{tool_replies.song_name(clip)}**",
            url=url,
            name=clip.title or "song",
            fallback_ext="wav",
            label="WAV",
        )

    @app_commands.command(name="midi", description="The song's notes as a MIDI file")
    @app_commands.describe(clip=CLIP_HELP)
    async def midi(self, interaction: discord.Interaction, clip: ClipOption) -> None:
        api = self.bot.musicapi
        try:
            result = await self._run(
                interaction, "midi", {"clip_id": clip.clip_id}, lambda: api.midi(clip.clip_id)
            )
        except SubmitRefused as refused:
            # HTTP 202: nothing is wrong, the file is just not made yet. run_now has already
            # released the reservation (NotReadyError is a MusicAPIError); say it plainly.
            if isinstance(refused.__cause__, NotReadyError):
                raise UserFacingError(MIDI_NOT_READY) from refused
            raise
        await tool_replies.send_file_or_link(
            interaction,
            self.bot.http_session,
            text=tool_replies.midi_text(clip, result),
            url=result.midi_url,
            name=clip.title or "song",
            fallback_ext="mid",
            label="MIDI",
        )

    @app_commands.command(name="bpm", description="The song's tempo")
    @app_commands.describe(clip=CLIP_HELP)
    async def bpm(self, interaction: discord.Interaction, clip: ClipOption) -> None:
        api = self.bot.musicapi
        result = await self._run(
            interaction, "bpm", {"clip_id": clip.clip_id}, lambda: api.bpm(clip.clip_id)
        )
        await interaction.followup.send(
            embed=tool_replies.bpm_embed(clip, result), allowed_mentions=tool_replies.NO_MENTIONS
        )

    @app_commands.command(name="timeline", description="Synced lyrics as an .lrc file")
    @app_commands.describe(clip=CLIP_HELP)
    async def timeline(self, interaction: discord.Interaction, clip: ClipOption) -> None:
        api = self.bot.musicapi
        assert interaction.guild_id is not None
        if await self.bot.jobs.paid_before(interaction.guild_id, "aligned_lyrics", clip.clip_id):
            # MusicAPI charges only the first timeline of a clip and serves repeats from its
            # cache (REFERENCE §3.10), so this server is not charged again either.
            await interaction.response.defer(thinking=True)
            words = await api.aligned_lyrics(clip.clip_id)
        else:
            words = await self._run(
                interaction,
                "aligned_lyrics",
                {"clip_id": clip.clip_id},
                lambda: api.aligned_lyrics(clip.clip_id),
            )
        lines = timed_lines(words, clip.lyrics)
        if not lines:
            await interaction.followup.send(
                f"MusicAPI found no sung words in **{tool_replies.song_name(clip)}**.",
                allowed_mentions=tool_replies.NO_MENTIONS,
            )
            return
        data = to_lrc(lines, clip.title).encode("utf-8")
        await interaction.followup.send(
            embed=tool_replies.timeline_embed(clip, lines),
            file=discord.File(io.BytesIO(data), filename=f"{slug(clip.title)}.lrc"),
            allowed_mentions=tool_replies.NO_MENTIONS,
        )

    @app_commands.command(name="vox", description="Cut a vocal segment (for a persona)")
    @app_commands.describe(
        clip=CLIP_HELP,
        start="Where the segment starts, in seconds (default 0)",
        end=f"Where it ends, in seconds (at most {MAX_VOX_WINDOW_S:g} s after the start)",
    )
    async def vox(
        self,
        interaction: discord.Interaction,
        clip: ClipOption,
        start: float | None = None,
        end: float | None = None,
    ) -> None:
        part = validate.vox_window(start, end, clip.duration)
        body: dict[str, Any] = {"clip_id": clip.clip_id}
        if part.start is not None:
            body["vocal_start_s"] = part.start
        if part.end is not None:
            body["vocal_end_s"] = part.end
        api = self.bot.musicapi
        result = await self._run(
            interaction, "vox", body, lambda: api.vox(clip.clip_id, part.start, part.end)
        )
        await interaction.followup.send(
            embed=tool_replies.vox_embed(clip, result), allowed_mentions=tool_replies.NO_MENTIONS
        )

    @app_commands.command(name="tags", description="Turn a short style into richer style tags")
    @app_commands.describe(style="A short style, e.g. 'lofi hip hop'")
    async def tags(self, interaction: discord.Interaction, style: str) -> None:
        value = validate.tags_style(style)
        api = self.bot.musicapi
        upsampled = await self._run(
            interaction, "upsample_tags", {"tags": value}, lambda: api.upsample_tags(value)
        )
        await interaction.followup.send(
            embed=tool_replies.tags_embed(value, upsampled),
            allowed_mentions=tool_replies.NO_MENTIONS,
        )


async def setup(bot: MusicBot) -> None:
    await bot.add_cog(Tools(bot))
