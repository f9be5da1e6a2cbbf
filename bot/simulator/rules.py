"""Request validation of the simulated endpoints other than ``/sonic/create``, without HTTP.

Written from docs/musicapi/protocol.md, deliberately not by calling the client's request builders:
the simulator stands in for the server, so it must catch a client that builds a wrong body. Each
function returns ``(status, message)`` for the first problem, or ``None``. Rules that need
the simulator's state (does this clip exist, is it uploaded, how long is it) live in the server.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any, TypeGuard

from .protocol import (
    ACCEPTED_MODELS,
    MAGIC_CATALOG_MATCH,
    MAGIC_LYRICS_MODERATE,
    MAGIC_MODERATE,
    MAGIC_UNREACHABLE,
    MSG_ARTIST,
    MSG_CATALOG_MATCH,
    MSG_LYRICS_INAPPROPRIATE,
    MSG_MV,
    MSG_PERSONA_DESCRIPTION_LENGTH,
    MSG_PERSONA_NAME_LENGTH,
    MSG_PERSONA_OLD_BODY_REQUIRED,
    MSG_PRODUCER_CONTENT,
    MSG_URL_NOT_ACCESSIBLE,
    SAMPLE_MASHUP_MODELS,
    SimClip,
    check_lengths,
    msg_between,
    msg_continue_at,
    msg_not_for_uploads,
    msg_required,
    msg_upload_only,
    msg_within,
)
from .tables import (
    NURO_BGM_GENRES,
    NURO_BGM_INSTRUMENTS,
    NURO_BGM_MOODS,
    NURO_BGM_THEMES,
    NURO_GENDERS,
    NURO_SEGMENT_NAMES,
    NURO_TIMBRES,
    NURO_VOCAL_GENRES,
    NURO_VOCAL_MOODS,
    PRODUCER_RETIRED_TASK_TYPES,
    PRODUCER_TASK_TYPES,
    RIFFUSION_MODELS,
    RIFFUSION_TASK_TYPES,
    STUDIO_LYRICS_TYPES,
    STUDIO_MODEL_TYPES,
    STUDIO_MODES,
)

Problem = tuple[int, str]

PRODUCER_RETIRED = PRODUCER_RETIRED_TASK_TYPES
_GENERATION_BOOLEANS = ("custom_mode", "make_instrumental", "auto_lyrics", "auto_concat")
_UNIT_FIELDS = ("style_weight", "weirdness_constraint", "audio_weight")


def missing(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def is_number(value: Any) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def check_required(body: dict[str, Any], names: Iterable[str]) -> Problem | None:
    for name in names:
        if missing(body.get(name)):
            return 400, msg_required(name)
    return None


def check_booleans(body: dict[str, Any], names: Iterable[str]) -> Problem | None:
    for name in names:
        value = body.get(name)
        if value is not None and not isinstance(value, bool):
            return 400, f"The '{name}' field should be boolean."
    return None


def check_range(body: dict[str, Any], name: str, low: float, high: float) -> Problem | None:
    value = body.get(name)
    if value is not None and (not is_number(value) or not low <= value <= high):
        return 400, msg_between(name, low, high)
    return None


def check_strings(body: dict[str, Any], names: Iterable[str]) -> Problem | None:
    for name in names:
        value = body.get(name)
        if value is not None and not isinstance(value, str):
            return 400, f"The '{name}' field should be a string."
    return None


def check_audio_url(url: Any, name: str = "url") -> Problem | None:
    """The upload step: a public http(s) URL that is not a known recording (§3.14)."""
    if missing(url):
        return 400, msg_required(name)
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        return 400, MSG_URL_NOT_ACCESSIBLE
    if MAGIC_UNREACHABLE in url:
        return 400, MSG_URL_NOT_ACCESSIBLE
    if MAGIC_CATALOG_MATCH in url:
        # docs/musicapi/protocol.md §10.1: the 413 comes from upstream
        return 413, MSG_CATALOG_MATCH
    return None


def validate_generation(
    body: dict[str, Any],
    limits: str,
    *,
    models: frozenset[str] = ACCEPTED_MODELS,
    required: Iterable[str] = ("custom_mode", "mv"),
) -> Problem | None:
    """The §3.1 generation fields as used by upload-extend/-cover, sample and mashup."""
    return (
        check_booleans(body, _GENERATION_BOOLEANS)
        or check_required(body, required)
        or _check_mv(body.get("mv"), models)
        or check_strings(body, ("prompt", "gpt_description_prompt", "title", "tags"))
        or _check_vocal_gender(body)
        or next(filter(None, (check_range(body, n, 0, 1) for n in _UNIT_FIELDS)), None)
        or check_lengths(body, body.get("mv"), limits)
    )


def _check_mv(mv: Any, models: frozenset[str]) -> Problem | None:
    if mv is not None and (not isinstance(mv, str) or mv not in models):
        return 400, MSG_MV
    return None


def _check_vocal_gender(body: dict[str, Any]) -> Problem | None:
    if body.get("vocal_gender") not in (None, "f", "m"):
        return 400, "The 'vocal_gender' field should be 'f' or 'm'."
    return None


def check_window(body: dict[str, Any], start: str, end: str) -> Problem | None:
    """Both numbers and ``0 <= start < end`` (whether they fit the clip is checked later)."""
    low, high = body.get(start), body.get(end)
    if not is_number(low) or not is_number(high) or low < 0 or high <= low:
        return 400, f"The '{end}' field should be greater than '{start}'."
    return None


def validate_sample(body: dict[str, Any], limits: str) -> Problem | None:
    has_url, has_clip = not missing(body.get("url")), not missing(body.get("sample_clip_id"))
    if has_url == has_clip:
        return 400, "Exactly one of 'url' and 'sample_clip_id' is required."
    # make_instrumental is required here (§3.4), unlike on /sonic/create.
    required = (
        "chop_sample_start_s",
        "chop_sample_end_s",
        "custom_mode",
        "mv",
        "make_instrumental",
    )
    return (
        check_required(body, required)
        or validate_generation(body, limits, models=SAMPLE_MASHUP_MODELS)
        or check_window(body, "chop_sample_start_s", "chop_sample_end_s")
    )


def validate_mashup(body: dict[str, Any], limits: str) -> Problem | None:
    ids = body.get("mashup_clip_ids")
    if not isinstance(ids, list) or len(ids) != 2 or any(missing(c) for c in ids):
        return 400, "The 'mashup_clip_ids' field should contain exactly 2 clip ids."
    return validate_generation(body, limits, models=SAMPLE_MASHUP_MODELS)


def validate_replace_section(body: dict[str, Any], limits: str) -> Problem | None:
    problem = check_required(body, ("clip_id", "mv", "infill_start_s", "infill_end_s"))
    if problem is not None:
        return problem
    mv = body.get("mv")
    if not isinstance(mv, str) or mv not in ACCEPTED_MODELS or mv == "sonic-v3-5":
        return 400, "The 'mv' field is invalid. Replace section needs 'sonic-v4' or newer."
    return (
        check_booleans(body, ("auto_concat",))
        or check_strings(body, ("prompt", "infill_lyrics", "title", "tags"))
        or _check_vocal_gender(body)
        or check_range(body, "style_weight", 0, 1)
        or check_range(body, "weirdness_constraint", 0, 1)
        or check_window(body, "infill_start_s", "infill_end_s")
        or check_lengths(body, mv, limits)
    )


def validate_persona(body: dict[str, Any]) -> tuple[Problem | None, bool]:
    """``(problem, old_body)``: the older body is told apart by its names (§3.3)."""
    old_body = "continue_clip_id" in body or ("description" in body and "clip_id" not in body)
    if old_body:
        if missing(body.get("name")) or missing(body.get("continue_clip_id")):
            return (400, MSG_PERSONA_OLD_BODY_REQUIRED), True
    else:
        problem = check_required(body, ("name", "clip_id"))
        if problem is not None:
            return problem, False
    problem = check_strings(body, ("name", "description", "describe", "styles", "vox_audio_id"))
    if problem is not None:
        return problem, old_body
    if len(body["name"]) >= 80:
        return (400, MSG_PERSONA_NAME_LENGTH), old_body
    if len(body.get("description") or "") >= 200:
        return (400, MSG_PERSONA_DESCRIPTION_LENGTH), old_body
    if len(body.get("styles") or "") > 2000:
        return (400, "The styles character length should be less than or equal to 2000."), old_body
    if body.get("vocal_start_s") is not None or body.get("vocal_end_s") is not None:
        return check_window(body, "vocal_start_s", "vocal_end_s"), old_body
    return None, old_body


# ---------------------------------------------------------------------------- producer


def producer_field(body: dict[str, Any], name: str, older: str) -> Any:
    """A Producer field under its newest name or its older one (§7)."""
    return body[name] if body.get(name) is not None else body.get(older)


def validate_producer(body: dict[str, Any]) -> Problem | None:
    """Everything but the clip checks; the 410s for retired types are the server's."""
    kind = body.get("task_type", "create_music")
    if kind not in PRODUCER_TASK_TYPES:
        return 400, "The 'task_type' field is invalid."
    problem = (
        check_booleans(body, ("make_instrumental",))
        or check_strings(body, ("sound", "lyrics", "lyrics_text", "title", "instruction", "mv"))
        or check_range(body, "length", 1, 240)
    )
    if problem is not None:
        return problem
    if len(body.get("title") or "") > 80:
        return 400, "The title character length should be less than or equal to 80."
    seed = body.get("seed")
    if seed is not None and not (
        (isinstance(seed, int) and not isinstance(seed, bool))
        or (isinstance(seed, str) and seed.strip().lstrip("-").isdigit())
    ):
        return 400, "The 'seed' field should be an integer or a numeric string."
    if kind == "create_music":
        if missing(body.get("sound")) and missing(producer_field(body, "lyrics", "lyrics_text")):
            return 400, MSG_PRODUCER_CONTENT
        return None
    if missing(body.get("clip_id")):
        return 400, f"The 'clip_id' field is required when task_type = {kind}."
    starts = producer_field(body, "starts_at", "starts")
    if kind.startswith(("extend", "replace")):
        if starts is None:
            return 400, f"The 'starts_at' field is required when task_type = {kind}."
        if not is_number(starts) or starts < 0:
            return 400, "The 'starts_at' field should be a number of seconds, at least 0."
    if kind.startswith("replace"):
        ends = producer_field(body, "ends_at", "ends")
        if ends is None:
            return 400, f"The 'ends_at' field is required when task_type = {kind}."
        if not is_number(ends) or ends <= starts:
            return 400, "The 'ends_at' field should be greater than 'starts_at'."
    if kind.startswith("cover"):
        strength = producer_field(body, "strength", "cover_strength")
        if strength is not None and (not is_number(strength) or not 0 <= strength <= 1):
            return 400, msg_between("strength", 0, 1)
    return None


