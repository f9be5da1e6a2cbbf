"""What jobs and clips look like in Discord. Pure functions: easy to test, no I/O."""

from __future__ import annotations

import discord

from bot.markdown import Markdown, escape, link, shorten
from bot.store.clips import StoredClip
from bot.store.jobs import Job

EMBED_DESCRIPTION_MAX = 4096
# Lyrics longer than this go into a .txt file instead of the embed.
LYRICS_INLINE_MAX = 3000
FIELD_MAX = 1024

STATE_LABELS = {
    "submitting": ("⏳", "Sending to MusicAPI"),
    "unconfirmed": ("⏳", "Waiting for MusicAPI to confirm"),
    "queued": ("⏳", "Queued"),
    "pending": ("⏳", "Queued"),
    "running": ("🎼", "Generating"),
    "streaming": ("📡", "Streaming (almost done)"),
    "succeeded": ("✅", "Done"),
    "failed": ("❌", "Failed"),
}
STATE_COLOURS = {
    "succeeded": discord.Colour.green(),
    "failed": discord.Colour.red(),
}


def clean(text: str | None, limit: int) -> Markdown:
    """Member or upstream text, safe to show: escaped once (`bot.markdown.escape`) and cut to
    a limit. Never for text that is already markdown, such as a job's summary."""
    return escape(text, limit)


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return "unknown"
    total = round(seconds)
    return f"{total // 60}:{total % 60:02d}"


def job_card(
    job: Job, state: str, *, clips_posted: int = 0, result: str | None = None
) -> discord.Embed:
    icon, label = STATE_LABELS.get(state, ("⏳", state.title()))
    embed = discord.Embed(
        title=f"{icon} {label}",
        # The summary is the bot's own markdown, its member text escaped when it was written.
        description=shorten(Markdown(job.summary), 1000) or None,
        colour=STATE_COLOURS.get(state, discord.Colour.blurple()),
    )
    embed.add_field(name="Requested by", value=f"<@{job.user_id}>")
    embed.add_field(name="Started", value=f"<t:{int(job.created_at)}:R>")
    embed.add_field(name="Cost", value=f"{job.cost} credits")
    listen = link("Play the stream", job.stream_url) if state == "streaming" else None
    if listen:
        # Upstream already plays it while the final files are made: offer it at once. The
        # final message replaces it; a finished card (any other state) drops the link.
        embed.add_field(
            name="Listen now",
            value=f"▶️ {listen} — the finished files follow here.",
            inline=False,
        )
    if state == "succeeded":
        # `result` words outcomes that are not songs (e.g. "12 stems posted below.").
        value = result or f"{clips_posted} clip(s) posted below."
        embed.add_field(name="Result", value=value, inline=False)
    elif state == "failed":
        reason = clean(job.failure or "MusicAPI reported a failure.", FIELD_MAX - 60)
        if not _tells_credits(job):
            reason = Markdown(f"{reason}\nThe {job.cost} credits were returned.")
        embed.add_field(name="What happened", value=reason, inline=False)
    embed.set_footer(text=f"Job #{job.id}")
    return embed


def clip_embed(clip: StoredClip, *, lyrics_inline: bool, image_url: str | None) -> discord.Embed:
    embed = discord.Embed(
        title=clean(clip.title or "Untitled", 256),
        description=clean(clip.lyrics, EMBED_DESCRIPTION_MAX)
        if lyrics_inline and clip.lyrics
        else None,
        colour=discord.Colour.green(),
    )
    if clip.tags:
        embed.add_field(name="Style", value=clean(clip.tags, FIELD_MAX), inline=False)
    embed.add_field(name="Duration", value=format_duration(clip.duration))
    embed.add_field(name="Model", value=clean(clip.model or "unknown", 100))
    embed.add_field(name="Requested by", value=f"<@{clip.user_id}>")
    if image_url:
        embed.set_image(url=image_url)
    embed.set_footer(text=f"Clip {clip.clip_id}")
    return embed


def _tells_credits(job: Job) -> bool:
    """An orphan's failure already says what became of its credits (`bot.jobs.orphans`),
    which is not always "returned"."""
    return job.orphaned_at is not None


def failure_text(job: Job) -> str:
    reason = clean(job.failure or "MusicAPI reported a failure.", 1500)
    text = f"<@{job.user_id}> your request (job #{job.id}) could not be made: {reason}"
    if _tells_credits(job):
        return text
    return f"{text}\nThe {job.cost} credits were returned to the server's budget."
