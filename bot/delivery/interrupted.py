"""Every acknowledged command ends with a final answer, even across a crash or a restart.

A slash command is deferred ("thinking…") before its work starts. If the process dies, or is
stopped, before the command answers, Discord would show "thinking…" until the token expires
and then an error. So each acknowledged command is written down (`open_replies`) and crossed
off when its handler returns. Buttons and forms that answer with a new "thinking…" (not those
that edit the message they are on: that message is the song itself) are tracked the same way.
A row left behind belonged to a command that was cut off. Once it is older than any command
takes (`max_age_s`), it is answered:

- if a job row carries the same interaction token, the job answers (its card, or its failure
  notice), so the row is only dropped;
- otherwise the deferred reply is edited while its token lives (15 minutes), or else a channel
  message mentions the member. Nothing was charged: every charge goes through a job row.

The sweep runs at start-up and then every minute, in every process. The age rule, not process
identity, decides what was cut off, so several processes on one database can share the table.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import discord

from bot.store.database import Connection, Database, Row

log = logging.getLogger(__name__)

# Longer than any command runs (an upload waits up to 90 s for MusicAPI, a submit 30 s).
MAX_COMMAND_S = 300.0
SWEEP_EVERY_S = 60.0
# Discord's interaction tokens live 15 minutes; stop using one a little before that.
TOKEN_LIFETIME_S = 14 * 60
INTERRUPTED = (
    "The bot restarted before it could finish this. Nothing was charged; please try again."
)


@dataclass(frozen=True, slots=True)
class OpenReply:
    interaction_id: int
    application_id: int
    token: str
    guild_id: int | None
    channel_id: int
    user_id: int
    command: str
    opened_at: float

    @classmethod
    def from_row(cls, row: Row) -> OpenReply:
        return cls(**dict(row))


def name_of(interaction: discord.Interaction) -> str:
    """How the member knows what was cut off: the command, else the button's action (custom
    ids read `<kind>:<action>:<id>`), else that it was a form."""
    if interaction.command is not None:
        return f"/{interaction.command.qualified_name}"
    if interaction.type is discord.InteractionType.modal_submit:
        return "form"
    data: dict[str, Any] = dict(interaction.data or {})
    custom_id = data.get("custom_id")
    if isinstance(custom_id, str) and custom_id:
        parts = custom_id.split(":")
        return f"{parts[1] if len(parts) > 1 else parts[0]} button"
    return "request"


async def _insert(conn: Connection, reply: OpenReply) -> None:
    await conn.execute(
        """INSERT INTO open_replies (interaction_id, application_id, token, guild_id,
                                     channel_id, user_id, command, opened_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING""",
        (
            reply.interaction_id,
            reply.application_id,
            reply.token,
            reply.guild_id,
            reply.channel_id,
            reply.user_id,
            reply.command,
            reply.opened_at,
        ),
    )


async def _delete(conn: Connection, interaction_id: int) -> None:
    await conn.execute("DELETE FROM open_replies WHERE interaction_id = ?", (interaction_id,))


async def _older_than(conn: Connection, before: float) -> list[OpenReply]:
    cursor = await conn.execute(
        "SELECT * FROM open_replies WHERE opened_at <= ? ORDER BY opened_at", (before,)
    )
    return [OpenReply.from_row(row) for row in await cursor.fetchall()]


async def _job_answers(conn: Connection, token: str) -> bool:
    cursor = await conn.execute("SELECT 1 FROM jobs WHERE interaction_token = ? LIMIT 1", (token,))
    return await cursor.fetchone() is not None


class OpenReplies:
    def __init__(
        self,
        client: discord.Client,
        db: Database,
        *,
        clock: Callable[[], float] = time.time,
        max_age_s: float = MAX_COMMAND_S,
    ) -> None:
        self.client = client
        self.db = db
        self.clock = clock
        self.max_age_s = max_age_s
        self._task: asyncio.Task[None] | None = None
        self._open: set[int] = set()  # written down by this process, not yet crossed off

    async def opened(self, interaction: discord.Interaction, name: str | None = None) -> None:
        """Write down an acknowledged command, button press or form (after the
        acknowledgement: never delays it). `name` is what the member is told it was."""
        if interaction.channel_id is None:
            return
        reply = OpenReply(
            interaction.id,
            interaction.application_id,
            interaction.token,
            interaction.guild_id,
            interaction.channel_id,
            interaction.user.id,
            name or name_of(interaction),
            self.clock(),
        )
        try:
            async with self.db.transaction() as conn:
                await _insert(conn, reply)
        except Exception:  # bookkeeping must never fail the command itself
            log.warning("could not record an open reply", exc_info=True)
            return
        self._open.add(interaction.id)

    async def closed(self, interaction: discord.Interaction) -> None:
        if interaction.id not in self._open:
            return
        self._open.discard(interaction.id)
        try:
            async with self.db.transaction() as conn:
                await _delete(conn, interaction.id)
        except Exception:
            log.warning("could not cross off an open reply", exc_info=True)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="open-replies")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                await self.sweep()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("answering interrupted commands failed; retrying", exc_info=True)
            await asyncio.sleep(SWEEP_EVERY_S)

    async def sweep(self) -> int:
        """Answer every command cut off long enough ago; returns how many were answered."""
        now = self.clock()
        async with self.db.read() as conn:
            stale = await _older_than(conn, now - self.max_age_s)
            by_job = {r.interaction_id for r in stale if await _job_answers(conn, r.token)}
        answered = 0
        for reply in stale:
            if reply.interaction_id not in by_job:
                try:
                    await self._answer(reply, now)
                except discord.HTTPException as error:
                    log.info("interrupted %s: answer failed (%s)", reply.command, error.status)
                    continue  # tried again at the next sweep
                answered += 1
            async with self.db.transaction() as conn:
                await _delete(conn, reply.interaction_id)
        if answered:
            log.warning("answered %d command(s) cut off by a restart", answered)
        return answered

    async def _answer(self, reply: OpenReply, now: float) -> None:
        if now - reply.opened_at < TOKEN_LIFETIME_S:
            webhook = discord.Webhook.partial(reply.application_id, reply.token, client=self.client)
            original: Any = "@original"  # Discord's name for the deferred reply; no id needed
            with contextlib.suppress(discord.NotFound):
                await webhook.edit_message(
                    original, content=INTERRUPTED, allowed_mentions=discord.AllowedMentions.none()
                )
                return
        channel = self.client.get_partial_messageable(reply.channel_id, guild_id=reply.guild_id)
        await channel.send(
            f"<@{reply.user_id}> your `{reply.command}`: {INTERRUPTED}",
            allowed_mentions=discord.AllowedMentions(users=[discord.Object(reply.user_id)]),
        )