# ---------------------------------------------------------------------------- riffusion


def validate_riffusion(body: dict[str, Any]) -> Problem | None:
    kind = body.get("task_type", "create_music")
    if kind not in RIFFUSION_TASK_TYPES:
        return 400, "The 'task_type' field is invalid."
    problem = (
        check_booleans(body, ("custom_mode", "make_instrumental"))
        or check_strings(body, ("lyrics", "prompt", "sound", "title"))
        or check_range(body, "vocal_variation", 0, 1)
    )
    if problem is not None:
        return problem
    mv = body.get("mv")
    if mv is not None and mv not in RIFFUSION_MODELS:
        return 400, "The 'mv' field is invalid. The model should be one of " + ", ".join(
            f"'{m}'" for m in RIFFUSION_MODELS
        ) + "."
    for name, limit in (("lyrics", 3000), ("prompt", 200), ("sound", 200)):
        if len(body.get(name) or "") > limit:
            return 400, f"The {name} character length should be less than or equal to {limit}."
    if kind == "create_music":
        if body.get("custom_mode") is None:
            return 400, msg_required("custom_mode")
        if body["custom_mode"]:
            if missing(body.get("lyrics")) and not body.get("make_instrumental"):
                return 400, "The 'lyrics' field is required when custom_mode = true."
        elif missing(body.get("prompt")):
            return 400, "The 'prompt' field is required when custom_mode = false."
        return None
    if missing(body.get("continue_clip_id")):
        return 400, f"The 'continue_clip_id' field is required when task_type = {kind}."
    if kind.startswith("extend"):
        if body.get("continue_at") is None:
            return 400, f"The 'continue_at' field is required when task_type = {kind}."
        if not is_number(body["continue_at"]):
            return 400, "The 'continue_at' field should be a number."
    if kind.startswith("replace"):
        return check_window(body, "replace_start_time", "replace_end_time")
    return None


