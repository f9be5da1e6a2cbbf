"""Checks every option before anything is spent, and builds the MusicAPI request.

Limits follow REFERENCE §3.1 and §3.20. Where the docs disagree (OPEN-QUESTIONS B.13), the
legacy models keep the limits their error messages state and newer models get the newest
instructions' limits; either way a refusal names the option and the limit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.errors import InputError
from bot.musicapi.requests import SonicCreate
from bot.musicapi.requests_sonic import Mashup, ReplaceSection, Sample
from bot.store.clips import StoredClip

LEGACY_MODELS = frozenset({"sonic-v3-5", "sonic-v4"})
TITLE_MAX = 79  # "The title character length should be less than 80."
LYRICS_FILE_MAX_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class ModelLimits:
    lyrics: int
    style: int
    description: int
    vocal_gender: bool


def limits_for(model: str) -> ModelLimits:
    if model in LEGACY_MODELS:
        # "less than 3000" / "less than 200" / "less than 200" in the error catalog.
        return ModelLimits(lyrics=2999, style=199, description=199, vocal_gender=False)
    return ModelLimits(lyrics=5000, style=1000, description=400, vocal_gender=True)


def _text(field: str, value: str | None, limit: int, *, required: bool = False) -> str | None:
    if value is None or not value.strip():
        if required:
            raise InputError(field, "is required and cannot be empty.")
        return None
    value = value.strip()
    if len(value) > limit:
        raise InputError(field, f"is {len(value)} characters; the limit is {limit}.")
    return value


def check_model(model: str | None, allowed: Sequence[str], default: str) -> str:
    chosen = (model or default).strip()
    if chosen not in allowed:
        raise InputError(
            "model", f"`{chosen}` is not offered here; choose one of {', '.join(allowed)}."
        )
    return chosen


def _vocal(vocal: str | None, model: str, limits: ModelLimits, instrumental: bool) -> str | None:
    if vocal is None:
        return None
    vocal = vocal.strip().lower()
    if vocal not in ("f", "m"):
        raise InputError("vocal", "must be `f` (female) or `m` (male).")
    if instrumental:
        raise InputError("vocal", "cannot be used with `instrumental`, which has no vocals.")
    if not limits.vocal_gender:
        raise InputError("vocal", f"needs sonic-v4-5 or newer; `{model}` does not support it.")
    return vocal


def build_create(
    *,
    description: str | None,
    style: str | None,
    title: str | None,
    instrumental: bool | None,
    model: str,
    vocal: str | None,
    negative: str | None,
) -> SonicCreate:
    """`/song create`: the AI writes the lyrics from a description."""
    limits = limits_for(model)
    return SonicCreate(
        task_type="create_music",
        custom_mode=False,
        mv=model,
        gpt_description_prompt=_text("description", description, limits.description, required=True),
        tags=_text("style", style, limits.style),
        title=_text("title", title, TITLE_MAX),
        negative_tags=_text("negative", negative, limits.style),
        make_instrumental=bool(instrumental),
        vocal_gender=_vocal(vocal, model, limits, bool(instrumental)),
    )


def check_custom_options(
    *,
    style: str | None,
    title: str | None,
    instrumental: bool | None,
    model: str,
    vocal: str | None,
) -> None:
    """`/song custom`'s options other than the lyrics, checked before the lyrics form opens."""
    limits = limits_for(model)
    _text("style", style, limits.style)
    _text("title", title, TITLE_MAX)
    _vocal(vocal, model, limits, bool(instrumental))


def build_custom(
    *,
    lyrics: str | None,
    style: str | None,
    title: str | None,
    instrumental: bool | None,
    model: str,
    vocal: str | None,
) -> SonicCreate:
    """`/song custom`: the member's own lyrics."""
    limits = limits_for(model)
    return SonicCreate(
        task_type="create_music",
        custom_mode=True,
        mv=model,
        prompt=_text("lyrics", lyrics, limits.lyrics, required=not instrumental) or "",
        tags=_text("style", style, limits.style),
        title=_text("title", title, TITLE_MAX),
        make_instrumental=bool(instrumental),
        vocal_gender=_vocal(vocal, model, limits, bool(instrumental)),
    )


def check_lyrics_file(filename: str, content_type: str | None, size: int) -> None:
    """Before downloading a `lyrics_file` attachment."""
    is_text = (content_type or "").split(";")[0].strip() == "text/plain"
    if not (filename.lower().endswith(".txt") or is_text):
        raise InputError("lyrics_file", f"must be a .txt file; `{filename}` is not.")
    if size > LYRICS_FILE_MAX_BYTES:
        raise InputError(
            "lyrics_file",
            f"is {size // 1024} KiB; the limit is {LYRICS_FILE_MAX_BYTES // 1024} KiB.",
        )


def decode_lyrics_file(data: bytes) -> str:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(
            "lyrics_file", "is not UTF-8 text; save it as UTF-8 and try again."
        ) from None
    if "\x00" in text:
        raise InputError("lyrics_file", "contains binary data; attach a plain text file.")
    return text.replace("\r\n", "\n")


