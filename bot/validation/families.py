"""`/producer`, `/nuro`, `/riffusion` and `/studio` (docs/musicapi/protocol.md §6–§9): the options
checked, then the request built from the checked values.

Only documented limits are enforced: where docs/musicapi/protocol.md gives none (Producer's `sound`,
Studio's texts) the option is only required to be visible text.
"""

from __future__ import annotations

from bot.errors import InputError
from bot.musicapi.families.nuro import (
    BGM_DURATION_S,
    MAX_BGM_TAGS,
    MAX_LYRICS,
    NURO_BGM_GENRES,
    NURO_BGM_INSTRUMENTS,
    NURO_BGM_MOODS,
    NURO_GENDERS,
    NURO_TIMBRES,
    NURO_VOCAL_GENRES,
    NURO_VOCAL_MOODS,
    VOCAL_DURATION_S,
    NuroBgm,
    NuroVocal,
)
from bot.musicapi.families.producer import (
    MAX_PRODUCER_LENGTH_S,
    PRODUCER_DOWNLOAD_FORMATS,
    ProducerCreate,
)
from bot.musicapi.families.riffusion import RIFFUSION_MODELS, RiffusionCreate
from bot.musicapi.families.studio import StudioCreate
from bot.store.clips import StoredClip
from bot.validation.built import checked
from bot.validation.choices import choice, choice_list, required_choice
from bot.validation.numbers import fraction, whole
from bot.validation.text import optional_text, required_text
from bot.validation.windows import moment, window

PRODUCER_TITLE_MAX = 80  # "title ≤ 80" (§7); the simulator and SDK accept exactly 80
RIFFUSION_LYRICS_MAX = 3000
RIFFUSION_PROMPT_MAX = 200  # description mode `prompt` and `sound` alike (§6)
# Nuro needs all four of these on a vocal song, but /nuro vocal makes them optional: a member
# who leaves one out gets the docs' own example value (nuro-create-request-vocal.json).
NURO_VOCAL_DEFAULTS = {"gender": "Female", "genre": "Pop", "mood": "Romantic", "timbre": "Warm"}
# Studio's 130-second model costs double (§8); the cost table prices one Studio job, so the bot
# only asks for the model it prices.
STUDIO_MODEL = "studio32-v1.5"

# Which operations made a clip decides whether Producer can edit it (§7: only its own clips,
# and uploads take the *_upload_music task types).
PRODUCER_SONG_OPERATIONS = frozenset(
    {"producer_create", "producer_extend", "producer_replace", "producer_cover"}
)
PRODUCER_UPLOAD_OPERATION = "producer_upload"


# -- Producer (§7) -------------------------------------------------------------------------


def producer_clip_is_upload(clip: StoredClip, made_by_family: str, made_by_operation: str) -> bool:
    """Whether a Producer edit of `clip` needs the *_upload_music task types. Refuses clips
    Producer cannot edit: MusicAPI only knows Producer's own clips by their id."""
    if made_by_family == "producer" and made_by_operation == PRODUCER_UPLOAD_OPERATION:
        return True
    if made_by_family == "producer" and made_by_operation in PRODUCER_SONG_OPERATIONS:
        return False
    raise InputError(
        "clip", "was not made with `/producer`; Producer can only work on its own songs."
    )


def _length(value: int | None) -> int | None:
    return None if value is None else whole("length", value, 1, MAX_PRODUCER_LENGTH_S)


def build_producer_create(
    *, lyrics: str | None, sound: str | None, title: str | None, length: int | None
) -> ProducerCreate:
    """`/producer create`: a new song from lyrics, a sound description, or both."""
    words, style = optional_text("lyrics", lyrics), optional_text("sound", sound)
    if words is None and style is None:
        raise InputError("lyrics", "is empty, and so is `sound`; give at least one of them.")
    return checked(
        ProducerCreate(
            task_type="create_music",
            lyrics=words,
            sound=style,
            title=optional_text("title", title, PRODUCER_TITLE_MAX),
            length=_length(length),
        )
    )


def build_producer_extend(
    clip: StoredClip,
    *,
    uploaded: bool,
    starts_at: float,
    instruction: str | None,
    lyrics: str | None,
    length: int | None,
) -> ProducerCreate:
    """`/producer extend`: continue the song from `starts_at` (the very end is allowed)."""
    return checked(
        ProducerCreate(
            task_type="extend_upload_music" if uploaded else "extend_music",
            clip_id=clip.clip_id,
            starts_at=moment("starts_at", starts_at, clip.duration, strictly_inside=False),
            instruction=optional_text("instruction", instruction),
            lyrics=optional_text("lyrics", lyrics),
            length=_length(length),
        )
    )


