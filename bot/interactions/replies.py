"""Replies that always fit Discord's limits, whatever the member typed.

Discord refuses a message over 2,000 characters (an embed description over 4,096) with 50035,
and then the member sees "The application did not respond". Anything a reply repeats from the
member is therefore shortened and escaped here, and every error text is fitted before it is
sent. Mentions are never enabled by these helpers.
"""

from __future__ import annotations

import discord
from discord.utils import MISSING

MESSAGE_LIMIT = 2000
EMBED_DESCRIPTION_LIMIT = 4096
QUOTE_LIMIT = 100  # how much of a member's value a refusal repeats
NO_MENTIONS = discord.AllowedMentions.none()


def shorten(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, with an ellipsis when something was cut."""
    return text if len(text) <= limit else text[: max(0, limit - 1)] + "…"


def quote(text: str, limit: int = QUOTE_LIMIT) -> str:
    """Member text to repeat in a reply: one line, markdown and mentions escaped, shortened.

    Escaping comes after cutting (so an escape is never split) and the result is cut again,
    because escaping can lengthen the text."""
    flat = " ".join(text.split())
    escaped = discord.utils.escape_mentions(discord.utils.escape_markdown(shorten(flat, limit)))
    return shorten(escaped, limit * 2)


def fit(text: str, limit: int = MESSAGE_LIMIT) -> str:
    """Any reply text, cut to what Discord accepts."""
    return shorten(text, limit)


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
