"""MusicAPI answers are read up to MAX_RESPONSE_BYTES: a longer body, with or without a length,
is not read and is handled like one that could not be read (a MalformedResponseError), never a
crash or a body held whole in memory."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable

import pytest
from aiohttp import web

from bot.musicapi import transport
from bot.musicapi.client import MusicAPIClient
from bot.musicapi.errors import MalformedResponseError, ServerError

from .conftest import ReplayServer

ClientFactory = Callable[..., MusicAPIClient]
CAP = 4096


@pytest.fixture(autouse=True)
def small_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(transport, "MAX_RESPONSE_BYTES", CAP)


@pytest.fixture
def client(replay: ReplayServer, make_client: ClientFactory) -> MusicAPIClient:
    return make_client(replay.base_url + "/", max_retries=0)


def _credits_body(padding: int) -> dict[str, object]:
    return {"type": "credits", "credits": 120, "extra_credits": 0, "pad": "x" * padding}


async def test_an_answer_under_the_cap_is_read(
    replay: ReplayServer, client: MusicAPIClient
) -> None:
    replay.reply(200, _credits_body(CAP // 2))
    assert (await client.get_credits()).credits == 120


async def test_a_success_over_the_cap_is_a_malformed_answer(
    replay: ReplayServer, client: MusicAPIClient
) -> None:
    replay.reply(200, _credits_body(CAP * 4))  # valid JSON, only too long
    with pytest.raises(MalformedResponseError):
        await client.get_credits()
    with pytest.raises(MalformedResponseError):
        await client.get_task("t")


async def test_an_error_over_the_cap_keeps_its_status(
    replay: ReplayServer, client: MusicAPIClient
) -> None:
    replay.reply(500, {"message": "x" * (CAP * 4)})
    with pytest.raises(ServerError) as info:
        await client.get_credits()
    assert "x" * 100 not in str(info.value)


@pytest.fixture
async def chunked_base_url() -> AsyncIterator[str]:
    """Answers an endless-looking chunked JSON body with no Content-Length."""

    async def handle(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        head = json.dumps(_credits_body(0))[:-1] + ', "more": "'
        await response.write(head.encode())
        for _ in range(64):
            await response.write(b"y" * 1024)
        await response.write(b'"}')
        await response.write_eof()
        return response

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    await runner.cleanup()


async def test_a_chunked_body_is_cut_off_at_the_cap(
    chunked_base_url: str, make_client: ClientFactory
) -> None:
    client = make_client(chunked_base_url + "/", max_retries=0)
    with pytest.raises(MalformedResponseError):
        await client.get_credits()
