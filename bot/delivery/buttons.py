"""The buttons under every song: Extend, Cover, Full song, Stems, WAV, MIDI, Timeline, BPM,
Remaster.

Each is a `DynamicItem` whose custom id carries the action and the clip id, so the buttons keep
working after a restart. A press runs the very same command callback as the slash command
(`/song extend`, `/tools stems`, ...), so validation, quota and the job path are one code path;
where that command needs input, a small form asks for it first.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import discord

from bot.errors import InputError, UserFacingError
from bot.store import clips as clip_sql
from bot.store.clips import StoredClip
from bot.tree import report_error

if TYPE_CHECKING:
    from bot.app import MusicBot

# action -> (label, cog, command, fixed options); forms handle "extend" and "cover".
ACTIONS: dict[str, tuple[str, str, str, dict[str, Any]]] = {
    "extend": ("Extend", "Song", "extend", {}),
    "cover": ("Cover", "Song", "cover", {}),
    "full": ("Full song", "Song", "full", {}),
    "remaster": ("Remaster", "Song", "remaster", {}),
    "stems": ("Stems", "Tools", "stems", {}),
    "wav": ("WAV", "Tools", "wav", {}),
    "midi": ("MIDI", "Tools", "midi", {}),
    "timeline": ("Timeline", "Tools", "timeline", {}),
    "bpm": ("BPM", "Tools", "bpm", {}),
    # Producer songs only exist in Producer: its own commands work on them.
    "pcover": ("Cover", "Producer", "cover", {}),
    "pmp3": ("MP3", "Producer", "download", {"format": "mp3"}),
    "pwav": ("WAV", "Producer", "download", {"format": "wav"}),
}
# Which buttons a song gets, by the family of the job that made it; the other families
# (Nuro, Riffusion, Studio) have no follow-up operations.
FAMILY_ACTIONS = {
    "sonic": ("extend", "cover", "full", "remaster", "stems", "wav", "midi", "timeline", "bpm"),
    "producer": ("pcover", "pmp3", "pwav"),
}
# Only a part made by extend can be joined into the full song.
EXTENSIONS_ONLY = {"full"}
EXTEND_OPERATIONS = ("extend_music", "extend_upload_music")


def clip_view(clip_id: str, operation: str, family: str) -> discord.ui.View | None:
    """The buttons for one delivered song (`operation` in `family` made it)."""
    actions = FAMILY_ACTIONS.get(family, ())
    if not actions:
        return None
    view = discord.ui.View(timeout=None)
    for action in actions:
        if action in EXTENSIONS_ONLY and operation not in EXTEND_OPERATIONS:
            continue
        view.add_item(ClipAction(action, clip_id))
    return view


async def _run(
    bot: MusicBot, interaction: discord.Interaction, action: str, clip: StoredClip, **kw: Any
) -> None:
    _, cog_name, command_name, fixed = ACTIONS[action]
    cog = bot.get_cog(cog_name)
    command = getattr(cog, command_name, None) if cog else None
    if command is None:
        raise UserFacingError("That action is not available right now.")
    # A cog whose clip option converts the stored clip (Producer) says how, for buttons too.
    convert = getattr(cog, "clip_argument", None)
    argument = await convert(clip) if convert else clip
    await command.callback(cog, interaction, clip=argument, **fixed, **kw)


class ClipAction(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"clip:(?P<action>[a-z0-9]+):(?P<clip>[0-9a-fA-F-]{8,64})",
):
    def __init__(self, action: str, clip_id: str) -> None:
        label = ACTIONS[action][0] if action in ACTIONS else action
        super().__init__(
            discord.ui.Button(
                label=label,
                style=discord.ButtonStyle.secondary,
                custom_id=f"clip:{action}:{clip_id}",
            )
        )
        self.action = action
        self.clip_id = clip_id

    @classmethod
    async def from_custom_id(  # type: ignore[override]  # the template matches only this button
        cls, interaction: discord.Interaction, item: discord.ui.Button[Any], match: re.Match[str]
    ) -> ClipAction:
        return cls(match["action"], match["clip"])

    async def callback(self, interaction: discord.Interaction[MusicBot]) -> None:  # type: ignore[override]  # the client is always MusicBot here
        bot = interaction.client
        try:
            if self.action not in ACTIONS or interaction.guild_id is None:
                raise UserFacingError("That button no longer works.")
            async with bot.db.read() as conn:
                clip = await clip_sql.get(conn, interaction.guild_id, self.clip_id)
            if clip is None:
                raise UserFacingError("That song is not known in this server.")
            if self.action == "extend":
                await interaction.response.send_modal(ExtendForm(bot, clip))
            elif self.action == "cover":
                await interaction.response.send_modal(CoverForm(bot, clip))
            else:
                await _run(bot, interaction, self.action, clip=clip)
        except Exception as error:
            await report_error(interaction, error)


class ExtendForm(discord.ui.Modal, title="Extend this song"):
    at: discord.ui.TextInput[ExtendForm] = discord.ui.TextInput(
        label="Continue from (seconds)", placeholder="e.g. 60", max_length=10
    )
    lyrics: discord.ui.TextInput[ExtendForm] = discord.ui.TextInput(
        label="Lyrics for the new part (optional)",
        style=discord.TextStyle.paragraph,
        required=False,
        max_length=4000,
    )

    def __init__(self, bot: MusicBot, clip: StoredClip) -> None:
        super().__init__()
        self.bot = bot
        self.clip = clip

    async def on_submit(self, interaction: discord.Interaction) -> None:
        try:
            at = float(self.at.value.strip().replace(",", "."))
        except ValueError:
            raise InputError("at", "must be a number of seconds, like 60.") from None
        await _run(
            self.bot, interaction, "extend", clip=self.clip, at=at,
            lyrics=self.lyrics.value or None, style=None, model=None,
        )  # fmt: skip

    async def on_error(self, interaction: discord.Interaction, error: Exception) -> None:  # type: ignore[override]  # typed with View's item argument
        await report_error(interaction, error)


class CoverForm(discord.ui.Modal, title="Cover this song"):
    style: discord.ui.TextInput[CoverForm] = discord.ui.TextInput(
        label="New style", placeholder="e.g. acoustic folk, female vocals", max_length=1000
    )

    def __init__(self, bot: MusicBot, clip: StoredClip) -> None:
        super().__init__()
        self.bot = bot
        self.clip = clip

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await _run(
            self.bot, interaction, "cover", clip=self.clip, style=self.style.value,
            lyrics=None, model=None, audio_weight=None,
        )  # fmt: skip

    async def on_error(self, interaction: discord.Interaction, error: Exception) -> None:  # type: ignore[override]  # typed with View's item argument
        await report_error(interaction, error)
