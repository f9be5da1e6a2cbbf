"""The official ``musicapi-sdk`` (sync, httpx) against the simulator.

This proves the simulator speaks the real protocol as an independent implementation reads it:
envelopes, status codes, the 202 "not ready" phase, failure bodies and Retry-After.

SDK quirks, deliberately NOT mirrored by adapting the simulator (they contradict REFERENCE):
- ``generate_and_wait`` stops at the first 200 body with ``code == 200``, even while clips are
  still pending/running; REFERENCE §2.3 says a task is done only when every clip is final, so
  these tests keep polling ``get_task``.
- ``sonic.get_task`` cannot parse a 200 failure body (``{"type": "failed", ...}`` has no
  ``code``), so the failure test goes through the SDK's own poll loop.
- ``TaskSubmitResponse(**body)`` would reject the older submit envelope with ``"code": 200``
  that REFERENCE §2.2 says to accept; the simulator's default (no ``code``) is the newest one.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from musicapi import (
    MusicAPI,
    MusicAPIError,
    PollOptions,
    SonicCreateParams,
    SonicLyricsParams,
)
from musicapi._polling import poll_sonic

from bot.musicapi.models import parse_duration
from bot.musicapi.simulator import (
    MSG_ARTIST,
    MSG_CREDITS,
    BackgroundSimulator,
    SimulatorConfig,
)

from .conftest import TEST_KEY

FAST = PollOptions(poll_interval_ms=20, timeout_ms=10_000)


@pytest.fixture
def background() -> Iterator[BackgroundSimulator]:
    with BackgroundSimulator(SimulatorConfig(generation_time=0.3, api_key=TEST_KEY)) as bg:
        yield bg


@pytest.fixture
def sdk(background: BackgroundSimulator) -> Iterator[MusicAPI]:
    with MusicAPI(
        api_key=TEST_KEY, base_url=f"{background.base_url}/api/v1", timeout=5, max_retries=2
    ) as client:
        yield client


def params(text: str = "uplifting synthwave with female vocals") -> SonicCreateParams:
    return SonicCreateParams(custom_mode=False, mv="sonic-v5", gpt_description_prompt=text)


def wait_final(sdk: MusicAPI, task_id: str, timeout: float = 10.0) -> list[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = sdk.sonic.get_task(task_id)
        states = [song.state for song in result.data]
        if states and all(s in ("succeeded", "failed") for s in states):
            return states
        time.sleep(0.02)
    raise AssertionError("task never finished")


def test_create_poll_finish(sdk: MusicAPI, background: BackgroundSimulator) -> None:
    submit = sdk.sonic.create(params())
    assert submit.message == "success"
    assert submit.task_id in background.sim.tasks

    first = sdk.sonic.get_task(submit.task_id)
    assert (first.code, first.data, first.message) == (202, [], "not_ready")

    assert wait_final(sdk, submit.task_id) == ["succeeded", "succeeded"]
    final = sdk.sonic.get_task(submit.task_id)
    assert final.code == 200 and final.message == "success"
    for song in final.data:
        assert song.clip_id and song.audio_url and song.image_url
        assert song.mv == "chirp-v5"
        # The SDK passes the observed decimal string through untouched.
        assert parse_duration(song.duration) is not None


def test_generate_and_wait(sdk: MusicAPI, background: BackgroundSimulator) -> None:
    result = sdk.sonic.generate_and_wait(params(), FAST)
    # Returns on the first clip list (the quirk above); the 202 phase was waited out.
    assert result.code == 200 and len(result.data) == 2
    (task_id,) = background.sim.tasks
    assert background.sim.polls_by_task[task_id] >= 2
    assert wait_final(sdk, task_id) == ["succeeded", "succeeded"]


def test_credits_and_lyrics(sdk: MusicAPI) -> None:
    assert (sdk.credits.get().credits, sdk.credits.get().extra_credits) == (10000, 0)
    sdk.sonic.create(params())
    assert sdk.credits.get().credits == 10000 - 15
    lyrics = sdk.sonic.lyrics(SonicLyricsParams(description="a song about the sea"))
    assert lyrics.code == 200 and len(lyrics.results) == 2
    assert all({"title", "lyrics"} <= set(r) for r in lyrics.results)


def test_upstream_failure_body(sdk: MusicAPI, background: BackgroundSimulator) -> None:
    submit = sdk.sonic.create(params("[sim:fail] x"))
    assert sdk.credits.get().credits == 10000 - 15
    # Wait until the failure is due: generate_and_wait would have returned on the earlier
    # pending clip list, and the SDK's get_task cannot parse a failure body (KeyError 'code').
    time.sleep(max(0.0, background.sim.completed_at(submit.task_id) - time.monotonic()) + 0.05)
    with pytest.raises(MusicAPIError) as info:
        poll_sonic(sdk._http, submit.task_id, FAST)
    assert info.value.code == "failed" and str(info.value)
    assert sdk.credits.get().credits == 10000  # refunded


def test_error_statuses(sdk: MusicAPI, background: BackgroundSimulator) -> None:
    with pytest.raises(MusicAPIError) as info:
        sdk.sonic.get_task("no-such-task")
    assert info.value.status == 404 and str(info.value) == "task not found."

    with pytest.raises(MusicAPIError) as info:
        sdk.sonic.create(params("[sim:moderate]"))
    assert info.value.status == 403 and str(info.value) == MSG_ARTIST

    background.sim.balance = 3
    with pytest.raises(MusicAPIError) as info:
        sdk.sonic.create(params())
    assert info.value.is_credit_error and str(info.value) == MSG_CREDITS

    with MusicAPI(api_key="wrong", base_url=f"{background.base_url}/api/v1") as other:
        with pytest.raises(MusicAPIError) as info:
            other.credits.get()
    assert info.value.is_auth_error


def test_sdk_retries_429_and_5xx(sdk: MusicAPI, background: BackgroundSimulator) -> None:
    background.sim.inject("/api/v1/get-credits", 429, headers={"Retry-After": "0.2"})
    background.sim.inject("/api/v1/get-credits", 503)
    started = time.monotonic()
    assert sdk.credits.get().credits == 10000
    # Retry-After honoured on the 429; the 503 costs the SDK's own ~1 s backoff.
    assert time.monotonic() - started >= 0.2
    calls = [p for _, p, _ in background.sim.requests if p == "/api/v1/get-credits"]
    assert len(calls) == 3
