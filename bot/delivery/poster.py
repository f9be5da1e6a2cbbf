"""Posting job outcomes to Discord, exactly once.

Each result message is sent with a nonce derived from the job and the clip, and Discord's
`enforce_nonce` makes a resend with the same nonce return the first message instead of a
second one. After a successful send the message id is recorded in `deliveries`, and items
already recorded are skipped. A crash between the send and the record therefore resends with
the same nonce and gets the same message back: one message, whatever happens in between.

A stems job is not a set of songs: `job_succeeded` hands it to `stems.StemsDelivery`, which
packs its stems into as few messages as Discord's limits allow, on the same nonce + record
principle.

The buttons under a song belong to the interaction layer, which sits above delivery: the
poster is handed a `ClipViews` that builds them (`bot.app` passes
`bot.interactions.buttons.clip_view`) rather than importing that layer.
"""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Callable
from typing import Protocol

import discord

from bot.delivery import embeds
from bot.delivery.media import (
    AUDIO_KINDS,
    DEFAULT_UPLOAD_LIMIT,
    FETCH_BUDGET_S,
    IMAGE_KINDS,
    RESULT_KINDS,
    UPLOAD_MARGIN,
    Fetched,
    fetch_with_retries,
    slug,
)
from bot.delivery.safe_http import MediaFetcher
from bot.delivery.stems import StemsDelivery
from bot.jobs.operations import is_stems
from bot.markdown import bold, code, link
from bot.observability import metrics
from bot.store import clips as clip_sql
from bot.store.clips import StoredClip
from bot.store.database import Database
from bot.store.jobs import Job, JobResult
from bot.store.leases import fenced

log = logging.getLogger(__name__)

COVER_MAX_BYTES = 2 * 1024 * 1024


# The webhook path segment Discord reads as "this interaction's own reply".
ORIGINAL_RESPONSE = "@original"


def _link_line(label: str, url: str) -> str:
    """A link to an upstream file; an address that is not a web link is named, not linked."""
    made = link(label, url)
    return f"🔗 {made}" if made else f"🔗 {label}: not available (MusicAPI sent no web link)"


class ClipViews(Protocol):
    """Builds the buttons for one delivered song (`operation` in `family` made it)."""

    def __call__(self, clip_id: str, operation: str, family: str) -> discord.ui.View: ...


def _nonce(job: Job, item: str) -> str:
    return f"j{job.id}{item}"[:25]


