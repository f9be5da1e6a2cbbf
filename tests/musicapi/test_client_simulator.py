"""The client against the simulator over loopback: the whole flow and every failure shape."""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest

from bot.musicapi.client import MusicAPIClient
from bot.musicapi.errors import (
    AuthError,
    GoneError,
    InsufficientCreditsError,
    MalformedResponseError,
    ModerationError,
    MusicAPIError,
    NotFoundError,
    RateLimitedError,
    RequestTimeoutError,
    ServerError,
    UpstreamValidationError,
)
from bot.musicapi.families.sonic import SonicCreate
from bot.musicapi.models import TaskStatus
from bot.simulator import MSG_CREDITS, MSG_MV, MSG_TIMEOUT, MusicAPISimulator

from .conftest import TEST_KEY

SimFactory = Callable[..., Any]
ClientFactory = Callable[..., MusicAPIClient]
CREDITS_PATH = "/api/v1/get-credits"
CREATE_PATH = "/api/v1/sonic/create"


def describe(text: str = "a sunny road trip song", **extra: Any) -> SonicCreate:
    return SonicCreate(custom_mode=False, mv="sonic-v5", gpt_description_prompt=text, **extra)


async def wait_done(
    client: MusicAPIClient, task_id: str, within: float = 10.0
) -> tuple[TaskStatus, list[str]]:
    """Poll until done; also return every task state seen on the way."""
    seen: list[str] = []
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        status = await client.get_task(task_id)
        if not seen or seen[-1] != status.state:
            seen.append(status.state)
        if status.done:
            return status, seen
        await asyncio.sleep(0.01)
    raise AssertionError(f"task {task_id} not done after {within}s; saw {seen}")


def api_calls(sim: MusicAPISimulator, path: str) -> int:
    return sum(1 for _, p, _ in sim.requests if p == path)


async def test_full_flow_create_poll_download(
    make_sim: SimFactory, make_client: ClientFactory, session: aiohttp.ClientSession
) -> None:
    sim = await make_sim(generation_time=0.4)
    client = make_client(sim.base_url)
    before = (await client.get_credits()).total

    task_id = await client.create_music(describe())
    status, seen = await wait_done(client, task_id)

    assert status.state == "succeeded"
    assert seen[0] == "pending" and seen[-1] == "succeeded"
    assert {"running", "streaming"} <= set(seen)
    assert len(status.clips) == 2 and len(status.usable_clips) == 2
    assert status.request_id is not None and status.request_id.startswith("sim-")
    assert (await client.get_credits()).total == before - 15
    assert sim.polls_by_task[task_id] == client.stats["poll"]
    assert client.stats["create"] == 1

    tones = set()
    for clip in status.clips:
        assert isinstance(clip.duration, float) and 2.0 <= clip.duration <= 4.0
        assert clip.mv == "chirp-v5"
        assert clip.title and clip.lyrics
        assert clip.audio_url is not None and clip.audio_url.endswith(".wav")
        async with session.get(clip.audio_url) as resp:
            assert resp.status == 200
            assert resp.content_type == "audio/wav"
            audio = await resp.read()
        assert audio[:4] == b"RIFF" and audio[8:12] == b"WAVE"
        # Duration reported in the clip matches the bytes served (8 kHz, 16-bit mono).
        assert (len(audio) - 44) / 16000 == pytest.approx(clip.duration, abs=0.01)
        tones.add(audio[44:2044])
        assert clip.image_url is not None and clip.image_url.endswith(".png")
        async with session.get(clip.image_url) as resp:
            assert resp.content_type == "image/png"
            assert (await resp.read())[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(tones) == 2  # each clip has its own pitch


async def test_missing_authorization_header(
    make_sim: SimFactory, make_client: ClientFactory
) -> None:
    sim = await make_sim()
    sim.inject(CREDITS_PATH, 401)  # the client always sends the header; replay the answer
    with pytest.raises(AuthError, match=r"^Authorization header is missing\.$"):
        await make_client(sim.base_url).get_credits()


async def test_invalid_authorization_format(
    make_sim: SimFactory, make_client: ClientFactory
) -> None:
    sim = await make_sim()
    with pytest.raises(AuthError, match=r"^Invalid authorization format\.$") as info:
        await make_client(sim.base_url, api_key="").get_credits()
    assert info.value.status == 401
    assert api_calls(sim, CREDITS_PATH) == 1


async def test_wrong_key(make_sim: SimFactory, make_client: ClientFactory) -> None:
    sim = await make_sim()
    with pytest.raises(AuthError):
        await make_client(sim.base_url, api_key="sk-someone-else").get_credits()


async def test_insufficient_credits(make_sim: SimFactory, make_client: ClientFactory) -> None:
    sim = await make_sim(credits=10)
    with pytest.raises(InsufficientCreditsError) as info:
        await make_client(sim.base_url).create_music(describe())
    assert str(info.value) == MSG_CREDITS
    assert info.value.status == 403
    assert sim.balance == 10 and sim.tasks == {}
    assert api_calls(sim, CREATE_PATH) == 1


@pytest.mark.parametrize("error_key", ["message", "error", "detail"])
async def test_error_text_read_from_any_envelope_key(
    make_sim: SimFactory, make_client: ClientFactory, error_key: str
) -> None:
    sim = await make_sim(credits=0, error_key=error_key)
    with pytest.raises(InsufficientCreditsError, match="remaining credits are not enough"):
        await make_client(sim.base_url).create_music(describe())


@pytest.mark.parametrize(
    ("magic", "offending", "prefix"),
    [
        ("[sim:moderate]", "sim artist", "The song description contains artist names"),
        ("[sim:lyrics-moderate]", "bad words", "The lyrics contain inappropriate content"),
    ],
)
async def test_moderation_refusal(
    make_sim: SimFactory, make_client: ClientFactory, magic: str, offending: str, prefix: str
) -> None:
    sim = await make_sim()
    with pytest.raises(ModerationError) as info:
        await make_client(sim.base_url).create_music(describe(f"a song {magic}"))
    assert info.value.offending == offending
    assert str(info.value).startswith(prefix)
    assert sim.balance == 10000  # nothing charged


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        (describe(title="x" * 80), "The title character length should be less than 80."),
        (
            SonicCreate(custom_mode=False, mv="sonic-v9", gpt_description_prompt="x"),
            MSG_MV,
        ),
        (
            SonicCreate(custom_mode=True, mv="sonic-v4", prompt="la " * 1000),
            "The prompt character length should be less than 3000.",
        ),
        (
            SonicCreate(custom_mode=True, mv="sonic-v4", prompt="la", tags="t" * 200),
            "The tags character length should be less than 200.",
        ),
    ],
)
async def test_upstream_validation_texts(
    make_sim: SimFactory, make_client: ClientFactory, request_: SonicCreate, message: str
) -> None:
    sim = await make_sim()
    with pytest.raises(UpstreamValidationError) as info:
        await make_client(sim.base_url).create_music(request_)
    assert str(info.value) == message
    assert info.value.status == 400
    assert api_calls(sim, CREATE_PATH) == 1  # never retried