def build_producer_replace(
    clip: StoredClip,
    *,
    uploaded: bool,
    starts_at: float,
    ends_at: float,
    instruction: str | None,
) -> ProducerCreate:
    """`/producer replace`: regenerate the window `starts_at`–`ends_at` of the song."""
    part = window(starts_at, ends_at, clip.duration, names=("starts_at", "ends_at"))
    return checked(
        ProducerCreate(
            task_type="replace_upload_music" if uploaded else "replace_music",
            clip_id=clip.clip_id,
            starts_at=part.start,
            ends_at=part.end,
            instruction=optional_text("instruction", instruction),
        )
    )


def build_producer_cover(
    clip: StoredClip, *, uploaded: bool, instruction: str | None, strength: float | None
) -> ProducerCreate:
    """`/producer cover`: the song redone; `strength` 0–1 is how far it may move away."""
    return checked(
        ProducerCreate(
            task_type="cover_upload_music" if uploaded else "cover_music",
            clip_id=clip.clip_id,
            instruction=optional_text("instruction", instruction),
            strength=fraction("strength", strength),
        )
    )


def check_download_format(value: str | None) -> str:
    return required_choice("format", value, PRODUCER_DOWNLOAD_FORMATS)


# -- Nuro (§9) -----------------------------------------------------------------------------


def build_nuro_vocal(
    *,
    lyrics: str | None,
    duration: int,
    genre: str | None,
    mood: str | None,
    gender: str | None,
    timbre: str | None,
) -> NuroVocal:
    """`/nuro vocal`: a sung song of exactly `duration` seconds."""
    return checked(
        NuroVocal(
            lyrics=required_text("lyrics", lyrics, MAX_LYRICS),
            duration=whole("duration", duration, *VOCAL_DURATION_S),
            genre=choice("genre", genre, NURO_VOCAL_GENRES) or NURO_VOCAL_DEFAULTS["genre"],
            mood=choice("mood", mood, NURO_VOCAL_MOODS) or NURO_VOCAL_DEFAULTS["mood"],
            gender=choice("gender", gender, NURO_GENDERS) or NURO_VOCAL_DEFAULTS["gender"],
            timbre=choice("timbre", timbre, NURO_TIMBRES) or NURO_VOCAL_DEFAULTS["timbre"],
        )
    )


def build_nuro_bgm(
    *,
    description: str | None,
    duration: int,
    genre: str | None,
    mood: str | None,
    instrument: str | None,
) -> NuroBgm:
    """`/nuro instrumental`: background music of exactly `duration` seconds; genre, mood and
    instrument each take up to five comma-separated values from Nuro's lists."""
    return checked(
        NuroBgm(
            description=required_text("description", description),
            duration=whole("duration", duration, *BGM_DURATION_S),
            genre=choice_list("genre", genre, NURO_BGM_GENRES, MAX_BGM_TAGS),
            mood=choice_list("mood", mood, NURO_BGM_MOODS, MAX_BGM_TAGS),
            instrument=choice_list("instrument", instrument, NURO_BGM_INSTRUMENTS, MAX_BGM_TAGS),
        )
    )


# -- Riffusion (§6) and Studio (§8) ----------------------------------------------------------


def build_riffusion(
    *,
    description: str | None,
    lyrics: str | None,
    sound: str | None,
    title: str | None,
    instrumental: bool,
    model: str | None,
) -> RiffusionCreate:
    """`/riffusion create`: from a description (lyrics written for you) or from your lyrics."""
    about = optional_text("description", description, RIFFUSION_PROMPT_MAX)
    words = optional_text("lyrics", lyrics, RIFFUSION_LYRICS_MAX)
    if about is not None and words is not None:
        raise InputError("lyrics", "cannot be combined with `description`; give one of them.")
    if words is not None and instrumental:
        raise InputError("instrumental", "cannot be used with `lyrics`, which are sung.")
    if about is None and words is None and not instrumental:
        raise InputError("description", "is empty, and so is `lyrics`; give one of them.")
    return checked(
        RiffusionCreate(
            task_type="create_music",
            # Description mode writes lyrics from `prompt`; custom mode sings `lyrics` (or
            # nothing, for an instrumental without a description).
            custom_mode=about is None,
            prompt=about,
            lyrics=words,
            sound=optional_text("sound", sound, RIFFUSION_PROMPT_MAX),
            title=optional_text("title", title),
            make_instrumental=True if instrumental else None,
            mv=choice("model", model, RIFFUSION_MODELS),
        ),
        {"prompt": "description", "mv": "model"},
    )


def build_studio(*, style: str | None, lyrics: str | None, instrumental: bool) -> StudioCreate:
    """`/studio create`: §8's three one-shot uses, chosen by what the member gave: lyrics
    (`user`), instrumental, or neither (`generate`: lyrics written from the style)."""
    words = optional_text("lyrics", lyrics)
    if words is not None and instrumental:
        raise InputError("instrumental", "cannot be used with `lyrics`, which are sung.")
    kind = "user" if words is not None else "instrumental" if instrumental else "generate"
    return checked(
        StudioCreate(
            lyrics_type=kind,
            prompt=required_text("style", style),
            lyrics=words,
            model_type=STUDIO_MODEL,
        ),
        {"prompt": "style"},
    )
