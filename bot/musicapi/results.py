"""Typed results of the synchronous Sonic utilities and of the one-shot upload endpoints.

Like ``models.py``, parsing is tolerant where the docs are vague (most of these shapes come from
the SDK and third-party notes, not verbatim docs) and strict where a missing field would leave
the caller with nothing usable: that raises ``MalformedResponseError``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import MalformedResponseError, StepFailedError
from .models import parse_duration

__all__ = [
    "AlignedWord",
    "BpmResult",
    "MidiInstrument",
    "MidiResult",
    "StepResult",
    "StepsResult",
    "VoxResult",
    "data_object",
]


def data_object(body: Any, what: str) -> Mapping[str, Any]:
    """The ``data`` object of a ``{code, data, message}`` envelope."""
    data = body.get("data") if isinstance(body, Mapping) else None
    if not isinstance(data, Mapping):
        raise MalformedResponseError(f"MusicAPI sent an unexpected {what} result.")
    return data


def _required_text(d: Mapping[str, Any], key: str, what: str) -> str:
    value = d.get(key)
    if not isinstance(value, str) or not value.strip():
        raise MalformedResponseError(f"MusicAPI sent a {what} result without '{key}'.")
    return value


def _required_number(d: Mapping[str, Any], key: str, what: str) -> float:
    number = parse_duration(d.get(key))  # int, float or decimal string, finite, >= 0
    if number is None:
        raise MalformedResponseError(f"MusicAPI sent a {what} result without '{key}'.")
    return number


def _optional_text(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


@dataclass(frozen=True, slots=True)
class BpmResult:
    avg: float
    max: float
    min: float

    @classmethod
    def from_api(cls, body: Any) -> BpmResult:
        data = data_object(body, "BPM")
        return cls(
            avg=_required_number(data, "avg_bpm", "BPM"),
            max=_required_number(data, "max_bpm", "BPM"),
            min=_required_number(data, "min_bpm", "BPM"),
        )


@dataclass(frozen=True, slots=True)
class VoxResult:
    """A vocal segment; pass ``vox_audio_id`` to ``create_persona``."""

    vox_audio_id: str
    status: str = ""
    source_clip_id: str | None = None
    vocal_start_s: float | None = None
    vocal_end_s: float | None = None
    # Documented only as opaque; kept as sent, out of hashing and comparison.
    wave_response: Any = field(default=None, compare=False, hash=False, repr=False)

    @classmethod
    def from_api(cls, body: Any) -> VoxResult:
        data = data_object(body, "VOX")
        status = data.get("status")
        return cls(
            vox_audio_id=_required_text(data, "vox_audio_id", "VOX"),
            status=status if isinstance(status, str) else "",
            source_clip_id=_optional_text(data.get("source_clip_id")),
            vocal_start_s=parse_duration(data.get("vocal_start_s")),
            vocal_end_s=parse_duration(data.get("vocal_end_s")),
            wave_response=data.get("wave_response"),
        )


@dataclass(frozen=True, slots=True)
class MidiInstrument:
    name: str
    # The note format is not documented ("notes:[…]"), so each note stays the dict it came as.
    notes: tuple[Mapping[str, Any], ...] = field(default=(), hash=False)


@dataclass(frozen=True, slots=True)
class MidiResult:
    midi_url: str
    instruments: tuple[MidiInstrument, ...] = ()

    @classmethod
    def from_api(cls, body: Any) -> MidiResult:
        data = data_object(body, "MIDI")
        instruments: list[MidiInstrument] = []
        raw = data.get("instruments")
        for item in raw if isinstance(raw, list) else []:
            if not isinstance(item, Mapping):
                raise MalformedResponseError("MusicAPI sent an unexpected MIDI result.")
            notes = item.get("notes")
            instruments.append(
                MidiInstrument(
                    name=name if isinstance(name := item.get("name"), str) else "",
                    notes=tuple(n for n in notes if isinstance(n, Mapping))
                    if isinstance(notes, list)
                    else (),
                )
            )
        return cls(
            midi_url=_required_text(data, "midi_url", "MIDI"), instruments=tuple(instruments)
        )


@dataclass(frozen=True, slots=True)
class AlignedWord:
    word: str  # as sent, trailing space included ("Stars ")
    start_s: float
    end_s: float
    p_align: float | None = None
    success: bool = True

    @classmethod
    def list_from_api(cls, body: Any) -> list[AlignedWord]:
        alignment = data_object(body, "lyrics timeline").get("alignment")
        if not isinstance(alignment, list):
            raise MalformedResponseError("MusicAPI sent an unexpected lyrics timeline result.")
        words: list[AlignedWord] = []
        for item in alignment:
            if not isinstance(item, Mapping) or not isinstance(item.get("word"), str):
                raise MalformedResponseError("MusicAPI sent an unexpected lyrics timeline result.")
            success = item.get("success")
            words.append(
                cls(
                    word=item["word"],
                    start_s=_required_number(item, "start_s", "lyrics timeline"),
                    end_s=_required_number(item, "end_s", "lyrics timeline"),
                    p_align=parse_duration(item.get("p_align")),
                    # Absent means the server did not flag it; only an explicit false is a miss.
                    success=success is not False,
                )
            )
        return words


@dataclass(frozen=True, slots=True)
class StepResult:
    success: bool
    clip_id: str | None = None
    task_id: str | None = None
    error: str | None = None

    @classmethod
    def from_api(cls, d: Any) -> StepResult:
        if not isinstance(d, Mapping):
            raise MalformedResponseError("MusicAPI sent an unexpected step result.")
        return cls(
            success=d.get("success") is True,
            clip_id=_optional_text(d.get("clip_id")),
            task_id=_optional_text(d.get("task_id")),
            error=_optional_text(d.get("error")),
        )


@dataclass(frozen=True, slots=True)
class StepsResult:
    """Answer of upload-extend / upload-cover / sample (docs/musicapi/protocol.md §3.2, §3.4).

    ``task_id`` is the Sonic task to poll. ``failed_step`` can still be set alongside a task id
    (a later, optional step failed); without a task id the client raises ``StepFailedError``.
    """

    task_id: str
    steps: Mapping[str, StepResult] = field(default_factory=dict, hash=False)
    failed_step: str | None = None

    @property
    def uploaded_clip_id(self) -> str | None:
        """The clip the upload step created (usable with the *_upload_music task types)."""
        upload = self.steps.get("upload")
        return upload.clip_id if upload is not None else None

    @classmethod
    def from_api(
        cls, body: Any, *, status: int | None = None, request_id: str | None = None
    ) -> StepsResult:
        if not isinstance(body, Mapping):
            raise MalformedResponseError("MusicAPI sent an unexpected response.")
        raw_steps = body.get("steps")
        steps = (
            {str(name): StepResult.from_api(step) for name, step in raw_steps.items()}
            if isinstance(raw_steps, Mapping)
            else {}
        )
        failed = _optional_text(body.get("failed_step"))
        # Top-level task_id per the docs; the SDK's step results carry it too, so fall back to
        # the last step that has one.
        task_id = _optional_text(body.get("task_id")) or next(
            (s.task_id for s in reversed(list(steps.values())) if s.task_id), None
        )
        if task_id is not None:
            return cls(task_id=task_id, steps=steps, failed_step=failed)
        if failed is None:
            raise MalformedResponseError(
                "MusicAPI accepted the request but sent no task id.",
                status=status,
                request_id=request_id,
            )
        step = steps.get(failed)
        message = body.get("message")
        text = (step.error if step is not None else None) or (
            message if isinstance(message, str) and message.strip().lower() != "success" else ""
        )
        upload = steps.get("upload")
        raise StepFailedError(
            text or f"MusicAPI could not complete the '{failed}' step.",
            step=failed,
            status=status,
            request_id=request_id,
            uploaded_clip_id=upload.clip_id if upload is not None else None,
        )
