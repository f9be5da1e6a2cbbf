"""The Nuro family (docs/musicapi/protocol.md §9): request builders, routes, poll path and parsers.

Requests are a vocal song or a BGM track, with the documented enums and duration ranges checked
locally (``ValueError`` names the field). Two things the docs leave open
(docs/musicapi/open-questions.md E.26) are settled so that the body is valid under either reading: a
v2.0 BGM with ``segments`` and no ``duration`` is sent with ``duration`` set to the segments' sum,
and a ``duration`` that differs from that sum is refused. The v2.0 duration range is not documented
(the example uses 90, above v1's 60); it is allowed up to 240 s, the longest Nuro duration
documented anywhere.

Nuro polls as a flat object with ``progress`` (docs/musicapi/protocol.md §2.4). Like every family it
also gets the shared answers of ``control_status`` (202 / ``not_ready`` / a ``type`` failure body):
the docs do not rule them out and a gateway in front of all of them may send them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from bot.states import Family

from ..models import Clip, TaskStatus, control_status, parse_progress
from ..request_checks import check_choice, check_max_len, check_number, is_missing
from ..transport import Transport
from .common import empty_success, failed_status, unexpected
from .spec import FamilySpec

__all__ = [
    "NURO_BGM_GENRES",
    "NURO_BGM_INSTRUMENTS",
    "NURO_BGM_MOODS",
    "NURO_BGM_THEMES",
    "NURO_GENDERS",
    "NURO_SEGMENT_NAMES",
    "NURO_TIMBRES",
    "NURO_VERSION_2",
    "NURO_VOCAL_GENRES",
    "NURO_VOCAL_MOODS",
    "SPEC",
    "NuroBgm",
    "NuroEndpoints",
    "NuroSegment",
    "NuroVocal",
    "nuro_status",
]

NURO_GENDERS = ("Female", "Male")
NURO_VOCAL_GENRES = (
    "Folk", "Pop", "Rock", "Chinese Style", "Hip Hop/Rap", "R&B/Soul", "Punk", "Electronic",
    "Jazz", "Reggae", "DJ", "Pop Punk", "Disco", "Future Bass", "Pop Rap", "Trap Rap", "R&B Rap",
    "Chinoiserie Electronic", "GuFeng Music", "Pop Rock", "Jazz Pop", "Bossa Nova",
    "Contemporary R&B",
)  # fmt: skip
NURO_VOCAL_MOODS = (
    "Happy", "Dynamic/Energetic", "Sentimental/Melancholic/Lonely", "Inspirational/Hopeful",
    "Nostalgic/Memory", "Excited", "Sorrow/Sad", "Chill", "Romantic", "Miss", "Groovy/Funky",
    "Dreamy/Ethereal", "Calm/Relaxing",
)  # fmt: skip
NURO_TIMBRES = (
    "Warm", "Bright", "Husky", "Electrified voice", "Sweet_AUDIO_TIMBRE", "Cute_AUDIO_TIMBRE",
    "Loud and sonorous", "Powerful", "Sexy/Lazy",
)  # fmt: skip
NURO_BGM_GENRES = (
    "corporate", "dance/edm", "orchestral", "chill out", "rock", "hip hop", "folk", "funk",
    "ambient", "holiday", "jazz", "kids", "world", "travel", "commercial", "advertising",
    "driving", "cinematic", "upbeat", "epic", "inspiring", "business", "video game", "dark",
    "pop", "trailer", "modern", "electronic", "documentary", "soundtrack", "fashion", "acoustic",
    "movie", "tv", "high tech", "industrial", "dance", "video", "vlog", "marketing", "game",
    "radio", "promotional", "sports", "party", "summer", "beauty",
)  # fmt: skip
NURO_BGM_MOODS = (
    "positive", "uplifting", "energetic", "happy", "bright", "optimistic", "hopeful", "cool",
    "dreamy", "fun", "light", "powerful", "calm", "confident", "joyful", "dramatic", "peaceful",
    "playful", "soft", "groovy", "reflective", "easy", "relaxed", "lively", "smooth", "romantic",
    "intense", "elegant", "mellow", "emotional", "sentimental", "cheerful happy", "contemplative",
    "soothing", "proud", "passionate", "sweet", "mystical", "tranquil", "cheerful", "casual",
    "beautiful", "ethereal", "melancholy", "sad", "aggressive", "haunting", "adventure",
    "serene", "sincere", "funky", "funny",
)  # fmt: skip
NURO_BGM_INSTRUMENTS = (
    "piano", "drums", "guitar", "percussion", "synth", "electric guitar", "acoustic guitar",
    "bass guitar", "brass", "violin", "cello", "flute", "organ", "trumpet", "ukulele",
    "saxophone", "double bass", "harp", "glockenspiel", "synthesizer", "keyboard", "marimba",
    "bass", "banjo", "strings",
)  # fmt: skip
NURO_BGM_THEMES = (
    "inspirational", "motivational", "achievement", "discovery", "every day", "love",
    "technology", "lifestyle", "journey", "meditation", "drama", "children", "hope", "fantasy",
    "holiday", "health", "family", "real estate", "media", "kids", "science", "education",
    "progress", "world", "vacation", "training", "christmas", "sales",
)  # fmt: skip
NURO_SEGMENT_NAMES = ("intro", "verse", "chorus", "inst", "outro")
NURO_VERSION_2 = "v2.0"

VOCAL_DURATION_S = (30, 240)
BGM_DURATION_S = (1, 60)
BGM_V2_DURATION_S = (1, 240)
MAX_LYRICS = 2000
MAX_BGM_TAGS = 5


@dataclass(frozen=True, slots=True)
class NuroSegment:
    name: str
    duration: int


@dataclass(slots=True, kw_only=True)
class NuroVocal:
    """``type: "vocal"``: a sung song of exactly ``duration`` seconds (30–240)."""

    lyrics: str
    gender: str
    genre: str
    mood: str
    timbre: str
    duration: int

    def validate(self) -> None:
        if is_missing(self.lyrics):
            raise ValueError("lyrics is required for a Nuro vocal song")
        check_max_len("lyrics", self.lyrics, MAX_LYRICS)
        for name, allowed in (
            ("gender", NURO_GENDERS),
            ("genre", NURO_VOCAL_GENRES),
            ("mood", NURO_VOCAL_MOODS),
            ("timbre", NURO_TIMBRES),
        ):
            if getattr(self, name) is None:
                raise ValueError(f"{name} is required for a Nuro vocal song")
            check_choice(name, getattr(self, name), allowed)
        if self.duration is None:
            raise ValueError("duration is required for a Nuro vocal song")
        check_number("duration", self.duration, *VOCAL_DURATION_S, integer=True)

    def to_body(self) -> dict[str, Any]:
        self.validate()
        return {
            "type": "vocal",
            "lyrics": self.lyrics,
            "gender": self.gender,
            "genre": self.genre,
            "mood": self.mood,
            "timbre": self.timbre,
            "duration": int(self.duration),
        }


@dataclass(slots=True, kw_only=True)
class NuroBgm:
    """``type: "bgm"``: instrumental. v1: ``duration`` 1–60 (server default 60). v2.0:
    ``version="v2.0"`` plus ``segments`` that shape the track."""

    description: str
    duration: int | None = None
    genre: tuple[str, ...] = ()
    mood: tuple[str, ...] = ()
    instrument: tuple[str, ...] = ()
    theme: tuple[str, ...] = ()
    version: str | None = None
    segments: tuple[NuroSegment, ...] = ()

    def _checked_duration(self) -> int | None:
        if is_missing(self.description):
            raise ValueError("description is required for a Nuro BGM track")
        for name, allowed in (
            ("genre", NURO_BGM_GENRES),
            ("mood", NURO_BGM_MOODS),
            ("instrument", NURO_BGM_INSTRUMENTS),
            ("theme", NURO_BGM_THEMES),
        ):
            values = getattr(self, name)
            if isinstance(values, str) or not isinstance(values, tuple | list):
                raise ValueError(f"{name} must be a list of strings")
            if len(values) > MAX_BGM_TAGS:
                raise ValueError(f"{name} allows at most {MAX_BGM_TAGS} values; got {len(values)}")
            for value in values:
                check_choice(name, value, allowed)
        check_choice("version", self.version, (NURO_VERSION_2,))
        if self.version != NURO_VERSION_2:
            if self.segments:
                raise ValueError(f"segments need version {NURO_VERSION_2}")
            check_number("duration", self.duration, *BGM_DURATION_S, integer=True)
            return self.duration
        total = 0
        for segment in self.segments:
            check_choice("segments.name", segment.name, NURO_SEGMENT_NAMES)
            check_number("segments.duration", segment.duration, 0, integer=True, low_exclusive=True)
            total += int(segment.duration)
        duration = self.duration if self.duration is not None else (total or None)
        check_number("duration", duration, *BGM_V2_DURATION_S, integer=True)
        if self.segments and duration != total:
            raise ValueError(f"segments add up to {total} s but duration is {duration} s")
        return duration

    def validate(self) -> None:
        self._checked_duration()

    def to_body(self) -> dict[str, Any]:
        duration = self._checked_duration()
        body: dict[str, Any] = {"type": "bgm", "description": self.description}
        for name in ("genre", "mood", "instrument", "theme"):
            if getattr(self, name):
                body[name] = list(getattr(self, name))
        if duration is not None:
            body["duration"] = int(duration)
        if self.version is not None:
            body["version"] = self.version
        if self.segments:
            body["segments"] = [
                {"name": s.name, "duration": int(s.duration)} for s in self.segments
            ]
        return body


_NURO_STATES = ("pending", "running", "succeeded", "failed")


class NuroEndpoints(Transport):
    """The Nuro routes, mixed into ``MusicAPIClient``."""

    async def nuro_vocal(self, req: NuroVocal) -> str:
        """``POST /nuro/create`` with ``type: vocal``; poll family ``"nuro"``."""
        return await self._submit("/nuro/create", req.to_body())

    async def nuro_bgm(self, req: NuroBgm) -> str:
        """``POST /nuro/create`` with ``type: bgm`` (v1, or v2.0 with segments)."""
        return await self._submit("/nuro/create", req.to_body())

    async def get_nuro_task(self, task_id: str) -> TaskStatus:
        """Nuro's flat poll; ``TaskStatus.progress`` is its 0–100 ``progress``."""
        return await self._poll_with(SPEC.poll_path, task_id, SPEC.parse_result)


