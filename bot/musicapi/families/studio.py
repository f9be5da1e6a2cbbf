"""The Studio family (REFERENCE §8, *Unavailable* in the newest docs): its routes, poll path and
poll/webhook parser. Kept so old jobs and experiments still work; expect 410s.

Studio polls as a nested ``data.status`` with a *string* ``code`` (REFERENCE §2.4). Like every
family it also gets the shared answers of ``control_status`` (202 / ``not_ready`` / a ``type``
failure body): the docs do not rule them out and a gateway in front of all of them may send them
(REFERENCE §2.4).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.states import Family

from ..errors import MalformedResponseError
from ..models import Clip, TaskStatus, control_status, parse_progress
from .common import empty_success, failed_status, unexpected
from .spec import FamilySpec

__all__ = ["SPEC", "studio_status"]

_STUDIO_STATES = {"NOT_START": "pending", "IN_PROGRESS": "running", "SUCCESS": "succeeded"}
# Studio's failure value is not documented; these are the spellings worth recognising.
_STUDIO_FAILED = ("FAILED", "FAILURE", "FAIL", "ERROR", "CANCELLED", "CANCELED")


def studio_status(
    task_id: str, http_status: int, body: Any, request_id: str | None = None
) -> TaskStatus:
    """``GET /studio/task/{id}`` → ``{code: "success", message, data: {status, progress:
    "100%", fail_reason, data: {songs: [...]}}}``. Songs carry ``id`` and a ``tags`` list;
    audio is ``audio_url`` or the SDK's ``song_path``."""
    control = control_status(task_id, http_status, body, request_id)
    if control is not None:
        return control
    data = body.get("data")
    if not isinstance(data, Mapping):
        raise unexpected(http_status, request_id)
    raw_status = data.get("status")
    upper = raw_status.strip().upper() if isinstance(raw_status, str) else ""
    progress = parse_progress(data.get("progress"))
    extra: dict[str, Any] = {"request_id": request_id, "progress": progress}
    reason = data.get("fail_reason")
    if upper in _STUDIO_FAILED or (upper != "SUCCESS" and isinstance(reason, str) and reason):
        return failed_status(task_id, data, "The Studio task failed.", **extra)
    state = _STUDIO_STATES.get(upper)
    if state is None:
        raise unexpected(http_status, request_id)
    inner = data.get("data")
    songs = inner.get("songs") if isinstance(inner, Mapping) else None
    clips = tuple(_studio_clip(song, state) for song in songs or [])
    if state == "succeeded" and not any(c.is_usable for c in clips):
        return empty_success(task_id, request_id, clips=clips, progress=progress)
    return TaskStatus(task_id=task_id, state=state, clips=clips, **extra)


def _studio_clip(song: Any, state: str) -> Clip:
    if not isinstance(song, Mapping):
        raise MalformedResponseError("A song in the MusicAPI response is not an object.")
    tags = song.get("tags")
    return Clip.from_api(
        {
            **song,
            "clip_id": song.get("id") or song.get("clip_id"),
            "state": state,
            "tags": ", ".join(str(t) for t in tags) if isinstance(tags, list) else tags,
            "audio_url": song.get("audio_url") or song.get("song_path"),
            "image_url": song.get("image_url") or song.get("image_path"),
        }
    )


SPEC = FamilySpec(
    family=Family.STUDIO,
    poll_path="/studio/task",
    create_paths=("/studio/create",),
    parse_result=studio_status,
    parse_webhook=studio_status,
    retired=True,
)
