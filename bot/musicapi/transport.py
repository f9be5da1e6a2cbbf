"""HTTP transport shared by every MusicAPI endpoint method.

Transport policy (docs/musicapi/protocol.md §2.5, matching the official SDK): retry with exponential
backoff and jitter on 429, 5xx and our own timeouts / connection failures, honouring
``Retry-After``; never retry any other 4xx. Task-creating requests are the exception: they are
retried only when MusicAPI's own answer says it did not take them (429, 500, 503) or the connection
never opened, because a resent create can make and bill a second task. A timeout, a dropped
connection or a gateway's (non-JSON) 502 / 504 leaves the outcome unknown: ``SubmitOutcomeUnknown``,
never a resend. Request ids from the response headers are logged for support; the API key never is.
"""

from __future__ import annotations

import asyncio
import copy
import email.utils
import json
import logging
import random
import time
from collections.abc import Callable, Mapping
from typing import Any, Self, TypeVar
from urllib.parse import quote

import aiohttp

from bot.redaction import add_secret, redact

from .errors import (
    MalformedResponseError,
    MusicAPIError,
    RequestTimeoutError,
    SubmitOutcomeUnknown,
    UnknownOutcome,
    error_for_status,
    extract_error_text,
)
from .models import TaskStatus

__all__ = ["REQUEST_ID_HEADERS", "PollParser", "Transport"]

log = logging.getLogger("bot.musicapi")

T = TypeVar("T")
# (task_id, http_status, body, request_id) -> TaskStatus, one per polling family.
PollParser = Callable[[str, int, Any, str | None], TaskStatus]
# Told of every attempt: (kind, HTTP status or None when none came back, the error or None).
RequestObserver = Callable[[str, int | None, MusicAPIError | None], None]

REQUEST_ID_HEADERS = ("x-request-id", "x-vercel-id", "cf-ray")
# The largest MusicAPI answer read. The biggest real ones (a stems poll with every clip's
# lyrics, a word-by-word timeline of a long song) are a few hundred KiB; a body past this is
# cut off unread and handled as one that could not be read, never held in memory whole.
MAX_RESPONSE_BYTES = 4 * 1024 * 1024
_API_PREFIX = "/api/v1"
# Keys shorter than this are not redacted: replacing a 1–3 character "key" everywhere would
# mangle every message, and real keys are far longer.
_MIN_REDACT_LEN = 4
_REDACTED = "[redacted]"
# Task-creating paths whose body may carry `webhook_url` + `webhook_secret`
# (docs/musicapi/protocol.md §5). Stems and the synchronous utilities have no webhook fields.
WEBHOOK_PATHS = frozenset(
    {
        "/sonic/create",
        "/sonic/upload-extend",
        "/sonic/upload-cover",
        "/sonic/sample",
        "/sonic/mashup",
        "/sonic/replace-section",
        "/sonic/create-voice",
        "/producer/create",
        "/producer/upload",
        "/producer/download",
        "/nuro/create",
    }
)


def _request_id(headers: Mapping[str, str]) -> str | None:
    for name in REQUEST_ID_HEADERS:
        value = headers.get(name)
        if value:
            return value
    return None


def _parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header: delta-seconds or an HTTP date."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = when.timestamp() - time.time()
    return max(0.0, seconds)


