"""Typed results parsed from MusicAPI responses.

Parsing is deliberately tolerant of what the docs leave open (docs/musicapi/open-questions.md A):
unknown fields are kept in ``Clip.raw``, ``duration`` may be a number or a decimal string, empty
URLs may be ``""`` or ``null``, and "not ready" may be a 202 or a 200 with pending clips.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from .errors import MalformedResponseError

__all__ = [
    "FAILURE_TYPES",
    "TASK_STATES",
    "Clip",
    "Credits",
    "LyricsDraft",
    "PersonaResult",
    "TaskFailure",
    "TaskStatus",
    "parse_duration",
    "parse_progress",
]

TASK_STATES = ("pending", "running", "streaming", "succeeded", "failed")
# Top-level ``type`` values on a 200 poll body that end the task (docs/musicapi/protocol.md §2.3);
# the last two are the Nuro catalogue's types, accepted so a shared gateway answering with them
# still ends the task instead of leaving it to time out.
FAILURE_TYPES = ("failed", "timeout", "forbidden", "api_error", "bad_request", "not_found")
# Keys of one auto_concat result pair (docs/musicapi/protocol.md §3.13): the edited part, then the
# stitched song.
PAIR_PART_KEYS = ("replaced", "extended")
PAIR_FULL_KEY = "full"


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _optional_text(value: Any) -> str | None:
    # Running clips show "" or null for URLs depending on the source; both mean "not yet".
    if isinstance(value, str) and value.strip():
        return value
    return None


def parse_progress(value: Any) -> int | None:
    """Percent 0–100 from Nuro's number or Studio's ``"100%"``; anything else is unknown."""
    if isinstance(value, str):
        value = value.strip().removesuffix("%")
    number = parse_duration(value)  # same tolerant number parsing
    if number is None:
        return None
    return min(100, round(number))


def parse_duration(value: Any) -> float | None:
    """Seconds from an int, float or decimal string ("104.88"); anything else is unknown."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    if not math.isfinite(number) or number < 0:
        return None
    return number


@dataclass(frozen=True, slots=True)
class Clip:
    clip_id: str
    state: str
    title: str = ""
    tags: str = ""
    lyrics: str = ""
    image_url: str | None = None
    audio_url: str | None = None
    video_url: str | None = None
    created_at: str | None = None
    mv: str | None = None
    duration: float | None = None
    gpt_description_prompt: str | None = None
    negative_tags: str | None = None
    # The whole upstream dict, so fields we do not model yet are not lost. Excluded from
    # comparison, hashing and repr: it is bulky and a dict is unhashable.
    raw: dict[str, Any] = field(default_factory=dict, compare=False, hash=False, repr=False)
    # Producer clips carry a lossless rendition next to the .m4a ``audio_url``.
    wav_url: str | None = None

    @classmethod
    def from_api(cls, d: Mapping[str, Any]) -> Clip:
        if not isinstance(d, Mapping):
            raise MalformedResponseError("A clip in the MusicAPI response is not an object.")
        clip_id = d.get("clip_id")
        if not isinstance(clip_id, str) or not clip_id.strip():
            raise MalformedResponseError("A clip in the MusicAPI response has no clip_id.")
        state = d.get("state")
        return cls(
            clip_id=clip_id,
            # The docs say values are lower-case; normalising costs nothing and protects the
            # aggregation below from a stray "Succeeded".
            state=state.strip().lower() if isinstance(state, str) and state.strip() else "pending",
            title=_text(d.get("title")),
            tags=_text(d.get("tags")),
            lyrics=_text(d.get("lyrics")),
            image_url=_optional_text(d.get("image_url")),
            audio_url=_optional_text(d.get("audio_url")),
            video_url=_optional_text(d.get("video_url")),
            created_at=_optional_text(d.get("created_at")),
            mv=_optional_text(d.get("mv")),
            duration=parse_duration(d.get("duration")),
            gpt_description_prompt=_optional_text(d.get("gpt_description_prompt")),
            negative_tags=_optional_text(d.get("negative_tags")),
            raw=dict(d),
            wav_url=_optional_text(d.get("wav_url")),
        )

    @property
    def is_usable(self) -> bool:
        return self.state == "succeeded" and bool(self.audio_url)


@dataclass(frozen=True, slots=True)
class PersonaResult:
    """A reusable voice: from ``POST /sonic/persona`` (sync) or a finished create-voice task."""

    persona_id: str
    name: str = ""

    @classmethod
    def from_api(cls, d: Any, name: str = "") -> PersonaResult:
        persona_id = d.get("persona_id") if isinstance(d, Mapping) else None
        if not isinstance(persona_id, str) or not persona_id.strip():
            raise MalformedResponseError("MusicAPI sent no persona id.")
        given = d.get("name")
        return cls(persona_id=persona_id, name=given if isinstance(given, str) and given else name)


