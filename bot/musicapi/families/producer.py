"""The Producer family (docs/musicapi/protocol.md §7): request builder, routes, poll path and
parsers.

``ProducerCreate`` is one class for every task type, like ``SonicCreate``. Older field names
(``starts``, ``ends``, ``lyrics_text``, ``cover_strength``) are accepted and sent under the
newest names. Retired task types raise ``GoneError`` locally: the server answers them with 410,
so sending one would only cost a round trip.

Producer polls with an upper-case top-level ``status`` (docs/musicapi/protocol.md §2.4). Like every
family it also gets the shared answers of ``control_status`` (202 / ``not_ready`` / a ``type``
failure body): the docs do not rule them out and a gateway in front of all of them may send them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from bot.states import Family

from ..errors import GoneError
from ..models import TASK_STATES, Clip, TaskStatus, control_status
from ..request_checks import (
    check_bool,
    check_choice,
    check_max_len,
    check_number,
    is_missing,
)
from ..transport import Transport
from .common import empty_success, failed_status, unexpected
from .spec import FamilySpec

__all__ = [
    "PRODUCER_COVER_TYPES",
    "PRODUCER_DOWNLOAD_FORMATS",
    "PRODUCER_EXTEND_TYPES",
    "PRODUCER_REPLACE_TYPES",
    "PRODUCER_TASK_TYPES",
    "RETIRED_PRODUCER_TASK_TYPES",
    "SPEC",
    "ProducerCreate",
    "ProducerEndpoints",
    "producer_status",
]

PRODUCER_EXTEND_TYPES = ("extend_music", "extend_upload_music")
PRODUCER_REPLACE_TYPES = ("replace_music", "replace_upload_music")
# Re-enabled 2026-05-20 per the docs; the SDK still calls it 410
# (docs/musicapi/open-questions.md E.24), so a 410 from the server surfaces as GoneError rather than
# being prevented here.
PRODUCER_COVER_TYPES = ("cover_music", "cover_upload_music")
PRODUCER_TASK_TYPES = (
    "create_music",
    *PRODUCER_EXTEND_TYPES,
    *PRODUCER_REPLACE_TYPES,
    *PRODUCER_COVER_TYPES,
)
RETIRED_PRODUCER_TASK_TYPES = ("music_variation", "swap_music_vocals", "swap_music_sound")
PRODUCER_DOWNLOAD_FORMATS = ("mp3", "wav")
MAX_PRODUCER_LENGTH_S = 240


def _merge(name: str, value: Any, older_name: str, older: Any) -> Any:
    if value is not None and older is not None and value != older:
        raise ValueError(f"{name} and its older name {older_name} differ; send one")
    return value if value is not None else older


@dataclass(slots=True)
class ProducerCreate:
    task_type: str = "create_music"
    sound: str | None = None
    lyrics: str | None = None
    title: str | None = None
    mv: str | None = None  # default Lyria 3 Pro; FUZZ-* names are aliased server-side
    seed: int | str | None = None
    bpm: int | str | None = None
    length: int | None = None
    clip_id: str | None = None
    starts_at: float | None = None
    ends_at: float | None = None
    instruction: str | None = None
    strength: float | None = None
    extend_s: float | None = None  # [sdk] only; passed through
    make_instrumental: bool | None = None  # ignored since Lyria, still accepted
    # Older names of the fields above, sent under the newest ones.
    starts: float | None = None
    ends: float | None = None
    lyrics_text: str | None = None
    cover_strength: float | None = None
    webhook_url: str | None = None
    webhook_secret: str | None = field(default=None, repr=False)

    def validate(self) -> None:
        """Raise ``GoneError`` for a retired task type, ``ValueError`` naming the first bad
        field otherwise."""
        self._normalised()

    def _normalised(self) -> dict[str, Any]:
        kind = self.task_type
        if kind in RETIRED_PRODUCER_TASK_TYPES:
            raise GoneError(
                f"The Producer task type '{kind}' was retired (HTTP 410 Gone). Run create_music "
                "with a new seed, or replace_music on the time window, instead.",
                status=410,
            )
        check_choice("task_type", kind, PRODUCER_TASK_TYPES)
        body: dict[str, Any] = {
            "task_type": kind,
            "sound": self.sound,
            "lyrics": _merge("lyrics", self.lyrics, "lyrics_text", self.lyrics_text),
            "title": self.title,
            "mv": self.mv,
            "seed": self.seed,
            "bpm": self.bpm,
            "length": self.length,
            "clip_id": self.clip_id,
            "starts_at": _merge("starts_at", self.starts_at, "starts", self.starts),
            "ends_at": _merge("ends_at", self.ends_at, "ends", self.ends),
            "instruction": self.instruction,
            "strength": _merge("strength", self.strength, "cover_strength", self.cover_strength),
            "extend_s": self.extend_s,
            "make_instrumental": self.make_instrumental,
            "webhook_url": self.webhook_url,
            "webhook_secret": self.webhook_secret,
        }
        check_bool("make_instrumental", self.make_instrumental)
        check_max_len("title", self.title, 80)
        check_number("length", self.length, 1, MAX_PRODUCER_LENGTH_S, integer=True)
        if isinstance(self.seed, str) and not self.seed.strip().lstrip("-").isdigit():
            raise ValueError("seed must be an integer or a numeric string")
        if kind == "create_music":
            if is_missing(self.sound) and is_missing(body["lyrics"]):
                raise ValueError("sound or lyrics is required when task_type is create_music")
        else:
            if is_missing(self.clip_id):
                raise ValueError(f"clip_id is required when task_type is {kind}")
        if kind in PRODUCER_EXTEND_TYPES + PRODUCER_REPLACE_TYPES:
            if body["starts_at"] is None:
                raise ValueError(f"starts_at is required when task_type is {kind}")
            check_number("starts_at", body["starts_at"], 0)
        if kind in PRODUCER_REPLACE_TYPES:
            if body["ends_at"] is None:
                raise ValueError(f"ends_at is required when task_type is {kind}")
            check_number("ends_at", body["ends_at"], 0)
            if body["ends_at"] <= body["starts_at"]:
                raise ValueError("ends_at must be greater than starts_at")
        check_number("strength", body["strength"], 0, 1)
        return {key: value for key, value in body.items() if value is not None}

    def to_body(self) -> dict[str, Any]:
        """The JSON body under the newest field names, without unset fields."""
        return self._normalised()


_PRODUCER_STATES = {
    "PENDING": "pending",
    "RUNNING": "running",
    "SUCCESS": "succeeded",
    "FAILED": "failed",
}


def _webhook(body: dict[str, Any], url: str | None, secret: str | None) -> dict[str, Any]:
    if url is not None:
        body["webhook_url"] = url
    if secret is not None:
        body["webhook_secret"] = secret
    return body


def _expect_types(req: ProducerCreate, allowed: tuple[str, ...], method: str) -> None:
    if req.task_type not in allowed:
        raise ValueError(f"{method} needs task_type {' or '.join(allowed)}; got {req.task_type}")


class ProducerEndpoints(Transport):
    """The Producer routes, mixed into ``MusicAPIClient``."""

    async def producer_create(self, req: ProducerCreate) -> str:
        """``POST /producer/create`` for any Producer task type; poll family ``"producer"``."""
        return await self._submit("/producer/create", req.to_body())

    async def producer_extend(self, req: ProducerCreate) -> str:
        _expect_types(req, PRODUCER_EXTEND_TYPES, "producer_extend")
        return await self.producer_create(req)

    async def producer_replace(self, req: ProducerCreate) -> str:
        _expect_types(req, PRODUCER_REPLACE_TYPES, "producer_replace")
        return await self.producer_create(req)

    async def producer_cover(self, req: ProducerCreate) -> str:
        """Cover was re-enabled 2026-05-20 per the docs; a server that still retires it answers
        410, raised as ``GoneError`` (docs/musicapi/open-questions.md E.24)."""
        _expect_types(req, PRODUCER_COVER_TYPES, "producer_cover")
        return await self.producer_create(req)

    async def producer_upload(
        self,
        audio_url: str,
        *,
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
    ) -> str:
        """``POST /producer/upload`` (async): the finished task's clip is the upload, for the
        Producer ``*_upload_music`` task types."""
        if is_missing(audio_url):
            raise ValueError("audio_url must not be empty")
        body = _webhook({"audio_url": audio_url}, webhook_url, webhook_secret)
        return await self._submit("/producer/upload", body, upload=True)

    async def producer_download(
        self,
        clip_id: str,
        format: str = "mp3",  # the API's own field name
        *,
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
    ) -> str:
        """``POST /producer/download`` (async). The finished task's file URL is in
        ``TaskStatus.files`` (and also a clip when the server names the clip)."""
        if is_missing(clip_id):
            raise ValueError("clip_id must not be empty")
        check_choice("format", format, PRODUCER_DOWNLOAD_FORMATS)
        body = _webhook({"clip_id": clip_id, "format": format}, webhook_url, webhook_secret)
        return await self._submit("/producer/download", body)

    async def get_producer_task(self, task_id: str) -> TaskStatus:
        return await self._poll_with(SPEC.poll_path, task_id, SPEC.parse_result)


def producer_status(
    task_id: str, http_status: int, body: Any, request_id: str | None = None
) -> TaskStatus:
    """``GET /producer/task/{id}`` → ``{code, status, message, data: [clip]}``.

    ``data`` entries are songs, or bare ``{audio_url}`` objects for a download task (the SDK's
    reading, docs/musicapi/open-questions.md E.25). Every URL lands in ``files``; entries with a
    ``clip_id`` are also clips. A clip without a valid ``state`` takes the task's.
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
