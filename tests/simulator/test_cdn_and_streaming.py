"""CDN fault knobs on the simulator's file URLs, and the stream URL of a streaming clip."""

from __future__ import annotations

import io
import math
import time
import wave
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from bot.simulator import MusicAPISimulator
from tests.helpers import Clock
from tests.simulator.conftest import Sim

AUTH = {"Authorization": "Bearer k"}
DESCRIBE = {"custom_mode": False, "mv": "sonic-v5", "gpt_description_prompt": "a calm tune"}




@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


async def poll(session: aiohttp.ClientSession, sim: MusicAPISimulator, task_id: str) -> Any:
    url = f"{sim.base_url}/api/v1/sonic/task/{task_id}"
    async with session.get(url, headers=AUTH) as resp:
        assert resp.status == 200
        return await resp.json()


async def song(session: aiohttp.ClientSession, sim: MusicAPISimulator, clock: Clock) -> Any:
    """A finished song's two clips, as the poll shows them."""
    async with session.post(
        f"{sim.base_url}/api/v1/sonic/create", json=DESCRIBE, headers=AUTH
    ) as resp:
        task_id = (await resp.json())["task_id"]
    clock.now += 20
    return (await poll(session, sim, task_id))["data"]


async def fetch(session: aiohttp.ClientSession, url: str) -> int:
    async with session.get(url) as resp:
        await resp.read()
        return resp.status


async def test_each_file_fails_its_first_fetches_then_is_served(
    make_sim: Sim, session: aiohttp.ClientSession
) -> None:
    clock = Clock()
    sim = await make_sim(clock=clock, cdn_failures=2)
    first, second = await song(session, sim, clock)
    assert [await fetch(session, first["audio_url"]) for _ in range(3)] == [503, 503, 200]
    # Counted per file: the other clip's audio and the cover art start their own count.
    assert await fetch(session, second["audio_url"]) == 503
    assert [await fetch(session, first["image_url"]) for _ in range(3)] == [503, 503, 200]
    async with session.get(first["audio_url"]) as resp:
        with wave.open(io.BytesIO(await resp.read())) as w:
            assert w.getnframes() > 0


async def test_an_outage_fails_every_fetch_with_the_chosen_status(
    make_sim: Sim, session: aiohttp.ClientSession
) -> None:
    clock = Clock()
    sim = await make_sim(clock=clock, cdn_always_fail=True, cdn_failure_status=502)
    clip, _ = await song(session, sim, clock)
    assert [await fetch(session, clip["audio_url"]) for _ in range(5)] == [502] * 5
    sim.config.cdn_always_fail = False  # knobs are live: the CDN recovers
    assert await fetch(session, clip["audio_url"]) == 200


async def test_faults_hit_only_the_chosen_kinds(
    make_sim: Sim, session: aiohttp.ClientSession
) -> None:
    clock = Clock()
    sim = await make_sim(clock=clock, cdn_always_fail=True, cdn_fault_kinds=frozenset({"audio"}))
    clip, _ = await song(session, sim, clock)
    assert await fetch(session, clip["audio_url"]) == 503
    assert await fetch(session, clip["image_url"]) == 200


async def test_a_failing_fetch_can_hang_first(
    make_sim: Sim, session: aiohttp.ClientSession
) -> None:
    clock = Clock()
    sim = await make_sim(clock=clock, cdn_failures=1, cdn_hang_s=0.3)
    clip, _ = await song(session, sim, clock)
    started = time.monotonic()
    assert await fetch(session, clip["audio_url"]) == 503
    assert time.monotonic() - started >= 0.3
    assert await fetch(session, clip["audio_url"]) == 200


async def test_a_hung_cdn_never_answers(make_sim: Sim, session: aiohttp.ClientSession) -> None:
    clock = Clock()
    sim = await make_sim(clock=clock, cdn_always_fail=True, cdn_hang_s=math.inf)
    clip, _ = await song(session, sim, clock)
    with pytest.raises(TimeoutError):
        async with session.get(clip["audio_url"], timeout=aiohttp.ClientTimeout(total=0.5)):
            pass
    started = time.monotonic()
    await sim.stop()  # a hung fetch does not hold up shutdown
    assert time.monotonic() - started < 5


async def test_api_calls_are_not_touched(make_sim: Sim, session: aiohttp.ClientSession) -> None:
    clock = Clock()
    sim = await make_sim(clock=clock, cdn_always_fail=True)
    clips = await song(session, sim, clock)  # create and poll answer normally
    assert [c["state"] for c in clips] == ["succeeded", "succeeded"]


async def test_a_streaming_clip_plays_from_its_own_stream_url(
    make_sim: Sim, session: aiohttp.ClientSession
) -> None:
    clock = Clock()
    sim = await make_sim(clock=clock)
    async with session.post(
        f"{sim.base_url}/api/v1/sonic/create", json=DESCRIBE, headers=AUTH
    ) as resp:
        task_id = (await resp.json())["task_id"]
    clock.now += 6.5  # the first clip streams, the second still renders
    streaming, running = (await poll(session, sim, task_id))["data"]
    assert (streaming["state"], running["state"]) == ("streaming", "running")
    assert running["audio_url"] == "" and streaming["duration"] is None
    stream_url = streaming["audio_url"]
    async with session.get(stream_url) as resp:
        assert resp.status == 200 and resp.content_type == "audio/wav"
        with wave.open(io.BytesIO(await resp.read())) as w:
            assert w.getnframes() > 0  # playable now
    clock.now += 10
    final, _ = (await poll(session, sim, task_id))["data"]
    assert final["state"] == "succeeded"
    assert final["audio_url"] != stream_url and final["audio_url"].endswith(
        f"/files/{final['clip_id']}.wav"
    )
