"""The `clip` option shared by every command that works on an earlier song.

It autocompletes from this server's clips, most recent first, with title and age, and also
accepts a pasted clip id. A clip from another server is refused: servers never see each
other's songs.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import discord
from discord import app_commands

from bot.errors import InputError
from bot.store import clips as clip_sql
from bot.store.clips import StoredClip

if TYPE_CHECKING:
    from bot.app import MusicBot

CLIP_ID = re.compile(r"^[0-9a-fA-F-]{8,64}$")
CHOICES = 25


def age(seconds: float) -> str:
    if seconds < 90:
        return "just now"
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{int(seconds // size)} {unit} ago"
    return "just now"  # pragma: no cover


def choice_name(clip: StoredClip, now: float) -> str:
    title = (clip.title or "Untitled").strip()
    suffix = f" · {age(now - clip.created_at)} · {clip.clip_id[:8]}"
    return title[: 100 - len(suffix)] + suffix


class ClipTransformer(app_commands.Transformer["MusicBot"]):
    async def autocomplete(  # type: ignore[override]  # a string option; the base is typed for every option type
        self, interaction: discord.Interaction[MusicBot], value: str
    ) -> list[app_commands.Choice[str]]:
        bot = interaction.client
        if interaction.guild_id is None:
            return []
        async with bot.db.read() as conn:
            clips = await clip_sql.recent(conn, interaction.guild_id, value.strip(), CHOICES)
        now = bot.clock()
        return [app_commands.Choice(name=choice_name(c, now), value=c.clip_id) for c in clips]

    async def transform(self, interaction: discord.Interaction[MusicBot], value: str) -> StoredClip:
        bot = interaction.client
        clip_id = value.strip()
        if interaction.guild_id is None or not CLIP_ID.match(clip_id):
            raise InputError("clip", "choose one of this server's songs from the list.")
        async with bot.db.read() as conn:
            clip = await clip_sql.get(conn, interaction.guild_id, clip_id)
            elsewhere = clip is None and await clip_sql.known_elsewhere(
                conn, interaction.guild_id, clip_id
            )
        if elsewhere:
            raise InputError("clip", "that song was made in another server; use one from here.")
        if clip is None:
            raise InputError("clip", f"no song with id `{clip_id}` was made in this server.")
        return clip