# ---------------------------------------------------------------------------- studio


def validate_studio(body: dict[str, Any]) -> Problem | None:
    lyrics_type = body.get("lyrics_type")
    if lyrics_type not in STUDIO_LYRICS_TYPES:
        return 400, "The 'lyrics_type' field should be 'user', 'generate' or 'instrumental'."
    if lyrics_type == "user" and missing(body.get("lyrics")):
        return 400, "The 'lyrics' field is required when lyrics_type = user."
    if lyrics_type == "generate" and missing(body.get("prompt")):
        return 400, "The 'prompt' field is required when lyrics_type = generate."
    model = body.get("model_type")
    if model is not None and model not in STUDIO_MODEL_TYPES:
        return 400, "The 'model_type' field should be 'studio130-v1.5' or 'studio32-v1.5'."
    for name in (
        "song_section_start",
        "song_section_end",
        "lyrics_placement_start",
        "lyrics_placement_end",
        "prompt_strength",
        "clarity_strength",
        "lyrics_strength",
        "generation_quality",
    ):
        problem = check_range(body, name, 0, 1)
        if problem is not None:
            return problem
    seed = body.get("seed")
    if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool) or seed < -1):
        return 400, "The 'seed' field should be an integer, -1 for random."
    config = body.get("config", {"mode": "regular"})
    if not isinstance(config, dict) or config.get("mode", "regular") not in STUDIO_MODES:
        return 400, "The 'config.mode' field should be 'regular', 'precede' or 'continuation'."
    if config.get("mode") in ("precede", "continuation"):
        source = config.get("source")
        if not isinstance(source, dict) or missing(source.get("song_id")):
            return 400, msg_required("config.source.song_id")
    return check_booleans(body, ("bypass_prompt_optimization",))


