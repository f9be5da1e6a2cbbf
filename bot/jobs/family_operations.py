"""Producer, Nuro, Riffusion and Studio jobs (docs/musicapi/protocol.md §6–§9) as `Operation`s.

The options are checked and the requests built in `bot.validation.families`, before anything
is reserved; the factories here turn a checked request into an `Operation`, so every family
takes the same reserve → submit → poll → deliver path as `/song`.
"""

from __future__ import annotations

from typing import Any, Protocol

from bot.jobs.operations import Operation, Submit
from bot.markdown import Markdown
from bot.musicapi.client import MusicAPIClient
from bot.musicapi.errors import GoneError
from bot.musicapi.families.nuro import NuroBgm, NuroVocal
from bot.musicapi.families.producer import ProducerCreate
from bot.musicapi.families.riffusion import RiffusionCreate
from bot.musicapi.families.studio import StudioCreate
from bot.states import Family

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
    # Retired before (docs/musicapi/open-questions.md E.24) and re-enabled 2026-05-20; §7 suggests
    # replace.
    "producer_cover": "Producer covers are switched off upstream (410 Gone). Try "
    "`/producer replace` on part of the song instead.",
    "producer_download": "Producer downloads are switched off upstream (410 Gone).",
}


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
    name: str, family: Family, request: _Request, summary: Markdown, send: Submit, gone: str
) -> Operation:
    return Operation(name, family, request.to_body(), summary, _explaining_gone(gone, send))


def _producer(name: str, request: ProducerCreate, summary: Markdown, send: Submit) -> Operation:
    """`name` is both the cost-table key and the key of its 410 text."""
    return _operation(name, Family.PRODUCER, request, summary, send, GONE_TEXTS[name])


def producer_create(request: ProducerCreate, summary: Markdown) -> Operation:
    async def send(client: MusicAPIClient) -> str:
        return await client.producer_create(request)

    return _producer("producer_create", request, summary, send)


def producer_extend(request: ProducerCreate, summary: Markdown) -> Operation:
    async def send(client: MusicAPIClient) -> str:
        return await client.producer_extend(request)

    return _producer("producer_extend", request, summary, send)


def producer_replace(request: ProducerCreate, summary: Markdown) -> Operation:
    async def send(client: MusicAPIClient) -> str:
        return await client.producer_replace(request)

    return _producer("producer_replace", request, summary, send)


def producer_cover(request: ProducerCreate, summary: Markdown) -> Operation:
    async def send(client: MusicAPIClient) -> str:
        return await client.producer_cover(request)

    return _producer("producer_cover", request, summary, send)


def producer_download(clip_id: str, file_format: str, summary: Markdown) -> Operation:
    """Its result is a file URL (`job.result["files"]`), not a clip."""

    async def send(client: MusicAPIClient) -> str:
        return await client.producer_download(clip_id, file_format)

    body = {"clip_id": clip_id, "format": file_format}
    gone = GONE_TEXTS["producer_download"]
    explained = _explaining_gone(gone, send)
    return Operation("producer_download", Family.PRODUCER, body, summary, explained)


def nuro_vocal(request: NuroVocal, summary: Markdown) -> Operation:
    async def send(client: MusicAPIClient) -> str:
        return await client.nuro_vocal(request)

    return _operation("nuro", Family.NURO, request, summary, send, GONE_TEXTS["nuro"])


def nuro_bgm(request: NuroBgm, summary: Markdown) -> Operation:
    async def send(client: MusicAPIClient) -> str:
        return await client.nuro_bgm(request)

    return _operation("nuro", Family.NURO, request, summary, send, GONE_TEXTS["nuro"])


def riffusion_create(request: RiffusionCreate, summary: Markdown) -> Operation:
    async def send(client: MusicAPIClient) -> str:
        return await client.riffusion_create(request)

    gone = GONE_TEXTS["riffusion"]
    return _operation("riffusion", Family.RIFFUSION, request, summary, send, gone)


def studio_create(request: StudioCreate, summary: Markdown) -> Operation:
    async def send(client: MusicAPIClient) -> str:
        return await client.studio_create(request)

    return _operation("studio", Family.STUDIO, request, summary, send, GONE_TEXTS["studio"])


_PRODUCER_SENDERS = {
    "producer_create": producer_create,
    "producer_extend": producer_extend,
    "producer_replace": producer_replace,
    "producer_cover": producer_cover,
}


PRODUCER_REPEATABLE = frozenset(_PRODUCER_SENDERS)


def producer_repeat(name: str, body: dict[str, Any], summary: Markdown) -> Operation | None:
    """The same Producer song request once more, from a job's stored body; None for the
    Producer operations that make no song (upload, download)."""
    build = _PRODUCER_SENDERS.get(name)
    return build(ProducerCreate(**body), summary) if build is not None else None
