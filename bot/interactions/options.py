"""Option transformers on one base: this server's clips, personas and Producer songs.

`ServerOption` does what they share: servers never see each other's things, so autocomplete
lists only this server's, and `transform` refuses an id from elsewhere. A subclass says how to
list (`suggest`) and how to look one up (`lookup`); both run on one read connection.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, TypeVar

import discord
from discord import app_commands

from bot.errors import InputError
from bot.states import Family
from bot.store import clips as clip_sql
from bot.store import jobs as job_sql
from bot.store import personas as persona_sql
from bot.store.clips import StoredClip
from bot.store.database import Connection
from bot.store.personas import Persona
from bot.validation.families import producer_clip_is_upload
from bot.validation.sonic import check_sonic_source

if TYPE_CHECKING:
    from bot.app import MusicBot

T = TypeVar("T")
CHOICES = 25  # Discord shows at most 25 autocomplete choices
CHOICE_NAME_MAX = 100
CLIP_ID = re.compile(r"^[0-9a-fA-F-]{8,64}$")
# Autocomplete looks at this many recent clips of any family to find 25 Producer songs.
SCAN_FOR_PRODUCER = 200


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
    return title[: CHOICE_NAME_MAX - len(suffix)] + suffix


class ServerOption(app_commands.Transformer["MusicBot"], Generic[T]):
    """A thing of this server, chosen from autocomplete or pasted as an id."""

    field = "option"

    async def suggest(
        self, bot: MusicBot, conn: Connection, guild_id: int, typed: str
    ) -> list[app_commands.Choice[str]]:
        raise NotImplementedError

    async def lookup(self, bot: MusicBot, conn: Connection, guild_id: int, value: str) -> T:
        """The thing, or `InputError` naming `field` when this server has no such thing."""
        raise NotImplementedError

    async def autocomplete(  # type: ignore[override]  # a string option; the base is typed for every option type
        self, interaction: discord.Interaction[MusicBot], value: str
    ) -> list[app_commands.Choice[str]]:
        if interaction.guild_id is None:
            return []
        bot = interaction.client
        async with bot.db.read() as conn:
            found = await self.suggest(bot, conn, interaction.guild_id, value.strip())
        return found[:CHOICES]

    async def transform(self, interaction: discord.Interaction[MusicBot], value: str) -> T:
        if interaction.guild_id is None:
            raise InputError(self.field, "works in servers only.")
        bot = interaction.client
        async with bot.db.read() as conn:
            return await self.lookup(bot, conn, interaction.guild_id, value.strip())


async def clip_of_server(conn: Connection, guild_id: int, clip_id: str) -> StoredClip:
    if not CLIP_ID.match(clip_id):
        raise InputError("clip", "choose one of this server's songs from the list.")
    clip = await clip_sql.get(conn, guild_id, clip_id)
    if clip is not None:
        return clip
    if await clip_sql.known_elsewhere(conn, guild_id, clip_id):
        raise InputError("clip", "that song was made in another server; use one from here.")
    raise InputError("clip", f"no song with id `{clip_id}` was made in this server.")


class ClipTransformer(ServerOption[StoredClip]):
    """The `clip` option shared by every command that works on an earlier song: this
    server's clips, most recent first, with title and age; or a pasted clip id."""

    field = "clip"

    async def suggest(
        self, bot: MusicBot, conn: Connection, guild_id: int, typed: str
    ) -> list[app_commands.Choice[str]]:
        clips = await clip_sql.recent(conn, guild_id, typed, CHOICES)
        now = bot.clock()
        return [app_commands.Choice(name=choice_name(c, now), value=c.clip_id) for c in clips]

    async def lookup(
        self, bot: MusicBot, conn: Connection, guild_id: int, value: str
    ) -> StoredClip:
        return await clip_of_server(conn, guild_id, value)


class SonicClipTransformer(ClipTransformer):
    """The `clip` option of commands that call Sonic endpoints (`/song` edits, `/tools`,
    `/persona create`): a song of another family is refused before anything is spent."""

    async def lookup(
        self, bot: MusicBot, conn: Connection, guild_id: int, value: str
    ) -> StoredClip:
        clip = await clip_of_server(conn, guild_id, value)
        made_by = await job_sql.get(conn, clip.job_id)
        if made_by is not None:
            check_sonic_source(self.field, made_by.family)
        return clip


class PersonaTransformer(ServerOption[Persona]):
    """The `persona` option: this server's personas by name, or a pasted persona id."""

    field = "persona"

    async def suggest(
        self, bot: MusicBot, conn: Connection, guild_id: int, typed: str
    ) -> list[app_commands.Choice[str]]:
        found = await persona_sql.for_guild(conn, guild_id, typed)
        return [
            app_commands.Choice(name=f"{p.name[:80]} · {p.persona_id[:8]}", value=p.persona_id)
            for p in found
        ]

    async def lookup(self, bot: MusicBot, conn: Connection, guild_id: int, value: str) -> Persona:
        persona = await persona_sql.get(conn, guild_id, value)
        if persona is None:
            raise InputError("persona", "choose one of this server's personas (`/persona list`).")
        return persona


@dataclass(frozen=True, slots=True)
class ProducerSource:
    clip: StoredClip
    uploaded: bool  # made by /producer/upload: edits take the *_upload_music task types


async def producer_source(conn: Connection, clip: StoredClip) -> ProducerSource:
    """`clip` as a Producer command's source; `InputError` for a song Producer did not make."""
    made_by = await job_sql.get(conn, clip.job_id)
    if made_by is None:
        raise InputError("clip", "that song's job is no longer known.")
    uploaded = producer_clip_is_upload(clip, made_by.family, made_by.operation)
    return ProducerSource(clip, uploaded)


class ProducerClip(ServerOption[ProducerSource]):
    """A Producer song of this server: the `clip` option, narrowed to that family (Producer
    only edits its own songs)."""

    field = "clip"

    async def suggest(
        self, bot: MusicBot, conn: Connection, guild_id: int, typed: str
    ) -> list[app_commands.Choice[str]]:
        found: list[StoredClip] = []
        families: dict[int, Family | None] = {}
        for clip in await clip_sql.recent(conn, guild_id, typed, SCAN_FOR_PRODUCER):
            if clip.job_id not in families:
                job = await job_sql.get(conn, clip.job_id)
                families[clip.job_id] = job.family if job else None
            if families[clip.job_id] == Family.PRODUCER:
                found.append(clip)
            if len(found) == CHOICES:
                break
        now = bot.clock()
        return [app_commands.Choice(name=choice_name(c, now), value=c.clip_id) for c in found]

    async def lookup(
        self, bot: MusicBot, conn: Connection, guild_id: int, value: str
    ) -> ProducerSource:
        return await producer_source(conn, await clip_of_server(conn, guild_id, value))


SonicClipOption = app_commands.Transform[StoredClip, SonicClipTransformer]
PersonaOption = app_commands.Transform[Persona, PersonaTransformer]
ProducerSong = app_commands.Transform[ProducerSource, ProducerClip]
