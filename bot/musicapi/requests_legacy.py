"""Request bodies for the two families the newest docs retire: Riffusion (*Deprecated*, §6)
and Studio (*Unavailable*, §8). Kept so old jobs and experiments still work; expect 410s."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .request_checks import (
    body_of,
    check_bool,
    check_choice,
    check_max_len,
    check_number,
    is_missing,
    require,
)

__all__ = [
    "RIFFUSION_MODELS",
    "RIFFUSION_TASK_TYPES",
    "STUDIO_CONFIG_MODES",
    "STUDIO_LYRICS_TYPES",
    "STUDIO_MODEL_TYPES",
    "RiffusionCreate",
    "StudioCreate",
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
