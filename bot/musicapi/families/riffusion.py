"""The Riffusion family (docs/musicapi/protocol.md §6, *Deprecated* in the newest docs): request
builder, routes, poll path and parsers. Kept so old jobs and experiments still work; expect 410s.

Riffusion polls as a Sonic-like clip list that fills up one song at a time
(docs/musicapi/protocol.md §2.4).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from bot.states import Family

from ..errors import MalformedResponseError
from ..models import TaskStatus
from ..request_checks import (
    body_of,
    check_bool,
    check_choice,
    check_max_len,
    check_number,
    is_missing,
    require,
)
from ..transport import Transport
from .spec import FamilySpec

__all__ = [
    "RIFFUSION_MODELS",
    "RIFFUSION_TASK_TYPES",
    "SPEC",
    "RiffusionCreate",
    "RiffusionEndpoints",
    "riffusion_status",
]


RIFFUSION_MODELS = ("FUZZ-1.1 Pro", "FUZZ-1.0 Pro", "FUZZ-1.1", "FUZZ-1.0")
RIFFUSION_TASK_TYPES = (
    "create_music",
    "extend_music",
    "cover_music",
    "replace_music",
    "swap_music_sound",
    "swap_music_vocals",
    "extend_upload_music",
    "cover_upload_music",
    "replace_upload_music",
    "swap_upload_music_sound",
    "swap_upload_music_vocals",
)


@dataclass(slots=True)
class RiffusionCreate:
    task_type: str = "create_music"
    custom_mode: bool | None = None
    mv: str | None = None
    lyrics: str | None = None
    prompt: str | None = None
    sound: str | None = None
    title: str | None = None
    make_instrumental: bool | None = None
    vocal_variation: float | None = None
    continue_clip_id: str | None = None
    continue_at: float | None = None
    replace_start_time: float | None = None
    replace_end_time: float | None = None

    def validate(self) -> None:
        kind = self.task_type
        check_choice("task_type", kind, RIFFUSION_TASK_TYPES)
        check_bool("custom_mode", self.custom_mode)
        check_bool("make_instrumental", self.make_instrumental)
        check_choice("mv", self.mv, RIFFUSION_MODELS)
        check_max_len("lyrics", self.lyrics, 3000)
        check_max_len("prompt", self.prompt, 200)
        check_max_len("sound", self.sound, 200)
        check_number("vocal_variation", self.vocal_variation, 0, 1)
        context = f"when task_type is {kind}"
        if kind == "create_music":
            require(self, ("custom_mode",), context)
            if self.custom_mode:
                if is_missing(self.lyrics) and not self.make_instrumental:
                    raise ValueError("lyrics is required when custom_mode is true")
            elif is_missing(self.prompt):
                raise ValueError("prompt is required when custom_mode is false")
            return
        require(self, ("continue_clip_id",), context)
        if kind.startswith("extend"):
            require(self, ("continue_at",), context)
            check_number("continue_at", self.continue_at, 0, low_exclusive=True)
        if kind.startswith("replace"):
            require(self, ("replace_start_time", "replace_end_time"), context)
            check_number("replace_start_time", self.replace_start_time, 0)
            check_number("replace_end_time", self.replace_end_time, 0)
            assert self.replace_end_time is not None and self.replace_start_time is not None
            if self.replace_end_time <= self.replace_start_time:
                raise ValueError("replace_end_time must be greater than replace_start_time")

    def to_body(self) -> dict[str, Any]:
        self.validate()
        return body_of(self)


class RiffusionEndpoints(Transport):
    """The Riffusion routes, mixed into ``MusicAPIClient``."""

    async def riffusion_create(self, req: RiffusionCreate) -> str:
        return await self._submit("/riffusion/create", req.to_body())

    async def riffusion_upload(self, url: str) -> str:
        """``POST /riffusion/upload`` (sync) → ``clip_id`` for the ``*_upload_*`` task types."""
        if is_missing(url):
            raise ValueError("url must not be empty")

        def clip_id(data: Any) -> str:
            value = data.get("clip_id") if isinstance(data, Mapping) else None
            if not isinstance(value, str) or not value.strip():
                raise MalformedResponseError("MusicAPI sent an upload result without 'clip_id'.")
            return value

        return await self._call(
            "tools", "POST", "/riffusion/upload", {"url": url}, clip_id, upload=True
        )

    async def get_riffusion_task(self, task_id: str) -> TaskStatus:
        """Two songs per task: not done while only one is present."""
        return await self._poll_with(SPEC.poll_path, task_id, SPEC.parse_result)


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


SPEC = FamilySpec(
    family=Family.RIFFUSION,
    poll_path="/riffusion/task",
    create_paths=("/riffusion/create",),
    parse_result=riffusion_status,
    parse_webhook=riffusion_status,
    retired=True,
)
