"""Poll results of the non-Sonic families, each turned into the same ``TaskStatus``.

REFERENCE §2.4: Producer reports an upper-case top-level ``status``, Nuro a flat object with
``progress``, Riffusion a Sonic-like clip list that fills up one song at a time, and Studio a
nested ``data.status`` with a *string* ``code``. Every family also gets the shared answers of
``control_status`` (202 / ``not_ready`` / a ``type`` failure body), because the docs do not
rule them out and a gateway in front of all of them may send them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from .errors import MalformedResponseError
from .models import (
    TASK_STATES,
    Clip,
    TaskFailure,
    TaskStatus,
    control_status,
    failure_text,
    parse_progress,
)

__all__ = [
    "TASK_FAMILIES",
    "nuro_status",
    "producer_status",
    "riffusion_status",
    "studio_status",
]

# What the job scheduler stores next to a task id, for ``MusicAPIClient.poll``.
TASK_FAMILIES = ("sonic", "producer", "nuro", "riffusion", "studio")

_PRODUCER_STATES = {
    "PENDING": "pending",
    "RUNNING": "running",
    "SUCCESS": "succeeded",
    "FAILED": "failed",
}
_STUDIO_STATES = {"NOT_START": "pending", "IN_PROGRESS": "running", "SUCCESS": "succeeded"}
# Studio's failure value is not documented; these are the spellings worth recognising.
_STUDIO_FAILED = ("FAILED", "FAILURE", "FAIL", "ERROR", "CANCELLED", "CANCELED")
_NURO_STATES = ("pending", "running", "succeeded", "failed")
_EMPTY = "MusicAPI reported success but sent no audio."


def _unexpected(http_status: int, request_id: str | None) -> MalformedResponseError:
    return MalformedResponseError(
        "MusicAPI sent an unexpected task status.", status=http_status, request_id=request_id
    )


def _empty_success(task_id: str, request_id: str | None, **extra: Any) -> TaskStatus:
    # Success with nothing to deliver would strand a job as "done" with no song; calling it a
    # failure releases the member's credits instead.
    return TaskStatus(
        task_id=task_id,
        state="failed",
        failure=TaskFailure(kind="empty_result", message=_EMPTY),
        request_id=request_id,
        **extra,
    )


def _failed(task_id: str, body: Mapping[str, Any], default: str, **extra: Any) -> TaskStatus:
    kind = body.get("type")
    return TaskStatus(
        task_id=task_id,
        state="failed",
        failure=TaskFailure(
            kind=kind if isinstance(kind, str) and kind else "failed",
            message=failure_text(body) or default,
        ),
        **extra,
    )


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
        raise _unexpected(http_status, request_id)
    raw_status = body.get("status")
    state = (
        _PRODUCER_STATES.get(raw_status.strip().upper()) if isinstance(raw_status, str) else None
    )
    if raw_status is not None and state is None:
        raise _unexpected(http_status, request_id)
    clips: list[Clip] = []
    files: list[str] = []
    for item in data or []:
        if not isinstance(item, Mapping):
            raise _unexpected(http_status, request_id)
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
        return _failed(task_id, body, "The Producer task failed.", clips=tuple(clips), **extra)
    if state == "succeeded" and not files:
        return _empty_success(task_id, request_id, clips=tuple(clips), files=())
    return TaskStatus(task_id=task_id, state=state, clips=tuple(clips), **extra)


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
        raise _unexpected(http_status, request_id)
    progress = parse_progress(body.get("progress"))
    if state == "succeeded":
        progress = 100
    extra: dict[str, Any] = {"request_id": request_id, "progress": progress}
    if state == "failed":
        return _failed(task_id, body, "The Nuro task failed.", **extra)
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
        return _empty_success(task_id, request_id, progress=progress)
    return TaskStatus(task_id=task_id, state=state, clips=(clip,), **extra)


def riffusion_status(
    task_id: str, http_status: int, body: Any, request_id: str | None = None
) -> TaskStatus:
    """``GET /riffusion/task/{id}`` → ``{code, data: [clip], message}``, two songs per task:
    while only one is present the task is not done, whatever that one's state."""
    status = TaskStatus.from_poll(task_id, http_status, body, request_id)
    if status.done and status.state != "failed" and len(status.clips) == 1:
        return replace(status, state="streaming" if status.usable_clips else "running")
    if status.state == "failed" and len(status.clips) == 1 and status.failure is not None:
        if status.failure.kind == "clips_failed":
            return replace(status, state="running", failure=None)  # the second may still work
    return status


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
        raise _unexpected(http_status, request_id)
    raw_status = data.get("status")
    upper = raw_status.strip().upper() if isinstance(raw_status, str) else ""
    progress = parse_progress(data.get("progress"))
    extra: dict[str, Any] = {"request_id": request_id, "progress": progress}
    reason = data.get("fail_reason")
    if upper in _STUDIO_FAILED or (upper != "SUCCESS" and isinstance(reason, str) and reason):
        return _failed(task_id, data, "The Studio task failed.", **extra)
    state = _STUDIO_STATES.get(upper)
    if state is None:
        raise _unexpected(http_status, request_id)
    inner = data.get("data")
    songs = inner.get("songs") if isinstance(inner, Mapping) else None
    clips = tuple(_studio_clip(song, state) for song in songs or [])
    if state == "succeeded" and not any(c.is_usable for c in clips):
        return _empty_success(task_id, request_id, clips=clips, progress=progress)
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