async def test_error_table_limit_reading(make_sim: SimFactory, make_client: ClientFactory) -> None:
    newest = await make_sim()
    await make_client(newest.base_url).create_music(describe("d" * 300))
    error_table = await make_sim(limits="error_table")
    with pytest.raises(UpstreamValidationError, match="less than 200"):
        await make_client(error_table.base_url).create_music(describe("d" * 300))


@pytest.mark.parametrize("status_code", [404, 400])
async def test_unknown_task(
    make_sim: SimFactory, make_client: ClientFactory, status_code: int
) -> None:
    sim = await make_sim(not_found_status=status_code)
    with pytest.raises(NotFoundError, match=r"^task not found\.$") as info:
        await make_client(sim.base_url).get_task("no-such-task")
    assert info.value.status == status_code
    assert api_calls(sim, "/api/v1/sonic/task/no-such-task") == 1


async def test_gone(make_sim: SimFactory, make_client: ClientFactory) -> None:
    sim = await make_sim()
    sim.inject(CREATE_PATH, 410, body={"message": "This task type is no longer supported."})
    with pytest.raises(GoneError, match="no longer supported"):
        await make_client(sim.base_url).create_music(describe())
    assert api_calls(sim, CREATE_PATH) == 1


async def test_429_then_success_honours_retry_after(
    make_sim: SimFactory, make_client: ClientFactory
) -> None:
    sim = await make_sim()
    sim.inject(CREDITS_PATH, 429, headers={"Retry-After": "0.3"})
    client = make_client(sim.base_url, backoff_max=5.0)
    started = time.monotonic()
    credits = await client.get_credits()
    elapsed = time.monotonic() - started
    assert credits.total == 10000
    assert elapsed >= 0.3  # waited as told, not the 0.01 s backoff
    assert client.stats["credits"] == 2
    assert api_calls(sim, CREDITS_PATH) == 2


async def test_retry_after_is_capped_by_backoff_max(
    make_sim: SimFactory, make_client: ClientFactory
) -> None:
    sim = await make_sim()
    sim.inject(CREDITS_PATH, 429, headers={"Retry-After": "120"})
    started = time.monotonic()
    await make_client(sim.base_url, backoff_max=0.1).get_credits()
    assert time.monotonic() - started < 2


