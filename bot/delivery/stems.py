"""Stems as files, batched to fit Discord, each stem posted exactly once.

A stems job yields one clip per stem (2 for basic, 12 or more for full). They are packed in
order into messages of at most `MAX_FILES` attachments whose bytes stay under the channel's
upload budget; a stem too large for any message (or that cannot be fetched) is linked instead.

Exactly once, the poster's way, per message: a message's nonce is keyed by its first stem,
and after the send every stem the message carries is recorded in `deliveries` (item = the
stem's clip id). A crash between the send and the record leaves those stems unrecorded; the
retry packs a message starting with the same stem, so it sends the same nonce and Discord
hands back the first message instead of a second one. Which stems count as delivered is read
from the message Discord returned (its file names and links), not from what this attempt meant
to send: if a fetch went differently the second time, the packing may differ, and the message
that exists is the one that counts.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

import discord

from bot.delivery.embeds import clean
from bot.delivery.media import slug, sniff_extension
from bot.markdown import Markdown, bold, link
from bot.store import clips as clip_sql
from bot.store.clips import StoredClip
from bot.store.database import Database
from bot.store.jobs import Job
from bot.store.leases import fenced

log = logging.getLogger(__name__)

MAX_FILES = 10  # Discord's limit of attachments per message
# Discord allows 2000 characters of content; the rest is head-room for the header line.
CONTENT_BUDGET = 1800
LINK_NOTE = (
    "Linked, not attached: too large for this channel, MusicAPI's file server did not answer "
    "in time or did not send audio, or the link points where the bot does not download from. "
    "MusicAPI's links may expire: download them soon."
)

# (url, max bytes) -> the audio file, or None when it is too large, unreachable, refused or
# not audio.
Fetch = Callable[[str, int], Awaitable[bytes | None]]


def stem_names(stems: Sequence[StoredClip]) -> dict[str, str]:
    """clip id -> file name without extension ("vocals"), unique within the job, so a
    message's attachments say exactly which stems it carries."""
    names: dict[str, str] = {}
    taken: set[str] = set()
    for stem in stems:
        base = slug(stem.title, fallback="stem")
        name, n = base, 1
        while name in taken:
            n += 1
            name = f"{base}-{n}"
        taken.add(name)
        names[stem.clip_id] = name
    return names


def link_line(stem: StoredClip) -> str:
    label = stem.title or "Stem"
    made = link(label, stem.audio_url)
    return f"🔗 {made}" if made else f"🔗 {clean(label, 100)}: not available (no web link)"


@dataclass
class Batch:
    """One message's worth of stems, in order."""

    stems: list[StoredClip] = field(default_factory=list)
    files: list[tuple[str, bytes]] = field(default_factory=list)  # (file name, data)
    links: list[StoredClip] = field(default_factory=list)

    @property
    def size(self) -> int:
        return sum(len(data) for _, data in self.files)


def covered(
    message: discord.Message, stems: Sequence[StoredClip], names: dict[str, str]
) -> list[StoredClip]:
    """The stems a posted message actually carries: by file name or by link."""
    attached = {a.filename.rsplit(".", 1)[0] for a in message.attachments}
    content = message.content or ""
    return [stem for stem in stems if names[stem.clip_id] in attached or link_line(stem) in content]


