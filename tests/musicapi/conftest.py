"""Shared fixtures: a simulator factory, a replay server for fixture bodies, a client factory."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.musicapi.client import MusicAPIClient
from bot.simulator import MusicAPISimulator, SimulatorConfig

# Long and distinctive so a leak anywhere is easy to spot with a substring check.
TEST_KEY = "sk-test-7f3a9c1e5b2d4f60-DO-NOT-LEAK"


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


@pytest.fixture
async def make_sim() -> AsyncIterator[Callable[..., Any]]:
    """``await make_sim(generation_time=0.2, ...)`` -> a started simulator, stopped after."""
    started: list[MusicAPISimulator] = []

    async def factory(**config: Any) -> MusicAPISimulator:
        config.setdefault("generation_time", 0.2)
        config.setdefault("api_key", TEST_KEY)
        config.setdefault("seed", 7)  # repeatable ids, timings and faults
        sim = MusicAPISimulator(SimulatorConfig(**config))
        await sim.start()
        started.append(sim)
        return sim

    yield factory
    for sim in started:
        await sim.stop()


@pytest.fixture
def make_client(session: aiohttp.ClientSession) -> Callable[..., MusicAPIClient]:
    """A client with test-speed retry settings; keyword arguments override them."""

    def factory(base_url: str, api_key: str = TEST_KEY, **kwargs: Any) -> MusicAPIClient:
        kwargs.setdefault("backoff_base", 0.01)
        kwargs.setdefault("backoff_max", 0.05)
        kwargs.setdefault("request_timeout", 5.0)
        return MusicAPIClient(session, base_url, api_key, **kwargs)

    return factory


@dataclass
class ReplayServer:
    """Answers every request with one canned (status, body, headers) and records requests."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    seen: list[dict[str, Any]] = field(default_factory=list)
    base_url: str = ""

    def reply(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        self.status, self.body, self.headers = status, body, dict(headers or {})

    async def handle(self, request: web.Request) -> web.Response:
        raw = await request.read()
        self.seen.append(
            {
                "method": request.method,
                "path": request.path,
                "headers": dict(request.headers),
                "body": raw,
            }
        )
        if isinstance(self.body, str | bytes):
            body = self.body.encode() if isinstance(self.body, str) else self.body
            return web.Response(
                status=self.status, body=body, content_type="text/plain", headers=self.headers
            )
        return web.json_response(self.body, status=self.status, headers=self.headers)


@pytest.fixture
async def replay() -> AsyncIterator[ReplayServer]:
    server = ReplayServer()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", server.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    server.base_url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    yield server
    await runner.cleanup()