@dataclass(frozen=True, slots=True)
class TaskFailure:
    kind: str  # failed | timeout | forbidden | api_error | clips_failed | not_found | ...
    message: str


@dataclass(frozen=True, slots=True)
class TaskStatus:
    """One poll of any task family, in one shape (see ``client.MusicAPIClient.poll``).

    ``clips`` are the deliverable songs (or stems: one clip per stem, named by ``title``).
    ``progress`` is 0–100 where the family reports it (Nuro, Studio), else ``None``.
    ``persona`` is set by a finished create-voice task, which has no clips.
    ``files`` lists every file URL of a Producer result (a download task's only output).
    ``parts`` are the edited sections of an ``auto_concat`` task; ``clips`` are then the full
    stitched songs.
    """

    task_id: str
    state: str  # one of TASK_STATES
    clips: tuple[Clip, ...] = ()
    failure: TaskFailure | None = None
    request_id: str | None = None
    progress: int | None = None
    persona: PersonaResult | None = None
    files: tuple[str, ...] = ()
    parts: tuple[Clip, ...] = ()

    @property
    def done(self) -> bool:
        return self.state in ("succeeded", "failed")

    @property
    def usable_clips(self) -> tuple[Clip, ...]:
        return tuple(clip for clip in self.clips if clip.is_usable)

    @classmethod
    def pending(cls, task_id: str, request_id: str | None = None) -> TaskStatus:
        return cls(task_id=task_id, state="pending", request_id=request_id)

    @classmethod
    def failed(
        cls, task_id: str, kind: str, message: str, request_id: str | None = None
    ) -> TaskStatus:
        return cls(
            task_id=task_id,
            state="failed",
            failure=TaskFailure(kind=kind, message=message),
            request_id=request_id,
        )

    @classmethod
    def from_clips(
        cls, task_id: str, clips: tuple[Clip, ...], request_id: str | None = None
    ) -> TaskStatus:
        """Aggregate per-clip states into one task state (docs/musicapi/protocol.md §2.3)."""
        if not clips:
            return cls.pending(task_id, request_id)
        finished = all(clip.state in ("succeeded", "failed") for clip in clips)
        states = {clip.state for clip in clips}
        if finished:
            if any(clip.is_usable for clip in clips):
                # Clips that failed alongside a usable one are simply not delivered.
                state = "succeeded"
            else:
                return cls(
                    task_id=task_id,
                    state="failed",
                    clips=clips,
                    failure=TaskFailure(
                        kind="clips_failed", message="MusicAPI could not finish any of the songs."
                    ),
                    request_id=request_id,
                )
        elif "streaming" in states:
            state = "streaming"
        elif "running" in states:
            state = "running"
        else:
            state = "pending"
        return cls(task_id=task_id, state=state, clips=clips, request_id=request_id)

    @classmethod
    def from_poll(
        cls, task_id: str, http_status: int, body: Any, request_id: str | None = None
    ) -> TaskStatus:
        """Interpret one successful (2xx) poll of ``GET /sonic/task/{id}``."""
        control = control_status(task_id, http_status, body, request_id)
        if control is not None:
            return control
        data = body.get("data")
        if isinstance(data, list):
            if any(_is_pair(item) for item in data):
                return cls._from_pairs(task_id, data, request_id)
            clips = tuple(Clip.from_api(item) for item in data)
            return cls.from_clips(task_id, clips, request_id)
        if data is None and "data" in body:
            # A null list while the upstream job has not produced clips yet.
            return cls.pending(task_id, request_id)
        if isinstance(data, Mapping) and "persona_id" in data:
            # create-voice: ``data`` is one object, not a clip list (docs/musicapi/protocol.md §2.3,
            # §3.15).
            persona = PersonaResult.from_api(data)
            return cls(task_id=task_id, state="succeeded", persona=persona, request_id=request_id)
        raise MalformedResponseError(
            "MusicAPI sent an unexpected task status.", status=http_status, request_id=request_id
        )

    @classmethod
    def _from_pairs(cls, task_id: str, data: list[Any], request_id: str | None) -> TaskStatus:
        """``auto_concat`` results: ``[{replaced|extended: clip, full: clip | null}, ...]``."""
        parts: list[Clip] = []
        fulls: list[Clip] = []
        waiting = False
        for item in data:
            if not _is_pair(item):
                raise MalformedResponseError("MusicAPI sent an unexpected task status.")
            for key in PAIR_PART_KEYS:
                if isinstance(item.get(key), Mapping):
                    parts.append(Clip.from_api(item[key]))
            full = item.get(PAIR_FULL_KEY)
            if isinstance(full, Mapping):
                fulls.append(Clip.from_api(full))
            else:
                waiting = True  # "full stays null while the concat step is still running"
        edited = cls.from_clips(task_id, tuple(parts), request_id)
        if edited.state == "failed":
            return replace(edited, clips=tuple(fulls), parts=tuple(parts))
        stitched = cls.from_clips(task_id, tuple(fulls), request_id)
        if not waiting and stitched.done:
            if stitched.state == "failed" and edited.usable_clips:
                # The concat step failed but the edit itself is deliverable.
                return cls(
                    task_id,
                    "succeeded",
                    edited.usable_clips,
                    request_id=request_id,
                    parts=tuple(parts),
                )
            return replace(stitched, parts=tuple(parts))
        # Not final yet; playable parts make it "streaming" (audio exists, not the final one).
        state = "streaming" if edited.usable_clips else edited.state
        if state == "succeeded":
            state = "streaming"
        return cls(task_id, state, tuple(fulls), request_id=request_id, parts=tuple(parts))


