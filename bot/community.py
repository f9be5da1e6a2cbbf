"""Community song requests: members ask, moderators approve or reject.

With approval off a request runs at once like `/song create`, charged to the requester and
recorded as a request. With approval on it waits; approving it reserves from the server's pool
and marks it approved in one transaction, so two moderators approving at once start one song.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from bot.errors import UserFacingError
from bot.jobs.operations import Operation
from bot.jobs.service import JobOrigin, JobService
from bot.states import RequestState
from bot.store import requests as request_sql
from bot.store.database import Connection, Database
from bot.store.requests import SongRequest


class AlreadyDecided(UserFacingError):
    def __init__(self, request: SongRequest | None) -> None:
        state = request.state if request else "gone"
        super().__init__(f"This request was already {state}.")


class CommunityRequests:
    def __init__(
        self, db: Database, jobs: JobService, *, clock: Callable[[], float] = time.time
    ) -> None:
        self.db = db
        self.jobs = jobs
        self.clock = clock

    async def get(self, request_id: int) -> SongRequest | None:
        async with self.db.read() as conn:
            return await request_sql.get(conn, request_id)

    async def record_direct(
        self, origin: JobOrigin, description: str, style: str | None, job_id: int
    ) -> int:
        return await self._insert(origin, description, style, RequestState.DIRECT, job_id)

    async def open(self, origin: JobOrigin, description: str, style: str | None) -> int:
        return await self._insert(origin, description, style, RequestState.PENDING)

    async def _insert(
        self,
        origin: JobOrigin,
        description: str,
        style: str | None,
        state: RequestState,
        job_id: int | None = None,
    ) -> int:
        async with self.db.transaction() as conn:
            return await request_sql.insert(
                conn,
                guild_id=origin.guild_id,
                channel_id=origin.channel_id,
                user_id=origin.user_id,
                description=description,
                style=style,
                state=state,
                now=self.clock(),
                job_id=job_id,
            )

    async def set_message(self, request_id: int, message_id: int) -> None:
        async with self.db.transaction() as conn:
            await request_sql.set_message(conn, request_id, message_id)

    async def approve(self, request: SongRequest, moderator_id: int, operation: Operation) -> int:
        """Reserve from the server pool and mark the request approved together; job id."""

        async def claim(conn: Connection, job_id: int) -> None:
            if not await request_sql.decide(
                conn, request.id, RequestState.APPROVED, moderator_id, self.clock(), job_id=job_id
            ):
                raise AlreadyDecided(await request_sql.get(conn, request.id))

        origin = JobOrigin(
            guild_id=request.guild_id,
            channel_id=request.channel_id,
            user_id=request.user_id,
            charge_member=False,
        )
        return await self.jobs.reserve(origin, operation, claim=claim)

    async def reject(self, request_id: int, moderator_id: int, reason: str) -> SongRequest:
        async with self.db.transaction() as conn:
            decided = await request_sql.decide(
                conn, request_id, RequestState.REJECTED, moderator_id, self.clock(), reason=reason
            )
            request = await request_sql.get(conn, request_id)
        if not decided or request is None:
            raise AlreadyDecided(request)
        return request

    async def vote(self, request_id: int, user_id: int) -> tuple[bool, int]:
        """(whether this vote was new, the count now)."""
        async with self.db.transaction() as conn:
            added = await request_sql.add_vote(conn, request_id, user_id)
            return added, await request_sql.vote_count(conn, request_id)

    async def votes(self, request_id: int) -> int:
        async with self.db.read() as conn:
            return await request_sql.vote_count(conn, request_id)
