"""Replies that always fit Discord's limits, whatever the member typed.

Discord refuses a message over 2,000 characters (an embed description over 4,096) with 50035,
and then the member sees "The application did not respond". Anything a reply repeats from the
member is shortened and escaped where it is put into the reply (`bot.markdown.escape`, or
`bot.validation.text.quote` for a typed value), and every reply text is fitted here before
it is sent. Mentions are never enabled by these helpers.
"""

from __future__ import annotations

import discord
from discord.utils import MISSING

from bot import markdown

MESSAGE_LIMIT = 2000
EMBED_DESCRIPTION_LIMIT = 4096
NO_MENTIONS = discord.AllowedMentions.none()


def shorten(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, with an ellipsis when something was cut."""
    return text if len(text) <= limit else text[: max(0, limit - 1)] + "…"


def fit(text: str, limit: int = MESSAGE_LIMIT) -> str:
    """Any reply text (the bot's markdown), cut to what Discord accepts without leaving half
    of an escape or of a bold showing."""
    return markdown.shorten(markdown.Markdown(text), limit)


async def answer(
    interaction: discord.Interaction,
    content: str | None = None,
    *,
    ephemeral: bool = True,
    embed: discord.Embed = MISSING,
    view: discord.ui.View = MISSING,
) -> None:
    """Answer an interaction whether or not the gate already acknowledged it.

    After a defer the first follow-up fills the "thinking…" message (and keeps its visibility);
    before one, this is the interaction's own response."""
    text = fit(content) if content is not None else None
    if interaction.response.is_done():
        await interaction.followup.send(
            text or MISSING,
            embed=embed,
            view=view,
            ephemeral=ephemeral,
            allowed_mentions=NO_MENTIONS,
        )
    else:
        await interaction.response.send_message(
            text, embed=embed, view=view, ephemeral=ephemeral, allowed_mentions=NO_MENTIONS
        )
