"""Starting a job: quota reservation, then the MusicAPI submit, then hand-off to the scheduler.

This is the one place where a command's request becomes upstream work, so every command that
spends credits goes through `JobService.start`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, NoReturn, TypeVar

from bot.errors import UserFacingError
from bot.jobs import orphans
from bot.jobs.operations import Operation
from bot.jobs.scheduler import Scheduler
from bot.markdown import escape, shorten
from bot.musicapi.client import MusicAPIClient
from bot.musicapi.errors import (
    InsufficientCreditsError,
    ModerationError,
    MusicAPIError,
    SubmitOutcomeUnknown,
    UpstreamValidationError,
)
from bot.quota.ledger import Quota
from bot.states import Family
from bot.store import jobs as job_sql
from bot.store.database import Connection, Database
from bot.store.jobs import Job, NewJob
from bot.store.leases import LeaseLost
from bot.webhooks.address import Addresses

log = logging.getLogger(__name__)
T = TypeVar("T")

# Discord interaction tokens live 15 minutes; stop using one a little before that.
TOKEN_LIFETIME_S = 14 * 60
# What a job card shows of the request (bot markdown, cut whole lines first).
SUMMARY_MAX = 300


async def _no_submit(_client: MusicAPIClient) -> str:
    raise RuntimeError("a synchronous operation has no task to submit")


class SubmitRefused(UserFacingError):
    """MusicAPI refused or could not take the job; the reservation was released."""


@dataclass(frozen=True, slots=True)
class JobOrigin:
    """Who asked, where, and how to reach their interaction."""

    guild_id: int
    channel_id: int
    user_id: int
    application_id: int | None = None
    interaction_token: str | None = None
    upload_limit: int | None = None
    role_ids: tuple[int, ...] = ()  # for per-role limits
    # False when a moderator approved a community request: the server's pool pays.
    charge_member: bool = True


def _model_of(body: dict[str, Any]) -> str | None:
    """The model a request names (`mv` for Sonic, `model` elsewhere), if any."""
    model = body.get("mv") or body.get("model")
    return str(model)[:64] if model else None


def refusal_text(error: MusicAPIError) -> str:
    """Plain words for a submit MusicAPI refused."""
    if isinstance(error, ModerationError):
        return f"MusicAPI's moderation refused it: {error}"
    if isinstance(error, InsufficientCreditsError):
        return "The bot owner's MusicAPI account is out of credits, so nothing can be made now."
    if isinstance(error, UpstreamValidationError):
        return f"MusicAPI did not accept the request: {error}"
    if error.retryable:
        return "MusicAPI is not answering right now. Try again in a few minutes."
    return f"MusicAPI could not take the job: {error}"


class JobService:
    def __init__(
        self,
        db: Database,
        quota: Quota,
        client: MusicAPIClient,
        scheduler: Scheduler,
        *,
        poll_interval: float,
        clock: Callable[[], float] = time.time,
        orphan_hold_s: float = 0.0,
        webhooks: Addresses | None = None,
    ) -> None:
        self.db = db
        # Submits whose request is on its way: a clean stop waits for them (`drain`).
        self._sending = 0
        self._idle = asyncio.Event()
        self._idle.set()
        # How long a submit without an answer waits for a webhook to name its task before it
        # is released as a possibly billed orphan (0 without webhooks: nothing could).
        self.orphan_hold_s = orphan_hold_s
        self.quota = quota
        self.client = client
        self.scheduler = scheduler
        self.poll_interval = poll_interval
        self.clock = clock
        # Set when WEBHOOK_PUBLIC_URL is: every submit then names its job in a webhook URL.
        self.webhooks = webhooks

    def cost_of(self, operation: str) -> int:
        return self.quota.costs.cost(operation)

    async def reserve(
        self,
        origin: JobOrigin,
        operation: Operation,
        *,
        claim: Callable[[Connection, int], Awaitable[None]] | None = None,
    ) -> int:
        """Write the job row and reserve its cost (raises QuotaRefused). Fast, local."""
        now = self.clock()
        owner, lease_until = self.scheduler.new_lease()
        new_job = NewJob(
            guild_id=origin.guild_id,
            channel_id=origin.channel_id,
            user_id=origin.user_id,
            operation=operation.name,
            request=operation.body,
            summary=shorten(operation.summary, SUMMARY_MAX),
            cost=self.cost_of(operation.name),
            application_id=origin.application_id,
            interaction_token=origin.interaction_token,
            token_expires_at=now + TOKEN_LIFETIME_S if origin.interaction_token else None,
            upload_limit=origin.upload_limit,
            charge_member=origin.charge_member,
            family=Family(operation.family),
            owner=owner,
            lease_until=lease_until,
            model=_model_of(operation.body),
        )
        return await self.quota.reserve(new_job, origin.role_ids, claim=claim)

    async def submit(self, job_id: int, operation: Operation) -> Job:
        """Send a reserved job upstream. On refusal: release, and raise SubmitRefused.

        The intent (fingerprint, `sent_at`) is committed before the request leaves, so a
        crash at any point after it leaves a job a restart knows may exist upstream (see
        `bot.jobs.orphans`). A request whose outcome is unknown is never resent."""
        digest = orphans.fingerprint(operation.name, operation.family, operation.body)
        async with self.db.transaction() as conn:
            await job_sql.mark_sending(conn, job_id, digest, self.clock())
        client = self.client
        if self.webhooks is not None:
            # The job id is known before the request leaves, so the webhook finds the job
            # even if this process dies before the task id is recorded below.
            target = self.webhooks.for_job(job_id)
            client = client.with_webhook(target.url, target.secret)
        self._sending += 1
        self._idle.clear()
        try:
            try:
                task_id = await operation.send(client)
            except SubmitOutcomeUnknown as error:
                return await self._unconfirmed(job_id, error)
            except MusicAPIError as error:
                await self._refused(job_id, error)
                raise  # pragma: no cover - _refused always raises
            now = self.clock()
            async with self.db.transaction() as conn:
                job = await job_sql.get(conn, job_id)
                assert job is not None
                first = self.scheduler.first_poll_at(job, now)
                await job_sql.mark_submitted(conn, job_id, task_id, now, first)
                job = await job_sql.get(conn, job_id)
        finally:
            self._sending -= 1
            if not self._sending:
                self._idle.set()
        assert job is not None
        self.scheduler.wake()
        log.info("job %s submitted as %s task %s", job_id, operation.family, task_id)
        return job

    async def run_now(
        self,
        origin: JobOrigin,
        name: str,
        body: dict[str, Any],
        call: Callable[[], Awaitable[T]],
        *,
        record: Callable[[Connection, Job, T], Awaitable[None]] | None = None,
    ) -> T:
        """A synchronous MusicAPI call through the same quota path: reserved first, charged
        only if it succeeds, returned at once otherwise. Recorded as a finished job;
        `record(conn, job, result)` stores what it made in the same transaction as the
        charge (e.g. an uploaded clip)."""
        operation = Operation(name, Family.SYNC, body, escape(name), _no_submit)
        job_id = await self.reserve(origin, operation)
        # Billed upstream like any submit: a crash from here on leaves a possibly billed job.
        async with self.db.transaction() as conn:
            await job_sql.mark_sending(
                conn, job_id, orphans.fingerprint(name, operation.family, body), self.clock()
            )
        try:
            result = await call()
        except MusicAPIError as error:
            await self._refused(job_id, error)
            raise  # pragma: no cover - _refused always raises
        except BaseException:
            # Anything else (a bug, a cancelled interaction): never leave the credits held.
            await self.abandon(job_id, "The request could not be completed.")
            raise

        async def succeed(job: Job) -> Job:
            async def store(conn: Connection) -> None:
                if record is not None:
                    await record(conn, job, result)

            # Answered through the interaction: told at once, so no channel notice follows.
            return await self.scheduler.lifecycle.succeed(job, store=store, told=True)

        await self._settle(job_id, succeed)
        return result

    async def drain(self, within_s: float) -> int:
        """Wait up to `within_s` seconds for submits in flight to be answered and recorded; returns
        how many are still waiting."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), within_s)
        return self._sending

    async def _unconfirmed(self, job_id: int, error: SubmitOutcomeUnknown) -> Job:
        """The request left but nothing says whether MusicAPI made the task. Held while a
        webhook could still name it (`orphan_hold_s`), else released now as an orphan. Either
        way the job keeps why (no answer, or an answer that could not be read): the member is
        told that, and what became of the credits."""
        now = self.clock()
        reason = orphans.UNKNOWN_OUTCOME_REASONS[error.reason]
        log.warning("job %s: submit outcome unknown (%s: %s)", job_id, error.reason.value, error)
        if self.orphan_hold_s > 0:
            async with self.db.transaction() as conn:
                await job_sql.mark_unconfirmed(conn, job_id, now + self.orphan_hold_s, reason)
            job = await self.get(job_id)
        else:
            # Told right here, through the interaction, so no channel notice follows.
            job = await self._settle(
                job_id, lambda job: self.scheduler.lifecycle.orphan(job, reason, told=True)
            )
        if self.orphan_hold_s > 0:
            self.scheduler.wake()
            return job
        raise SubmitRefused(job.failure or reason) from error

    async def _refused(self, job_id: int, error: MusicAPIError) -> NoReturn:
        reason = refusal_text(error)
        log.warning("job %s refused upstream: %s", job_id, type(error).__name__)
        await self.abandon(job_id, reason)
        cost = (await self.get(job_id)).cost
        # The stored failure is plain text (the card escapes it); the refusal is markdown, and
        # MusicAPI's words in it are shown as written.
        raise SubmitRefused(f"{escape(reason)}\nYour {cost} credits were returned.") from error

    async def set_card_message(self, job_id: int, message_id: int) -> None:
        async with self.db.transaction() as conn:
            await job_sql.set_card_message(conn, job_id, message_id)

    async def get(self, job_id: int) -> Job:
        async with self.db.read() as conn:
            job = await job_sql.get(conn, job_id)
        if job is None:
            raise LookupError(job_id)
        return job

    async def abandon(self, job_id: int, reason: str) -> None:
        """Fail a job the member is told about right away (so no channel notice follows)."""
        await self._settle(job_id, lambda job: self.scheduler.lifecycle.abandon(job, reason))

    async def _settle(self, job_id: int, end: Callable[[Job], Awaitable[Job]]) -> Job:
        """End a job this process is answering in its interaction, by `end` (a lifecycle step).
        If the process stalled past the job's lease and another took it over, that one settles
        and tells it: nothing is written here, and the row as it stands is returned."""
        job = await self.get(job_id)
        try:
            return await end(job)
        except LeaseLost:
            log.warning("job %s: taken over by another process while it was answered", job_id)
            return await self.get(job_id)

    async def in_flight(self, guild_id: int) -> list[Job]:
        async with self.db.read() as conn:
            return await job_sql.in_flight(conn, guild_id)

    async def count_orphans(self, since: float = 0.0) -> int:
        """Jobs released although MusicAPI may have made (and billed) them."""
        async with self.db.read() as conn:
            return await orphans.count(conn, since)

    async def count_in_flight(self) -> int:
        async with self.db.read() as conn:
            return await job_sql.count_in_flight(conn)

    async def paid_before(self, guild_id: int, operation: str, clip_id: str) -> bool:
        async with self.db.read() as conn:
            return await job_sql.paid_before(conn, guild_id, operation, clip_id)
