"""What the simulated MusicAPI says and how its tasks progress, without any HTTP.

Kept apart from the server in ``server.py`` so the protocol rules (verbatim messages, costs,
validation, the per-clip timeline) read as one page and can be tested on their own.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .tables import SONIC_BOOLEANS, SONIC_REQUIRED, SONIC_TASK_TYPES

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
OLDER_MODELS = frozenset({"sonic-v3-5", "sonic-v4"})
# [sister]: accepted by sample and mashup only, refused by /sonic/create.
SAMPLE_MASHUP_MODELS = ACCEPTED_MODELS | {"sonic-v4-5-all"}

# docs/musicapi/protocol.md §12, newest [site]/[docs-new] column.
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

# The other endpoints, same column (newest [site]/[docs-new] figure), then [sister] where
# musicapi prices nothing: persona 1, midi 1, mashup 14, replace-section 10. Unpriced anywhere:
# sample (15, like the bot's table) and Producer cover (12, like extend/replace). One-shot
# upload-extend/-cover bill their two steps separately: upload 2, then the edit 15 (§1: "upload
# 2 + extend 15 implied"); only the edit task is refundable.
ENDPOINT_COSTS: dict[str, float] = {
    "upload": 2,
    "sample": 15,
    "mashup": 14,
    "replace_section": 10,
    "stems_basic": 15,
    "stems_full": 75,
    "create_voice": 4,
    "persona": 1,
    "bpm": 1,
    "vox": 1,
    "wav": 2,  # "2 (guide) / 1 (docs)": the guide is the newer of the two
    "midi": 1,
    "aligned_lyrics": 1,  # first call per clip only; repeats are cached and free
    "upsample_tags": 1,
    "producer_create_music": 10,
    "producer_extend": 12,
    "producer_replace": 12,
    "producer_cover": 12,
    "producer_upload": 2,
    "producer_download": 2,
    "nuro": 10,
    "riffusion": 12,
    "riffusion_upload": 0,  # not stated
    "studio": 15,  # studio130-v1.5 costs double (§8 "double credits")
}
# docs/musicapi/open-questions.md D.20: whether auto_concat adds the 2-credit concat charge. Off by
# default; the ``auto_concat_charges`` knob turns it on.
AUTO_CONCAT_COST = 2.0

# Verbatim texts from docs/musicapi/protocol.md §10.1.
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
# Persona (§3.3 texts of the older body, verbatim).
MSG_PERSONA_OLD_BODY_REQUIRED = "name and continue_clip_id are required fields."
MSG_PERSONA_NAME_LENGTH = "The name character length should be less than 80."
MSG_PERSONA_DESCRIPTION_LENGTH = "The description character length should be less than 200."
# Upload rejections (§3.14): the first verbatim, the second a verbatim prefix.
MSG_CATALOG_MATCH = "This audio matches an existing recording in our catalog."
MSG_URL_NOT_ACCESSIBLE = (
    "Audio URL is not accessible. Make sure it is a public http(s) link to an audio file."
)
# Our own wording, in the style of the documented ones.
MSG_CLIP_NOT_READY = "The clip is not finished yet. Try again once it has succeeded."
MSG_PERSONA_UNKNOWN = "The 'persona_id' field is invalid. No persona with this id exists."
MSG_MIDI_NOT_READY = "The MIDI file is not ready yet. Please try again later."
MSG_VOX_WINDOW = "The vocal window should be at most 30 seconds."
MSG_PRODUCER_CONTENT = "At least one of 'sound' and 'lyrics' is required."
MSG_STUDIO_GONE = "Studio is unavailable."
MSG_RIFFUSION_GONE = "Riffusion is deprecated and no longer available."
MSG_NURO_GONE = "Nuro has been retired. Use sonic for vocal songs or producer for background music."
# Nuro's catalogue (§10.2): ``type`` + ``description``, verbatim.
NURO_AUTH = ("unauthorized", "Invalid signature")
NURO_USAGE_LIMIT = ("forbidden", "API usage limit exceeded")
NURO_QPS = ("forbidden", "API QPS limit exceeded")
NURO_QUEUE_FULL = ("forbidden", "Queue is full")
NURO_NOT_FOUND = ("not_found", "Task not found")
NURO_LANGUAGE = ("bad_request", "Input language not supported")
NURO_ALGORITHM = ("api_error", "Algorithm error")
NURO_SYSTEM = ("api_error", "API system error, please contact administrator")


def msg_required(name: str) -> str:
    return f"The '{name}' field is required."


def msg_clip_unknown(name: str) -> str:
    return f"The '{name}' field is invalid. No clip with this id exists."


def msg_upload_only(task_type: str) -> str:
    # The quoted phrase is what docs/musicapi/protocol.md §3.1 reports; the rest is ours.
    return f"'{task_type}' can only be used with music you uploaded yourself."


def msg_not_for_uploads(task_type: str) -> str:
    upload_type = task_type.replace("_music", "_upload_music")
    return f"'{task_type}' cannot be used with music you uploaded. Use '{upload_type}' instead."


def msg_too_old(task_type: str) -> str:
    return f"'{task_type}' only works on clips created within the last 24 hours."


def msg_between(name: str, low: float, high: float) -> str:
    return f"The '{name}' field should be between {low:g} and {high:g}."


def msg_window(start: str, end: str, seconds: float) -> str:
    return (
        f"The '{end}' field should be greater than '{start}', and both should lie within the "
        f"clip ({seconds:.2f} s)."
    )


def msg_within(name: str, seconds: float) -> str:
    return f"The '{name}' field should lie within the clip (0 to {seconds:.2f} s)."


def msg_continue_at(seconds: float) -> str:
    return (
        "The 'continue_at' field should be greater than 0 and less than the clip duration "
        f"({seconds:.2f} s)."
    )


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
# Upload refusals (§3.14), triggered by the URL.
MAGIC_CATALOG_MATCH = "[sim:catalog-match]"
MAGIC_UNREACHABLE = "[sim:unreachable]"
# Nuro submit refusals (§10.2).
MAGIC_QUEUE_FULL = "[sim:queue-full]"
MAGIC_LANGUAGE = "[sim:language]"
# Tasks made from a clip inherit these from the clip's own text (an uploaded clip's URL): a
# clip-only request such as stems has no text of its own to carry them.
INHERITED_MAGIC = (MAGIC_FAIL, MAGIC_SLOW)
MAGIC_FIELDS = (
    "prompt",
    "gpt_description_prompt",
    "title",
    "tags",
    "description",
    # Fields of the other endpoints and families.
    "lyrics",
    "sound",
    "instruction",
    "infill_lyrics",
    "url",
    "audio_url",
    "describe",
    "styles",
    "name",
    "negative_prompt",
)

# Fractions of the generation time at which clip ``i`` enters each state. The first fifth is
# the 202 "not ready" phase; everything succeeds (or fails) at exactly 1.0 so that
# ``completed_at`` is deterministic for benchmarks.
NOT_READY_UNTIL = 0.2
_RUNNING_AT = (0.35, 0.45)
_STREAMING_AT = (0.6, 0.75)
# When a song task first streams (its first clip): the moment of its song.streaming webhook.
STREAMING_FROM = _STREAMING_AT[0]


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
    # Audio length before any padding knob; 0 means "the simulator's default for its index".
    seconds: float = 0.0
    family: str = "sonic"  # sonic | producer | riffusion | studio | nuro
    uploaded: bool = False
    born: float = 0.0  # simulator clock at creation, for the 24 h rules
    # Fractions of the task's generation time: hidden before ``appears_at`` (Riffusion's second
    # song), final from ``finishes_at`` (an auto_concat part, before its full song exists).
    appears_at: float = 0.0
    finishes_at: float = 1.0
    magic: str = ""  # magic words passed on to tasks made from this clip


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
    family: str = "sonic"
    # Family- and kind-specific results: persona_id/name (create-voice), pair key and full songs
    # (auto_concat), file name (Producer download), failure type (Nuro).
    extra: dict[str, Any] = field(default_factory=dict)
    fulls: list[SimClip] = field(default_factory=list)

    @property
    def completed_at(self) -> float:
        return self.created_at + self.generation_time

    def progress(self, now: float | None = None) -> float:
        now = self.clock() if now is None else now
        if self.generation_time <= 0:
            return 1.0
        return (now - self.created_at) / self.generation_time

    def visible(self, clip: SimClip, progress: float) -> bool:
        return progress >= 1.0 or progress >= clip.appears_at

    def clip_state(self, clip: SimClip, progress: float) -> str:
        failed = clip.will_fail or self.fail_message is not None
        # A failing task keeps every clip in flight until the end, so no clip ever flips from
        # succeeded to failed.
        if progress >= 1.0 or (not failed and progress >= clip.finishes_at):
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
    for name in SONIC_BOOLEANS:
        value = body.get(name)
        if value is not None and not isinstance(value, bool):
            return 400, f"The '{name}' field should be boolean."
    for name in SONIC_REQUIRED[task_type]:
        value = body.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            # Pattern of the documented persona_id message, which it reproduces exactly.
            return 400, f"The '{name}' field is required when task_type = {task_type}."
    mv = body.get("mv")
    if mv is not None and (not isinstance(mv, str) or mv not in ACCEPTED_MODELS):
        # verbatim, stale model list included (docs/musicapi/open-questions.md B.13)
        return 400, MSG_MV
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
    """Length limits. ``error_table`` is the error table (all exclusive, verbatim texts);
    ``newest`` is the newest instructions (per-model, inclusive maxima)."""
    old_limits = limits == "error_table" or mv in OLDER_MODELS
    strict_table = limits == "error_table"
    prompt = body.get("prompt") or ""
    gpt = body.get("gpt_description_prompt") or ""
    title = body.get("title") or ""
    tags = body.get("tags") or ""
    if old_limits and len(prompt) >= 3000:
        return 400, "The prompt character length should be less than 3000."
    if not old_limits and len(prompt) > 5000:
        return 400, "The prompt character length should be less than or equal to 5000."
    if strict_table and len(gpt) >= 200:
        return 400, "The 'gpt_description_prompt' character length should be less than 200."
    if not strict_table and len(gpt) > 400:
        return 400, (
            "The 'gpt_description_prompt' character length should be less than or equal to 400."
        )
    if old_limits and len(tags) >= 200:
        return 400, "The tags character length should be less than 200."
    if not old_limits and len(tags) > 1000:
        return 400, "The tags character length should be less than or equal to 1000."
    if len(title) >= 80:
        return 400, "The title character length should be less than 80."
    return None
