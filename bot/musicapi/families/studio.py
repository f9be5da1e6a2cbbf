"""The Studio family (docs/musicapi/protocol.md §8, *Unavailable* in the newest docs): request
builder, routes, poll path and parsers. Kept so old jobs and experiments still work; expect 410s.

Studio polls as a nested ``data.status`` with a *string* ``code`` (docs/musicapi/protocol.md §2.4).
Like every family it also gets the shared answers of ``control_status`` (202 / ``not_ready`` / a
``type`` failure body): the docs do not rule them out and a gateway in front of all of them may send
them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.states import Family

from ..errors import MalformedResponseError
from ..models import Clip, TaskStatus, control_status, parse_progress
from ..request_checks import (
    body_of,
    check_bool,
    check_choice,
    check_number,
    is_missing,
    require,
)
from ..transport import Transport
from .common import empty_success, failed_status, unexpected
from .spec import FamilySpec

__all__ = [
    "SPEC",
    "STUDIO_CONFIG_MODES",
    "STUDIO_LYRICS_TYPES",
    "STUDIO_MODEL_TYPES",
    "StudioCreate",
    "StudioEndpoints",
    "studio_status",
]

STUDIO_LYRICS_TYPES = ("user", "generate", "instrumental")
STUDIO_MODEL_TYPES = ("studio130-v1.5", "studio32-v1.5")
STUDIO_CONFIG_MODES = ("regular", "precede", "continuation")
_STUDIO_UNIT_FIELDS = (
    "song_section_start",
    "song_section_end",
    "lyrics_placement_start",
    "lyrics_placement_end",
    "prompt_strength",
    "clarity_strength",
    "lyrics_strength",
    "generation_quality",
)


@dataclass(slots=True)
class StudioCreate:
    """The four documented uses: ``lyrics_type`` ``generate`` (description), ``user`` (custom
    lyrics), ``instrumental``, and extend via ``config={"mode": "continuation" | "precede",
    "source": {"song_id": ...}}`` (that mapping is inferred from the config enum)."""

    lyrics_type: str
    prompt: str | None = None
    lyrics: str | None = None
    bypass_prompt_optimization: bool | None = None
    seed: int | None = None  # -1 = random
    song_section_start: float | None = None
    song_section_end: float | None = None
    lyrics_placement_start: float | None = None
    lyrics_placement_end: float | None = None
    prompt_strength: float | None = None
    clarity_strength: float | None = None
    lyrics_strength: float | None = None
    generation_quality: float | None = None
    negative_prompt: str | None = None
    model_type: str | None = None
    config: dict[str, Any] = field(default_factory=lambda: {"mode": "regular"})

    def validate(self) -> None:
        check_choice("lyrics_type", self.lyrics_type, STUDIO_LYRICS_TYPES)
        require(self, ("lyrics_type",), "for studio")
        if self.lyrics_type == "user":
            require(self, ("lyrics",), "when lyrics_type is user")
        if self.lyrics_type == "generate":
            require(self, ("prompt",), "when lyrics_type is generate")
        check_bool("bypass_prompt_optimization", self.bypass_prompt_optimization)
        check_number("seed", self.seed, -1, integer=True)
        for name in _STUDIO_UNIT_FIELDS:
            check_number(name, getattr(self, name), 0, 1)
        for start, end in (
            ("song_section_start", "song_section_end"),
            ("lyrics_placement_start", "lyrics_placement_end"),
        ):
            low, high = getattr(self, start), getattr(self, end)
            if low is not None and high is not None and high <= low:
                raise ValueError(f"{end} must be greater than {start}")
        check_choice("model_type", self.model_type, STUDIO_MODEL_TYPES)
        if not isinstance(self.config, dict):
            raise ValueError("config must be an object")
        mode = self.config.get("mode")
        check_choice("config.mode", mode, STUDIO_CONFIG_MODES)
        if mode in ("precede", "continuation"):
            source = self.config.get("source")
            if not isinstance(source, dict) or is_missing(source.get("song_id")):
                raise ValueError(f"config.source.song_id is required when config.mode is {mode}")

    def to_body(self) -> dict[str, Any]:
        self.validate()
        return body_of(self)


_STUDIO_STATES = {"NOT_START": "pending", "IN_PROGRESS": "running", "SUCCESS": "succeeded"}
# Studio's failure value is not documented; these are the spellings worth recognising.
_STUDIO_FAILED = ("FAILED", "FAILURE", "FAIL", "ERROR", "CANCELLED", "CANCELED")


class StudioEndpoints(Transport):
    """The Studio routes, mixed into ``MusicAPIClient``."""

    async def studio_create(self, req: StudioCreate) -> str:
        """``POST /studio/create`` → ``{code, data: "<task_id>"}``."""
        return await self._submit("/studio/create", req.to_body(), key="data")

    async def get_studio_task(self, task_id: str) -> TaskStatus:
        return await self._poll_with(SPEC.poll_path, task_id, SPEC.parse_result)


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
