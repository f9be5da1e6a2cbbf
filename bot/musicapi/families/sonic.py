"""The Sonic family (docs/musicapi/protocol.md §3): request builders, task routes, poll path and
parsers.

Every Sonic task polls on ``/sonic/task``: songs, stems (one clip per stem), auto_concat pairs,
and create-voice (``TaskStatus.persona``, no clips). The synchronous utilities (persona, BPM,
VOX, WAV, MIDI, aligned lyrics, upsample-tags, upload) answer at once and live in
``sonic_tools.py``.

Request bodies: ``SonicCreate`` for ``POST /sonic/create`` with the per-task-type required
fields checked, and one builder for each other Sonic endpoint
(docs/musicapi/protocol.md §3.2–§3.15). Checking locally turns a guaranteed 400 into a
``ValueError`` naming the field before any network call (and before credits are reserved). Length
limits per model live with the command validation, not here: they depend on the chosen model and the
docs disagree about them (docs/musicapi/open-questions.md B.13).

Upstream refusals (upload rejections, moderation, credits) arrive as the usual
``MusicAPIError`` subclasses with the server's text passed through.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from bot.states import Family

from ..errors import MalformedResponseError
from ..models import LyricsDraft, TaskStatus
from ..request_checks import (
    body_of,
    check_bool,
    check_choice,
    check_max_len,
    check_number,
    check_window,
    is_missing,
    require,
)
from ..results import StepsResult
from ..transport import Transport
from .spec import FamilySpec

__all__ = [
    "BOOLEAN_FIELDS",
    "MAX_VOX_WINDOW_S",
    "REQUIRED_FIELDS",
    "SONIC_TASK_TYPES",
    "SPEC",
    "Generation",
    "Mashup",
    "PersonaCreate",
    "ReplaceSection",
    "Sample",
    "SonicCreate",
    "SonicEndpoints",
    "UploadCover",
    "UploadExtend",
    "clip_body",
]

MAX_VOX_WINDOW_S = 30.0  # docs/musicapi/protocol.md §3.7
_VOCAL_GENDERS = ("f", "m")
_UNIT_FIELDS = ("style_weight", "weirdness_constraint", "audio_weight")


@dataclass(slots=True, kw_only=True)
class Generation:
    """The generation fields of §3.1 shared by upload-extend/cover, sample and mashup."""

    custom_mode: bool | None = None
    mv: str | None = None
    prompt: str | None = None
    gpt_description_prompt: str | None = None
    title: str | None = None
    tags: str | None = None
    negative_tags: str | None = None
    make_instrumental: bool | None = None
    auto_lyrics: bool | None = None
    vocal_gender: str | None = None
    style_weight: float | None = None
    weirdness_constraint: float | None = None
    audio_weight: float | None = None
    webhook_url: str | None = None
    # A secret: kept out of repr so a logged request never leaks it.
    webhook_secret: str | None = field(default=None, repr=False)

    def _check_generation(self, context: str) -> None:
        for name in ("custom_mode", "make_instrumental", "auto_lyrics"):
            check_bool(name, getattr(self, name))
        require(self, ("custom_mode", "mv"), context)
        check_choice("vocal_gender", self.vocal_gender, _VOCAL_GENDERS)
        for name in _UNIT_FIELDS:
            check_number(name, getattr(self, name), 0, 1)

    def to_body(self) -> dict[str, Any]:
        """The JSON body, without unset fields; raises ``ValueError`` first if invalid."""
        self.validate()
        return body_of(self)

    def validate(self) -> None:  # pragma: no cover - every subclass overrides it
        raise NotImplementedError


@dataclass(slots=True, kw_only=True)
class UploadExtend(Generation):
    """``POST /sonic/upload-extend``: upload ``url`` and extend it in one call."""

    url: str
    continue_at: float | None = None
    auto_concat: bool | None = None

    def validate(self) -> None:
        require(self, ("url",), "for upload-extend")
        self._check_generation("for upload-extend")
        check_bool("auto_concat", self.auto_concat)
        check_number("continue_at", self.continue_at, 0, low_exclusive=True)


@dataclass(slots=True, kw_only=True)
class UploadCover(Generation):
    """``POST /sonic/upload-cover``: upload ``url`` and cover it in one call."""

    url: str
    auto_concat: bool | None = None

    def validate(self) -> None:
        require(self, ("url",), "for upload-cover")
        self._check_generation("for upload-cover")
        check_bool("auto_concat", self.auto_concat)


@dataclass(slots=True, kw_only=True)
class Sample(Generation):
    """``POST /sonic/sample``: a new song around ``[chop_sample_start_s, chop_sample_end_s]``
    of exactly one of ``url`` (uploaded first) or ``sample_clip_id``."""

    chop_sample_start_s: float
    chop_sample_end_s: float
    url: str | None = None
    sample_clip_id: str | None = None

    def validate(self) -> None:
        if is_missing(self.url) == is_missing(self.sample_clip_id):
            raise ValueError("exactly one of url or sample_clip_id is required for sample")
        self._check_generation("for sample")
        # make_instrumental is required here, unlike on /sonic/create (§3.4).
        require(
            self, ("make_instrumental", "chop_sample_start_s", "chop_sample_end_s"), "for sample"
        )
        check_window(
            "chop_sample_start_s",
            self.chop_sample_start_s,
            "chop_sample_end_s",
            self.chop_sample_end_s,
        )


@dataclass(slots=True, kw_only=True)
class Mashup(Generation):
    """``POST /sonic/mashup``: blend exactly two clips."""

    mashup_clip_ids: tuple[str, ...] | list[str]

    def validate(self) -> None:
        ids = self.mashup_clip_ids
        if not isinstance(ids, tuple | list) or len(ids) != 2 or any(is_missing(c) for c in ids):
            raise ValueError("mashup_clip_ids must be exactly 2 clip ids")
        self._check_generation("for mashup")


@dataclass(slots=True, kw_only=True)
class ReplaceSection:
    """``POST /sonic/replace-section``: regenerate ``[infill_start_s, infill_end_s]``."""

    clip_id: str
    mv: str
    infill_start_s: float
    infill_end_s: float
    prompt: str | None = None
    infill_lyrics: str | None = None
    title: str | None = None
    tags: str | None = None
    negative_tags: str | None = None
    style_weight: float | None = None
    weirdness_constraint: float | None = None
    vocal_gender: str | None = None
    auto_concat: bool | None = None
    webhook_url: str | None = None
    webhook_secret: str | None = field(default=None, repr=False)

    def validate(self) -> None:
        require(self, ("clip_id", "mv", "infill_start_s", "infill_end_s"), "for replace-section")
        if self.mv == "sonic-v3-5":
            # §3.13: sonic-v4 or newer. Only the one older model is named, so only it is refused
            # here; newer names keep working without a release.
            raise ValueError("mv must be sonic-v4 or newer for replace-section")
        check_window("infill_start_s", self.infill_start_s, "infill_end_s", self.infill_end_s)
        check_choice("vocal_gender", self.vocal_gender, _VOCAL_GENDERS)
        check_bool("auto_concat", self.auto_concat)
        for name in ("style_weight", "weirdness_constraint"):
            check_number(name, getattr(self, name), 0, 1)

    def to_body(self) -> dict[str, Any]:
        self.validate()
        return body_of(self)


@dataclass(slots=True, kw_only=True)
class PersonaCreate:
    """``POST /sonic/persona`` (sync). The newest body is ``name`` + ``clip_id`` (+ ``describe``,
    ``styles``, ``vox_audio_id`` and its window); the older names ``continue_clip_id`` and
    ``description`` are accepted here and sent under the newest names (§3.3,
    docs/musicapi/open-questions.md E.23).
    """

    name: str
    clip_id: str | None = None
    describe: str | None = None
    styles: str | None = None
    vox_audio_id: str | None = None
    vocal_start_s: float | None = None
    vocal_end_s: float | None = None
    # Older [docs-old] names.
    continue_clip_id: str | None = None
    description: str | None = None

    def validate(self) -> None:
        if is_missing(self.name):
            raise ValueError("name is required for a persona")
        if len(self.name) >= 80:
            raise ValueError("name must be shorter than 80 characters")
        if is_missing(self.clip_id) and is_missing(self.continue_clip_id):
            raise ValueError("clip_id (or the older continue_clip_id) is required for a persona")
        if self.clip_id and self.continue_clip_id and self.clip_id != self.continue_clip_id:
            raise ValueError("clip_id and continue_clip_id name different clips")
        if self.describe and self.description and self.describe != self.description:
            raise ValueError("describe and description differ; send one")
        check_max_len("styles", self.styles, 2000)
        if self.description is not None and len(self.description) >= 200:
            raise ValueError("description must be shorter than 200 characters")
        check_window("vocal_start_s", self.vocal_start_s, "vocal_end_s", self.vocal_end_s)

    def to_body(self) -> dict[str, Any]:
        self.validate()
        body: dict[str, Any] = {
            "name": self.name,
            "clip_id": self.clip_id or self.continue_clip_id,
            "describe": self.describe or self.description,
            "styles": self.styles,
            "vox_audio_id": self.vox_audio_id,
            "vocal_start_s": self.vocal_start_s,
            "vocal_end_s": self.vocal_end_s,
        }
        return {key: value for key, value in body.items() if value is not None}


SONIC_TASK_TYPES: tuple[str, ...] = (
    "create_music",
    "extend_music",
    "cover_music",
    "concat_music",
    "persona_music",
    "extend_upload_music",
    "cover_upload_music",
    "remaster",
    "add_instrumental",
    "add_vocals",
)

# docs/musicapi/protocol.md §3.1 "Required fields by task type". create_music's
# prompt-or-description rule depends on custom_mode and is checked separately.
REQUIRED_FIELDS: dict[str, tuple[str, ...]] = {
    "create_music": ("custom_mode", "mv"),
    "extend_music": ("continue_clip_id", "continue_at", "custom_mode", "mv"),
    "cover_music": ("continue_clip_id", "custom_mode", "mv"),
    "concat_music": ("continue_clip_id",),
    "persona_music": ("persona_id", "custom_mode", "mv"),
    "extend_upload_music": ("continue_clip_id", "continue_at", "custom_mode", "mv"),
    "cover_upload_music": ("continue_clip_id", "custom_mode", "mv"),
    "remaster": ("continue_clip_id", "mv"),
    "add_vocals": (
        "continue_clip_id",
        "prompt",
        "mv",
        "overpainting_start_s",
        "overpainting_end_s",
    ),
    "add_instrumental": ("continue_clip_id", "mv", "overpainting_start_s", "overpainting_end_s"),
}

# The server type-checks these ("The 'custom_mode' field should be boolean."), so a truthy
# string like "false" must be caught here rather than silently meaning True.
BOOLEAN_FIELDS = ("custom_mode", "make_instrumental", "auto_lyrics")


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


@dataclass(slots=True, kw_only=True)
class SonicCreate(Generation):
    """``POST /sonic/create``: the shared generation fields plus the task-type specific ones."""

    task_type: str = "create_music"
    continue_clip_id: str | None = None
    continue_at: float | None = None
    persona_id: str | None = None
    variation_category: str | None = None
    overpainting_start_s: float | None = None
    overpainting_end_s: float | None = None
    duration: int | None = None

    def validate(self) -> None:
        """Raise ``ValueError`` naming the first missing or mistyped field."""
        if self.task_type not in SONIC_TASK_TYPES:
            raise ValueError(
                f"task_type must be one of {', '.join(SONIC_TASK_TYPES)}; got {self.task_type!r}"
            )
        for name in BOOLEAN_FIELDS:
            value = getattr(self, name)
            if value is not None and not isinstance(value, bool):
                raise ValueError(f"{name} must be a boolean")
        for name in REQUIRED_FIELDS[self.task_type]:
            if _is_missing(getattr(self, name)):
                raise ValueError(f"{name} is required when task_type is {self.task_type}")
        if self.task_type == "create_music":
            if self.custom_mode:
                # Custom mode sings the given lyrics (or, with auto_lyrics, treats prompt as a
                # short description). An instrumental needs no lyrics at all.
                if _is_missing(self.prompt) and not self.make_instrumental:
                    raise ValueError("prompt is required when custom_mode is true")
            elif _is_missing(self.gpt_description_prompt):
                raise ValueError("gpt_description_prompt is required when custom_mode is false")

    def to_body(self) -> dict[str, Any]:
        """The JSON body, without unset fields. ``task_type`` is always sent explicitly."""
        self.validate()
        body: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value is not None:
                body[f.name] = value
        return body


log = logging.getLogger("bot.musicapi")


def clip_body(clip_id: str) -> dict[str, Any]:
    if is_missing(clip_id):
        raise ValueError("clip_id must not be empty")
    return {"clip_id": clip_id}


class SonicEndpoints(Transport):
    """The Sonic task routes and lyrics, mixed into ``MusicAPIClient``; the sync utilities are in
    ``sonic_tools.py``."""

    async def create_music(self, req: SonicCreate) -> str:
        """Submit a Sonic task; returns its ``task_id``."""
        body = req.to_body()  # raises ValueError before anything is sent
        return await self._submit("/sonic/create", body)

    async def get_task(self, task_id: str) -> TaskStatus:
        """One poll of a Sonic task. Raises ``NotFoundError`` for unknown ids (400 or 404).

        Every Sonic task polls here: songs, stems (one clip per stem), auto_concat pairs, and
        create-voice (``TaskStatus.persona``, no clips)."""
        return await self._poll_with(SPEC.poll_path, task_id, SPEC.parse_result)

    async def make_lyrics(self, description: str) -> list[LyricsDraft]:
        return await self._call(
            "lyrics",
            "POST",
            "/sonic/lyrics",
            {"description": description},
            LyricsDraft.list_from_api,
        )

    async def _steps(self, path: str, body: dict[str, Any]) -> StepsResult:
        status, data, request_id = await self._request(
            "create", "POST", path, body, call_timeout=self._upload_timeout
        )
        return StepsResult.from_api(data, status=status, request_id=request_id)

    async def upload_extend(self, req: UploadExtend) -> StepsResult:
        """``POST /sonic/upload-extend``: upload + extend in one call (§3.2). Raises
        ``StepFailedError`` (with the step's own error text) when no task was started."""
        return await self._steps("/sonic/upload-extend", req.to_body())

    async def upload_cover(self, req: UploadCover) -> StepsResult:
        """``POST /sonic/upload-cover``: upload + cover in one call (§3.2)."""
        return await self._steps("/sonic/upload-cover", req.to_body())

    async def sample(self, req: Sample) -> StepsResult:
        """``POST /sonic/sample`` (§3.4): steps ``upload`` (only with ``url``) and ``sample``."""
        return await self._steps("/sonic/sample", req.to_body())

    async def mashup(self, req: Mashup) -> str:
        """``POST /sonic/mashup``: blend exactly two clips (§3.5)."""
        return await self._submit("/sonic/mashup", req.to_body())

    async def stems_basic(self, clip_id: str) -> str:
        """``POST /sonic/stems/basic``: vocals + instrumental; each stem is one clip of the
        finished task, named by its ``title`` (§3.12)."""
        return await self._submit("/sonic/stems/basic", clip_body(clip_id))

    async def stems_full(self, clip_id: str) -> str:
        """``POST /sonic/stems/full``: one clip per instrument stem (§3.12)."""
        return await self._submit("/sonic/stems/full", clip_body(clip_id))

    async def replace_section(self, req: ReplaceSection) -> str:
        """``POST /sonic/replace-section`` (§3.13). With ``auto_concat`` the finished task's
        ``clips`` are the stitched full songs and ``parts`` the replaced sections."""
        return await self._submit("/sonic/replace-section", req.to_body())

    async def create_voice(
        self,
        audio_url: str,
        *,
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
    ) -> str:
        """``POST /sonic/create-voice`` (§3.15): clone a voice from a solo recording (> 10 s).
        The finished task has no clips; its ``TaskStatus.persona`` holds the persona id."""
        if is_missing(audio_url):
            raise ValueError("audio_url must not be empty")
        body: dict[str, Any] = {"audio_url": audio_url}
        if webhook_url is not None:
            body["webhook_url"] = webhook_url
        if webhook_secret is not None:
            body["webhook_secret"] = webhook_secret
        status, data, request_id = await self._request(
            "create", "POST", "/sonic/create-voice", body, call_timeout=self._upload_timeout
        )
        warning = data.get("warning") if isinstance(data, Mapping) else None
        if isinstance(warning, str) and warning.strip():
            # Optional and undocumented in wording ([sdk]); worth a line for whoever debugs it.
            log.info("MusicAPI create-voice warning (request id %s): %s", request_id, warning)
        task_id = data.get("task_id") if isinstance(data, Mapping) else None
        if not isinstance(task_id, str) or not task_id.strip():
            raise MalformedResponseError(
                "MusicAPI accepted the request but sent no task id.",
                status=status,
                request_id=request_id,
            )
        return task_id


SPEC = FamilySpec(
    family=Family.SONIC,
    poll_path="/sonic/task",
    create_paths=(
        "/sonic/create",
        "/sonic/upload-extend",
        "/sonic/upload-cover",
        "/sonic/sample",
        "/sonic/mashup",
        "/sonic/stems/basic",
        "/sonic/stems/full",
        "/sonic/replace-section",
        "/sonic/create-voice",
    ),
    parse_result=TaskStatus.from_poll,
    parse_webhook=TaskStatus.from_poll,
)
