"""The webhook receiver: an aiohttp server inside the bot process.

It only decides whether to believe a delivery, and if so stores it for the job and wakes the
job's owner; the scheduler acts on it. So the handler answers within milliseconds, never
calls Discord, and a crash after the answer loses nothing (the event is in the database).

Nothing reaches a job unless: the path's token is the job's, the content type is JSON, the
body is at most 1 MiB, the signature checks out (either scheme) with a timestamp within 5
minutes, the body is a JSON object naming the job's task, and the event was not seen before
(by task + event, both from the signed body: see `events.event_name`; the unsigned
`X-Webhook-Id` and `X-Webhook-Event` headers decide nothing). A delivery for a real job that
fails the signature check asks for one early poll of that job instead (at most one per job
per minute).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any, Protocol

from aiohttp import web

from bot.observability import metrics
from bot.observability.refusals import RefusalLog
from bot.states import ACTIVE_STATES
from bot.store import jobs as job_sql
from bot.store import leases as lease_sql
from bot.store import webhooks as webhook_sql
from bot.store.database import Database
from bot.webhooks.address import ROUTE, Addresses
from bot.webhooks.events import event_name
from bot.webhooks.signature import SignatureError, verify

log = logging.getLogger(__name__)

MAX_BODY = 1024 * 1024
NUDGE_EVERY_S = 60.0
# The body is parsed on the event loop (json.loads holds the GIL, so a thread would not help).
# A webhook carries the same data as a poll answer, which the MusicAPI client reads only up to
# this size as well: a few milliseconds of parsing. Larger signed bodies are "not JSON".
JSON_PARSE_MAX_BYTES = 256 * 1024
# MusicAPI's envelopes are a handful of levels deep (envelope, data, clip, metadata). A body
# nested deeper is refused before it is stored: one just short of the interpreter's recursion
# limit parses here, but could fail wherever the stored event is read or written again.
MAX_JSON_DEPTH = 32


def _nested_deeper_than(value: Any, limit: int) -> bool:
    """Whether the parsed JSON has containers more than `limit` levels deep (no recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        for child in node.values() if isinstance(node, dict) else node:
            if isinstance(child, (dict, list)):
                if depth >= limit:
                    return True
                if child:
                    stack.append((child, depth + 1))
    return False


def decode_body(body: bytes) -> Any | None:
    """The body's JSON, or None when it is not JSON, too large to parse here, or nested too
    deep (json.loads raises RecursionError for very deep input: that is "not JSON" too)."""
    if len(body) > JSON_PARSE_MAX_BYTES:
        return None
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    if isinstance(payload, (dict, list)) and _nested_deeper_than(payload, MAX_JSON_DEPTH):
        return None
    return payload


class JobOwner(Protocol):
    """Who acts on a stored event (the scheduler; with leases, whichever process owns it)."""

    def wake(self) -> None: ...


class WebhookReceiver:
    def __init__(
        self,
        db: Database,
        addresses: Addresses,
        owner: JobOwner,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.db = db
        self.addresses = addresses
        self.owner = owner
        self.clock = clock
        self._nudged: dict[int, float] = {}
        self._runner: web.AppRunner | None = None
        self.app = web.Application(client_max_size=MAX_BODY)
        # Any path prefix: a TLS proxy in front may or may not strip its own.
        self.app.router.add_post(
            r"/{prefix:.*}" + ROUTE + r"/{job_id:\d{1,18}}/{token:[0-9a-fA-F]{1,64}}", self.handle
        )
        # Counts by outcome, for tests, benchmarks and /musicbot status.
        self.stats: dict[str, int] = {}
        # Anyone can POST here: one summary line a minute, not a WARNING per request.
        self.refusals = RefusalLog(log, "webhook deliveries refused")

    async def start(self, host: str, port: int) -> int:
        """Listen on host:port (0: any free port); returns the port."""
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        server = site._server  # the bound socket, to learn the port chosen for 0
        sockets = getattr(server, "sockets", None) or []
        return int(sockets[0].getsockname()[1]) if sockets else port

    async def stop(self) -> None:
        self.refusals.flush()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def _answer(self, outcome: str, status: int, job_id: int | None = None) -> web.Response:
        self.stats[outcome] = self.stats.get(outcome, 0) + 1
        # `outcome` is one of this module's fixed words, never request data: a safe label.
        metrics.webhook_event(accepted=status < 400, reason=outcome)
        if status >= 400:
            # Never the body, the headers or the secret: how many were refused, and why.
            self.refusals.note(outcome)
            log.debug("webhook for job %s refused: %s", job_id, outcome)
        return web.json_response({"status": outcome}, status=status)

    async def handle(self, request: web.Request) -> web.Response:
        job_id = int(request.match_info["job_id"])
        if not self.addresses.token_matches(job_id, request.match_info["token"]):
            return self._answer("unknown job", 404)
        if request.content_type != "application/json":
            return self._answer("not application/json", 415, job_id)
        if request.content_length is not None and request.content_length > MAX_BODY:
            return self._answer("body over 1 MiB", 413, job_id)
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return self._answer("body over 1 MiB", 413, job_id)
        now = self.clock()
        try:
            verify(request.headers, body, self.addresses.secret, now)
        except SignatureError as error:
            await self._nudge(job_id, now)
            return self._answer(error.refusal.value, 401, job_id)
        payload = decode_body(body)
        if payload is None:
            return self._answer("malformed JSON", 400, job_id)
        task_id = payload.get("task_id") if isinstance(payload, dict) else None
        if not isinstance(task_id, str) or not task_id:
            return self._answer("no task_id", 400, job_id)
        async with self.db.transaction() as conn:
            job = await job_sql.get(conn, job_id)
            if job is None:
                return self._answer("unknown job", 404, job_id)
            # Without a task id, a job still being sent, or one held after its submit was cut
            # off ('unconfirmed'), waits for exactly this: the webhook that names its task.
            if job.task_id is None and job.state not in (job_sql.SUBMITTING, job_sql.UNCONFIRMED):
                return self._answer("job has no task", 409, job_id)
            if job.task_id is not None and job.task_id != task_id:
                return self._answer("not this job's task", 409, job_id)
            # Never the unsigned X-Webhook-Event header: see bot.webhooks.events.
            event = event_name(job.family, task_id, payload)
            # A replay is known by task + event alone: both are signed. X-Webhook-Id is not,
            # so it is not kept as a key: a captured body sent with another delivery's id
            # must not make that delivery (say, the song's completion) look like a repeat.
            fresh = await webhook_sql.record(conn, job_id, None, task_id, event, payload, now)
            if fresh:
                await job_sql.run_soon(conn, job_id, now)
                # Any process may receive it; the job's owner acts on it (NOTIFY on
                # PostgreSQL; on SQLite there is one process, woken below).
                await lease_sql.wake_owner(conn, job_id)
        if not fresh:
            # A repeat: answered 2xx so MusicAPI stops resending, but nothing reaches the job.
            self.stats["duplicate"] = self.stats.get("duplicate", 0) + 1
            metrics.webhook_event(accepted=False, reason="duplicate")
            return web.json_response({"status": "duplicate"})
        self.owner.wake()
        return self._answer("accepted", 200, job_id)

    async def _nudge(self, job_id: int, now: float) -> None:
        """An unverifiable delivery for a real job: poll it once soon, and not more often."""
        if now - self._nudged.get(job_id, float("-inf")) < NUDGE_EVERY_S:
            return
        self._nudged[job_id] = now
        if len(self._nudged) > 10_000:  # forget old nudges; a flood must not grow memory
            self._nudged = {k: v for k, v in self._nudged.items() if now - v < NUDGE_EVERY_S}
        async with self.db.transaction() as conn:
            job = await job_sql.get(conn, job_id)
            if job is None or job.state not in ACTIVE_STATES:
                return
            await job_sql.run_soon(conn, job_id, now)
            await lease_sql.wake_owner(conn, job_id)
        self.owner.wake()
