"""/tools: analysis and exports of a song made in this server.

Stems are an upstream task and take the job path (`start_job`: reserve → defer → submit → job
card → delivery by the scheduler). Everything else is a synchronous MusicAPI call: validate →
defer → `JobService.run_now` (reserved first, charged only if it succeeds) → reply.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

import discord
from discord import app_commands
from discord.ext import commands

from bot.delivery import tool_replies
from bot.interactions import tool_actions
from bot.interactions.options import SonicClipOption
from bot.musicapi.families.sonic import MAX_VOX_WINDOW_S
from bot.validation import tools as validate

if TYPE_CHECKING:
    from bot.app import MusicBot

T = TypeVar("T")
CLIP_HELP = "A song from this server (start typing, or paste its id)"
STEM_MODES = [
    app_commands.Choice(name="basic: vocals and instrumental", value="basic"),
    app_commands.Choice(name="full: one stem per instrument", value="full"),
]


@app_commands.guild_only()
class Tools(commands.GroupCog, group_name="tools", group_description="Analyse and export songs"):
    def __init__(self, bot: MusicBot) -> None:
        self.bot = bot
        super().__init__()

    @app_commands.command(name="stems", description="Split a song into stems")
    @app_commands.describe(clip=CLIP_HELP, mode="basic (2 stems) or full (every instrument)")
    @app_commands.choices(mode=STEM_MODES)
    async def stems(
        self,
        interaction: discord.Interaction,
        clip: SonicClipOption,
        mode: app_commands.Choice[str] | None = None,
    ) -> None:
        await tool_actions.stems(self.bot, interaction, clip, mode.value if mode else "basic")

    @app_commands.command(name="wav", description="The song as a lossless WAV file")
    @app_commands.describe(clip=CLIP_HELP)
    async def wav(self, interaction: discord.Interaction, clip: SonicClipOption) -> None:
        await tool_actions.wav(self.bot, interaction, clip)

    @app_commands.command(name="midi", description="The song's notes as a MIDI file")
    @app_commands.describe(clip=CLIP_HELP)
    async def midi(self, interaction: discord.Interaction, clip: SonicClipOption) -> None:
        await tool_actions.midi(self.bot, interaction, clip)

    @app_commands.command(name="bpm", description="The song's tempo")
    @app_commands.describe(clip=CLIP_HELP)
    async def bpm(self, interaction: discord.Interaction, clip: SonicClipOption) -> None:
        await tool_actions.bpm(self.bot, interaction, clip)

    @app_commands.command(name="timeline", description="Synced lyrics as an .lrc file")
    @app_commands.describe(clip=CLIP_HELP)
    async def timeline(self, interaction: discord.Interaction, clip: SonicClipOption) -> None:
        await tool_actions.timeline(self.bot, interaction, clip)

    @app_commands.command(name="vox", description="Cut a vocal segment (for a persona)")
    @app_commands.describe(
        clip=CLIP_HELP,
        start="Where the segment starts, in seconds (default 0)",
        end=f"Where it ends, in seconds (at most {MAX_VOX_WINDOW_S:g} s after the start)",
    )
    async def vox(
        self,
        interaction: discord.Interaction,
        clip: SonicClipOption,
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
        result = await tool_actions.run_now(
            self.bot, interaction, "vox", body, lambda: api.vox(clip.clip_id, part.start, part.end)
        )
        await interaction.followup.send(
            embed=tool_replies.vox_embed(clip, result), allowed_mentions=tool_replies.NO_MENTIONS
        )

    @app_commands.command(name="tags", description="Turn a short style into richer style tags")
    @app_commands.describe(style="A short style, e.g. 'lofi hip hop'")
    async def tags(self, interaction: discord.Interaction, style: str) -> None:
        value = validate.tags_style(style)
        api = self.bot.musicapi
        upsampled = await tool_actions.run_now(
            self.bot,
            interaction,
            "upsample_tags",
            {"tags": value},
            lambda: api.upsample_tags(value),
        )
        await interaction.followup.send(
            embed=tool_replies.tags_embed(value, upsampled),
            allowed_mentions=tool_replies.NO_MENTIONS,
        )


async def setup(bot: MusicBot) -> None:
    await bot.add_cog(Tools(bot))
