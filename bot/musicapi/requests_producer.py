"""Request bodies for ``POST /producer/create`` (REFERENCE §7), one class for every task type,
like ``SonicCreate``.

Legacy field names (``starts``, ``ends``, ``lyrics_text``, ``cover_strength``) are accepted and
sent under the newest names. Retired task types raise ``GoneError`` locally: the server answers
them with 410, so sending one would only cost a round trip.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .errors import GoneError
from .request_checks import (
    check_bool,
    check_choice,
    check_max_len,
    check_number,
    is_missing,
)

__all__ = [
    "PRODUCER_COVER_TYPES",
    "PRODUCER_DOWNLOAD_FORMATS",
    "PRODUCER_EXTEND_TYPES",
    "PRODUCER_REPLACE_TYPES",
    "PRODUCER_TASK_TYPES",
    "RETIRED_PRODUCER_TASK_TYPES",
    "ProducerCreate",
]

PRODUCER_EXTEND_TYPES = ("extend_music", "extend_upload_music")
PRODUCER_REPLACE_TYPES = ("replace_music", "replace_upload_music")
# Re-enabled 2026-05-20 per the docs; the SDK still calls it 410 (OPEN-QUESTIONS E.24), so a 410
# from the server surfaces as GoneError rather than being prevented here.
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


def _merge(name: str, value: Any, legacy_name: str, legacy: Any) -> Any:
    if value is not None and legacy is not None and value != legacy:
        raise ValueError(f"{name} and its legacy alias {legacy_name} differ; send one")
    return value if value is not None else legacy


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
    # Legacy aliases.
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
