"""Producer, Nuro, Riffusion and Studio jobs (REFERENCE §6–§9).

Two halves, like `bot/validation.py` + `bot/jobs/operations.py` for Sonic:

- `build_*` check what a member typed and raise `InputError` naming the option and the limit.
  They run before anything is reserved, so a refusal costs nothing and sends nothing upstream.
- the factories turn a checked request into an `Operation`, so every family takes the same
  reserve → submit → poll → deliver path as `/song`.

Only documented limits are enforced: where REFERENCE gives none (Producer's `sound`, Studio's
texts) the option is only required to be non-empty.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from bot.errors import InputError
from bot.jobs.operations import Operation, Submit
from bot.musicapi.client import MusicAPIClient
from bot.musicapi.errors import GoneError
from bot.musicapi.requests_legacy import RIFFUSION_MODELS, RiffusionCreate, StudioCreate
from bot.musicapi.requests_nuro import (
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
from bot.musicapi.requests_producer import (
    MAX_PRODUCER_LENGTH_S,
    PRODUCER_DOWNLOAD_FORMATS,
    ProducerCreate,
)
from bot.states import Family
from bot.store.clips import StoredClip

PRODUCER_TITLE_MAX = 80  # "title ≤ 80" (§7); the simulator and SDK accept exactly 80
RIFFUSION_LYRICS_MAX = 3000
RIFFUSION_PROMPT_MAX = 200  # description mode `prompt` and `sound` alike (§6)
# Nuro needs all four of these on a vocal song, but /nuro vocal makes them optional: a member
# who leaves one out gets the docs' own example value (nuro-create-request-vocal.json).
NURO_VOCAL_DEFAULTS = {"gender": "Female", "genre": "Pop", "mood": "Romantic", "timbre": "Warm"}
# Studio's 130-second model costs double (§8); the cost table prices one Studio job, so the bot
# only asks for the model it prices.
STUDIO_MODEL = "studio32-v1.5"
SHORT_LIST = 10  # a refusal names every allowed value when there are at most this many

# Which operations made a clip decides whether Producer can edit it (§7: only its own clips,
# and uploads take the *_upload_music task types).
PRODUCER_SONG_OPERATIONS = frozenset(
    {"producer_create", "producer_extend", "producer_replace", "producer_cover"}
)
PRODUCER_UPLOAD_OPERATION = "producer_upload"

# What a member reads when a family or task type answers 410 Gone. `refusal_text` prefixes
# "MusicAPI could not take the job:", and the credits-returned line follows.
GONE_TEXTS = {
    "nuro": "Nuro has been retired upstream (410 Gone). Try `/song create` for a sung song or "
    "`/producer create` for background music.",
    "riffusion": "Riffusion is no longer served upstream (410 Gone; it was deprecated). Try "
    "`/producer create` instead.",
    "studio": "Studio is no longer served upstream (410 Gone). Try `/song create` instead.",
    "producer_create": "Producer is switched off upstream (410 Gone). Try `/song create` instead.",
    # No Sonic alternative to suggest: Sonic cannot edit a Producer clip.
    "producer_extend": "Producer extensions are switched off upstream (410 Gone).",
    "producer_replace": "Producer section replacement is switched off upstream (410 Gone).",
    # Retired before (OPEN-QUESTIONS E.24) and re-enabled 2026-05-20; §7 suggests replace.
    "producer_cover": "Producer covers are switched off upstream (410 Gone). Try "
    "`/producer replace` on part of the song instead.",
    "producer_download": "Producer downloads are switched off upstream (410 Gone).",
}


# -- shared checks -------------------------------------------------------------------------


def _text(field: str, value: str | None, limit: int | None = None) -> str | None:
    """Stripped text, None when blank; refused past `limit` characters."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    if limit is not None and len(value) > limit:
        raise InputError(field, f"is {len(value)} characters; the limit is {limit}.")
    return value


def _required(field: str, value: str | None, limit: int | None = None) -> str:
    text = _text(field, value, limit)
    if text is None:
        raise InputError(field, "is required and cannot be empty.")
    return text


def _whole(field: str, value: int | None, low: int, high: int, unit: str = "seconds") -> int:
    if value is None or isinstance(value, bool) or not low <= value <= high:
        raise InputError(field, f"must be a whole number of {unit} from {low} to {high}.")
    return int(value)


def _choice(field: str, value: str | None, allowed: Iterable[str]) -> str | None:
    """The canonical spelling of `value` in `allowed` (case does not matter), or None."""
    if value is None or not value.strip():
        return None
    options = tuple(allowed)
    by_key = {option.casefold(): option for option in options}
    found = by_key.get(value.strip().casefold())
    if found is None:
        # Short lists are named in full; long ones (Nuro's genres) are in the option's list.
        where = ", ".join(options) if len(options) <= SHORT_LIST else "the option's list"
        raise InputError(field, f"`{value.strip()}` is not offered; choose from {where}.")
    return found