class DiscordPoster:
    """The scheduler's `Outcomes`, speaking Discord."""

    def __init__(
        self,
        client: discord.Client,
        db: Database,
        http: MediaFetcher,
        *,
        clip_views: ClipViews,
        clock: Callable[[], float] = time.time,
        fetch_budget_s: float = FETCH_BUDGET_S,
    ) -> None:
        self.client = client
        self.db = db
        self.http = http
        self.clip_views = clip_views
        self.clock = clock
        # How long one result file may take, retries included, before it is linked instead.
        self.fetch_budget_s = fetch_budget_s
        self.stems = StemsDelivery(db, self._fetch, clock)

    # -- job card ---------------------------------------------------------------------------

    async def job_progress(self, job: Job, state: str) -> None:
        await self._edit_card(job, embeds.job_card(job, state))

    async def _edit_card(self, job: Job, embed: discord.Embed) -> None:
        """Edit the interaction's reply while its token lives; afterwards leave it be.

        Without a stored card id (the process died between acknowledging and posting the
        card) the deferred "thinking…" reply itself is edited, so it never hangs."""
        if not job.application_id or not job.token_valid(self.clock()):
            return
        webhook = discord.Webhook.partial(
            job.application_id, job.interaction_token or "", client=self.client
        )
        target = job.card_message_id or ORIGINAL_RESPONSE
        try:
            await webhook.edit_message(target, embed=embed)  # type: ignore[arg-type]  # Discord's "@original" path segment names the deferred reply
        except discord.HTTPException as error:
            # The card is a courtesy; the outcome itself is always posted in the channel.
            log.info("job %s: card edit failed (%s)", job.id, error.status)

    # -- outcomes ---------------------------------------------------------------------------

    async def job_succeeded(self, job: Job) -> None:
        if is_stems(job.operation):
            await self._stems_succeeded(job)
            return
        async with self.db.read() as conn:
            clips = await clip_sql.for_job(conn, job.id)
            done = await clip_sql.delivered(conn, job.id)
        channel = self.client.get_partial_messageable(job.channel_id, guild_id=job.guild_id)
        if not clips and job.result:
            if "result" not in done:
                message = await self._post_result(channel, job, job.result)
                async with fenced(self.db, job) as conn:
                    await clip_sql.record_delivery(conn, job.id, "result", message.id, self.clock())
            await self._edit_card(job, embeds.job_card(job, "succeeded", result="Posted below."))
            return
        for index, clip in enumerate(clips, start=1):
            if clip.clip_id in done:
                continue
            try:
                message = await self._post_clip(channel, job, clip, index, len(clips))
            except discord.HTTPException as error:
                if error.status != 413:
                    raise
                # The channel's real limit was lower than the interaction said: links instead.
                message = await self._post_clip(channel, job, clip, index, len(clips), attach=False)
            async with fenced(self.db, job) as conn:
                await clip_sql.record_delivery(conn, job.id, clip.clip_id, message.id, self.clock())
            lag = None if job.finished_at is None else self.clock() - job.finished_at
            metrics.song_delivered(job.family, lag)
        await self._edit_card(job, embeds.job_card(job, "succeeded", clips_posted=len(clips)))

    async def _stems_succeeded(self, job: Job) -> None:
        """Stems are files of one song, not songs: batched messages (see `stems.py`)."""
        channel = self.client.get_partial_messageable(job.channel_id, guild_id=job.guild_id)
        budget = (job.upload_limit or DEFAULT_UPLOAD_LIMIT) - UPLOAD_MARGIN
        count = await self.stems.deliver(channel, job, budget)
        result = f"{count} stem(s) posted below."
        await self._edit_card(job, embeds.job_card(job, "succeeded", result=result))

    async def job_failed(self, job: Job) -> None:
        async with self.db.read() as conn:
            done = await clip_sql.delivered(conn, job.id)
        if "failure" not in done:
            channel = self.client.get_partial_messageable(job.channel_id, guild_id=job.guild_id)
            message = await channel.send(
                embeds.failure_text(job),
                nonce=_nonce(job, "f"),
                allowed_mentions=discord.AllowedMentions(users=[discord.Object(job.user_id)]),
            )
            async with fenced(self.db, job) as conn:
                await clip_sql.record_delivery(conn, job.id, "failure", message.id, self.clock())
        await self._edit_card(job, embeds.job_card(job, "failed"))

    async def _post_clip(
        self,
        channel: discord.PartialMessageable,
        job: Job,
        clip: StoredClip,
        index: int,
        total: int,
        *,
        attach: bool = True,
    ) -> discord.Message:
        budget = (job.upload_limit or DEFAULT_UPLOAD_LIMIT) - UPLOAD_MARGIN if attach else 0
        files: list[discord.File] = []
        notes: list[str] = []
        base_name = f"{slug(clip.title)}-{index}"

        fetched = (
            await self._fetch_or_reason(clip.audio_url, budget, AUDIO_KINDS)
            if clip.audio_url
            else None
        )
        audio = fetched.data if fetched else None
        if fetched is not None and audio is not None:
            files.append(discord.File(io.BytesIO(audio), filename=f"{base_name}.{fetched.ext}"))
            budget -= len(audio)
        elif clip.audio_url and fetched is not None:
            notes.append(f"{_link_line('Audio', clip.audio_url)} — {fetched.link_note}")

        lyrics_inline = len(clip.lyrics) <= embeds.LYRICS_INLINE_MAX or not attach
        if not lyrics_inline:
            data = clip.lyrics.encode("utf-8")
            files.append(discord.File(io.BytesIO(data), filename=f"{base_name}-lyrics.txt"))
            budget -= len(data)

        image_url: str | None = clip.image_url
        if clip.image_url:
            got = await self._fetch_or_reason(
                clip.image_url, min(budget, COVER_MAX_BYTES), IMAGE_KINDS
            )
            if got.data is not None:
                ext = got.ext
                files.append(discord.File(io.BytesIO(got.data), filename=f"cover-{index}.{ext}"))
                image_url = f"attachment://cover-{index}.{ext}"

        content = f"<@{job.user_id}> your song is ready ({index}/{total})."
        if notes:
            content += "\n" + "\n".join(notes)
        return await channel.send(
            content,
            embed=embeds.clip_embed(clip, lyrics_inline=lyrics_inline, image_url=image_url),
            files=files,
            nonce=_nonce(job, f"c{index}"),
            allowed_mentions=discord.AllowedMentions(users=[discord.Object(job.user_id)]),
            view=self.clip_views(clip.clip_id, job.operation, job.family),
        )

    async def _post_result(
        self, channel: discord.PartialMessageable, job: Job, result: JobResult
    ) -> discord.Message:
        """A job whose result is not songs: a persona, or files to download."""
        lines = [f"<@{job.user_id}> your request (job #{job.id}) is ready."]
        persona = result.persona
        if persona is not None:
            name = bold(embeds.clean(persona.name or "your voice", 80))
            lines.append(
                f"Persona {name} saved (id {code(persona.persona_id)}). "
                "Sing with it: `/song persona`."
            )
        files: list[discord.File] = []
        budget = (job.upload_limit or DEFAULT_UPLOAD_LIMIT) - UPLOAD_MARGIN
        for number, url in enumerate(result.files, start=1):
            fetched = await self._fetch_or_reason(url, budget, RESULT_KINDS)
            data, ext = fetched.data, fetched.ext
            if data is not None:
                files.append(
                    discord.File(io.BytesIO(data), filename=f"{slug(job.summary)}-{number}.{ext}")
                )
                budget -= len(data)
            else:
                note = fetched.link_note
                lines.append(f"{_link_line(f'File {number}', url)} — {note}")
        return await channel.send(
            "\n".join(lines),
            files=files,
            nonce=_nonce(job, "r"),
            allowed_mentions=discord.AllowedMentions(users=[discord.Object(job.user_id)]),
        )

    async def _fetch(self, url: str, max_bytes: int) -> bytes | None:
        """The audio file, or None when a link must do (for stems, which word their own note)."""
        return (await self._fetch_or_reason(url, max_bytes, AUDIO_KINDS)).data

    async def _fetch_or_reason(self, url: str, max_bytes: int, kinds: frozenset[str]) -> Fetched:
        """The file, retried within a time budget, or the true reason a link is posted."""
        return await fetch_with_retries(
            self.http, url, max_bytes, kinds=kinds, budget_s=self.fetch_budget_s
        )
