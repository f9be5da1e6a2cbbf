"""The command tree: the one gate and the acknowledgement for every interaction.

Every slash command passes `MusicTree.interaction_check` before its options are converted
(a clip option reads the database) and before its checks or body run, and every button and
form passes `admit` from its own `interaction_check`. The gate, in order:

1. ready: an interaction that arrives while the bot is starting or stopping is told to retry;
2. stale: one older than Discord's 3-second window can no longer be answered; it is logged
   and dropped rather than failing later with 10062; then one from a server not in
   ALLOWED_GUILDS is refused;
3. busy: when `max_in_flight` interactions are already being served, the new one is shed at
   once with a clear "busy, try again" reply instead of queueing behind the others until
   Discord gives up on it;
4. acknowledge: the interaction is deferred (publicly, or privately for answers only the
   member should see) before any database or upstream work, so a slow or locked database, a
   long reservation queue or a slow MusicAPI never leaves a member without an answer.
   Commands that answer with a form declare `ACK_SELF` and open it straight away.

Refusals and failures after that follow as an edited reply or an ephemeral follow-up through
the one error path (`bot.interactions.errors`).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from enum import StrEnum
from typing import Any

import discord
from discord import app_commands

from bot.interactions.errors import report_error
from bot.interactions.replies import NO_MENTIONS
from bot.observability.logs import bind
from bot.observability.refusals import RefusalLog

log = logging.getLogger(__name__)
# Under a flood, one summary line a minute instead of a WARNING per interaction.
refusals = RefusalLog(log, "interactions refused")

# Discord's window for the first answer. Older interactions cannot be answered at all.
STALE_AFTER_S = 3.0
# Interactions served at once (commands, buttons and forms together) before new ones are shed.
MAX_IN_FLIGHT = 200
BUSY = "The bot is busy right now; nothing was charged. Please try again in a moment."
STARTING = "The bot is still starting; please try again in a moment."
NOT_ALLOWED = "This bot is not allowed to serve this server; nothing was charged."


class Ack(StrEnum):
    """How an interaction is acknowledged before its work starts."""

    PUBLIC = "public"  # a "thinking…" everyone sees, filled by the job card or the result
    PRIVATE = "private"  # an ephemeral "thinking…", for answers only the member should see
    UPDATE = "update"  # a button or form that edits the message it is on
    SELF = "self"  # the command opens a form (or calls `acknowledge`) as its first step


ACK_PRIVATE: dict[Any, Any] = {"ack": Ack.PRIVATE}
ACK_SELF: dict[Any, Any] = {"ack": Ack.SELF}


def ack_of(
    command: app_commands.Command[Any, ..., Any] | app_commands.ContextMenu | None,
) -> Ack:
    """A command's own `extras["ack"]`, else its group's, else PUBLIC."""
    if isinstance(command, app_commands.ContextMenu):
        return Ack(command.extras.get("ack", Ack.PUBLIC))
    step: app_commands.Command[Any, ..., Any] | app_commands.Group | None = command
    while step is not None:
        ack = step.extras.get("ack")
        if ack is not None:
            return Ack(ack)
        step = step.parent
    return Ack.PUBLIC


async def acknowledge(interaction: discord.Interaction, ack: Ack = Ack.PUBLIC) -> None:
    """Defer unless already answered; `SELF` leaves the first answer to the caller."""
    if ack is Ack.SELF or interaction.response.is_done():
        return
    if ack is Ack.UPDATE:
        await interaction.response.defer()
    else:
        await interaction.response.defer(thinking=True, ephemeral=ack is Ack.PRIVATE)


# Acknowledgements that leave a "thinking…" of their own, which must end with a final answer.
# Not UPDATE: its deferred reply is the message the button is on (a song), never overwritten.
TRACKED_ACKS = (Ack.PUBLIC, Ack.PRIVATE)


async def track_opened(interaction: discord.Interaction, ack: Ack, name: str | None = None) -> None:
    """Write down an admitted interaction whose "thinking…" must be answered even across a
    crash (bot/delivery/interrupted.py); `name` is what the member is told it was."""
    replies = getattr(interaction.client, "open_replies", None)
    if ack in TRACKED_ACKS and replies is not None:
        await replies.opened(interaction, name)


async def track_closed(interaction: discord.Interaction) -> None:
    """Cross off an interaction whose handler answered. Not called when a stop cancels the
    handler: its row stays and is answered after the restart."""
    replies = getattr(interaction.client, "open_replies", None)
    if replies is not None:
        await replies.closed(interaction)


def _age_s(interaction: discord.Interaction) -> float:
    return (discord.utils.utcnow() - interaction.created_at).total_seconds()


class MusicTree(app_commands.CommandTree[Any]):
    """The command tree with the gate, the in-flight count and the error handler."""

    max_in_flight: int = MAX_IN_FLIGHT

    def __init__(self, client: discord.Client, **options: Any) -> None:
        super().__init__(client, **options)
        self.in_flight = 0

    @contextlib.contextmanager
    def serving(self) -> Iterator[None]:
        """Counts an interaction as in flight while its handler runs."""
        self.in_flight += 1
        try:
            yield
        finally:
            self.in_flight -= 1

    async def _call(self, interaction: discord.Interaction) -> None:
        # A private method of discord.py's CommandTree, overridden on purpose: discord.py runs
        # every slash command and autocomplete through it from start to end, the public
        # `interaction_check` first (where the gate acknowledges, before any option is
        # converted), then the checks, options and body. The in-flight count must cover all of it
        # and be released however it ends, a cancelled stop included, and the open reply be
        # crossed off once it is answered. No public hook spans that: `interaction_check` only
        # starts it, `on_error` and the `app_command_completion` event each see some of the
        # ends (neither a cancellation), and `Client.on_interaction` runs in a task of its own.
        # Relies on discord.py 2.7 (pyproject: >=2.7,<2.8), where `_from_interaction` runs
        # `self._call(interaction)` and `_call` calls `interaction_check` first;
        # tests/unit/test_interactions.py fails if an upgrade changes either.
        with self.serving():
            await super()._call(interaction)
        # Answered (discord.py reports errors inside _call). Not reached when the command is
        # cancelled by a stop: its open reply stays, and is answered after the restart.
        await track_closed(interaction)

    async def admit(
        self, interaction: discord.Interaction, ack: Ack, *, counted: bool = False
    ) -> bool:
        """The gate (see the module docstring). False: refused, and answered if possible.
        `counted`: the interaction is already in `in_flight` (commands are counted from the
        moment they are dispatched; buttons and forms once they pass)."""
        if _age_s(interaction) > STALE_AFTER_S:
            refusals.note(f"stale (over {STALE_AFTER_S:.0f} s old)")
            return False
        if not self._serving():
            return await self._refuse(interaction, STARTING)
        if not self._server_allowed(interaction):
            refusals.note("server not in ALLOWED_GUILDS")
            return await self._refuse(interaction, NOT_ALLOWED)
        others = self.in_flight - 1 if counted else self.in_flight
        if others >= self.max_in_flight:
            refusals.note(f"shed ({self.max_in_flight} in flight)")
            return await self._refuse(interaction, BUSY)
        await acknowledge(interaction, ack)
        return True

    def _serving(self) -> bool:
        # Not `is_ready()`: discord.py sets that only after every guild has arrived, while
        # interactions are valid as soon as the gateway delivers them. What a command needs is
        # the bot's own resources (opened in setup_hook), and a client that is not closing.
        return not self.client.is_closed() and hasattr(self.client, "jobs")

    def _server_allowed(self, interaction: discord.Interaction) -> bool:
        # Leaving a server not in ALLOWED_GUILDS can fail, and its interactions can arrive
        # before the leave: none is served, so no other server spends the owner's credits.
        settings = getattr(self.client, "settings", None)
        allowed = getattr(settings, "allowed_guilds", None)
        return allowed is None or interaction.guild_id is None or interaction.guild_id in allowed

    async def _refuse(self, interaction: discord.Interaction, text: str) -> bool:
        with contextlib.suppress(discord.HTTPException):
            await interaction.response.send_message(
                text, ephemeral=True, allowed_mentions=NO_MENTIONS
            )
        return False

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        # Each interaction runs in its own task: tag the rest of its log lines with the server.
        bind(guild_id=interaction.guild_id)
        if interaction.type is discord.InteractionType.autocomplete:
            return True  # answered with choices, never deferred; never spends anything
        ack = ack_of(interaction.command)
        admitted = await self.admit(interaction, ack, counted=True)
        if admitted:
            await track_opened(interaction, ack)
        return admitted

    async def on_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        await report_error(interaction, error)


def tree_of(interaction: discord.Interaction) -> MusicTree:
    tree = interaction.client.tree  # type: ignore[attr-defined]  # every client here is a MusicBot
    assert isinstance(tree, MusicTree)
    return tree