# ---------------------------------------------------------------------------- nuro

NuroProblem = tuple[int, tuple[str, str]]  # (status, (type, description))


def _nuro_bad(description: str) -> NuroProblem:
    return 400, ("bad_request", description)


def _nuro_choice(body: dict[str, Any], name: str, allowed: tuple[str, ...]) -> NuroProblem | None:
    if body.get(name) is None:
        return _nuro_bad(msg_required(name))
    if body[name] not in allowed:
        return _nuro_bad(f"The '{name}' field is invalid.")
    return None


def _nuro_duration(value: Any, low: int, high: int) -> NuroProblem | None:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        return _nuro_bad(msg_between("duration", low, high))
    return None


def validate_nuro(body: dict[str, Any], segments_must_sum: bool) -> NuroProblem | None:
    """docs/musicapi/protocol.md §9; errors in the Nuro catalogue's ``type``/``description``
    shape."""
    kind = body.get("type")
    if kind == "vocal":
        lyrics = body.get("lyrics")
        if missing(lyrics):
            return _nuro_bad(msg_required("lyrics"))
        if not isinstance(lyrics, str) or len(lyrics) > 2000:
            return _nuro_bad("The lyrics character length should be less than or equal to 2000.")
        vocal_choices: tuple[tuple[str, tuple[str, ...]], ...] = (
            ("gender", NURO_GENDERS),
            ("genre", NURO_VOCAL_GENRES),
            ("mood", NURO_VOCAL_MOODS),
            ("timbre", NURO_TIMBRES),
        )
        for name, allowed in vocal_choices:
            problem = _nuro_choice(body, name, allowed)
            if problem is not None:
                return problem
        return _nuro_duration(body.get("duration"), 30, 240)
    if kind != "bgm":
        return _nuro_bad("The 'type' field should be 'vocal' or 'bgm'.")
    if missing(body.get("description")) or not isinstance(body["description"], str):
        return _nuro_bad(msg_required("description"))
    bgm_choices: tuple[tuple[str, tuple[str, ...]], ...] = (
        ("genre", NURO_BGM_GENRES),
        ("mood", NURO_BGM_MOODS),
        ("instrument", NURO_BGM_INSTRUMENTS),
        ("theme", NURO_BGM_THEMES),
    )
    for name, allowed in bgm_choices:
        values = body.get(name, [])
        if not isinstance(values, list) or any(v not in allowed for v in values):
            return _nuro_bad(f"The '{name}' field is invalid.")
        if len(values) > 5:
            return _nuro_bad(f"The '{name}' field allows at most 5 values.")
    version = body.get("version")
    if version is None:
        if "segments" in body:
            return _nuro_bad("The 'segments' field needs version 'v2.0'.")
        return _nuro_duration(body.get("duration", 60), 1, 60)
    if version != "v2.0":
        return _nuro_bad("The 'version' field is invalid.")
    segments = body.get("segments", [])
    if not isinstance(segments, list):
        return _nuro_bad("The 'segments' field is invalid.")
    total = 0
    for segment in segments:
        if not isinstance(segment, dict) or segment.get("name") not in NURO_SEGMENT_NAMES:
            return _nuro_bad("The 'segments' field is invalid.")
        seconds = segment.get("duration")
        if not isinstance(seconds, int) or isinstance(seconds, bool) or seconds <= 0:
            return _nuro_bad("The 'segments' field is invalid.")
        total += seconds
    duration = body.get("duration", total or 60)
    problem = _nuro_duration(duration, 1, 240)
    if problem is None and segments and segments_must_sum and duration != total:
        return _nuro_bad("The segment durations should add up to 'duration'.")
    return problem


