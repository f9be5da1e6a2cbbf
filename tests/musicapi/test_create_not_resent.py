"""A task-creating request is resent only when MusicAPI certainly did not take it.

A resent create that had in fact reached MusicAPI makes (and bills) a second task, so a timeout,
a dropped connection or a gateway's 502/504 page raises SubmitOutcomeUnknown after exactly one
request, while MusicAPI's own "no" (429, 500, 503) and a connection that never opened are
retried as before. Polls keep their retries.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from aiohttp import web

from bot.musicapi.client import MusicAPIClient
from bot.musicapi.errors import (
    RequestTimeoutError,
    ServerError,
    SubmitOutcomeUnknown,
    UnknownOutcome,
)
from bot.musicapi.families.sonic import SonicCreate

ClientFactory = Callable[..., MusicAPIClient]
REQ = SonicCreate(custom_mode=False, mv="sonic-v5", gpt_description_prompt="a road trip song")


class Upstream:
    """Answers with a scripted list of behaviours, one per request, and counts requests."""

    def __init__(self) -> None:
        self.script: list[Callable[[], Any]] = []
        self.creates = 0
        self.base_url = ""
        self.release = asyncio.Event()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        await request.read()
        self.creates += 1
        behaviour = self.script.pop(0) if self.script else _ok
        result = behaviour()
        if asyncio.iscoroutine(result):
            result = await result
        return result  # type: ignore[no-any-return]


def _ok() -> web.Response:
    return web.json_response({"message": "success", "task_id": "t-1"})


def _status(status: int, *, html: bool = False) -> Callable[[], web.Response]:
    def answer() -> web.Response:
        if html:
            return web.Response(
                status=status, text="<html>bad gateway</html>", content_type="text/html"
            )
        return web.json_response({"message": f"error {status}"}, status=status)

    return answer


@pytest.fixture
async def upstream() -> AsyncIterator[Upstream]:
    server = Upstream()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", server.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    server.base_url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    yield server
    server.release.set()
    await runner.cleanup()


@pytest.mark.parametrize("status", [502, 504])
async def test_a_gateway_error_page_is_not_resent(
    upstream: Upstream, make_client: ClientFactory, status: int
) -> None:
    upstream.script = [_status(status, html=True)]
    client = make_client(upstream.base_url, max_retries=3)
    with pytest.raises(SubmitOutcomeUnknown) as info:
        await client.create_music(REQ)
    assert upstream.creates == 1
    assert info.value.reason is UnknownOutcome.NO_ANSWER  # the gateway gave up waiting


async def test_a_create_that_times_out_is_sent_once(
    upstream: Upstream, make_client: ClientFactory
) -> None:
    async def hang() -> web.Response:
        await upstream.release.wait()
        return _ok()

    upstream.script = [hang]
    client = make_client(upstream.base_url, max_retries=3, request_timeout=0.3)
    with pytest.raises(SubmitOutcomeUnknown) as info:
        await client.create_music(REQ)
    assert upstream.creates == 1
    assert info.value.reason is UnknownOutcome.NO_ANSWER
    assert client.stats["create"] == 1


@pytest.mark.parametrize("status", [429, 500, 503])
async def test_musicapis_own_refusal_is_retried(
    upstream: Upstream, make_client: ClientFactory, status: int
) -> None:
    upstream.script = [_status(status), _status(status)]
    client = make_client(upstream.base_url, max_retries=3)
    assert await client.create_music(REQ) == "t-1"
    assert upstream.creates == 3


async def test_retries_end_in_the_usual_error_when_musicapi_keeps_refusing(
    upstream: Upstream, make_client: ClientFactory
) -> None:
    upstream.script = [_status(503)] * 4
    client = make_client(upstream.base_url, max_retries=3)
    with pytest.raises(ServerError):
        await client.create_music(REQ)
    assert upstream.creates == 4


async def test_a_connection_that_never_opened_is_retried(make_client: ClientFactory) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = make_client(f"http://127.0.0.1:{port}", max_retries=2)
    with pytest.raises(RequestTimeoutError):
        await client.create_music(REQ)
    assert client.stats["create"] == 3


async def test_polls_still_retry_a_gateway_error(
    upstream: Upstream, make_client: ClientFactory
) -> None:
    def task() -> web.Response:
        return web.json_response({"code": 200, "data": [], "message": "success"})

    upstream.script = [_status(502, html=True), task]
    client = make_client(upstream.base_url, max_retries=3)
    status = await client.get_task("t-1")
    assert status.task_id == "t-1"
    assert upstream.creates == 2
