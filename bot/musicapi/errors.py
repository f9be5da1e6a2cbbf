"""One error hierarchy for every MusicAPI failure.

Callers match on the class (credits vs moderation vs outage) and may show ``str(error)`` to a
member: it is the upstream text in plain words and never contains the API key (the client
redacts it before an error is built).
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any

__all__ = [
    "REFUND_IMPLYING_TYPES",
    "AuthError",
    "GoneError",
    "InsufficientCreditsError",
    "MalformedResponseError",
    "ModerationError",
    "MusicAPIError",
    "NotFoundError",
    "NotReadyError",
    "RateLimitedError",
    "RequestTimeoutError",
    "ServerError",
    "StepFailedError",
    "SubmitOutcomeUnknown",
    "UnknownOutcome",
    "UpstreamValidationError",
    "error_for_status",
    "extract_error_text",
    "parse_offending",
]


# Nuro error types after which the server refunds the task (docs/musicapi/protocol.md §10.2, §2.7),
# provided a deduction happened and the task was not already processed.
REFUND_IMPLYING_TYPES = frozenset({"api_error", "timeout", "bad_request", "forbidden"})


class MusicAPIError(Exception):
    """Base class. ``retryable`` says whether the same request may succeed if sent again.

    ``error_type`` is the body's machine-readable ``type`` when it sent one (the Nuro catalogue's
    ``api_error`` / ``unauthorized`` / ``forbidden`` / ``not_found`` / ``bad_request``).
    """

    retryable: bool = False
    error_type: str | None = None

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        request_id: str | None = None,
        retryable: bool | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.request_id = request_id
        if retryable is not None:
            # Instance attribute shadows the class default only when a caller overrides it.
            self.retryable = retryable

    def __str__(self) -> str:
        return self.message

    @property
    def refund_implied(self) -> bool:
        """True when the error's ``type`` is one the Nuro docs say triggers a refund."""
        return self.error_type in REFUND_IMPLYING_TYPES

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(message={self.message!r}, status={self.status!r}, "
            f"request_id={self.request_id!r})"
        )


class AuthError(MusicAPIError):
    """401: the key is missing, malformed or wrong."""


class InsufficientCreditsError(MusicAPIError):
    """402, or 403 about credits / subscription: the account cannot pay for the task."""


class ModerationError(MusicAPIError):
    """403 content refusal; ``offending`` is the quoted text the server objected to."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        request_id: str | None = None,
        retryable: bool | None = None,
        offending: str | None = None,
    ) -> None:
        super().__init__(message, status=status, request_id=request_id, retryable=retryable)
        self.offending = offending


class UpstreamValidationError(MusicAPIError):
    """400/422: the server rejected a field."""


class NotFoundError(MusicAPIError):
    """404, or 400 "task not found." / "missing task id." (the docs and SDK disagree)."""


class GoneError(MusicAPIError):
    """410: a retired endpoint, model or task type."""


class RateLimitedError(MusicAPIError):
    """429; ``retry_after`` is the server's hint in seconds when it sent one."""

    retryable = True

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        request_id: str | None = None,
        retryable: bool | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, status=status, request_id=request_id, retryable=retryable)
        self.retry_after = retry_after


class ServerError(MusicAPIError):
    """5xx from MusicAPI or a proxy in front of it."""

    retryable = True


class RequestTimeoutError(MusicAPIError):
    """Our own request timed out or the connection failed; nothing was read back."""

    retryable = True


class MalformedResponseError(MusicAPIError):
    """The body was not JSON, or not the shape this endpoint documents."""


class UnknownOutcome(StrEnum):
    """Why a submit's outcome is unknown; the member is told which."""

    # Timed out, the connection dropped, or a gateway gave up waiting (its 502/504 page).
    NO_ANSWER = "no answer"
    # MusicAPI answered 2xx, but the body could not be read or carried no task id.
    UNREADABLE = "unreadable answer"


class SubmitOutcomeUnknown(MusicAPIError):
    """A task-creating request left, but no answer says whether MusicAPI made the task: it
    timed out, the connection dropped, a gateway answered 5xx, or a 2xx carried no readable
    task id (``reason`` says which of the two kinds). The task may exist and be billed, so the
    request is never sent again: sending it twice could make (and bill) two."""

    def __init__(
        self,
        message: str,
        *,
        reason: UnknownOutcome = UnknownOutcome.NO_ANSWER,
        status: int | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message, status=status, request_id=request_id)
        self.reason = reason


