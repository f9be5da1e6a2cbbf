"""What a job asks MusicAPI to do: the cost-table key, the family it is polled in, the body
kept in the job row, and the call that submits it. Commands build one and hand it to
`JobService`, so every operation takes the same reserve → submit → poll → deliver path."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from bot.musicapi.client import MusicAPIClient
from bot.musicapi.requests import SonicCreate

Submit = Callable[[MusicAPIClient], Awaitable[str]]


@dataclass(frozen=True, slots=True)
class Operation:
    name: str  # cost-table key, e.g. create_music, stems_basic
    family: str  # how its task is polled: sonic, producer, nuro, riffusion, studio
    body: dict[str, Any]  # what was asked, kept with the job
    summary: str  # what the member asked for, in words, for the job card
    send: Submit = field(repr=False)


def sonic_create(request: SonicCreate, summary: str) -> Operation:
    """Any `/sonic/create` task type; the cost follows the task type."""

    async def send(client: MusicAPIClient) -> str:
        return await client.create_music(request)

    return Operation(request.task_type, "sonic", request.to_body(), summary, send)


def stems(clip_id: str, mode: str, summary: str) -> Operation:
    async def send(client: MusicAPIClient) -> str:
        if mode == "full":
            return await client.stems_full(clip_id)
        return await client.stems_basic(clip_id)

    return Operation(f"stems_{mode}", "sonic", {"clip_id": clip_id}, summary, send)
