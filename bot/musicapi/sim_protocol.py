"""What the simulated MusicAPI says and how its tasks progress, without any HTTP.

Kept apart from the server in ``simulator.py`` so the protocol rules (verbatim messages, costs,
validation, the per-clip timeline) read as one page and can be tested on their own.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .requests import BOOLEAN_FIELDS, REQUIRED_FIELDS, SONIC_TASK_TYPES

ACCEPTED_MODELS = frozenset(
    {
        "sonic-v3-5",
        "sonic-v4",
        "sonic-v4-5",
        "sonic-v4-5-plus",
        "sonic-v5",
        "sonic-v5-5",
        "sonic-v6",
        "sonic-v6-wild",
        "sonic-v6-mini",
    }
)
LEGACY_MODELS = frozenset({"sonic-v3-5", "sonic-v4"})

# REFERENCE §12, newest [site]/[docs-new] column.
TASK_COSTS: dict[str, float] = {
    "create_music": 15,
    "extend_music": 15,
    "cover_music": 15,
    "persona_music": 15,
    "extend_upload_music": 15,
    "cover_upload_music": 15,
    "concat_music": 2,
    "remaster": 10,
    "add_vocals": 10,
    "add_instrumental": 10,
}

# Verbatim texts from REFERENCE §10.1.
MSG_AUTH_MISSING = "Authorization header is missing."
MSG_AUTH_FORMAT = "Invalid authorization format."
MSG_CREDITS = (
    "The remaining credits are not enough. You can buy more one-time credit packs or subscribe."
)
MSG_MV = "The 'mv' field is invalid. The model should be 'sonic-v3-5' or 'sonic-v4'."
MSG_TASK_NOT_FOUND = "task not found."
MSG_MISSING_TASK_ID = "missing task id."
MSG_DESCRIPTION_REQUIRED = "description is required."
MSG_DESCRIPTION_LENGTH = "The description character length should be less than 120."
MSG_ARTIST = "The song description contains artist names: 'sim artist' which is not allowed."
MSG_LYRICS_INAPPROPRIATE = "The lyrics contain inappropriate content: 'bad words'."
MSG_TIMEOUT = "Task failed due to timeout. Credits were previously refunded."
MSG_SERVER = "Internal Server Error."
# Not documented verbatim (the SDK example says "<human readable reason>").
MSG_TASK_FAILED = "Song generation failed upstream. Credits were refunded."
MSG_WRONG_KEY = "Invalid API key."

DEFAULT_TEXTS = {
    400: "Bad request.",
    401: MSG_AUTH_MISSING,
    402: MSG_CREDITS,
    403: MSG_CREDITS,
    404: MSG_TASK_NOT_FOUND,
    410: "This task type is no longer supported.",
    429: "Too many requests.",
    500: MSG_SERVER,
    502: "Bad gateway.",
    503: "Service unavailable.",
    504: MSG_TIMEOUT,
}

MAGIC_FAIL = "[sim:fail]"
MAGIC_HALF_FAIL = "[sim:half-fail]"
MAGIC_MODERATE = "[sim:moderate]"
MAGIC_LYRICS_MODERATE = "[sim:lyrics-moderate]"
MAGIC_SLOW = "[sim:slow]"
MAGIC_FIELDS = ("prompt", "gpt_description_prompt", "title", "tags", "description")

# Fractions of the generation time at which clip ``i`` enters each state. The first fifth is
# the 202 "not ready" phase; everything succeeds (or fails) at exactly 1.0 so that
# ``completed_at`` is deterministic for benchmarks.
NOT_READY_UNTIL = 0.2
_RUNNING_AT = (0.35, 0.45)
_STREAMING_AT = (0.6, 0.75)


@dataclass
class SimClip:
    clip_id: str
    index: int
    title: str
    tags: str
    lyrics: str
    mv: str
    created_at: str
    gpt_description_prompt: str | None
    negative_tags: str | None
    style_weight: float | None
    weirdness_constraint: float | None
    frequency: int
    colour: tuple[int, int, int]
    will_fail: bool = False


@dataclass
class SimTask:
    task_id: str
    task_type: str
    body: dict[str, Any]
    created_at: float
    generation_time: float
    cost: float
    clips: list[SimClip]
    fail_message: str | None = None
    refunded: bool = False
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)

    @property
    def completed_at(self) -> float:
        return self.created_at + self.generation_time

    def progress(self, now: float | None = None) -> float:
        now = self.clock() if now is None else now
        if self.generation_time <= 0:
            return 1.0
        return (now - self.created_at) / self.generation_time

    def clip_state(self, clip: SimClip, progress: float) -> str:
        if progress >= 1.0:
            failed = clip.will_fail or self.fail_message is not None
            return "failed" if failed else "succeeded"
        slot = min(clip.index, 1)
        if progress >= _STREAMING_AT[slot]:
            return "streaming"
        if progress >= _RUNNING_AT[slot]:
            return "running"
        return "pending"

    @property
    def state(self) -> str:
        """Overall state now: not_ready, pending, running, streaming, succeeded or failed."""
        progress = self.progress()
        if progress >= 1.0:
            return "failed" if self.fail_message is not None else "succeeded"
        if progress < NOT_READY_UNTIL:
            return "not_ready"
        states = {self.clip_state(c, progress) for c in self.clips}
        for candidate in ("streaming", "running"):
            if candidate in states:
                return candidate
        return "pending"


def text_of(body: dict[str, Any]) -> str:
    return " ".join(str(body[k]) for k in MAGIC_FIELDS if isinstance(body.get(k), str))


def validate_create(body: dict[str, Any], limits: str = "newest") -> tuple[int, str] | None:
    """``(status, message)`` for the first problem with a create body, or ``None``."""
    task_type = body.get("task_type", "create_music")
    if task_type not in SONIC_TASK_TYPES:
        return 400, "The 'task_type' field is invalid."
    for name in BOOLEAN_FIELDS:
        value = body.get(name)
        if value is not None and not isinstance(value, bool):
            return 400, f"The '{name}' field should be boolean."
    for name in REQUIRED_FIELDS[task_type]:
        value = body.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            # Pattern of the documented persona_id message, which it reproduces exactly.
            return 400, f"The '{name}' field is required when task_type = {task_type}."
    mv = body.get("mv")
    if mv is not None and (not isinstance(mv, str) or mv not in ACCEPTED_MODELS):
        return 400, MSG_MV  # verbatim, stale model list included (OPEN-QUESTIONS B.13)
    if task_type == "create_music":
        if body.get("custom_mode"):
            if not body.get("prompt") and not body.get("make_instrumental"):
                return 400, "The 'prompt' field is required when custom_mode = true."
        elif not body.get("gpt_description_prompt"):
            return (
                400,
                "The 'gpt_description_prompt' field is required when custom_mode = false.",
            )
    for name in ("prompt", "gpt_description_prompt", "title", "tags"):
        value = body.get(name)
        if value is not None and not isinstance(value, str):
            return 400, f"The '{name}' field should be a string."
    return check_lengths(body, mv, limits)


def check_lengths(body: dict[str, Any], mv: Any, limits: str) -> tuple[int, str] | None:
    """Length limits. ``legacy`` is the error table (all exclusive, verbatim texts);
    ``newest`` is the newest instructions (per-model, inclusive maxima)."""
    legacy = limits == "legacy" or mv in LEGACY_MODELS
    strict_table = limits == "legacy"
    prompt = body.get("prompt") or ""
    gpt = body.get("gpt_description_prompt") or ""
    title = body.get("title") or ""
    tags = body.get("tags") or ""
    if legacy and len(prompt) >= 3000:
        return 400, "The prompt character length should be less than 3000."
    if not legacy and len(prompt) > 5000:
        return 400, "The prompt character length should be less than or equal to 5000."
    if strict_table and len(gpt) >= 200:
        return 400, "The 'gpt_description_prompt' character length should be less than 200."
    if not strict_table and len(gpt) > 400:
        return 400, (
            "The 'gpt_description_prompt' character length should be less than or equal to 400."
        )
    if legacy and len(tags) >= 200:
        return 400, "The tags character length should be less than 200."
    if not legacy and len(tags) > 1000:
        return 400, "The tags character length should be less than or equal to 1000."
    if len(title) >= 80:
        return 400, "The title character length should be less than 80."
    return None
