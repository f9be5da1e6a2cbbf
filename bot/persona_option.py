"""The `persona` option: this server's personas by name, or a pasted persona id."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands

from bot.errors import InputError
from bot.store import personas as persona_sql
from bot.store.personas import Persona

if TYPE_CHECKING:
    from bot.app import MusicBot


class PersonaTransformer(app_commands.Transformer["MusicBot"]):
    async def autocomplete(  # type: ignore[override]  # a string option; the base is typed for every option type
        self, interaction: discord.Interaction[MusicBot], value: str
    ) -> list[app_commands.Choice[str]]:
        bot = interaction.client
        if interaction.guild_id is None:
            return []
        async with bot.db.read() as conn:
            found = await persona_sql.for_guild(conn, interaction.guild_id, value.strip())
        return [
            app_commands.Choice(name=f"{p.name[:80]} · {p.persona_id[:8]}", value=p.persona_id)
            for p in found
        ]

    async def transform(self, interaction: discord.Interaction[MusicBot], value: str) -> Persona:
        bot = interaction.client
        if interaction.guild_id is None:
            raise InputError("persona", "works in servers only.")
        async with bot.db.read() as conn:
            persona = await persona_sql.get(conn, interaction.guild_id, value.strip())
        if persona is None:
            raise InputError("persona", "choose one of this server's personas (`/persona list`).")
        return persona
