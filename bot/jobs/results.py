"""What a finished task made, as rows: its clips, its files, the persona it cloned.

Written by `lifecycle.succeed` in the transaction that charges the job (`store_for`), so a
charge and what it paid for land together."""

from __future__ import annotations

from bot.jobs.lifecycle import Store
from bot.jobs.operations import is_stems
from bot.markdown import Markdown, plain
from bot.musicapi.models import Clip, TaskStatus
from bot.states import ClipSource
from bot.store import clips as clip_sql
from bot.store import jobs as job_sql
from bot.store import personas as persona_sql
from bot.store.clips import StoredClip
from bot.store.database import Connection
from bot.store.jobs import Job, JobResult, MadePersona
from bot.store.personas import Persona


def store_for(job: Job, status: TaskStatus, now: float) -> Store:
    """The writes of `job`'s success, for `lifecycle.succeed`."""
    source = ClipSource.STEM if is_stems(job.operation) else ClipSource.GENERATED

    async def store(conn: Connection) -> None:
        for clip in status.usable_clips:
            await clip_sql.upsert(conn, _stored(job, clip, now, source))
        if status.persona is not None or status.files:
            await job_sql.set_result(conn, job.id, _result_of(status))
        if status.persona is not None:
            await persona_sql.insert(
                conn,
                Persona(
                    status.persona.persona_id,
                    job.guild_id,
                    job.user_id,
                    status.persona.name or plain(Markdown(job.summary))[:79],
                    None,
                    now,
                ),
            )

    return store


def stream_url(status: TaskStatus) -> str | None:
    """A playable link while the final files are made: the first streaming clip's audio."""
    if status.state != "streaming":
        return None
    for clip in status.clips:
        if clip.state == "streaming" and clip.audio_url:
            return clip.audio_url
    return None


def _result_of(status: TaskStatus) -> JobResult:
    """What a task produced besides clips: a persona, or files to download."""
    persona = status.persona
    return JobResult(
        files=tuple(status.files),
        persona=MadePersona(persona.persona_id, persona.name) if persona is not None else None,
    )


def _stored(job: Job, clip: Clip, now: float, source: ClipSource) -> StoredClip:
    return StoredClip(
        clip_id=clip.clip_id,
        guild_id=job.guild_id,
        job_id=job.id,
        user_id=job.user_id,
        title=clip.title,
        tags=clip.tags,
        lyrics=clip.lyrics,
        duration=clip.duration,
        model=clip.mv,
        image_url=clip.image_url,
        audio_url=clip.audio_url,
        source=source,
        created_at=now,
        raw=clip.raw,
    )
