"""The Producer family (REFERENCE §7): its routes, poll path and poll/webhook parser.

Producer reports an upper-case top-level ``status`` (REFERENCE §2.4). Like every family it also
gets the shared answers of ``control_status`` (202 / ``not_ready`` / a ``type`` failure body):
the docs do not rule them out and a gateway in front of all of them may send them (REFERENCE
§2.4).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from bot.states import Family

from ..models import TASK_STATES, Clip, TaskStatus, control_status
from .common import empty_success, failed_status, unexpected
from .spec import FamilySpec

__all__ = ["SPEC", "producer_status"]

_PRODUCER_STATES = {
    "PENDING": "pending",
    "RUNNING": "running",
    "SUCCESS": "succeeded",
    "FAILED": "failed",
}


def producer_status(
    task_id: str, http_status: int, body: Any, request_id: str | None = None
) -> TaskStatus:
    """``GET /producer/task/{id}`` → ``{code, status, message, data: [clip]}``.

    ``data`` entries are songs, or bare ``{audio_url}`` objects for a download task (the SDK's
    reading, OPEN-QUESTIONS E.25). Every URL lands in ``files``; entries with a ``clip_id`` are
    also clips. A clip without a valid ``state`` takes the task's.
    """
    control = control_status(task_id, http_status, body, request_id)
    if control is not None:
        return control
    data = body.get("data")
    if data is not None and not isinstance(data, list):
        raise unexpected(http_status, request_id)
    raw_status = body.get("status")
    state = (
        _PRODUCER_STATES.get(raw_status.strip().upper()) if isinstance(raw_status, str) else None
    )
    if raw_status is not None and state is None:
        raise unexpected(http_status, request_id)
    clips: list[Clip] = []
    files: list[str] = []
    for item in data or []:
        if not isinstance(item, Mapping):
            raise unexpected(http_status, request_id)
        for key in ("audio_url", "wav_url"):
            url = item.get(key)
            if isinstance(url, str) and url.strip() and url not in files:
                files.append(url)
        if "clip_id" in item:
            clip = Clip.from_api(item)
            own = item.get("state")
            if state is not None and not (isinstance(own, str) and own.lower() in TASK_STATES):
                clip = replace(clip, state=state)
            clips.append(clip)
    extra: dict[str, Any] = {"request_id": request_id, "files": tuple(files)}
    if state is None:
        # No top-level status: fall back to the clips' own states, like Sonic.
        return replace(TaskStatus.from_clips(task_id, tuple(clips), request_id), **extra)
    if state == "failed":
        return failed_status(
            task_id, body, "The Producer task failed.", clips=tuple(clips), **extra
        )
    if state == "succeeded" and not files:
        return empty_success(task_id, request_id, clips=tuple(clips), files=())
    return TaskStatus(task_id=task_id, state=state, clips=tuple(clips), **extra)


SPEC = FamilySpec(
    family=Family.PRODUCER,
    poll_path="/producer/task",
    create_paths=("/producer/create", "/producer/upload", "/producer/download"),
    parse_result=producer_status,
    parse_webhook=producer_status,
)