def tag_list(field: str, value: str | None, allowed: Iterable[str]) -> tuple[str, ...]:
    """A comma-separated list of documented values, at most `MAX_BGM_TAGS`, duplicates dropped."""
    if value is None:
        return ()
    chosen: list[str] = []
    for part in value.split(","):
        canonical = _choice(field, part, allowed)
        if canonical is not None and canonical not in chosen:
            chosen.append(canonical)
    if len(chosen) > MAX_BGM_TAGS:
        raise InputError(field, f"takes at most {MAX_BGM_TAGS} values; you gave {len(chosen)}.")
    return tuple(chosen)


def _checked_body(request: Any, aliases: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The request body; a builder's own `ValueError` (a rule checked nowhere above) still
    becomes an `InputError` naming the option, never a traceback."""
    try:
        return dict(request.to_body())
    except ValueError as error:
        text = str(error)
        field = text.split(" ", 1)[0]
        problem = text[len(field) :].strip() or "is not valid."
        raise InputError((aliases or {}).get(field, field), problem) from error


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
    return None if value is None else _whole("length", value, 1, MAX_PRODUCER_LENGTH_S)


def _moment(field: str, value: float, clip: StoredClip) -> float:
    if value < 0:
        raise InputError(field, "cannot be negative.")
    if clip.duration is not None and value > clip.duration:
        raise InputError(field, f"must be within the song's length ({clip.duration:g} seconds).")
    return round(float(value), 2)


def build_producer_create(
    *, lyrics: str | None, sound: str | None, title: str | None, length: int | None
) -> ProducerCreate:
    """`/producer create`: a new song from lyrics, a sound description, or both."""
    words, style = _text("lyrics", lyrics), _text("sound", sound)
    if words is None and style is None:
        raise InputError("lyrics", "is empty, and so is `sound`; give at least one of them.")
    request = ProducerCreate(
        task_type="create_music",
        lyrics=words,
        sound=style,
        title=_text("title", title, PRODUCER_TITLE_MAX),
        length=_length(length),
    )
    _checked_body(request)
    return request


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
    request = ProducerCreate(
        task_type="extend_upload_music" if uploaded else "extend_music",
        clip_id=clip.clip_id,
        starts_at=_moment("starts_at", starts_at, clip),
        instruction=_text("instruction", instruction),
        lyrics=_text("lyrics", lyrics),
        length=_length(length),
    )
    _checked_body(request)
    return request


def build_producer_replace(
    clip: StoredClip,
    *,
    uploaded: bool,
    starts_at: float,
    ends_at: float,
    instruction: str | None,
) -> ProducerCreate:
    """`/producer replace`: regenerate the window `starts_at`–`ends_at` of the song."""
    start = _moment("starts_at", starts_at, clip)
    if not ends_at > starts_at:
        raise InputError("ends_at", f"must be after `starts_at` ({starts_at:g} s).")
    request = ProducerCreate(
        task_type="replace_upload_music" if uploaded else "replace_music",
        clip_id=clip.clip_id,
        starts_at=start,
        ends_at=_moment("ends_at", ends_at, clip),
        instruction=_text("instruction", instruction),
    )
    _checked_body(request)
    return request


def build_producer_cover(
    clip: StoredClip, *, uploaded: bool, instruction: str | None, strength: float | None
) -> ProducerCreate:
    """`/producer cover`: the song redone; `strength` 0–1 is how far it may move away."""
    if strength is not None and not 0 <= strength <= 1:
        raise InputError("strength", "must be between 0 and 1.")
    request = ProducerCreate(
        task_type="cover_upload_music" if uploaded else "cover_music",
        clip_id=clip.clip_id,
        instruction=_text("instruction", instruction),
        strength=strength,
    )
    _checked_body(request)
    return request


def check_download_format(value: str) -> str:
    found = _choice("format", value, PRODUCER_DOWNLOAD_FORMATS)
    if found is None:
        raise InputError("format", f"must be one of {', '.join(PRODUCER_DOWNLOAD_FORMATS)}.")
    return found


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
    request = NuroVocal(
        lyrics=_required("lyrics", lyrics, MAX_LYRICS),
        duration=_whole("duration", duration, *VOCAL_DURATION_S),
        genre=_choice("genre", genre, NURO_VOCAL_GENRES) or NURO_VOCAL_DEFAULTS["genre"],
        mood=_choice("mood", mood, NURO_VOCAL_MOODS) or NURO_VOCAL_DEFAULTS["mood"],
        gender=_choice("gender", gender, NURO_GENDERS) or NURO_VOCAL_DEFAULTS["gender"],
        timbre=_choice("timbre", timbre, NURO_TIMBRES) or NURO_VOCAL_DEFAULTS["timbre"],
    )
    _checked_body(request)
    return request


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
    request = NuroBgm(
        description=_required("description", description),
        duration=_whole("duration", duration, *BGM_DURATION_S),
        genre=tag_list("genre", genre, NURO_BGM_GENRES),
        mood=tag_list("mood", mood, NURO_BGM_MOODS),
        instrument=tag_list("instrument", instrument, NURO_BGM_INSTRUMENTS),
    )
    _checked_body(request)
    return request


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
    about = _text("description", description, RIFFUSION_PROMPT_MAX)
    words = _text("lyrics", lyrics, RIFFUSION_LYRICS_MAX)
    if about is not None and words is not None:
        raise InputError("lyrics", "cannot be combined with `description`; give one of them.")
    if words is not None and instrumental:
        raise InputError("instrumental", "cannot be used with `lyrics`, which are sung.")
    if about is None and words is None and not instrumental:
        raise InputError("description", "is empty, and so is `lyrics`; give one of them.")
    request = RiffusionCreate(
        task_type="create_music",
        # Description mode writes lyrics from `prompt`; custom mode sings `lyrics` (or nothing,
        # for an instrumental without a description).
        custom_mode=about is None,
        prompt=about,
        lyrics=words,
        sound=_text("sound", sound, RIFFUSION_PROMPT_MAX),
        title=_text("title", title),
        make_instrumental=True if instrumental else None,
        mv=_choice("model", model, RIFFUSION_MODELS),
    )
    _checked_body(request, {"prompt": "description", "mv": "model"})
    return request


def build_studio(*, style: str | None, lyrics: str | None, instrumental: bool) -> StudioCreate:
    """`/studio create`: §8's three one-shot uses, chosen by what the member gave: lyrics
    (`user`), instrumental, or neither (`generate`: lyrics written from the style)."""
    words = _text("lyrics", lyrics)
    if words is not None and instrumental:
        raise InputError("instrumental", "cannot be used with `lyrics`, which are sung.")
    kind = "user" if words is not None else "instrumental" if instrumental else "generate"
    request = StudioCreate(
        lyrics_type=kind,
        prompt=_required("style", style),
        lyrics=words,
        model_type=STUDIO_MODEL,
    )
    _checked_body(request, {"prompt": "style"})
    return request


# -- operations ----------------------------------------------------------------------------


class _Request(Protocol):
    def to_body(self) -> dict[str, Any]: ...


def _explaining_gone(gone_text: str, send: Submit) -> Submit:
    """Submit with a 410 reworded for the member: which family is gone and what to use."""

    async def wrapped(client: MusicAPIClient) -> str:
        try:
            return await send(client)
        except GoneError as error:
            raise GoneError(gone_text, status=error.status, request_id=error.request_id) from error

    return wrapped


def _operation(
    name: str, family: Family, request: _Request, summary: str, send: Submit, gone: str
) -> Operation:
    return Operation(name, family, request.to_body(), summary, _explaining_gone(gone, send))


def _producer(name: str, request: ProducerCreate, summary: str, send: Submit) -> Operation:
    """`name` is both the cost-table key and the key of its 410 text."""
    return _operation(name, Family.PRODUCER, request, summary, send, GONE_TEXTS[name])


def producer_create(request: ProducerCreate, summary: str) -> Operation:
    async def send(client: MusicAPIClient) -> str:
        return await client.producer_create(request)

    return _producer("producer_create", request, summary, send)


def producer_extend(request: ProducerCreate, summary: str) -> Operation:
    async def send(client: MusicAPIClient) -> str:
        return await client.producer_extend(request)

    return _producer("producer_extend", request, summary, send)


def producer_replace(request: ProducerCreate, summary: str) -> Operation:
    async def send(client: MusicAPIClient) -> str:
        return await client.producer_replace(request)

    return _producer("producer_replace", request, summary, send)


def producer_cover(request: ProducerCreate, summary: str) -> Operation:
    async def send(client: MusicAPIClient) -> str:
        return await client.producer_cover(request)

    return _producer("producer_cover", request, summary, send)


def producer_download(clip_id: str, file_format: str, summary: str) -> Operation:
    """Its result is a file URL (`job.result["files"]`), not a clip."""

    async def send(client: MusicAPIClient) -> str:
        return await client.producer_download(clip_id, file_format)

    body = {"clip_id": clip_id, "format": file_format}
    gone = GONE_TEXTS["producer_download"]
    explained = _explaining_gone(gone, send)
    return Operation("producer_download", Family.PRODUCER, body, summary, explained)


def nuro_vocal(request: NuroVocal, summary: str) -> Operation:
    async def send(client: MusicAPIClient) -> str:
        return await client.nuro_vocal(request)

    return _operation("nuro", Family.NURO, request, summary, send, GONE_TEXTS["nuro"])


def nuro_bgm(request: NuroBgm, summary: str) -> Operation:
    async def send(client: MusicAPIClient) -> str:
        return await client.nuro_bgm(request)

    return _operation("nuro", Family.NURO, request, summary, send, GONE_TEXTS["nuro"])


def riffusion_create(request: RiffusionCreate, summary: str) -> Operation:
    async def send(client: MusicAPIClient) -> str:
        return await client.riffusion_create(request)

    gone = GONE_TEXTS["riffusion"]
    return _operation("riffusion", Family.RIFFUSION, request, summary, send, gone)


def studio_create(request: StudioCreate, summary: str) -> Operation:
    async def send(client: MusicAPIClient) -> str:
        return await client.studio_create(request)

    return _operation("studio", Family.STUDIO, request, summary, send, GONE_TEXTS["studio"])