class NotReadyError(MusicAPIError):
    """A sync endpoint answered 202: the result is still being prepared (``/sonic/midi``).

    Retryable, but by the caller, later: the client never busy-waits on it, because nothing
    says how long preparation takes and a command handler should not hold a request open.
    """

    retryable = True


class StepFailedError(MusicAPIError):
    """A one-shot endpoint (upload-extend, upload-cover, sample) failed at ``step`` before any
    task was started. The message is the step's own error text, passed through."""

    def __init__(
        self,
        message: str,
        *,
        step: str,
        status: int | None = None,
        request_id: str | None = None,
        uploaded_clip_id: str | None = None,
    ) -> None:
        super().__init__(message, status=status, request_id=request_id)
        self.step = step
        # Set when the upload succeeded and a later step failed: the clip exists (and the
        # upload was billed), so the caller can retry the edit with the *_upload_music types.
        self.uploaded_clip_id = uploaded_clip_id


# Keys in the order docs/musicapi/protocol.md §10.1 prescribes; "description" is the Nuro
# catalogue's field and only consulted when none of the documented ones is present.
_TEXT_KEYS = ("message", "error", "detail", "description")
# A plain-text body longer than this is almost certainly an HTML error page, not a message.
_MAX_PLAIN_TEXT = 300
_QUOTED = re.compile(r"'([^']*)'")
_NOT_FOUND_TEXTS = ("task not found", "missing task id")
# Nuro 403s (docs/musicapi/protocol.md §10.2) that are throttling, not content refusals: waiting
# helps.
_THROTTLE_TEXTS = ("qps limit", "queue is full")


def extract_error_text(body: Any, status: int | None) -> str:
    """Best human-readable text from any of the documented error envelopes."""
    if isinstance(body, dict):
        for key in _TEXT_KEYS:
            value = body.get(key)
            if isinstance(value, str) and value.strip():
                return value.strip()
    elif isinstance(body, str):
        text = body.strip()
        if text and len(text) <= _MAX_PLAIN_TEXT and not text.startswith("<"):
            return text
    if status is None:
        return "MusicAPI request failed."
    return f"MusicAPI request failed (HTTP {status})."


def parse_offending(text: str) -> str | None:
    """The text the server quoted as the problem (its 'specificError' placeholder)."""
    match = _QUOTED.search(text)
    return match.group(1) if match else None


def _mentions_credits(text: str) -> bool:
    lowered = text.lower()
    # "API usage limit exceeded" is Nuro's account quota: as final as running out of credits.
    return "credit" in lowered or "subscription" in lowered or "usage limit" in lowered


def error_for_status(
    status: int,
    text: str,
    *,
    request_id: str | None = None,
    retry_after: float | None = None,
    error_type: str | None = None,
) -> MusicAPIError:
    """Map an HTTP status and its (already redacted) text to the right error class;
    ``error_type`` is the body's ``type`` field, kept on the error."""
    error = _classify(status, text, request_id, retry_after)
    if error_type:
        error.error_type = error_type
    return error


def _classify(
    status: int, text: str, request_id: str | None, retry_after: float | None
) -> MusicAPIError:
    common: dict[str, Any] = {"status": status, "request_id": request_id}
    lowered = text.lower()
    if status == 401:
        return AuthError(text, **common)
    if status == 402:
        return InsufficientCreditsError(text, **common)
    if status == 403:
        if _mentions_credits(text):
            return InsufficientCreditsError(text, **common)
        if any(marker in lowered for marker in _THROTTLE_TEXTS):
            return RateLimitedError(text, retry_after=retry_after, **common)
        return ModerationError(text, offending=parse_offending(text), **common)
    if status in (400, 422):
        if any(marker in lowered for marker in _NOT_FOUND_TEXTS):
            return NotFoundError(text, **common)
        return UpstreamValidationError(text, **common)
    if status == 404:
        return NotFoundError(text, **common)
    if status == 410:
        return GoneError(text, **common)
    if status == 429:
        # Some rebranded sister docs use 429 for "out of credits"
        # (docs/musicapi/open-questions.md B.12); waiting will not fix that, so it must not be
        # retried like a real rate limit.
        if _mentions_credits(text):
            return InsufficientCreditsError(text, **common)
        return RateLimitedError(text, retry_after=retry_after, **common)
    if status >= 500:
        return ServerError(text, **common)
    return MusicAPIError(text, **common)