async def test_429_exhausted(make_sim: SimFactory, make_client: ClientFactory) -> None:
    sim = await make_sim()
    sim.inject(CREDITS_PATH, 429, count=10, headers={"Retry-After": "0"})
    with pytest.raises(RateLimitedError) as info:
        await make_client(sim.base_url, max_retries=2).get_credits()
    assert info.value.retry_after == 0.0
    assert info.value.retryable
    assert api_calls(sim, CREDITS_PATH) == 3


async def test_5xx_retried_then_success(make_sim: SimFactory, make_client: ClientFactory) -> None:
    sim = await make_sim()
    sim.inject(CREATE_PATH, 503, count=1)
    sim.inject(CREATE_PATH, 500, count=1)
    client = make_client(sim.base_url)
    task_id = await client.create_music(describe())
    assert task_id in sim.tasks
    assert client.stats["create"] == 3
    assert api_calls(sim, CREATE_PATH) == 3


async def test_5xx_exhausted(make_sim: SimFactory, make_client: ClientFactory) -> None:
    sim = await make_sim()
    sim.inject(CREDITS_PATH, 500, count=10)
    with pytest.raises(ServerError, match=r"^Internal Server Error\.$") as info:
        await make_client(sim.base_url, max_retries=2).get_credits()
    assert info.value.status == 500
    assert info.value.request_id is not None
    assert api_calls(sim, CREDITS_PATH) == 3


async def test_no_retries_when_disabled(make_sim: SimFactory, make_client: ClientFactory) -> None:
    sim = await make_sim()
    sim.inject(CREDITS_PATH, 502, count=5)
    with pytest.raises(ServerError):
        await make_client(sim.base_url, max_retries=0).get_credits()
    assert api_calls(sim, CREDITS_PATH) == 1


async def test_stall_becomes_request_timeout_after_retries(
    make_sim: SimFactory, make_client: ClientFactory
) -> None:
    sim = await make_sim()
    sim.stall(CREDITS_PATH, seconds=5, count=10)
    client = make_client(sim.base_url, request_timeout=0.15, max_retries=2)
    started = time.monotonic()
    with pytest.raises(RequestTimeoutError) as info:
        await client.get_credits()
    assert time.monotonic() - started < 2
    assert info.value.retryable
    assert client.stats["credits"] == 3
    assert api_calls(sim, CREDITS_PATH) == 3


async def test_stall_then_recovery(make_sim: SimFactory, make_client: ClientFactory) -> None:
    sim = await make_sim()
    sim.stall(CREDITS_PATH, seconds=5, count=1)
    client = make_client(sim.base_url, request_timeout=0.15)
    assert (await client.get_credits()).total == 10000
    assert client.stats["credits"] == 2


async def test_connection_refused_is_a_request_timeout(make_client: ClientFactory) -> None:
    with socket.socket() as sock:  # find a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = make_client(f"http://127.0.0.1:{port}", max_retries=1)
    with pytest.raises(RequestTimeoutError, match="Could not connect"):
        await client.get_credits()
    assert client.stats["credits"] == 2


async def test_malformed_body(make_sim: SimFactory, make_client: ClientFactory) -> None:
    sim = await make_sim()
    sim.inject(CREDITS_PATH, 200, body="<html>definitely not json</html>")
    with pytest.raises(MalformedResponseError) as info:
        await make_client(sim.base_url).get_credits()
    assert info.value.retryable is False
    assert api_calls(sim, CREDITS_PATH) == 1  # not retried


async def test_random_malformed_rate(make_sim: SimFactory, make_client: ClientFactory) -> None:
    sim = await make_sim(malformed_rate=1.0)
    with pytest.raises(MalformedResponseError):
        await make_client(sim.base_url).get_task("anything")


async def test_wrong_shape_is_malformed(make_sim: SimFactory, make_client: ClientFactory) -> None:
    sim = await make_sim()
    sim.inject(CREDITS_PATH, 200, body={"balance": 3})
    with pytest.raises(MalformedResponseError):
        await make_client(sim.base_url).get_credits()


async def test_poll_504_is_a_failed_task_not_retried(
    make_sim: SimFactory, make_client: ClientFactory
) -> None:
    sim = await make_sim()
    client = make_client(sim.base_url)
    task_id = await client.create_music(describe())
    sim.inject(f"/api/v1/sonic/task/{task_id}", 504)
    status = await client.get_task(task_id)
    assert status.state == "failed"
    assert status.failure is not None
    assert status.failure.kind == "timeout"
    assert status.failure.message == MSG_TIMEOUT
    assert sim.polls_by_task.get(task_id, 0) == 0  # answered by the injection
    assert client.stats["poll"] == 1


async def test_gateway_html_504_on_a_poll_is_an_outage(
    make_sim: SimFactory, make_client: ClientFactory
) -> None:
    sim = await make_sim()
    client = make_client(sim.base_url, max_retries=1)
    task_id = await client.create_music(describe())
    sim.inject("/api/v1/sonic/task/", 504, count=1, body="<html>504 Gateway Time-out</html>")
    status = await client.get_task(task_id)  # retried, then the real answer
    assert status.failure is None
    assert status.state == "pending"
    assert client.stats["poll"] == 2


