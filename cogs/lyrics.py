"""/lyrics write: two drafts from a description, each with a button that opens `/song custom`'s
lyrics form prefilled. The drafts are stored, so the buttons keep working after a restart."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.delivery.embeds import clean
from bot.errors import UserFacingError
from bot.interactions.components import GuardedItem
from bot.interactions.gate import Ack
from bot.interactions.jobs import origin_of
from bot.interactions.lyrics_form import TITLE_MAX_FOR_FORM, LyricsModal
from bot.store import lyrics as lyrics_sql
from bot.validation import tools as validate

if TYPE_CHECKING:
    from bot.app import MusicBot

# Two drafts share one message, whose embeds may hold 6000 characters in all.
PREVIEW_MAX = 2500


class UseDraft(
    GuardedItem,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"lyrics:draft:(?P<id>[0-9]+)",
):
    def __init__(self, draft_id: int, number: int = 0) -> None:
        label = f"Make a song from draft {number}" if number else "Make a song from this draft"
        super().__init__(
            discord.ui.Button(
                label=label, style=discord.ButtonStyle.primary, custom_id=f"lyrics:draft:{draft_id}"
            )
        )
        self.draft_id = draft_id

    @classmethod
    async def from_custom_id(  # type: ignore[override]  # the template matches only this button
        cls, interaction: discord.Interaction, item: discord.ui.Button[Any], match: re.Match[str]
    ) -> UseDraft:
        return cls(int(match["id"]))

    def ack(self) -> Ack:
        # The answer is the lyrics form, prefilled from the stored draft: that one read
        # comes before it (a form cannot follow a defer).
        return Ack.SELF

    async def run(self, interaction: discord.Interaction) -> None:
        bot: MusicBot = interaction.client  # type: ignore[assignment]  # always a MusicBot here
        if interaction.guild_id is None:
            raise UserFacingError("This works in servers only.")
        async with bot.db.read() as conn:
            draft = await lyrics_sql.get(conn, interaction.guild_id, self.draft_id)
        if draft is None:
            raise UserFacingError("This draft no longer exists.")
        modal = LyricsModal(
            bot,
            title=draft.title[:TITLE_MAX_FOR_FORM] or None,
            style=None,
            model=bot.settings.default_model,
            instrumental=False,
            vocal=None,
            default_lyrics=draft.lyrics,
        )
        await interaction.response.send_modal(modal)


class Lyrics(commands.GroupCog, group_name="lyrics", group_description="Lyrics drafts"):
    def __init__(self, bot: MusicBot) -> None:
        self.bot = bot
        super().__init__()

    @app_commands.command(name="write", description="Two lyric drafts from a description")
    @app_commands.describe(description="What the song is about (under 120 characters)")
    @app_commands.guild_only()
    async def write(self, interaction: discord.Interaction, description: str) -> None:
        assert interaction.guild_id is not None
        text = validate.lyrics_description(description)
        drafts = await self.bot.jobs.run_now(
            origin_of(interaction),
            "lyrics",
            {"description": text},
            lambda: self.bot.musicapi.make_lyrics(text),
        )
        embeds, view = [], discord.ui.View(timeout=None)
        async with self.bot.db.transaction() as conn:
            for number, draft in enumerate(drafts[:2], start=1):
                draft_id = await lyrics_sql.insert(
                    conn,
                    interaction.guild_id,
                    interaction.user.id,
                    draft.title,
                    draft.lyrics,
                    self.bot.clock(),
                )
                embeds.append(
                    discord.Embed(
                        title=f"Draft {number}: {clean(draft.title or 'Untitled', 200)}",
                        description=clean(draft.lyrics, PREVIEW_MAX),
                        colour=discord.Colour.blurple(),
                    )
                )
                view.add_item(UseDraft(draft_id, number))
        if not embeds:
            raise UserFacingError("MusicAPI returned no drafts; try another description.")
        await interaction.followup.send(embeds=embeds, view=view)


async def setup(bot: MusicBot) -> None:
    bot.add_dynamic_items(UseDraft)
    await bot.add_cog(Lyrics(bot))
