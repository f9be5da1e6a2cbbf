"""What a verified webhook says about its task, in the same `TaskStatus` shape as a poll.

MusicAPI wraps the poll body as `{code, data, message, task_id, platform, event}`
(docs/musicapi/protocol.md §5), so the family's webhook parser
(`families.get(family).parse_webhook`) reads it. Producer and Nuro envelopes are only partly
confirmed (docs/musicapi/open-questions.md F.32): when a body does not parse, the caller polls at
once instead.

Only the signed body is believed. MusicAPI also sends the event name in an `X-Webhook-Event`
header, but headers are outside the signature: a captured body sent again with another header
would otherwise turn a finished song into a failure, or slip past the replay check. So the
header is never read. Where a body names no event (an envelope that only has the header), the
event is derived from the body's own data; a body that says nothing readable makes the
scheduler poll, which is the most an unsigned hint could ever be allowed to do.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from bot.musicapi import families
from bot.musicapi.errors import MalformedResponseError
from bot.musicapi.models import TaskStatus

COMPLETED = "song.completed"
FAILED = "song.failed"
STREAMING = "song.streaming"

# An event name longer than this is not one of MusicAPI's: it is cut to keep the replay key small.
MAX_EVENT_NAME = 64

# What a body without an `event` is called, by the state its data shows.
_EVENT_OF_STATE = {"succeeded": COMPLETED, "failed": FAILED, "streaming": STREAMING}


def _parse(family: str, task_id: str, payload: Mapping[str, Any]) -> TaskStatus | None:
    spec = families.find(family)
    if spec is None:
        return None
    try:
        return spec.parse_webhook(task_id, 200, dict(payload), None)
    except (MalformedResponseError, TypeError, ValueError, KeyError):
        return None


def named_event(payload: Mapping[str, Any]) -> str | None:
    """The `event` the signed body names, if it names one."""
    named = payload.get("event")
    if isinstance(named, str) and named.strip():
        return named.strip()[:MAX_EVENT_NAME]
    return None


def event_name(family: str, task_id: str, payload: Mapping[str, Any]) -> str:
    """The event a verified delivery is about, from signed data only; with the task id it is
    the replay key. A body without a name is called after the state its data shows
    (`song.completed` for a success, so the same success named or not is one event), and a body
    whose data can't be read either after a digest of the body itself: sent again it is the
    same event, and a different body is not mistaken for it."""
    named = named_event(payload)
    if named is not None:
        return named
    status = _parse(family, task_id, payload)
    if status is not None:
        return _EVENT_OF_STATE.get(status.state, f"song.{status.state}")
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return "unreadable:" + hashlib.sha256(canonical.encode()).hexdigest()[:32]


def status_of(
    family: str, task_id: str, event: str, payload: Mapping[str, Any]
) -> TaskStatus | None:
    """The task's state as the webhook tells it, or None when the body can't be read (the
    caller then polls).

    A parsed status is what the body's data says, and the event name never overrides it.
    Only a body whose data can't be read but whose signed `event` is `song.failed` is taken
    as a failure; a body whose name and data disagree (named failed, data says otherwise) is
    read as unreadable, so upstream is asked rather than either half believed."""
    status = _parse(family, task_id, payload)
    if status is not None:
        if event == FAILED and status.state != "failed":
            return None
        return status
    if event == FAILED and named_event(payload) == FAILED:
        message = payload.get("message")
        text = message if isinstance(message, str) and message.strip() else ""
        if not text or text.lower() == "success":
            text = "MusicAPI reported a failure."
        return TaskStatus.failed(task_id, "failed", text)
    return None
