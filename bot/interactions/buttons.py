"""The buttons under every song, as one action table.

Each button is a `ClipAction`: a `discord.ui.DynamicItem` whose custom id carries the action
and the clip id (`clip:<action>:<clip id>`), so buttons keep working after a restart. The
table `ACTIONS` says, per action, what a press runs. A button that has a slash command runs
the very function that command runs (`song_actions`, `tool_actions`, `producer_actions`), so
it passes exactly the same checks: validation, then the start-a-job path (block list, channel
allow-list, concurrency caps, member and server quota). Where the command needs input, a form
opens first and its submit runs the same function.

Two buttons have no command: **Again** (the same request once more, as a new job charged to
whoever pressed it, its reply saying the cost) and **Delete** (the requester or a moderator
removes the result message; the clip and the ledger stay).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import discord

from bot.errors import NotAllowed, UserFacingError
from bot.interactions import producer_actions, song_actions, tool_actions
from bot.interactions.components import GuardedItem
from bot.interactions.forms import Form
from bot.interactions.gate import Ack
from bot.interactions.jobs import start_job
from bot.interactions.options import ProducerSource, clip_of_server, producer_source
from bot.interactions.permissions import is_requester_or_moderator
from bot.interactions.replies import answer
from bot.jobs.family_operations import PRODUCER_REPEATABLE, producer_repeat
from bot.jobs.operations import Operation, sonic_repeat
from bot.markdown import Markdown
from bot.musicapi.families.sonic import SONIC_TASK_TYPES
from bot.states import Family
from bot.store.clips import StoredClip
from bot.store.jobs import Job
from bot.validation.numbers import typed_seconds

if TYPE_CHECKING:
    from bot.app import MusicBot

# A press: the bot, the interaction, and the clip id from the custom id. Most actions look the
# clip up (after the acknowledgement); those that open a form first do not.
Run = Callable[["MusicBot", discord.Interaction, str], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class ButtonAction:
    label: str
    run: Run
    ack: Ack = Ack.PUBLIC  # SELF when the press answers with a form
    style: discord.ButtonStyle = discord.ButtonStyle.secondary


async def _clip(bot: MusicBot, interaction: discord.Interaction, clip_id: str) -> StoredClip:
    if interaction.guild_id is None:
        raise UserFacingError("That button works in servers only.")
    async with bot.db.read() as conn:
        return await clip_of_server(conn, interaction.guild_id, clip_id)


async def _producer_song(
    bot: MusicBot, interaction: discord.Interaction, clip_id: str
) -> ProducerSource:
    clip = await _clip(bot, interaction, clip_id)
    async with bot.db.read() as conn:
        return await producer_source(conn, clip)


def on_clip(action: Callable[[MusicBot, discord.Interaction, StoredClip], Awaitable[None]]) -> Run:
    async def run(bot: MusicBot, interaction: discord.Interaction, clip_id: str) -> None:
        await action(bot, interaction, await _clip(bot, interaction, clip_id))

    return run


def on_producer_song(
    action: Callable[[MusicBot, discord.Interaction, ProducerSource], Awaitable[None]],
) -> Run:
    async def run(bot: MusicBot, interaction: discord.Interaction, clip_id: str) -> None:
        await action(bot, interaction, await _producer_song(bot, interaction, clip_id))

    return run


def opens(form: Callable[[MusicBot, str], discord.ui.Modal]) -> Run:
    async def run(bot: MusicBot, interaction: discord.Interaction, clip_id: str) -> None:
        await interaction.response.send_modal(form(bot, clip_id))

    return run


# -- Again and Delete --------------------------------------------------------------------------


def repeat_of(job: Job) -> Operation | None:
    """The request that made `job`, as a new operation; None when it cannot be repeated from
    its stored body (uploads, tools, Nuro and the retired families)."""
    summary = Markdown(f"Again: {job.summary}")  # the stored summary is already markdown
    if job.family == Family.SONIC:
        return sonic_repeat(job.operation, job.request, summary)
    if job.family == Family.PRODUCER:
        return producer_repeat(job.operation, job.request, summary)
    return None


def repeatable(operation: str, family: str) -> bool:
    """Whether `repeat_of` can rebuild a job of this operation (decides the Again button)."""
    if family == Family.SONIC:
        return operation in SONIC_TASK_TYPES
    return family == Family.PRODUCER and operation in PRODUCER_REPEATABLE


async def again(bot: MusicBot, interaction: discord.Interaction, clip: StoredClip) -> None:
    made_by = await bot.jobs.get(clip.job_id)
    operation = repeat_of(made_by)
    if operation is None:
        raise UserFacingError("This song cannot be made again with a button; use its command.")
    cost = bot.jobs.cost_of(operation.name)
    note = f"Again: the request of job #{made_by.id} once more, as a new job for {cost} credits."
    await start_job(bot, interaction, operation, note=note)


async def delete(bot: MusicBot, interaction: discord.Interaction, clip_id: str) -> None:
    clip = await _clip(bot, interaction, clip_id)
    if not await is_requester_or_moderator(interaction, clip.user_id):
        raise NotAllowed("Only the member who asked for it, or a moderator, can delete this song.")
    if interaction.message is not None:
        await interaction.message.delete()
    await answer(
        interaction,
        "Deleted the message. The song's record and the credits it cost stay in the ledger.",
    )


# -- forms -------------------------------------------------------------------------------------


class ExtendForm(Form, title="Extend this song"):
    at: discord.ui.TextInput[ExtendForm] = discord.ui.TextInput(
        label="Continue from (seconds)", placeholder="e.g. 60", max_length=10
    )
    lyrics: discord.ui.TextInput[ExtendForm] = discord.ui.TextInput(
        label="Lyrics for the new part (optional)",
        style=discord.TextStyle.paragraph,
        required=False,
        max_length=4000,
    )

    def __init__(self, bot: MusicBot, clip_id: str) -> None:
        super().__init__()
        self.bot = bot
        self.clip_id = clip_id

    async def submit(self, interaction: discord.Interaction) -> None:
        at = typed_seconds("at", self.at.value)
        clip = await _clip(self.bot, interaction, self.clip_id)
        await song_actions.extend(
            self.bot, interaction, clip, at=at, lyrics=self.lyrics.value or None
        )


class CoverForm(Form, title="Cover this song"):
    style: discord.ui.TextInput[CoverForm] = discord.ui.TextInput(
        label="New style", placeholder="e.g. acoustic folk, female vocals", max_length=1000
    )

    def __init__(self, bot: MusicBot, clip_id: str) -> None:
        super().__init__()
        self.bot = bot
        self.clip_id = clip_id

    async def submit(self, interaction: discord.Interaction) -> None:
        clip = await _clip(self.bot, interaction, self.clip_id)
        await song_actions.cover(self.bot, interaction, clip, style=self.style.value)


# -- the table ---------------------------------------------------------------------------------


async def _pmp3(bot: MusicBot, interaction: discord.Interaction, song: ProducerSource) -> None:
    await producer_actions.download(bot, interaction, song, "mp3")


async def _pwav(bot: MusicBot, interaction: discord.Interaction, song: ProducerSource) -> None:
    await producer_actions.download(bot, interaction, song, "wav")


async def _stems(bot: MusicBot, interaction: discord.Interaction, clip: StoredClip) -> None:
    await tool_actions.stems(bot, interaction, clip)


ACTIONS: dict[str, ButtonAction] = {
    "extend": ButtonAction("Extend", opens(ExtendForm), Ack.SELF),
    "cover": ButtonAction("Cover", opens(CoverForm), Ack.SELF),
    "full": ButtonAction("Full song", on_clip(song_actions.full)),
    "remaster": ButtonAction("Remaster", on_clip(song_actions.remaster)),
    "stems": ButtonAction("Stems", on_clip(_stems)),
    "wav": ButtonAction("WAV", on_clip(tool_actions.wav)),
    "midi": ButtonAction("MIDI", on_clip(tool_actions.midi)),
    "timeline": ButtonAction("Timeline", on_clip(tool_actions.timeline)),
    "bpm": ButtonAction("BPM", on_clip(tool_actions.bpm)),
    # Producer songs only exist in Producer: its own commands work on them.
    "pcover": ButtonAction("Cover", on_producer_song(producer_actions.cover)),
    "pmp3": ButtonAction("MP3", on_producer_song(_pmp3)),
    "pwav": ButtonAction("WAV", on_producer_song(_pwav)),
    "again": ButtonAction("Again", on_clip(again), style=discord.ButtonStyle.primary),
    "delete": ButtonAction("Delete", delete, Ack.PRIVATE, discord.ButtonStyle.danger),
}
# Which buttons a song gets, by the family of the job that made it.
FAMILY_ACTIONS: dict[str, tuple[str, ...]] = {
    Family.SONIC: (
        "extend", "cover", "full", "remaster", "stems", "wav", "midi", "timeline", "bpm",
        "again", "delete",
    ),
    Family.PRODUCER: ("pcover", "pmp3", "pwav", "again", "delete"),
}  # fmt: skip
# Nuro, Riffusion and Studio have no follow-up operations; their songs can still be removed.
OTHER_FAMILIES = ("delete",)
# Only a part made by extend can be joined into the full song.
EXTEND_OPERATIONS = ("extend_music", "extend_upload_music")


def shown(action: str, operation: str, family: str) -> bool:
    if action == "full":
        return operation in EXTEND_OPERATIONS
    if action == "again":
        return repeatable(operation, family)
    return True


def clip_view(clip_id: str, operation: str, family: str) -> discord.ui.View:
    """The buttons for one delivered song (`operation` in `family` made it)."""
    actions = FAMILY_ACTIONS.get(family, OTHER_FAMILIES)
    view = discord.ui.View(timeout=None)
    for action in actions:
        if shown(action, operation, family):
            view.add_item(ClipAction(action, clip_id))
    return view


class ClipAction(
    GuardedItem,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"clip:(?P<action>[a-z0-9]+):(?P<clip>[0-9a-fA-F-]{8,64})",
):
    def __init__(self, action: str, clip_id: str) -> None:
        known = ACTIONS.get(action)
        super().__init__(
            discord.ui.Button(
                label=known.label if known else action,
                style=known.style if known else discord.ButtonStyle.secondary,
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

    def ack(self) -> Ack:
        known = ACTIONS.get(self.action)
        return known.ack if known else Ack.PRIVATE

    def name(self) -> str:
        known = ACTIONS.get(self.action)
        return f"{known.label if known else self.action} button"

    async def run(self, interaction: discord.Interaction) -> None:
        known = ACTIONS.get(self.action)
        if known is None:
            raise UserFacingError("That button no longer works.")
        bot: MusicBot = interaction.client  # type: ignore[assignment]  # always a MusicBot here
        await known.run(bot, interaction, self.clip_id)