# -- edits of an earlier song (REFERENCE §3.1 task types) -----------------------------------

REMASTER_MAX_AGE_S = 24 * 3600
VARIATIONS = ("subtle", "normal", "high")


def _uploaded(clip: StoredClip) -> bool:
    """Uploaded clips take the *_upload_music task types (§3.1 rules)."""
    return clip.source == "upload"


def _seconds(field: str, value: float, *, above: float, below: float | None) -> float:
    if not value > above:
        raise InputError(field, f"must be more than {above:g} seconds.")
    if below is not None and not value < below:
        raise InputError(field, f"must be less than the song's length ({below:g} seconds).")
    return round(float(value), 2)


def build_extend(
    clip: StoredClip, *, at: float, lyrics: str | None, style: str | None, model: str
) -> SonicCreate:
    """`/song extend`: continue the song from `at`; only the new part comes back."""
    limits = limits_for(model)
    new_lyrics = _text("lyrics", lyrics, limits.lyrics)
    return SonicCreate(
        task_type="extend_upload_music" if _uploaded(clip) else "extend_music",
        continue_clip_id=clip.clip_id,
        continue_at=_seconds("at", at, above=0, below=clip.duration),
        custom_mode=True,
        mv=model,
        # Without new lyrics, auto_lyrics lets MusicAPI write them from a short description.
        prompt=new_lyrics or f"Continue the song {clip.title or ''} in the same style".strip(),
        auto_lyrics=None if new_lyrics else True,
        tags=_text("style", style, limits.style) or clip.tags or None,
        title=(clip.title or None) and clip.title[:TITLE_MAX],
    )


def build_cover(
    clip: StoredClip,
    *,
    style: str | None,
    lyrics: str | None,
    model: str,
    audio_weight: float | None,
) -> SonicCreate:
    """`/song cover`: the same song in another style (the original lyrics unless new ones)."""
    limits = limits_for(model)
    if audio_weight is not None and not 0 <= audio_weight <= 1:
        raise InputError("audio_weight", "must be between 0 and 1.")
    words = _text("lyrics", lyrics, limits.lyrics) or clip.lyrics[: limits.lyrics] or None
    return SonicCreate(
        task_type="cover_upload_music" if _uploaded(clip) else "cover_music",
        continue_clip_id=clip.clip_id,
        custom_mode=True,
        mv=model,
        prompt=words,
        make_instrumental=None if words else True,
        tags=_text("style", style, limits.style) or clip.tags or None,
        title=(clip.title or None) and clip.title[:TITLE_MAX],
        audio_weight=audio_weight,
    )


def build_full(clip: StoredClip, made_by: str) -> SonicCreate:
    """`/song full`: join an extension to everything before it (concat_music)."""
    if made_by not in ("extend_music", "extend_upload_music"):
        raise InputError("clip", "only a part made with `/song extend` can become the full song.")
    return SonicCreate(task_type="concat_music", continue_clip_id=clip.clip_id)


def build_remaster(
    clip: StoredClip, *, variation: str | None, model: str, now: float
) -> SonicCreate:
    """`/song remaster`: re-render a song less than 24 hours old."""
    age_h = (now - clip.created_at) / 3600
    if age_h >= REMASTER_MAX_AGE_S / 3600:
        raise InputError(
            "clip", f"MusicAPI remasters songs less than 24 hours old; this one is {age_h:.0f} h."
        )
    if variation is not None and variation not in VARIATIONS:
        raise InputError("variation", f"must be one of {', '.join(VARIATIONS)}.")
    return SonicCreate(
        task_type="remaster",
        continue_clip_id=clip.clip_id,
        mv=model,
        variation_category=variation,
    )


def _window(
    clip: StoredClip, start: float, end: float, *, names: tuple[str, str] = ("start", "end")
) -> tuple[float, float]:
    first, last = names
    if start < 0:
        raise InputError(first, "cannot be negative.")
    if not end > start:
        raise InputError(last, f"must be after `{first}` ({start:g} s).")
    if clip.duration is not None and end > clip.duration:
        raise InputError(last, f"must be within the song's length ({clip.duration:g} seconds).")
    return round(float(start), 2), round(float(end), 2)


def build_replace(
    clip: StoredClip,
    *,
    start: float,
    end: float,
    lyrics: str | None,
    style: str | None,
    model: str,
) -> ReplaceSection:
    """`/song replace`: regenerate a window of the song, optionally with new lyrics."""
    if model in ("sonic-v3-5",):
        raise InputError("model", "replacing a section needs sonic-v4 or newer.")
    limits = limits_for(model)
    begin, finish = _window(clip, start, end)
    return ReplaceSection(
        clip_id=clip.clip_id,
        mv=model,
        infill_start_s=begin,
        infill_end_s=finish,
        infill_lyrics=_text("lyrics", lyrics, limits.lyrics),
        prompt=clip.lyrics[: limits.lyrics] or None,
        tags=_text("style", style, limits.style) or clip.tags or None,
        title=(clip.title or None) and clip.title[:TITLE_MAX],
    )


