"""The Nuro family (REFERENCE §9): its routes, poll path and poll/webhook parser.

Nuro polls as a flat object with ``progress`` (REFERENCE §2.4). Like every family it also gets
the shared answers of ``control_status`` (202 / ``not_ready`` / a ``type`` failure body): the
docs do not rule them out and a gateway in front of all of them may send them (REFERENCE §2.4).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from bot.states import Family

from ..models import Clip, TaskStatus, control_status, parse_progress
from .common import empty_success, failed_status, unexpected
from .spec import FamilySpec

__all__ = ["SPEC", "nuro_status"]

_NURO_STATES = ("pending", "running", "succeeded", "failed")


def nuro_status(
    task_id: str, http_status: int, body: Any, request_id: str | None = None
) -> TaskStatus:
    """``GET /nuro/task/{id}`` → flat ``{task_id, status, progress, audio_url, lyrics, ...}``.

    Nuro songs have no clip id, so the one song becomes a clip whose ``clip_id`` is the task id
    and whose ``tags`` are its genre and mood.
    """
    control = control_status(task_id, http_status, body, request_id)
    if control is not None:
        progress = body.get("progress") if isinstance(body, Mapping) else None
        return replace(control, progress=parse_progress(progress))
    raw_status = body.get("status")
    state = raw_status.strip().lower() if isinstance(raw_status, str) else None
    if state not in _NURO_STATES:
        raise unexpected(http_status, request_id)
    progress = parse_progress(body.get("progress"))
    if state == "succeeded":
        progress = 100
    extra: dict[str, Any] = {"request_id": request_id, "progress": progress}
    if state == "failed":
        return failed_status(task_id, body, "The Nuro task failed.", **extra)
    audio = body.get("audio_url")
    if not (isinstance(audio, str) and audio.strip()) and state != "succeeded":
        return TaskStatus(task_id=task_id, state=state, **extra)
    song_id = body.get("clip_id") or body.get("task_id") or task_id
    tags = ", ".join(
        str(body[key]) for key in ("genre", "mood") if isinstance(body.get(key), str | list)
    )
    clip = Clip.from_api(
        {**body, "clip_id": str(song_id), "state": state, "tags": tags, "mv": "nuro"}
    )
    if state == "succeeded" and not clip.is_usable:
        return empty_success(task_id, request_id, progress=progress)
    return TaskStatus(task_id=task_id, state=state, clips=(clip,), **extra)


SPEC = FamilySpec(
    family=Family.NURO,
    poll_path="/nuro/task",
    create_paths=("/nuro/create",),
    parse_result=nuro_status,
    parse_webhook=nuro_status,
)
