"""`/song` and `/request`: every option checked before anything is spent, then the MusicAPI
request built from the checked values.

Limits follow docs/musicapi/protocol.md §3.1 and §3.20. Where the docs disagree
(docs/musicapi/open-questions.md B.13), the older models keep the limits their error messages state
and newer models get the newest instructions' limits; either way a refusal names the option and the
limit.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.errors import InputError
from bot.musicapi.families.sonic import Mashup, ReplaceSection, Sample, SonicCreate
from bot.states import ClipSource, Family
from bot.store.clips import StoredClip
from bot.validation import numbers
from bot.validation.built import checked
from bot.validation.choices import choice
from bot.validation.numbers import fraction
from bot.validation.text import optional_text, required_text, text_option, visible_text
from bot.validation.windows import LONGEST_UPLOAD_S, UPLOAD_LENGTH, moment, window

OLDER_MODELS = frozenset({"sonic-v3-5", "sonic-v4"})
TITLE_MAX = 79  # "The title character length should be less than 80."


@dataclass(frozen=True, slots=True)
class ModelLimits:
    lyrics: int
    style: int
    description: int
    vocal_gender: bool


def limits_for(model: str) -> ModelLimits:
    if model in OLDER_MODELS:
        # "less than 3000" / "less than 200" / "less than 200" in the error catalog.
        return ModelLimits(lyrics=2999, style=199, description=199, vocal_gender=False)
    return ModelLimits(lyrics=5000, style=1000, description=400, vocal_gender=True)


def _vocal(vocal: str | None, model: str, limits: ModelLimits, instrumental: bool) -> str | None:
    chosen = choice("vocal", vocal, ("f", "m"))
    if chosen is None:
        return None
    if instrumental:
        raise InputError("vocal", "cannot be used with `instrumental`, which has no vocals.")
    if not limits.vocal_gender:
        raise InputError("vocal", f"needs sonic-v4-5 or newer; `{model}` does not support it.")
    return chosen


def _clip_title(clip: StoredClip) -> str | None:
    return visible_text(clip.title)[:TITLE_MAX] or None


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
    return checked(
        SonicCreate(
            task_type="create_music",
            custom_mode=False,
            mv=model,
            gpt_description_prompt=required_text("description", description, limits.description),
            tags=optional_text("style", style, limits.style),
            title=optional_text("title", title, TITLE_MAX),
            negative_tags=optional_text("negative", negative, limits.style),
            make_instrumental=bool(instrumental),
            vocal_gender=_vocal(vocal, model, limits, bool(instrumental)),
        )
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
    optional_text("style", style, limits.style)
    optional_text("title", title, TITLE_MAX)
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
    return checked(
        SonicCreate(
            task_type="create_music",
            custom_mode=True,
            mv=model,
            prompt=text_option("lyrics", lyrics, limits.lyrics, required=not instrumental) or "",
            tags=optional_text("style", style, limits.style),
            title=optional_text("title", title, TITLE_MAX),
            make_instrumental=bool(instrumental),
            vocal_gender=_vocal(vocal, model, limits, bool(instrumental)),
        )
    )


# -- edits of an earlier song (docs/musicapi/protocol.md §3.1 task types) --------------------------

REMASTER_MAX_AGE_S = 24 * 3600
VARIATIONS = ("subtle", "normal", "high")


# Families whose songs MusicAPI keeps apart: the Sonic endpoints (/sonic/create, /sonic/vox,
# stems, wav, ...) answer "No clip with this id exists" for them.
OTHER_FAMILIES: dict[str, str] = {
    Family.PRODUCER: "/producer",
    Family.NURO: "/nuro",
    Family.RIFFUSION: "/riffusion",
    Family.STUDIO: "/studio",
}


def check_sonic_source(field: str, made_by: Family | str) -> None:
    """A song for a Sonic command: made by Sonic (or uploaded to it), not by another family."""
    command = OTHER_FAMILIES.get(made_by)  # a StrEnum looks up like its text
    if command is not None:
        raise InputError(
            field,
            f"was made with `{command}`; MusicAPI keeps those songs apart, so only songs made "
            "with `/song` (or uploaded) work here.",
        )


def _uploaded(clip: StoredClip) -> bool:
    """Uploaded clips take the *_upload_music task types (§3.1 rules)."""
    return clip.source == ClipSource.UPLOAD


def build_extend(
    clip: StoredClip, *, at: float, lyrics: str | None, style: str | None, model: str
) -> SonicCreate:
    """`/song extend`: continue the song from `at`; only the new part comes back."""
    limits = limits_for(model)
    new_lyrics = optional_text("lyrics", lyrics, limits.lyrics)
    title = _clip_title(clip)
    return checked(
        SonicCreate(
            task_type="extend_upload_music" if _uploaded(clip) else "extend_music",
            continue_clip_id=clip.clip_id,
            continue_at=moment("at", at, clip.duration, strictly_inside=True),
            custom_mode=True,
            mv=model,
            # Without new lyrics, auto_lyrics lets MusicAPI write them from a short description.
            prompt=new_lyrics or f"Continue the song {title or ''} in the same style".strip(),
            auto_lyrics=None if new_lyrics else True,
            tags=optional_text("style", style, limits.style) or clip.tags[: limits.style] or None,
            title=title,
        ),
        {"continue_at": "at"},
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
    weight = fraction("audio_weight", audio_weight)
    words = optional_text("lyrics", lyrics, limits.lyrics) or clip.lyrics[: limits.lyrics] or None
    return checked(
        SonicCreate(
            task_type="cover_upload_music" if _uploaded(clip) else "cover_music",
            continue_clip_id=clip.clip_id,
            custom_mode=True,
            mv=model,
            prompt=words,
            make_instrumental=None if words else True,
            tags=optional_text("style", style, limits.style) or clip.tags[: limits.style] or None,
            title=_clip_title(clip),
            audio_weight=weight,
        )
    )


def build_full(clip: StoredClip, made_by: str) -> SonicCreate:
    """`/song full`: join an extension to everything before it (concat_music)."""
    if made_by not in ("extend_music", "extend_upload_music"):
        raise InputError("clip", "only a part made with `/song extend` can become the full song.")
    return checked(SonicCreate(task_type="concat_music", continue_clip_id=clip.clip_id))


def build_remaster(
    clip: StoredClip, *, variation: str | None, model: str, now: float
) -> SonicCreate:
    """`/song remaster`: re-render a song less than 24 hours old."""
    age_h = (now - clip.created_at) / 3600
    if age_h >= REMASTER_MAX_AGE_S / 3600:
        raise InputError(
            "clip", f"MusicAPI remasters songs less than 24 hours old; this one is {age_h:.0f} h."
        )
    return checked(
        SonicCreate(
            task_type="remaster",
            continue_clip_id=clip.clip_id,
            mv=model,
            variation_category=choice("variation", variation, VARIATIONS),
        )
    )


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
    part = window(start, end, clip.duration)
    return checked(
        ReplaceSection(
            clip_id=clip.clip_id,
            mv=model,
            infill_start_s=part.start,
            infill_end_s=part.end,
            infill_lyrics=optional_text("lyrics", lyrics, limits.lyrics),
            prompt=clip.lyrics[: limits.lyrics] or None,
            tags=optional_text("style", style, limits.style) or clip.tags[: limits.style] or None,
            title=_clip_title(clip),
        ),
        {"infill_start_s": "start", "infill_end_s": "end"},
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
    named = f"A mashup of {_clip_title(first) or 'one song'} and {_clip_title(second) or 'another'}"
    about = (
        optional_text("description", description, limits.description) or named[: limits.description]
    )
    return checked(
        Mashup(
            mashup_clip_ids=(first.clip_id, second.clip_id),
            custom_mode=False,
            mv=model,
            gpt_description_prompt=about,
            tags=optional_text("style", style, limits.style),
        )
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
    part = window(start, end, clip.duration)
    return checked(
        Sample(
            sample_clip_id=clip.clip_id,
            chop_sample_start_s=part.start,
            chop_sample_end_s=part.end,
            custom_mode=False,
            mv=model,
            make_instrumental=False,
            gpt_description_prompt=optional_text("description", description, limits.description)
            or f"A new song around a sample of {_clip_title(clip) or 'this song'}"[
                : limits.description
            ],
            tags=optional_text("style", style, limits.style),
        ),
        {"chop_sample_start_s": "start", "chop_sample_end_s": "end"},
    )


# -- /song upload: the upload and the action after it, all checked before the upload ------------

UPLOAD_ACTIONS = ("none", "extend", "cover", "add-vocals", "add-instrumental")
_ACTION_OPTIONS = {
    "none": (),
    "extend": ("at", "style", "lyrics"),
    "cover": ("style", "lyrics"),
    "add-vocals": ("style", "lyrics", "start", "end"),
    "add-instrumental": ("style", "start", "end"),
}
# docs/musicapi/protocol.md §4: the recommended continue_at for an uploaded clip
UPLOAD_EXTEND_AT = 0.1


def check_upload_length(seconds: float | None) -> None:
    """The file's own length, before it is uploaded: known, and at most what MusicAPI takes
    (8 minutes), so a file MusicAPI would refuse is never paid for."""
    if seconds is None:
        raise InputError(
            "file",
            "does not say how long it is (a WebM recorded live often does not), so it cannot "
            "be checked against the 8-minute limit; export it as MP3, WAV, OGG or FLAC.",
        )
    if numbers.as_sent(seconds) > LONGEST_UPLOAD_S:
        raise InputError(
            "file",
            f"is {_minutes(seconds)} long; MusicAPI takes uploads of at most "
            f"{_minutes(LONGEST_UPLOAD_S)} (8 minutes). Trim it and attach it again.",
        )


def _minutes(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 60}:{whole % 60:02d}"


@dataclass(frozen=True, slots=True)
class UploadPlan:
    """`/song upload file [action]` and the options that action needs."""

    action: str
    at: float | None = None
    style: str | None = None
    lyrics: str | None = None
    start: float | None = None
    end: float | None = None

    def check(self, model: str, seconds: float | None = None) -> None:
        """Every step, before the upload is paid for: the follow-up request is built against a
        stand-in for the uploaded clip, `seconds` long when the file's length could be read."""
        if self.action not in _ACTION_OPTIONS:
            raise InputError("action", f"must be one of {', '.join(UPLOAD_ACTIONS)}.")
        used = _ACTION_OPTIONS[self.action]
        for name in ("at", "style", "lyrics", "start", "end"):
            if getattr(self, name) is not None and name not in used:
                raise InputError(name, f"is not used with action `{self.action}`.")
        if seconds is None:
            # Before the file is read (its length is not known yet): the longest upload
            # MusicAPI takes still bounds every time in it (2^53 s cannot be right).
            if self.at is not None:
                numbers.seconds(
                    "at", self.at, above=0, below=LONGEST_UPLOAD_S, limit_is=UPLOAD_LENGTH
                )
            if self.end is not None:
                numbers.seconds("end", self.end, at_most=LONGEST_UPLOAD_S, limit_is=UPLOAD_LENGTH)
        if self.action != "none":
            self.request(_upload_stand_in(seconds), model)

    def request(self, clip: StoredClip, model: str) -> SonicCreate:
        """The follow-up job on the uploaded clip."""
        if self.action == "extend":
            at = UPLOAD_EXTEND_AT if self.at is None else self.at
            return build_extend(clip, at=at, lyrics=self.lyrics, style=self.style, model=model)
        if self.action == "cover":
            return build_cover(
                clip, style=self.style, lyrics=self.lyrics, model=model, audio_weight=None
            )
        vocals = self.action == "add-vocals"
        limits = limits_for(model)
        part = window(self.start, self.end, clip.duration)
        return checked(
            SonicCreate(
                task_type="add_vocals" if vocals else "add_instrumental",
                continue_clip_id=clip.clip_id,
                mv=model,
                prompt=text_option("lyrics", self.lyrics, limits.lyrics, required=vocals),
                tags=optional_text("style", self.style, limits.style),
                overpainting_start_s=part.start,
                overpainting_end_s=part.end,
            ),
            {"overpainting_start_s": "start", "overpainting_end_s": "end", "prompt": "lyrics"},
        )


def _upload_stand_in(seconds: float | None) -> StoredClip:
    return StoredClip(
        clip_id="upload", guild_id=0, job_id=0, user_id=0, title="", tags="", lyrics="",
        duration=seconds, model=None, image_url=None, audio_url=None, source=ClipSource.UPLOAD,
        created_at=0.0, raw={},
    )  # fmt: skip