def moderation_refusal(text: str) -> Problem | None:
    """The content checks MusicAPI runs on submit (§10.1), triggered by magic words."""
    if MAGIC_LYRICS_MODERATE in text:
        return 403, MSG_LYRICS_INAPPROPRIATE
    if MAGIC_MODERATE in text:
        return 403, MSG_ARTIST
    return None


def edit_rules(
    kind: str, clip: SimClip, seconds: float, start: Any, end: Any, names: tuple[str, str]
) -> Problem | None:
    """Upload-type and time-window rules shared by Producer and Riffusion edits."""
    uploaded_type = "_upload_" in kind
    if uploaded_type and not clip.uploaded:
        return 400, msg_upload_only(kind)
    if not uploaded_type and clip.uploaded:
        return 400, msg_not_for_uploads(kind)
    start_name, end_name = names
    if kind.startswith("extend") and start is not None:
        if start_name == "continue_at":  # Riffusion, like Sonic: strictly inside the clip
            if not 0 < start < seconds:
                return 400, msg_continue_at(seconds)
        elif not 0 <= start <= seconds:  # Producer may extend from the very end
            return 400, msg_within(start_name, seconds)
    if kind.startswith("replace") and end is not None and end > seconds:
        return 400, msg_within(end_name, seconds)
    return None
