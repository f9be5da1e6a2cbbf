"""Songs delivered while MusicAPI's file server answers with something else than the file: an
HTML page where the audio should be, or a redirect to another local port (standing for the
bot's own metrics port). Nothing of it is attached, nothing is fetched from the other port, and
the message says why."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from bot.delivery.media import REFUSED_NOTE, WRONG_TYPE_NOTE
from bot.simulator import SimulatorConfig
from tests.e2e.conftest import MakeWorld
from tests.e2e.test_tools import made_song, reply, tool

AUDIO_EXTENSIONS = (".mp3", ".wav", ".ogg", ".flac", ".m4a", ".webm")


def audio_attachments(message: dict[str, Any]) -> list[str]:
    return [
        a["filename"] for a in message["attachments"] if a["filename"].endswith(AUDIO_EXTENSIONS)
    ]


@pytest.fixture
async def metrics_port() -> AsyncIterator[tuple[int, list[str]]]:
    """Another loopback port, and the paths it was asked for (it must be asked for none)."""
    seen: list[str] = []

    async def handle(request: web.Request) -> web.Response:
        seen.append(request.path)
        return web.Response(text="musicbot_info 1\n")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    yield runner.addresses[0][1], seen
    await runner.cleanup()


async def test_a_text_page_for_the_audio_is_never_posted_as_a_song(make_world: MakeWorld) -> None:
    config = SimulatorConfig(
        generation_time=0.6, cdn_serves_text=True, cdn_fault_kinds=frozenset({"audio", "image"})
    )
    async with make_world(sim_config=config) as world:
        await world.song(description="through a hostile CDN")
        messages = await world.clip_messages(2)
        assert len(messages) == 2
        for message in messages:
            assert message["attachments"] == []  # neither the page as .mp3 nor as a cover
            assert WRONG_TYPE_NOTE in message["content"]
        assert any(path.endswith(".wav") for path in world.sim.file_requests)  # it was asked


async def test_a_redirect_to_another_local_port_is_not_followed(
    make_world: MakeWorld, metrics_port: tuple[int, list[str]]
) -> None:
    port, seen = metrics_port
    config = SimulatorConfig(
        generation_time=0.6,
        cdn_redirect_to=f"http://127.0.0.1:{port}/metrics",
        cdn_fault_kinds=frozenset({"audio", "image"}),
    )
    async with make_world(sim_config=config) as world:
        await world.song(description="through a redirecting CDN")
        messages = await world.clip_messages(2)
        assert len(messages) == 2
        for message in messages:
            assert audio_attachments(message) == []
            assert not any(a["filename"].startswith("cover-") for a in message["attachments"])
            assert REFUSED_NOTE in message["content"]
            assert "musicbot_info" not in message["content"]
    assert seen == []


async def test_a_tool_file_that_is_not_audio_is_linked_not_attached(make_world: MakeWorld) -> None:
    async with make_world(sim_config=SimulatorConfig(generation_time=0.2)) as world:
        clip_id = await made_song(world)
        world.sim.config.cdn_serves_text = True
        message = await reply(await tool(world, "wav", clip=clip_id))
        assert message["attachments"] == []
        assert WRONG_TYPE_NOTE in message["content"]
        assert f"/files/{clip_id}.wav" in message["content"]
