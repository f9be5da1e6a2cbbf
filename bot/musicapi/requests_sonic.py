"""Request bodies for the Sonic endpoints other than ``/sonic/create`` (REFERENCE §3.2–§3.15).

Each builder checks what the docs make required and raises ``ValueError`` naming the field.
Like ``SonicCreate``, model-dependent length limits are left to the server (OPEN-QUESTIONS B.13).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .request_checks import (
    body_of,
    check_bool,
    check_choice,
    check_max_len,
    check_number,
    check_window,
    is_missing,
    require,
)

__all__ = [
    "MAX_VOX_WINDOW_S",
    "Mashup",
    "PersonaCreate",
    "ReplaceSection",
    "Sample",
    "UploadCover",
    "UploadExtend",
]

MAX_VOX_WINDOW_S = 30.0  # REFERENCE §3.7
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
    ``styles``, ``vox_audio_id`` and its window); the legacy names ``continue_clip_id`` and
    ``description`` are accepted here and sent under the newest names (§3.3, OPEN-QUESTIONS E.23).
    """

    name: str
    clip_id: str | None = None
    describe: str | None = None
    styles: str | None = None
    vox_audio_id: str | None = None
    vocal_start_s: float | None = None
    vocal_end_s: float | None = None
    # Legacy [docs-old] names.
    continue_clip_id: str | None = None
    description: str | None = None

    def validate(self) -> None:
        if is_missing(self.name):
            raise ValueError("name is required for a persona")
        if len(self.name) >= 80:
            raise ValueError("name must be shorter than 80 characters")
        if is_missing(self.clip_id) and is_missing(self.continue_clip_id):
            raise ValueError("clip_id (or the legacy continue_clip_id) is required for a persona")
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