async def test_failed_task_is_reported_and_refunded(
    make_sim: SimFactory, make_client: ClientFactory
) -> None:
    sim = await make_sim()
    client = make_client(sim.base_url)
    task_id = await client.create_music(describe("[sim:fail] doomed"))
    assert (await client.get_credits()).total == 10000 - 15
    status, _ = await wait_done(client, task_id)
    assert status.state == "failed"
    assert status.failure is not None and status.failure.kind == "failed"
    assert status.failure.message
    assert (await client.get_credits()).total == 10000


async def test_failed_clips_reading(make_sim: SimFactory, make_client: ClientFactory) -> None:
    sim = await make_sim(failure_mode="clips")
    client = make_client(sim.base_url)
    status, _ = await wait_done(client, await client.create_music(describe("[sim:fail]")))
    assert status.state == "failed"
    assert status.failure is not None and status.failure.kind == "clips_failed"
    assert [c.state for c in status.clips] == ["failed", "failed"]
    assert (await client.get_credits()).total == 10000


async def test_one_failed_clip_still_delivers_the_other(
    make_sim: SimFactory, make_client: ClientFactory
) -> None:
    sim = await make_sim()
    client = make_client(sim.base_url)
    status, _ = await wait_done(client, await client.create_music(describe("[sim:half-fail]")))
    assert status.state == "succeeded"
    assert [c.state for c in status.clips] == ["succeeded", "failed"]
    assert len(status.usable_clips) == 1


async def test_older_submit_envelope_and_200_pending_reading(
    make_sim: SimFactory, make_client: ClientFactory
) -> None:
    sim = await make_sim(submit_includes_code=True, not_ready_202=False, generation_time=1.0)
    client = make_client(sim.base_url)
    task_id = await client.create_music(describe())
    first = await client.get_task(task_id)
    assert first.state == "pending"
    assert [c.state for c in first.clips] == ["pending", "pending"]


async def test_lyrics_and_its_validation(make_sim: SimFactory, make_client: ClientFactory) -> None:
    sim = await make_sim()
    client = make_client(sim.base_url)
    drafts = await client.make_lyrics("a hopeful song about moving to a new city")
    assert len(drafts) == 2 and all(d.title and d.lyrics for d in drafts)
    with pytest.raises(UpstreamValidationError, match=r"^description is required\.$"):
        await client.make_lyrics("")
    with pytest.raises(UpstreamValidationError, match="less than 120"):
        await client.make_lyrics("x" * 120)
    assert client.stats["lyrics"] == 3


async def test_the_key_never_leaks(
    make_sim: SimFactory,
    make_client: ClientFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="bot.musicapi")
    sim = await make_sim(credits=20)
    client = make_client(sim.base_url, max_retries=1, request_timeout=0.15)
    errors: list[BaseException] = []

    async def expect_error(coro: Any) -> None:
        try:
            await coro
        except MusicAPIError as exc:
            errors.append(exc)
        else:  # pragma: no cover - a scenario that stopped failing is itself a bug here
            raise AssertionError("expected an error")

    # A misbehaving upstream that echoes the key back must not carry it any further.
    sim.inject(CREATE_PATH, 400, body={"message": f"bad key {TEST_KEY} supplied"})
    await expect_error(client.create_music(describe()))
    assert "[redacted]" in str(errors[-1])
    sim.inject(CREDITS_PATH, 500, count=2, body=f"boom {TEST_KEY}")
    await expect_error(client.get_credits())
    sim.inject(CREDITS_PATH, 429, count=2, headers={"Retry-After": "0"})
    await expect_error(client.get_credits())
    sim.stall(CREDITS_PATH, 5, count=2)
    await expect_error(client.get_credits())
    sim.inject(CREDITS_PATH, 200, body="garbage")
    await expect_error(client.get_credits())
    await expect_error(client.create_music(describe("[sim:moderate]")))
    await expect_error(client.get_task("missing"))
    await client.create_music(describe())
    await expect_error(client.create_music(describe()))  # out of credits now
    await expect_error(make_client(sim.base_url, api_key=TEST_KEY + "x").get_credits())

    assert len(errors) == 9
    for exc in errors:
        for rendering in (str(exc), repr(exc), str(exc.args), str(vars(exc))):
            assert TEST_KEY not in rendering
    assert TEST_KEY not in repr(client)
    assert caplog.records, "the client should have logged"
    assert any(r.levelno == logging.DEBUG for r in caplog.records)
    assert any(r.levelno == logging.WARNING for r in caplog.records)
    assert TEST_KEY not in caplog.text
    for record in caplog.records:
        assert TEST_KEY not in record.getMessage()
