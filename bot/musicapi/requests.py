"""Request bodies for ``POST /sonic/create`` with the per-task-type required fields checked.

Checking locally turns a guaranteed 400 into a ``ValueError`` before any network call (and
before credits are reserved). Length limits per model live with the command validation, not
here: they depend on the chosen model and the docs disagree about them (OPEN-QUESTIONS B.13).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from .requests_sonic import Generation

__all__ = ["BOOLEAN_FIELDS", "REQUIRED_FIELDS", "SONIC_TASK_TYPES", "SonicCreate"]

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

# REFERENCE §3.1 "Required fields by task type". create_music's prompt-or-description rule
# depends on custom_mode and is checked separately.
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