class Transport:
    """Talks to ``{base_url}/api/v1/...`` over a session the caller owns."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        api_key: str,
        *,
        max_retries: int = 3,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
        request_timeout: float = 30.0,
        upload_timeout: float = 90.0,
    ) -> None:
        self._session = session
        self._base_url = base_url.rstrip("/")
        self._api_key = api_key
        self._max_retries = max(0, max_retries)
        self._backoff_base = backoff_base
        self._backoff_max = backoff_max
        self._timeout = aiohttp.ClientTimeout(total=request_timeout)
        # /sonic/upload answers after ~20 s (docs/musicapi/protocol.md §3.14), as do the one-shot
        # endpoints that upload first; never shorter than the normal timeout.
        self._upload_timeout = aiohttp.ClientTimeout(total=max(upload_timeout, request_timeout))
        # HTTP requests actually sent (retries included), by kind: benchmarks read this. Every
        # submit counts as "create", every poll as "poll", the sync utilities as "tools".
        self.stats: dict[str, int] = {"create": 0, "poll": 0, "credits": 0, "lyrics": 0}
        # Metrics and outage detection hook in here (bot.observability.upstream).
        self.observer: RequestObserver | None = None
        # (webhook_url, webhook_secret) added to task-creating bodies; see with_webhook().
        self._webhook: tuple[str, str] | None = None

    def __repr__(self) -> str:
        # Deliberately omits the key.
        return f"MusicAPIClient(base_url={self._base_url!r})"

    @property
    def base_url(self) -> str:
        return self._base_url

    def with_webhook(self, url: str, secret: str) -> Self:
        """This client (same session, same stats), but every task-creating request it sends
        carries `webhook_url=url` and `webhook_secret=secret`. One per job: the URL names it."""
        clone = copy.copy(self)
        clone._webhook = (url, secret)
        add_secret(secret)  # sent upstream, so never shown back if MusicAPI echoes it
        return clone

    # ------------------------------------------------------------------ shared call shapes

    async def _submit(
        self, path: str, body: dict[str, Any], *, upload: bool = False, key: str = "task_id"
    ) -> str:
        """POST a task-creating body; returns the task id found under ``key``."""
        # A submit that timed out, lost its connection or got a gateway 5xx may still have been
        # accepted upstream, so it is never resent (a second task would be billed too): it
        # raises SubmitOutcomeUnknown and the caller records the job as possibly made.
        timeout = self._upload_timeout if upload else None
        try:
            status, data, request_id = await self._request(
                "create", "POST", path, body, call_timeout=timeout, resend_safe=False
            )
        except MalformedResponseError as error:  # a 2xx we could not read: accepted, maybe
            raise SubmitOutcomeUnknown(
                "MusicAPI accepted the request but its answer could not be read.",
                reason=UnknownOutcome.UNREADABLE,
                status=error.status,
                request_id=error.request_id,
            ) from None
        task_id = data.get(key) if isinstance(data, Mapping) else None
        if not isinstance(task_id, str) or not task_id.strip():
            raise SubmitOutcomeUnknown(
                "MusicAPI accepted the request but sent no task id.",
                reason=UnknownOutcome.UNREADABLE,
                status=status,
                request_id=request_id,
            )
        return task_id

    async def _call(
        self,
        kind: str,
        method: str,
        path: str,
        body: dict[str, Any] | None,
        parse: Callable[[Any], T],
        *,
        upload: bool = False,
    ) -> T:
        """One request whose 2xx body ``parse`` turns into a typed result."""
        timeout = self._upload_timeout if upload else None
        status, data, request_id = await self._request(
            kind, method, path, body, call_timeout=timeout
        )
        try:
            return parse(data)
        except MalformedResponseError as exc:
            exc.status, exc.request_id = status, request_id
            raise

    async def _poll_with(self, family_path: str, task_id: str, parser: PollParser) -> TaskStatus:
        """One poll of ``{family_path}/{task_id}``, interpreted by the family's ``parser``."""
        if not task_id or not task_id.strip():
            raise ValueError("task_id must not be empty")
        path = f"{family_path}/{quote(task_id, safe='')}"
        status, data, request_id = await self._request("poll", "GET", path, None, poll=True)
        if status == 504:
            # "Task failed due to timeout. Credits were previously refunded." is a verdict on
            # the task, not an outage: retrying would only hear it again.
            text = self._redact(extract_error_text(data, status))
            return TaskStatus.failed(task_id, "timeout", text, request_id)
        try:
            return parser(task_id, status, data, request_id)
        except MalformedResponseError as exc:
            exc.status, exc.request_id = status, request_id
            raise

    # ------------------------------------------------------------------ transport

    def _redact(self, text: str) -> str:
        """MusicAPI's text without this client's key, nor any secret the process registered
        (the webhook secret among them): it may be shown to a member."""
        if len(self._api_key) >= _MIN_REDACT_LEN and self._api_key in text:
            text = text.replace(self._api_key, _REDACTED)
        return redact(text)

    def _observe(self, kind: str, status: int | None, error: MusicAPIError | None) -> None:
        if self.observer is not None:
            try:
                self.observer(kind, status, error)
            except Exception:  # watching a request must never fail it
                log.exception("MusicAPI request observer failed")

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, self._backoff_max)
        ceiling = min(self._backoff_max, self._backoff_base * (2.0**attempt))
        # "Equal jitter": at least half the exponential step, so retries still spread out
        # without ever collapsing to zero delay.
        return ceiling / 2 + random.uniform(0, ceiling / 2)

    async def _request(
        self,
        kind: str,
        method: str,
        path: str,
        body: dict[str, Any] | None,
        *,
        poll: bool = False,
        allow_202: bool = False,
        call_timeout: aiohttp.ClientTimeout | None = None,
        resend_safe: bool = True,
    ) -> tuple[int, Any, str | None]:
        """Send with retries; returns ``(status, parsed_json, request_id)`` for 2xx responses
        (and for a poll's JSON 504). Raises a ``MusicAPIError`` subclass otherwise.

        ``allow_202`` returns a 202 whatever its body (``/sonic/midi`` "not ready yet"), as a
        poll does; ``call_timeout`` overrides the client's per-request timeout.
        ``resend_safe=False`` (task-creating requests) retries only what MusicAPI certainly
        did not take, and raises ``SubmitOutcomeUnknown`` for the rest."""
        url = f"{self._base_url}{_API_PREFIX}{path}"
        if self._webhook is not None and kind == "create" and path in WEBHOOK_PATHS and body:
            # Added here, on the wire only: the job row keeps the body without the secret, and
            # bodies are never logged.
            body = {**body, "webhook_url": self._webhook[0], "webhook_secret": self._webhook[1]}
        headers = {"Authorization": f"Bearer {self._api_key}", "Accept": "application/json"}
        attempts = self._max_retries + 1
        for attempt in range(attempts):
            last = attempt == attempts - 1
            self.stats[kind] = self.stats.get(kind, 0) + 1
            started = time.monotonic()
            try:
                async with self._session.request(
                    method, url, json=body, headers=headers, timeout=call_timeout or self._timeout
                ) as resp:
                    raw = await _read_capped(resp, MAX_RESPONSE_BYTES)
                    status = resp.status
                    resp_headers = resp.headers
            except (TimeoutError, aiohttp.ClientError) as exc:
                # Exception texts can include the URL but never our headers; still, log only
                # the class name to keep the line short and predictable.
                timed_out = isinstance(exc, TimeoutError)
                never_sent = isinstance(
                    exc, aiohttp.ClientConnectorError | aiohttp.ConnectionTimeoutError
                )
                error: MusicAPIError = RequestTimeoutError(
                    "MusicAPI did not answer in time."
                    if timed_out
                    else "Could not connect to MusicAPI."
                )
                log.warning(
                    "MusicAPI %s %s: %s after %.2fs (attempt %d/%d)",
                    method,
                    path,
                    type(exc).__name__,
                    time.monotonic() - started,
                    attempt + 1,
                    attempts,
                )
                self._observe(kind, None, error)
                if not resend_safe and not never_sent:
                    raise SubmitOutcomeUnknown(
                        "MusicAPI did not answer, so whether it took the job is unknown.",
                        reason=UnknownOutcome.NO_ANSWER,
                    ) from None
                if last:
                    raise error from None
                await asyncio.sleep(self._backoff(attempt, None))
                continue

            request_id = _request_id(resp_headers)
            log.debug(
                "MusicAPI %s %s -> %d in %.3fs (request id %s, attempt %d/%d)",
                method,
                path,
                status,
                time.monotonic() - started,
                request_id,
                attempt + 1,
                attempts,
            )
            data = _decode(raw)

            if (poll or allow_202) and status == 202:
                # "Not ready": the status alone says it; the body may even be empty.
                self._observe(kind, status, None)
                return status, (None if data is _NOT_JSON else data), request_id
            if poll and status == 504 and data is not _NOT_JSON:
                # MusicAPI's own JSON 504 ("Task failed due to timeout...") is the task's final
                # verdict. A gateway's HTML 504 is an outage instead and falls through to the
                # retry path below, so a proxy hiccup never fails (and refunds) a live task.
                self._observe(kind, status, None)
                return status, data, request_id
            if 200 <= status < 300:
                if data is _NOT_JSON:
                    # Not retried here: the body arrived, and a poll will simply be repeated by
                    # the scheduler later, while re-sending a create could double-bill.
                    log.warning(
                        "MusicAPI %s %s -> %d with a non-JSON body (request id %s)",
                        method,
                        path,
                        status,
                        request_id,
                    )
                    malformed = MalformedResponseError(
                        "MusicAPI sent a response that could not be read.",
                        status=status,
                        request_id=request_id,
                    )
                    self._observe(kind, status, malformed)
                    raise malformed
                self._observe(kind, status, None)
                return status, data, request_id

            text_body: Any = raw.decode("utf-8", "replace") if data is _NOT_JSON else data
            text = self._redact(extract_error_text(text_body, status))
            retry_after = (
                _parse_retry_after(resp_headers.get("Retry-After"))
                if status in (429, 503)
                else None
            )
            error_type = text_body.get("type") if isinstance(text_body, dict) else None
            error = error_for_status(
                status,
                text,
                request_id=request_id,
                retry_after=retry_after,
                error_type=error_type if isinstance(error_type, str) else None,
            )
            log.warning(
                "MusicAPI %s %s -> %d %s: %s (request id %s, attempt %d/%d)",
                method,
                path,
                status,
                type(error).__name__,
                text,
                request_id,
                attempt + 1,
                attempts,
            )
            self._observe(kind, status, error)
            if not resend_safe and status in (502, 504) and data is _NOT_JSON:
                # A gateway's page, not MusicAPI's JSON: MusicAPI behind it may have taken the
                # request before the gateway gave up on it, so it is not resent. (MusicAPI's
                # own JSON errors, and any 500 or 503, say it failed: retried as before.)
                raise SubmitOutcomeUnknown(
                    f"MusicAPI answered {status}, so whether it took the job is unknown.",
                    reason=UnknownOutcome.NO_ANSWER,  # a gateway gave up waiting for it
                    status=status,
                    request_id=request_id,
                )
            if not error.retryable or last:
                raise error
            await asyncio.sleep(self._backoff(attempt, retry_after))
        raise AssertionError("unreachable")  # pragma: no cover - the loop always returns/raises


async def _read_capped(resp: aiohttp.ClientResponse, limit: int) -> bytes:
    """The body, or b"" (which reads as not JSON) when it is longer than `limit` bytes."""
    declared = resp.content_length
    if declared is None or declared <= limit:
        chunks: list[bytes] = []
        size = 0
        async for chunk in resp.content.iter_chunked(64 * 1024):
            size += len(chunk)
            if size > limit:
                break
            chunks.append(chunk)
        else:
            return b"".join(chunks)
    log.warning(
        "MusicAPI %s %s: the body is over %d bytes; not read",
        resp.method,
        resp.url.path,
        limit,
    )
    return b""


class _NotJson:
    """Sentinel for a body that did not parse, distinct from a JSON ``null``."""


_NOT_JSON: Any = _NotJson()


# json.loads runs on the event loop in one go, holding the GIL (a thread would not help):
# MusicAPI's answers are a few KiB, and this much parses within a few milliseconds. A larger
# body is treated like one that is not JSON; so is one nested too deep to parse.
JSON_PARSE_MAX_BYTES = 256 * 1024


def _decode(raw: bytes) -> Any:
    if not raw.strip() or len(raw) > JSON_PARSE_MAX_BYTES:
        return _NOT_JSON
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return _NOT_JSON
