"""/request song: community song requests, with Approve / Reject / Vote buttons.

The buttons are `DynamicItem`s whose custom ids carry the request id, so they keep working
after a restart: nothing about a request lives in memory.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, ClassVar

import discord
from discord import app_commands
from discord.ext import commands

from bot.delivery.embeds import clean
from bot.errors import NotAllowed, UserFacingError
from bot.interactions.components import GuardedItem
from bot.interactions.forms import Form
from bot.interactions.gate import Ack
from bot.interactions.jobs import origin_of, role_ids_of, start_job
from bot.interactions.permissions import MODERATORS_ONLY, is_moderator
from bot.jobs.operations import sonic_create
from bot.markdown import TEXT_SHOWN, Markdown, escape
from bot.quota import limits
from bot.states import RequestState
from bot.store.requests import SongRequest
from bot.validation import sonic as validation

if TYPE_CHECKING:
    from bot.app import MusicBot

REASON_MAX = 300


def song_of(bot: MusicBot, description: str, style: str | None) -> Any:
    return validation.build_create(
        description=description,
        style=style,
        title=None,
        instrumental=False,
        model=bot.settings.default_model,
        vocal=None,
        negative=None,
    )


def request_summary(request: SongRequest) -> Markdown:
    text = f"Request #{request.id}: {escape(request.description, TEXT_SHOWN)}"
    style = f"\nStyle: {escape(request.style, TEXT_SHOWN)}" if request.style else ""
    return Markdown(text + style)


def request_embed(request: SongRequest, votes: int) -> discord.Embed:
    colours = {
        RequestState.APPROVED: discord.Colour.green(),
        RequestState.REJECTED: discord.Colour.red(),
    }
    embed = discord.Embed(
        title=f"🎤 Song request #{request.id}",
        description=clean(request.description, 1000),
        colour=colours.get(request.state, discord.Colour.gold()),
    )
    if request.style:
        embed.add_field(name="Style", value=clean(request.style, 1024), inline=False)
    embed.add_field(name="Requested by", value=f"<@{request.user_id}>")
    embed.add_field(name="Votes", value=str(votes))
    if request.state == RequestState.PENDING:
        embed.add_field(name="Status", value="Waiting for a moderator", inline=False)
    elif request.state == RequestState.APPROVED:
        embed.add_field(
            name="Status",
            value=f"Approved by <@{request.moderator_id}> — job #{request.job_id}",
            inline=False,
        )
    elif request.state == RequestState.REJECTED:
        embed.add_field(
            name="Status",
            value=f"Rejected by <@{request.moderator_id}>: {clean(request.reason or '', 900)}",
            inline=False,
        )
    return embed


def request_view(request: SongRequest, votes: int) -> discord.ui.View | None:
    if request.state != RequestState.PENDING:
        return None
    view = discord.ui.View(timeout=None)
    for action in ("approve", "reject", "vote"):
        view.add_item(RequestButton(action, request.id, votes))
    return view


async def pending_request(
    bot: MusicBot, interaction: discord.Interaction, request_id: int, *, vote: bool
) -> SongRequest:
    """The request a button or form acts on, still open; deciding needs a moderator."""
    request = await bot.requests.get(request_id)
    if request is None or request.guild_id != interaction.guild_id:
        raise UserFacingError("This request no longer exists.")
    if vote:
        if request.state != RequestState.PENDING:
            raise UserFacingError("Voting has closed on this request.")
        return request
    if not await is_moderator(interaction):
        raise NotAllowed(MODERATORS_ONLY)
    if request.state != RequestState.PENDING:
        raise UserFacingError(f"This request was already {request.state}.")
    return request


class RequestButton(
    GuardedItem,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"request:(?P<action>approve|reject|vote):(?P<id>[0-9]+)",
):
    STYLES: ClassVar[dict[str, tuple[discord.ButtonStyle, str]]] = {
        "approve": (discord.ButtonStyle.success, "Approve"),
        "reject": (discord.ButtonStyle.danger, "Reject"),
        "vote": (discord.ButtonStyle.secondary, "👍"),
    }

    def __init__(self, action: str, request_id: int, votes: int = 0) -> None:
        style, label = self.STYLES[action]
        if action == "vote":
            label = f"👍 {votes}"
        super().__init__(
            discord.ui.Button(style=style, label=label, custom_id=f"request:{action}:{request_id}")
        )
        self.action = action
        self.request_id = request_id

    @classmethod
    async def from_custom_id(  # type: ignore[override]  # the template matches only this button
        cls, interaction: discord.Interaction, item: discord.ui.Button[Any], match: re.Match[str]
    ) -> RequestButton:
        return cls(match["action"], int(match["id"]))

    def ack(self) -> Ack:
        # A vote edits the request message; an approval answers the moderator privately; a
        # rejection opens the reason form first (its submit checks the moderator).
        return {"vote": Ack.UPDATE, "approve": Ack.PRIVATE}.get(self.action, Ack.SELF)

    async def run(self, interaction: discord.Interaction) -> None:
        bot: MusicBot = interaction.client  # type: ignore[assignment]  # always a MusicBot here
        if self.action == "reject":
            await interaction.response.send_modal(RejectModal(bot, self.request_id))
            return
        request = await pending_request(
            bot, interaction, self.request_id, vote=self.action == "vote"
        )
        if self.action == "vote":
            await self._vote(bot, interaction, request)
        else:
            await self._approve(bot, interaction, request)

    async def _vote(
        self, bot: MusicBot, interaction: discord.Interaction, request: SongRequest
    ) -> None:
        added, votes = await bot.requests.vote(request.id, interaction.user.id)
        if not added:
            raise UserFacingError("You have already voted for this request.")
        await interaction.edit_original_response(
            embed=request_embed(request, votes), view=request_view(request, votes)
        )

    async def _approve(
        self, bot: MusicBot, interaction: discord.Interaction, request: SongRequest
    ) -> None:
        song = song_of(bot, request.description, request.style)
        operation = sonic_create(song, request_summary(request))
        job_id = await bot.requests.approve(request, interaction.user.id, operation)
        decided = await bot.requests.get(request.id)
        assert decided is not None
        votes = await bot.requests.votes(request.id)
        if interaction.message is not None:
            await interaction.message.edit(embed=request_embed(decided, votes), view=None)
        try:
            await bot.jobs.submit(job_id, operation)
        except UserFacingError as refused:
            await interaction.followup.send(
                f"Approved, but MusicAPI refused it: {refused}", ephemeral=True
            )
            channel = bot.get_partial_messageable(request.channel_id, guild_id=request.guild_id)
            await channel.send(
                f"<@{request.user_id}> your song request #{request.id} was approved, but "
                f"MusicAPI refused it: {refused}",
                allowed_mentions=discord.AllowedMentions(users=[discord.Object(request.user_id)]),
            )
            return
        await interaction.followup.send(
            f"Approved: job #{job_id} started, charged to the server's budget.", ephemeral=True
        )


class RejectModal(Form, title="Reject this request"):
    ack = Ack.UPDATE  # the form edits the request message it was opened from

    reason: discord.ui.TextInput[RejectModal] = discord.ui.TextInput(
        label="Reason (shown to the requester)",
        style=discord.TextStyle.paragraph,
        max_length=REASON_MAX,
    )

    def __init__(self, bot: MusicBot, request_id: int) -> None:
        super().__init__()
        self.bot = bot
        self.request_id = request_id

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await pending_request(self.bot, interaction, self.request_id, vote=False)
        request = await self.bot.requests.reject(
            self.request_id, interaction.user.id, self.reason.value.strip()
        )
        votes = await self.bot.requests.votes(request.id)
        # The modal was opened from the request's Reject button, so this edits that message.
        await interaction.edit_original_response(embed=request_embed(request, votes), view=None)
        channel = self.bot.get_partial_messageable(request.channel_id, guild_id=request.guild_id)
        await channel.send(
            f"<@{request.user_id}> your song request #{request.id} was rejected by "
            f"<@{interaction.user.id}>: {clean(request.reason or '', REASON_MAX)}",
            allowed_mentions=discord.AllowedMentions(users=[discord.Object(request.user_id)]),
        )


@app_commands.guild_only()
class Requests(commands.GroupCog, group_name="request", group_description="Ask for a song"):
    def __init__(self, bot: MusicBot) -> None:
        self.bot = bot
        super().__init__()

    @app_commands.command(name="song", description="Ask for a song for the community")
    @app_commands.describe(description="What the song should be about", style="Genres, moods")
    async def song(
        self, interaction: discord.Interaction, description: str, style: str | None = None
    ) -> None:
        assert interaction.guild_id is not None and interaction.channel_id is not None
        song = song_of(self.bot, description, style)  # validated before anything is spent
        origin = origin_of(interaction)
        async with self.bot.db.read() as conn:
            settings = await self.bot.quota.settings(conn, interaction.guild_id)
        if not settings.approval:
            summary = Markdown(f"Request: {escape(song.gpt_description_prompt, TEXT_SHOWN)}")
            job_id = await start_job(self.bot, interaction, sonic_create(song, summary))
            await self.bot.requests.record_direct(
                origin, song.gpt_description_prompt or description, song.tags, job_id
            )
            return

        # Waiting for approval costs nothing yet, but the server's block list and channel
        # allow-list still apply to asking.
        standing = await self.bot.quota.standing(
            interaction.guild_id, interaction.user.id, role_ids_of(interaction.user)
        )
        limits.check(standing, 0, interaction.channel_id, member_checks=True)
        request_id = await self.bot.requests.open(
            origin, song.gpt_description_prompt or description, song.tags
        )
        request = await self.bot.requests.get(request_id)
        assert request is not None
        message = await interaction.followup.send(
            embed=request_embed(request, 0),
            view=request_view(request, 0) or discord.utils.MISSING,
            wait=True,
        )
        await self.bot.requests.set_message(request_id, message.id)


async def setup(bot: MusicBot) -> None:
    bot.add_dynamic_items(RequestButton)
    await bot.add_cog(Requests(bot))
