"""What a verified webhook says about its task, in the same `TaskStatus` shape as a poll.

MusicAPI wraps the poll body as `{code, data, message, task_id, platform, event}` (REFERENCE
§5), so the family's own poll parser reads it. Producer and Nuro envelopes are only partly
confirmed (OPEN-QUESTIONS F.32): when a body does not parse, the caller polls at once instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.musicapi.errors import MalformedResponseError
from bot.musicapi.models import TaskStatus
from bot.musicapi.polls import nuro_status, producer_status, riffusion_status, studio_status
from bot.musicapi.transport import PollParser

COMPLETED = "song.completed"
FAILED = "song.failed"
STREAMING = "song.streaming"

PARSERS: dict[str, PollParser] = {
    "sonic": TaskStatus.from_poll,
    "producer": producer_status,
    "nuro": nuro_status,
    "riffusion": riffusion_status,
    "studio": studio_status,
}


def event_name(payload: Mapping[str, Any], header: str | None) -> str:
    """The body's `event` (it is signed) before the `X-Webhook-Event` header (it is not)."""
    named = payload.get("event")
    if isinstance(named, str) and named.strip():
        return named.strip()
    return (header or "").strip() or "unknown"


def status_of(
    family: str, task_id: str, event: str, payload: Mapping[str, Any]
) -> TaskStatus | None:
    """The task's state as the webhook tells it, or None when the body can't be read."""
    parser = PARSERS.get(family)
    if parser is None:
        return None
    try:
        status = parser(task_id, 200, dict(payload), None)
    except (MalformedResponseError, TypeError, ValueError, KeyError):
        status = None
    if event == FAILED and (status is None or status.state != "failed"):
        message = payload.get("message")
        text = message if isinstance(message, str) and message.strip() else ""
        if not text or text.lower() == "success":
            text = "MusicAPI reported a failure."
        return TaskStatus.failed(task_id, "failed", text)
    return status