def _is_pair(item: Any) -> bool:
    return (
        isinstance(item, Mapping)
        and "clip_id" not in item
        and any(key in item for key in (*PAIR_PART_KEYS, PAIR_FULL_KEY))
    )


def failure_text(body: Mapping[str, Any]) -> str:
    """The human text of a failure body: ``error``, ``message``, then Nuro's ``description``."""
    for key in ("error", "message", "description", "fail_reason"):
        value = body.get(key)
        if isinstance(value, str) and value.strip() and value.strip().lower() != "success":
            return value.strip()
    return ""


def control_status(
    task_id: str, http_status: int, body: Any, request_id: str | None
) -> TaskStatus | None:
    """The answers every poll endpoint shares: 202 / ``type: not_ready`` (pending) and a
    ``type`` failure body. ``None`` means "look at the family's own shape"."""
    if http_status == 202:
        # Newest docs/SDK: 202 {"type": "not_ready"} while queued; the body is not needed.
        return TaskStatus.pending(task_id, request_id)
    if not isinstance(body, Mapping):
        raise MalformedResponseError(
            "MusicAPI sent an unexpected task status.",
            status=http_status,
            request_id=request_id,
        )
    kind = body.get("type")
    if kind == "not_ready":
        return TaskStatus.pending(task_id, request_id)
    if isinstance(kind, str) and kind in FAILURE_TYPES:
        text = failure_text(body)
        return TaskStatus.failed(
            task_id, kind, text or f"The task ended with '{kind}'.", request_id
        )
    return None


def _number(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise MalformedResponseError(f"MusicAPI sent an invalid '{name}' balance.")
    try:
        number = float(value)
    except ValueError:
        raise MalformedResponseError(f"MusicAPI sent an invalid '{name}' balance.") from None
    if not math.isfinite(number):
        raise MalformedResponseError(f"MusicAPI sent an invalid '{name}' balance.")
    return number


@dataclass(frozen=True, slots=True)
class Credits:
    credits: float
    extra_credits: float = 0.0

    @property
    def total(self) -> float:
        return self.credits + self.extra_credits

    @classmethod
    def from_api(cls, body: Any) -> Credits:
        if not isinstance(body, Mapping) or "credits" not in body:
            raise MalformedResponseError("MusicAPI sent an unexpected credit balance.")
        extra = body.get("extra_credits")
        return cls(
            credits=_number(body["credits"], "credits"),
            # Older pages show only "credits"; a missing pack balance means none.
            extra_credits=0.0 if extra is None else _number(extra, "extra_credits"),
        )


@dataclass(frozen=True, slots=True)
class LyricsDraft:
    title: str
    lyrics: str

    @classmethod
    def list_from_api(cls, body: Any) -> list[LyricsDraft]:
        results = body.get("results") if isinstance(body, Mapping) else None
        if not isinstance(results, list):
            raise MalformedResponseError("MusicAPI sent unexpected lyrics.")
        drafts: list[LyricsDraft] = []
        for item in results:
            if not isinstance(item, Mapping) or not isinstance(item.get("lyrics"), str):
                raise MalformedResponseError("MusicAPI sent unexpected lyrics.")
            drafts.append(cls(title=_text(item.get("title")), lyrics=item["lyrics"]))
        return drafts