def build_mashup(
    first: StoredClip,
    second: StoredClip,
    *,
    description: str | None,
    style: str | None,
    model: str,
) -> Mashup:
    """`/song mashup`: blend exactly two different songs."""
    if first.clip_id == second.clip_id:
        raise InputError("clip_b", "must be a different song from `clip_a`.")
    limits = limits_for(model)
    about = (
        _text("description", description, limits.description)
        or (f"A mashup of {first.title or 'one song'} and {second.title or 'another'}")[
            : limits.description
        ]
    )
    return Mashup(
        mashup_clip_ids=(first.clip_id, second.clip_id),
        custom_mode=False,
        mv=model,
        gpt_description_prompt=about,
        tags=_text("style", style, limits.style),
    )


def build_sample(
    clip: StoredClip,
    *,
    start: float,
    end: float,
    description: str | None,
    style: str | None,
    model: str,
) -> Sample:
    """`/song sample`: a new song built around a chopped piece of this one."""
    limits = limits_for(model)
    begin, finish = _window(clip, start, end)
    return Sample(
        sample_clip_id=clip.clip_id,
        chop_sample_start_s=begin,
        chop_sample_end_s=finish,
        custom_mode=False,
        mv=model,
        make_instrumental=False,
        gpt_description_prompt=_text("description", description, limits.description)
        or f"A new song around a sample of {clip.title or 'this song'}"[: limits.description],
        tags=_text("style", style, limits.style),
    )


AUDIO_EXTENSIONS = (".mp3", ".wav", ".m4a", ".ogg", ".flac", ".aac")
AUDIO_FILE_MAX_MIB = 50


def check_audio_file(
    filename: str, content_type: str | None, size: int, field: str = "file"
) -> None:
    """An audio attachment for MusicAPI to read: type and size, before anything is spent."""
    is_audio = (content_type or "").startswith("audio/")
    if not (is_audio or filename.lower().endswith(AUDIO_EXTENSIONS)):
        raise InputError(field, f"must be an audio file ({', '.join(AUDIO_EXTENSIONS)}).")
    if size <= 0:
        raise InputError(field, "is empty.")
    if size > AUDIO_FILE_MAX_MIB * 1024 * 1024:
        mib = size / (1024 * 1024)
        raise InputError(field, f"is {mib:.0f} MiB; the limit is {AUDIO_FILE_MAX_MIB} MiB.")


UPLOAD_ACTIONS = ("none", "extend", "cover", "add-vocals", "add-instrumental")
_ACTION_OPTIONS = {
    "none": (),
    "extend": ("at", "style", "lyrics"),
    "cover": ("style", "lyrics"),
    "add-vocals": ("style", "lyrics", "start", "end"),
    "add-instrumental": ("style", "start", "end"),
}
UPLOAD_EXTEND_AT = 0.1  # REFERENCE §4: the recommended continue_at for an uploaded clip


@dataclass(frozen=True, slots=True)
class UploadPlan:
    """`/song upload file [action]` and the options that action needs."""

    action: str
    at: float | None = None
    style: str | None = None
    lyrics: str | None = None
    start: float | None = None
    end: float | None = None

    def check(self, model: str) -> None:
        if self.action not in _ACTION_OPTIONS:
            raise InputError("action", f"must be one of {', '.join(UPLOAD_ACTIONS)}.")
        used = _ACTION_OPTIONS[self.action]
        for name in ("at", "style", "lyrics", "start", "end"):
            if getattr(self, name) is not None and name not in used:
                raise InputError(name, f"is not used with action `{self.action}`.")
        limits = limits_for(model)
        _text("style", self.style, limits.style)
        _text("lyrics", self.lyrics, limits.lyrics, required=self.action == "add-vocals")
        if self.at is not None and not self.at > 0:
            raise InputError("at", "must be more than 0 seconds.")
        if self.action in ("add-vocals", "add-instrumental"):
            if self.end is None:
                raise InputError("end", f"is needed for `{self.action}`: where the new part ends.")
            start = self.start or 0.0
            if start < 0:
                raise InputError("start", "cannot be negative.")
            if not self.end > start:
                raise InputError("end", f"must be after `start` ({start:g} s).")

    def request(self, clip: StoredClip, model: str) -> SonicCreate:
        """The follow-up job on the uploaded clip (call `check` first)."""
        if self.action == "extend":
            return build_extend(
                clip, at=self.at or UPLOAD_EXTEND_AT, lyrics=self.lyrics, style=self.style,
                model=model,
            )  # fmt: skip
        if self.action == "cover":
            return build_cover(
                clip, style=self.style, lyrics=self.lyrics, model=model, audio_weight=None
            )
        vocals = self.action == "add-vocals"
        return SonicCreate(
            task_type="add_vocals" if vocals else "add_instrumental",
            continue_clip_id=clip.clip_id,
            mv=model,
            prompt=self.lyrics.strip() if vocals and self.lyrics else None,
            tags=self.style.strip() if self.style else None,
            overpainting_start_s=round(self.start or 0.0, 2),
            overpainting_end_s=round(float(self.end or 0.0), 2),
        )