class StemsDelivery:
    def __init__(self, db: Database, fetch: Fetch, clock: Callable[[], float]) -> None:
        self.db = db
        self.fetch = fetch
        self.clock = clock

    async def deliver(self, channel: discord.abc.Messageable, job: Job, budget: int) -> int:
        """Post every stem not yet posted; returns how many stems the job has."""
        async with self.db.read() as conn:
            stems = await clip_sql.for_job(conn, job.id)
            done = await clip_sql.delivered(conn, job.id)
            source = await clip_sql.get(conn, job.guild_id, str(job.request.get("clip_id", "")))
        title = bold(clean(source.title, 100)) if source and source.title else Markdown("your song")
        post = _Poster(channel, job, title, stems)
        names = stem_names(stems)
        pending = [stem for stem in stems if stem.clip_id not in done]
        # At most one fetched file waits here: the one that did not fit the previous message.
        fetched: dict[str, bytes | None] = {}
        while pending:
            batch = await self._pack(pending, names, budget, fetched)
            try:
                message = await post(batch)
            except discord.HTTPException as error:
                if error.status != 413:
                    raise
                # The channel's real limit is lower than the interaction said: links from here
                # on. The same nonce is safe to reuse, because a 413 created no message.
                budget = 0
                fetched.clear()
                message = await post(_as_links(batch))
            carried = covered(message, pending, names)
            if not carried:
                # Never loop on a message that carries nothing; the scheduler retries later.
                raise RuntimeError(f"job {job.id}: a stems message carried no stem")
            async with fenced(self.db, job) as conn:
                for stem in carried:
                    await clip_sql.record_delivery(
                        conn, job.id, stem.clip_id, message.id, self.clock()
                    )
            carried_ids = {stem.clip_id for stem in carried}
            pending = [stem for stem in pending if stem.clip_id not in carried_ids]
            for clip_id in carried_ids:
                fetched.pop(clip_id, None)
        return len(stems)

    async def _pack(
        self,
        pending: Sequence[StoredClip],
        names: dict[str, str],
        budget: int,
        fetched: dict[str, bytes | None],
    ) -> Batch:
        """The next message: stems in order while they fit (files, bytes and text)."""
        batch = Batch()
        for stem in pending:
            if stem.clip_id not in fetched:
                fetched[stem.clip_id] = (
                    await self.fetch(stem.audio_url, budget) if stem.audio_url else None
                )
            data = fetched[stem.clip_id]
            # The fetch gives audio only; never name other bytes after a guess.
            ext = sniff_extension(data) if data is not None else None
            if data is not None and ext is not None:
                if batch.stems and (
                    len(batch.files) >= MAX_FILES or batch.size + len(data) > budget
                ):
                    break  # starts the next message; its bytes stay in `fetched`
                batch.files.append((f"{names[stem.clip_id]}.{ext}", data))
            else:
                if batch.stems and not _fits_text(batch.links, stem):
                    break
                batch.links.append(stem)
            batch.stems.append(stem)
            del fetched[stem.clip_id]
        return batch


class _Poster:
    """Sends one batch as one message, its nonce keyed by the batch's first stem."""

    def __init__(
        self,
        channel: discord.abc.Messageable,
        job: Job,
        title: Markdown,
        stems: Sequence[StoredClip],
    ) -> None:
        self.channel = channel
        self.job = job
        self.title = title
        self.total = len(stems)
        self.position = {stem.clip_id: index for index, stem in enumerate(stems, start=1)}

    async def __call__(self, batch: Batch) -> discord.Message:
        first = self.position[batch.stems[0].clip_id]
        last = self.position[batch.stems[-1].clip_id]
        span = f"{first}" if first == last else f"{first}–{last}"
        lines = [
            f"<@{self.job.user_id}> your stems of {self.title} are ready ({span} of {self.total})."
        ]
        if batch.links:
            lines += [link_line(stem) for stem in batch.links]
            lines.append(LINK_NOTE)
        return await self.channel.send(
            "\n".join(lines),
            files=[discord.File(io.BytesIO(data), filename=name) for name, data in batch.files],
            nonce=f"j{self.job.id}s{first}"[:25],
            allowed_mentions=discord.AllowedMentions(users=[discord.Object(self.job.user_id)]),
        )


def _fits_text(links: Sequence[StoredClip], stem: StoredClip) -> bool:
    used = sum(len(link_line(s)) + 1 for s in links)
    return used + len(link_line(stem)) <= CONTENT_BUDGET


def _as_links(batch: Batch) -> Batch:
    """The batch's stems as links, as many as the message text holds (the rest wait for the
    next message)."""
    links = Batch()
    for stem in batch.stems:
        if links.stems and not _fits_text(links.links, stem):
            break
        links.stems.append(stem)
        links.links.append(stem)
    return links