def nuro_status(
    task_id: str, http_status: int, body: Any, request_id: str | None = None
) -> TaskStatus:
    """``GET /nuro/task/{id}`` → flat ``{task_id, status, progress, audio_url, lyrics, ...}``.

    Nuro songs have no clip id, so the one song becomes a clip whose ``clip_id`` is the task id
    and whose ``tags`` are its genre and mood.
    """
    control = control_status(task_id, http_status, body, request_id)
    if control is not None:
        progress = body.get("progress") if isinstance(body, Mapping) else None
        return replace(control, progress=parse_progress(progress))
    raw_status = body.get("status")
    state = raw_status.strip().lower() if isinstance(raw_status, str) else None
    if state not in _NURO_STATES:
        raise unexpected(http_status, request_id)
    progress = parse_progress(body.get("progress"))
    if state == "succeeded":
        progress = 100
    extra: dict[str, Any] = {"request_id": request_id, "progress": progress}
    if state == "failed":
        return failed_status(task_id, body, "The Nuro task failed.", **extra)
    audio = body.get("audio_url")
    if not (isinstance(audio, str) and audio.strip()) and state != "succeeded":
        return TaskStatus(task_id=task_id, state=state, **extra)
    song_id = body.get("clip_id") or body.get("task_id") or task_id
    tags = ", ".join(
        str(body[key]) for key in ("genre", "mood") if isinstance(body.get(key), str | list)
    )
    clip = Clip.from_api(
        {**body, "clip_id": str(song_id), "state": state, "tags": tags, "mv": "nuro"}
    )
    if state == "succeeded" and not clip.is_usable:
        return empty_success(task_id, request_id, progress=progress)
    return TaskStatus(task_id=task_id, state=state, clips=(clip,), **extra)


SPEC = FamilySpec(
    family=Family.NURO,
    poll_path="/nuro/task",
    create_paths=("/nuro/create",),
    parse_result=nuro_status,
    parse_webhook=nuro_status,
)
