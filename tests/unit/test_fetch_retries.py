"""Fetching a result file: passing CDN errors are retried within a time budget, and a link's
note gives the true reason (too large, or temporarily unavailable).

Against the simulator's CDN fault knobs on 127.0.0.1. The waits between retries go through a
recording `sleep` on a fake clock, so the budget is exact and no test waits for real.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest

from bot.delivery.media import (
    AUDIO_KINDS,
    FIRST_RETRY_S,
    TOO_LARGE_NOTE,
    UNAVAILABLE_NOTE,
    fetch_with_retries,
)
from bot.delivery.safe_http import MediaFetcher, MediaPolicy
from bot.simulator import MusicAPISimulator, SimulatorConfig


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
async def sim() -> AsyncIterator[MusicAPISimulator]:
    simulator = MusicAPISimulator(SimulatorConfig(generation_time=0, api_key="k"))
    await simulator.start()
    yield simulator
    await simulator.stop()


async def made_audio_url(sim: MusicAPISimulator, session: aiohttp.ClientSession) -> str:
    """A finished song's audio URL on the simulator's CDN."""
    auth = {"Authorization": "Bearer k"}
    body = {"custom_mode": False, "mv": "sonic-v5", "gpt_description_prompt": "a song"}
    async with session.post(f"{sim.base_url}/api/v1/sonic/create", json=body, headers=auth) as r:
        task_id = (await r.json())["task_id"]
    async with session.get(f"{sim.base_url}/api/v1/sonic/task/{task_id}", headers=auth) as r:
        clips = (await r.json())["data"]
    return str(clips[0]["audio_url"])


@pytest.fixture
async def fetcher(sim: MusicAPISimulator) -> AsyncIterator[MediaFetcher]:
    media = MediaFetcher(MediaPolicy.for_musicapi(sim.base_url))
    yield media
    await media.close()


def fetches(sim: MusicAPISimulator, url: str) -> int:
    return sim.cdn_fetches.get(url.rsplit("/", 1)[1], 0)


async def test_503s_then_success_attach_the_file(
    sim: MusicAPISimulator, fetcher: MediaFetcher
) -> None:
    sim.config.cdn_failures = 3
    time = FakeTime()
    async with aiohttp.ClientSession() as session:
        url = await made_audio_url(sim, session)
        got = await fetch_with_retries(
            fetcher,
            url,
            10_000_000,
            kinds=AUDIO_KINDS,
            budget_s=30,
            clock=time.clock,
            sleep=time.sleep,
        )
    assert got.data is not None and got.data[:4] == b"RIFF"
    assert got.link_note == ""
    assert fetches(sim, url) == 4
    assert time.sleeps == [FIRST_RETRY_S, 2 * FIRST_RETRY_S, 4 * FIRST_RETRY_S]


async def test_a_cdn_failing_past_the_budget_gives_a_link_saying_so(
    sim: MusicAPISimulator, fetcher: MediaFetcher
) -> None:
    sim.config.cdn_always_fail = True
    time = FakeTime()
    async with aiohttp.ClientSession() as session:
        url = await made_audio_url(sim, session)
        got = await fetch_with_retries(
            fetcher,
            url,
            10_000_000,
            kinds=AUDIO_KINDS,
            budget_s=10,
            clock=time.clock,
            sleep=time.sleep,
        )
    assert got.data is None and got.link_note == UNAVAILABLE_NOTE
    assert "temporarily unavailable" in got.link_note and "too large" not in got.link_note
    # 0.5 + 1 + 2 + 4 = 7.5 s of waits; the next (8 s) would pass the 10 s budget.
    assert time.sleeps == [0.5, 1.0, 2.0, 4.0]
    assert fetches(sim, url) == 5


async def test_a_file_too_large_is_linked_at_once_and_says_so(
    sim: MusicAPISimulator, fetcher: MediaFetcher
) -> None:
    time = FakeTime()
    async with aiohttp.ClientSession() as session:
        url = await made_audio_url(sim, session)
        got = await fetch_with_retries(
            fetcher, url, 100, kinds=AUDIO_KINDS, budget_s=30, clock=time.clock, sleep=time.sleep
        )
    assert got.data is None and got.link_note == TOO_LARGE_NOTE
    assert time.sleeps == []


async def test_a_file_that_is_gone_is_not_retried(
    sim: MusicAPISimulator, fetcher: MediaFetcher
) -> None:
    time = FakeTime()
    got = await fetch_with_retries(
        fetcher,
        f"{sim.base_url}/files/no-such-clip.wav",
        10_000_000,
        kinds=AUDIO_KINDS,
        budget_s=30,
        clock=time.clock,
        sleep=time.sleep,
    )
    assert got.data is None and got.link_note == UNAVAILABLE_NOTE
    assert time.sleeps == []


async def test_a_hanging_cdn_is_cut_off_by_the_budget(
    sim: MusicAPISimulator, fetcher: MediaFetcher
) -> None:
    # Never answers: each attempt's own timeout is what is left of the budget (real time, but
    # the outcome does not depend on it: the server never answers).
    sim.config.cdn_always_fail = True
    sim.config.cdn_hang_s = float("inf")
    async with aiohttp.ClientSession() as session:
        url = await made_audio_url(sim, session)
        got = await asyncio.wait_for(
            fetch_with_retries(fetcher, url, 10_000_000, kinds=AUDIO_KINDS, budget_s=0.6), 10
        )
    assert got.data is None and got.link_note == UNAVAILABLE_NOTE
