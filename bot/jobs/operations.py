"""What a job asks MusicAPI to do: the cost-table key, the family it is polled in, the body
kept in the job row, and the call that submits it. Commands build one and hand it to
`JobService`, so every operation takes the same reserve → submit → poll → deliver path."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from bot.markdown import Markdown
from bot.musicapi.client import MusicAPIClient
from bot.musicapi.errors import MalformedResponseError
from bot.musicapi.families.sonic import (
    SONIC_TASK_TYPES,
    Mashup,
    ReplaceSection,
    Sample,
    SonicCreate,
)
from bot.states import Family

Submit = Callable[[MusicAPIClient], Awaitable[str]]

STEM_MODES = ("basic", "full")
# The operations that split a clip into stems: made by `stems`, delivered as files, learned
# apart from songs.
STEM_OPERATIONS = frozenset(f"stems_{mode}" for mode in STEM_MODES)


def is_stems(operation: str) -> bool:
    """Whether a job's operation (its cost-table key) is a stem split."""
    return operation in STEM_OPERATIONS


@dataclass(frozen=True, slots=True)
class Operation:
    name: str  # cost-table key, e.g. create_music, stems_basic
    family: Family  # how its task is polled
    body: dict[str, Any]  # what was asked, kept with the job
    summary: Markdown  # what the member asked for, in words, for the job card
    send: Submit = field(repr=False)


def sonic_create(request: SonicCreate, summary: Markdown) -> Operation:
    """Any `/sonic/create` task type; the cost follows the task type."""

    async def send(client: MusicAPIClient) -> str:
        return await client.create_music(request)

    return Operation(request.task_type, Family.SONIC, request.to_body(), summary, send)


def stems(clip_id: str, mode: str, summary: Markdown) -> Operation:
    async def send(client: MusicAPIClient) -> str:
        if mode == "full":
            return await client.stems_full(clip_id)
        return await client.stems_basic(clip_id)

    return Operation(f"stems_{mode}", Family.SONIC, {"clip_id": clip_id}, summary, send)


def replace_section(request: ReplaceSection, summary: Markdown) -> Operation:
    async def send(client: MusicAPIClient) -> str:
        return await client.replace_section(request)

    return Operation("replace_section", Family.SONIC, request.to_body(), summary, send)


def mashup(request: Mashup, summary: Markdown) -> Operation:
    async def send(client: MusicAPIClient) -> str:
        return await client.mashup(request)

    return Operation("mashup", Family.SONIC, request.to_body(), summary, send)


def sample(request: Sample, summary: Markdown) -> Operation:
    async def send(client: MusicAPIClient) -> str:
        result = await client.sample(request)
        if not result.task_id:  # every step succeeded but no task came back: treat as refused
            raise MalformedResponseError("MusicAPI accepted the sample but returned no task.")
        return result.task_id

    return Operation("sample", Family.SONIC, request.to_body(), summary, send)


def create_voice(audio_url: str, summary: Markdown) -> Operation:
    """A persona cloned from a recording; the finished task holds the persona, not clips."""

    async def send(client: MusicAPIClient) -> str:
        return await client.create_voice(audio_url)

    return Operation("create_voice", Family.SONIC, {"audio_url": audio_url}, summary, send)


def sonic_repeat(name: str, body: dict[str, Any], summary: Markdown) -> Operation | None:
    """The same `/sonic/create` request once more, from a job's stored body; None when the
    operation was not a `/sonic/create` task (those are not repeated from their body)."""
    if name not in SONIC_TASK_TYPES:
        return None
    return sonic_create(SonicCreate(**body), summary)
