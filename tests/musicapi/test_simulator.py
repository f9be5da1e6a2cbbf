"""The simulator's own protocol, spoken over raw HTTP (no client in between)."""

from __future__ import annotations

import asyncio
import io
import re
import struct
import sys
import time
import wave
import zlib
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest

from bot.simulator import (
    MSG_ARTIST,
    MSG_AUTH_FORMAT,
    MSG_AUTH_MISSING,
    MSG_CREDITS,
    MSG_MV,
    TASK_COSTS,
    MusicAPISimulator,
)
from tests.helpers import Clock

from .conftest import TEST_KEY
from .fixtures import example_names, load_example
from .simhelpers import AUTH, GOOD, call, uploaded_clip

SimFactory = Callable[..., Any]


async def create(session: aiohttp.ClientSession, sim: MusicAPISimulator, **body: Any) -> str:
    status, data, _ = await call(session, sim, "POST", "/api/v1/sonic/create", body or GOOD)
    assert status == 200, data
    assert set(data) == {"message", "task_id"} and data["message"] == "success"
    return str(data["task_id"])


# --------------------------------------------------------------------------- auth


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, MSG_AUTH_MISSING),
        ({"Authorization": TEST_KEY}, MSG_AUTH_FORMAT),
        ({"Authorization": f"Token {TEST_KEY}"}, MSG_AUTH_FORMAT),
        ({"Authorization": "Bearer "}, MSG_AUTH_FORMAT),
        ({"Authorization": "Bearer wrong-key"}, "Invalid API key."),
    ],
)
async def test_auth(
    make_sim: SimFactory,
    session: aiohttp.ClientSession,
    headers: dict[str, str],
    message: str,
) -> None:
    sim = await make_sim()
    for path in ("/api/v1/get-credits", "/api/v1/sonic/task/x"):
        status, data, _ = await call(session, sim, "GET", path, headers=headers)
        assert (status, data) == (401, {"message": message})


async def test_any_key_accepted_without_configured_key(
    make_sim: SimFactory, session: aiohttp.ClientSession
) -> None:
    sim = await make_sim(api_key=None)
    headers = {"Authorization": "Bearer anything"}
    status, data, _ = await call(session, sim, "GET", "/api/v1/get-credits", headers=headers)
    assert (status, data) == (200, {"credits": 10000, "extra_credits": 0})


# --------------------------------------------------------------------------- create


UPLOAD_TYPES = ("extend_upload_music", "cover_upload_music", "add_vocals", "add_instrumental")


async def finished_clip(
    session: aiohttp.ClientSession, sim: MusicAPISimulator, clock: Clock
) -> str:
    """A generated clip, finished by moving the fake clock past its generation time."""
    task_id = await create(session, sim)
    clock.now += 100
    return sim.tasks[task_id].clips[0].clip_id


@pytest.mark.parametrize("name", example_names("sonic-create-request-*.json"))
async def test_every_documented_create_body_is_accepted_and_billed(
    make_sim: SimFactory, session: aiohttp.ClientSession, name: str
) -> None:
    # Clips long enough for the documented windows (continue_at 60, overpainting 0-60).
    clock = Clock()
    sim = await make_sim(clock=clock, audio_seconds=120)
    body = dict(load_example(name)["body"])
    task_type = body.get("task_type", "create_music")
    # The documented placeholders become real ids: the docs/musicapi/protocol.md §3.1 rules need
    # clips that exist, of the right kind (uploaded for the *_upload types and add_*), and a persona
    # that exists.
    if "continue_clip_id" in body:
        uploaded = task_type in UPLOAD_TYPES
        body["continue_clip_id"] = (
            await uploaded_clip(session, sim)
            if uploaded
            else await finished_clip(session, sim, clock)
        )
    if "persona_id" in body:
        source = await finished_clip(session, sim, clock)
        persona = {"name": "Sim Voice", "clip_id": source}
        status, data, _ = await call(session, sim, "POST", "/api/v1/sonic/persona", persona)
        assert status == 200, data
        body["persona_id"] = data["persona_id"]
    before = sim.balance
    task_id = await create(session, sim, **body)
    assert sim.tasks[task_id].task_type == task_type
    assert sim.balance == before - TASK_COSTS[task_type]


def test_costs_follow_the_newest_reference() -> None:
    assert TASK_COSTS["create_music"] == 15 and TASK_COSTS["persona_music"] == 15
    assert TASK_COSTS["extend_upload_music"] == TASK_COSTS["cover_upload_music"] == 15
    assert TASK_COSTS["concat_music"] == 2
    assert TASK_COSTS["remaster"] == TASK_COSTS["add_vocals"] == TASK_COSTS["add_instrumental"]
    assert TASK_COSTS["remaster"] == 10


REQUIRED_CASES = [
    ("persona_music", "persona_id"),
    ("extend_music", "continue_at"),
    ("extend_upload_music", "continue_clip_id"),
    ("cover_music", "custom_mode"),
    ("concat_music", "continue_clip_id"),
    ("remaster", "mv"),
    ("add_vocals", "prompt"),
    ("add_instrumental", "overpainting_end_s"),
]


@pytest.mark.parametrize(("task_type", "field"), REQUIRED_CASES)
async def test_required_fields_per_task_type(
    make_sim: SimFactory, session: aiohttp.ClientSession, task_type: str, field: str
) -> None:
    sim = await make_sim()
    example = next(
        load_example(n)["body"]
        for n in example_names("sonic-create-request-*.json")
        if load_example(n)["body"].get("task_type") == task_type
    )
    body = {k: v for k, v in example.items() if k != field}
    status, data, _ = await call(session, sim, "POST", "/api/v1/sonic/create", body)
    assert status == 400
    assert data == {"message": f"The '{field}' field is required when task_type = {task_type}."}
    assert sim.balance == 10000


def _long(n: int) -> str:
    return "x" * n


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"custom_mode": "false"}, "The 'custom_mode' field should be boolean."),
        ({"make_instrumental": "yes"}, "The 'make_instrumental' field should be boolean."),
        ({"mv": "sonic-v9"}, MSG_MV),
        ({"mv": "chirp-v5"}, MSG_MV),
        ({"mv": ["sonic-v5"]}, MSG_MV),
        ({"title": _long(80)}, "The title character length should be less than 80."),
        (
            {"custom_mode": True, "mv": "sonic-v3-5", "prompt": _long(3000)},
            "The prompt character length should be less than 3000.",
        ),
        (
            {"custom_mode": True, "mv": "sonic-v4-5", "prompt": _long(5001)},
            "The prompt character length should be less than or equal to 5000.",
        ),
        (
            {"mv": "sonic-v4", "tags": _long(200)},
            "The tags character length should be less than 200.",
        ),
        (
            {"gpt_description_prompt": _long(401)},
            "The 'gpt_description_prompt' character length should be less than or equal to 400.",
        ),
        ({"task_type": "music_variation"}, "The 'task_type' field is invalid."),
    ],
)
async def test_validation_texts(
    make_sim: SimFactory, session: aiohttp.ClientSession, changes: dict[str, Any], message: str
) -> None:
    sim = await make_sim()
    status, data, _ = await call(session, sim, "POST", "/api/v1/sonic/create", GOOD | changes)
    assert (status, data) == (400, {"message": message})


@pytest.mark.parametrize(
    "changes",
    [
        {"custom_mode": True, "mv": "sonic-v4-5", "prompt": _long(4999)},
        {"mv": "sonic-v5", "tags": _long(999)},
        {"gpt_description_prompt": _long(400)},
        {"title": _long(79)},
        {"mv": "sonic-v6-wild"},
        {"mv": "sonic-v5-5"},
    ],
)
async def test_newest_limits_accept(
    make_sim: SimFactory, session: aiohttp.ClientSession, changes: dict[str, Any]
) -> None:
    sim = await make_sim()
    await create(session, sim, **(GOOD | changes))


async def test_error_table_limits_reading(
    make_sim: SimFactory, session: aiohttp.ClientSession
) -> None:
    sim = await make_sim(limits="error_table")
    body = GOOD | {"gpt_description_prompt": _long(200)}
    status, data, _ = await call(session, sim, "POST", "/api/v1/sonic/create", body)
    assert (status, data["message"]) == (
        400,
        "The 'gpt_description_prompt' character length should be less than 200.",
    )


async def test_not_a_json_object(make_sim: SimFactory, session: aiohttp.ClientSession) -> None:
    sim = await make_sim()
    async with session.post(
        sim.base_url + "/api/v1/sonic/create", data=b"{nope", headers=AUTH
    ) as resp:
        assert resp.status == 400


async def test_moderation_and_credit_refusals(
    make_sim: SimFactory, session: aiohttp.ClientSession
) -> None:
    clock = Clock()
    sim = await make_sim(credits=16, clock=clock)
    body = GOOD | {"title": "My [sim:moderate] song"}
    status, data, _ = await call(session, sim, "POST", "/api/v1/sonic/create", body)
    assert (status, data) == (403, {"message": MSG_ARTIST})
    clip_id = await finished_clip(session, sim, clock)
    status, data, _ = await call(session, sim, "POST", "/api/v1/sonic/create", GOOD)
    assert (status, data) == (403, {"message": MSG_CREDITS})
    assert sim.balance == 1
    concat = {"task_type": "concat_music", "continue_clip_id": clip_id}  # costs 2, 1 left
    status, _, _ = await call(session, sim, "POST", "/api/v1/sonic/create", concat)
    assert status == 403


# --------------------------------------------------------------------------- polling


async def test_lifecycle_with_a_fake_clock(
    make_sim: SimFactory, session: aiohttp.ClientSession
) -> None:
    clock = Clock()
    sim = await make_sim(generation_time=10.0, clock=clock)
    task_id = await create(session, sim, **(GOOD | {"mv": "sonic-v4-5-plus"}))
    task = sim.tasks[task_id]
    assert task.created_at == 1000.0
    assert sim.completed_at(task_id) == 1010.0
    path = f"/api/v1/sonic/task/{task_id}"

    async def poll_at(t: float) -> tuple[int, Any]:
        clock.now = 1000.0 + t
        status, data, _ = await call(session, sim, "GET", path)
        return status, data

    assert await poll_at(0) == (202, {"type": "not_ready"})
    assert task.state == "not_ready"
    expected = {
        2.5: ["pending", "pending"],
        4.0: ["running", "pending"],
        5.0: ["running", "running"],
        6.5: ["streaming", "running"],
        8.0: ["streaming", "streaming"],
        10.0: ["succeeded", "succeeded"],
    }
    for t, states in expected.items():
        status, data = await poll_at(t)
        assert status == 200
        assert set(data) == {"code", "data", "message"} and data["code"] == 200
        assert [c["state"] for c in data["data"]] == states, t
    assert task.state == "succeeded"
    assert sim.polls_by_task[task_id] == 7

    clip_keys = set(load_example("sonic-get-music-response-observed")["body"]["data"][0])
    for clip in data["data"]:
        assert set(clip) == clip_keys
        assert re.fullmatch(r"\d+\.\d\d", clip["duration"])
        assert clip["mv"] == "chirp-v4-5-plus"
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", clip["created_at"])
        assert clip["audio_url"].startswith(sim.base_url + "/files/")
        assert clip["video_url"] is None
        assert clip["gpt_description_prompt"] == GOOD["gpt_description_prompt"]


async def test_running_clips_have_empty_urls_and_null_duration(
    make_sim: SimFactory, session: aiohttp.ClientSession
) -> None:
    clock = Clock()
    sim = await make_sim(generation_time=10.0, clock=clock)
    task_id = await create(session, sim)
    clock.now += 4.0
    _, data, _ = await call(session, sim, "GET", f"/api/v1/sonic/task/{task_id}")
    for clip in data["data"]:
        assert clip["audio_url"] == "" and clip["image_url"] == "" and clip["duration"] is None


async def test_failure_is_refunded_once(
    make_sim: SimFactory, session: aiohttp.ClientSession
) -> None:
    clock = Clock()
    sim = await make_sim(generation_time=5.0, clock=clock)
    task_id = await create(session, sim, **(GOOD | {"gpt_description_prompt": "x [sim:fail]"}))
    assert sim.balance == 9985
    clock.now += 4.9
    status, data, _ = await call(session, sim, "GET", f"/api/v1/sonic/task/{task_id}")
    assert status == 200 and data["data"][0]["state"] == "streaming"
    assert sim.balance == 9985
    clock.now += 0.1
    for _ in range(2):
        status, data, _ = await call(session, sim, "GET", f"/api/v1/sonic/task/{task_id}")
        assert status == 200
        assert data["type"] == "failed" and data["error"]
    assert sim.balance == 10000
    assert sim.tasks[task_id].state == "failed"


async def test_random_failure_rate(make_sim: SimFactory, session: aiohttp.ClientSession) -> None:
    sim = await make_sim(failure_rate=1.0)
    task_id = await create(session, sim)
    assert sim.tasks[task_id].fail_message is not None


async def test_slow_magic(make_sim: SimFactory, session: aiohttp.ClientSession) -> None:
    clock = Clock()
    sim = await make_sim(generation_time=2.0, clock=clock)
    task_id = await create(session, sim, **(GOOD | {"gpt_description_prompt": "[sim:slow] x"}))
    assert sim.completed_at(task_id) == 1020.0


async def test_concat_returns_one_clip(
    make_sim: SimFactory, session: aiohttp.ClientSession
) -> None:
    clock = Clock()
    sim = await make_sim(clock=clock)
    clip_id = await finished_clip(session, sim, clock)
    task_id = await create(session, sim, task_type="concat_music", continue_clip_id=clip_id)
    clock.now += 100
    _, data, _ = await call(session, sim, "GET", f"/api/v1/sonic/task/{task_id}")
    assert len(data["data"]) == 1


@pytest.mark.parametrize("status_code", [404, 400])
async def test_unknown_and_missing_task(
    make_sim: SimFactory, session: aiohttp.ClientSession, status_code: int
) -> None:
    sim = await make_sim(not_found_status=status_code)
    status, data, _ = await call(session, sim, "GET", "/api/v1/sonic/task/nope")
    assert (status, data) == (status_code, {"message": "task not found."})
    status, data, _ = await call(session, sim, "GET", "/api/v1/sonic/task/")
    assert (status, data) == (400, {"message": "missing task id."})
    assert "nope" not in sim.polls_by_task


# --------------------------------------------------------------------------- credits, lyrics


async def test_credits_shape(make_sim: SimFactory, session: aiohttp.ClientSession) -> None:
    sim = await make_sim(credits=50)
    status, data, headers = await call(session, sim, "GET", "/api/v1/get-credits")
    assert (status, data) == (200, load_example("get-credits-response")["body"])
    assert headers["x-request-id"].startswith("sim-")


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({}, 400, "description is required."),
        ({"description": "   "}, 400, "description is required."),
        (
            {"description": _long(120)},
            400,
            "The description character length should be less than 120.",
        ),
    ],
)
async def test_lyrics_validation(
    make_sim: SimFactory,
    session: aiohttp.ClientSession,
    body: dict[str, Any],
    status: int,
    message: str,
) -> None:
    sim = await make_sim()
    got = await call(session, sim, "POST", "/api/v1/sonic/lyrics", body)
    assert got[:2] == (status, {"message": message})


async def test_lyrics_shape(make_sim: SimFactory, session: aiohttp.ClientSession) -> None:
    sim = await make_sim()
    body = load_example("lyrics-request")["body"]
    status, data, _ = await call(session, sim, "POST", "/api/v1/sonic/lyrics", body)
    assert status == 200
    assert set(data) == set(load_example("lyrics-response")["body"])
    assert len(data["results"]) == 2
    assert all(set(r) == {"title", "lyrics"} for r in data["results"])


# --------------------------------------------------------------------------- files


async def _finished_clips(
    sim: MusicAPISimulator, session: aiohttp.ClientSession, clock: Clock
) -> list[dict[str, Any]]:
    task_id = await create(session, sim)
    clock.now += 100
    _, data, _ = await call(session, sim, "GET", f"/api/v1/sonic/task/{task_id}")
    return list(data["data"])


async def test_audio_is_a_real_wav(make_sim: SimFactory, session: aiohttp.ClientSession) -> None:
    clock = Clock()
    sim = await make_sim(clock=clock)
    for clip in await _finished_clips(sim, session, clock):
        async with session.get(clip["audio_url"]) as resp:  # no auth: CDN-style URL
            assert resp.status == 200 and resp.content_type == "audio/wav"
            audio = await resp.read()
        with wave.open(io.BytesIO(audio)) as w:
            assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, 8000)
            assert w.getnframes() / 8000 == pytest.approx(float(clip["duration"]), abs=0.01)
            assert 2.0 <= w.getnframes() / 8000 <= 4.0
            samples = struct.unpack(f"<{200}h", w.readframes(200))
        assert max(samples) > 5000 and min(samples) < -5000  # an audible tone, not silence
    assert sim.file_requests and all(p.startswith("/files/") for p in sim.file_requests)


async def test_audio_padding_knob(make_sim: SimFactory, session: aiohttp.ClientSession) -> None:
    clock = Clock()
    sim = await make_sim(clock=clock, audio_bytes_size=300_000)
    clip = (await _finished_clips(sim, session, clock))[0]
    async with session.head(clip["audio_url"]) as resp:
        assert int(resp.headers["Content-Length"]) >= 300_000
    async with session.get(clip["audio_url"]) as resp:
        audio = await resp.read()
    assert len(audio) >= 300_000
    with wave.open(io.BytesIO(audio)) as w:
        assert w.getnframes() / 8000 == pytest.approx(float(clip["duration"]), abs=0.01)


def _png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, pos = [], 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert crc == zlib.crc32(kind + body) & 0xFFFFFFFF
        chunks.append((kind, body))
        pos += 12 + length
    return chunks


async def test_cover_is_a_real_png(make_sim: SimFactory, session: aiohttp.ClientSession) -> None:
    clock = Clock()
    sim = await make_sim(clock=clock)
    clip = (await _finished_clips(sim, session, clock))[0]
    assert clip["image_url"].endswith(f"/files/image_{clip['clip_id']}.png")
    async with session.get(clip["image_url"]) as resp:
        assert resp.content_type == "image/png"
        chunks = _png_chunks(await resp.read())
    assert [k for k, _ in chunks] == [b"IHDR", b"IDAT", b"IEND"]
    width, height, depth, colour_type = struct.unpack(">IIBB", chunks[0][1][:10])
    assert (width, height, depth, colour_type) == (64, 64, 8, 2)
    assert len(zlib.decompress(chunks[1][1])) == 64 * (1 + 64 * 3)


async def test_unknown_file_is_404(make_sim: SimFactory, session: aiohttp.ClientSession) -> None:
    sim = await make_sim()
    for name in ("nope.wav", "image_nope.png", "x.mp3"):
        async with session.get(f"{sim.base_url}/files/{name}") as resp:
            assert resp.status == 404


# --------------------------------------------------------------------------- knobs


async def test_inject_counts_and_defaults(
    make_sim: SimFactory, session: aiohttp.ClientSession
) -> None:
    sim = await make_sim()
    sim.inject("/api/v1/get-credits", 429, count=2)
    for _ in range(2):
        status, data, headers = await call(session, sim, "GET", "/api/v1/get-credits")
        assert status == 429 and headers["Retry-After"] == "1" and "message" in data
    status, _, _ = await call(session, sim, "GET", "/api/v1/get-credits")
    assert status == 200
    sim.inject("/api/v1/", 418, body="teapot", headers={"X-Extra": "1"})
    status, data, headers = await call(session, sim, "GET", "/api/v1/get-credits")
    assert (status, data, headers["X-Extra"]) == (418, "teapot", "1")


async def test_stall_and_latency(make_sim: SimFactory, session: aiohttp.ClientSession) -> None:
    sim = await make_sim(latency=0.1)
    sim.stall("/api/v1/get-credits", 1.0)
    started = time.monotonic()
    await call(session, sim, "GET", "/api/v1/get-credits")
    assert time.monotonic() - started >= 1.1
    started = time.monotonic()
    await call(session, sim, "GET", "/api/v1/get-credits")
    # The stall was used up: only the latency is left. The stall is long enough that a busy
    # machine cannot make a 0.1 s answer look like a stalled one.
    assert 0.1 <= time.monotonic() - started < 1.0


async def test_random_fault_rates(make_sim: SimFactory, session: aiohttp.ClientSession) -> None:
    sim = await make_sim(error_rate_429=1.0)
    status, _, headers = await call(session, sim, "GET", "/api/v1/get-credits")
    assert status == 429 and headers["Retry-After"] == "1"
    sim.config.error_rate_429 = 0.0  # knobs are live
    sim.config.error_rate_5xx = 1.0
    status, _, _ = await call(session, sim, "GET", "/api/v1/get-credits")
    assert status in (500, 502, 503)
    sim.config.error_rate_5xx = 0.0
    sim.config.malformed_rate = 1.0
    async with session.get(sim.base_url + "/api/v1/get-credits", headers=AUTH) as resp:
        assert resp.status == 200
        assert resp.content_type == "text/html"
    sim.config.malformed_rate = 0.0
    assert (await call(session, sim, "GET", "/api/v1/get-credits"))[0] == 200


async def test_requests_are_recorded(make_sim: SimFactory, session: aiohttp.ClientSession) -> None:
    sim = await make_sim()
    task_id = await create(session, sim)
    await call(session, sim, "GET", f"/api/v1/sonic/task/{task_id}")
    assert sim.requests == [
        ("POST", "/api/v1/sonic/create", GOOD),
        ("GET", f"/api/v1/sonic/task/{task_id}", None),
    ]


@pytest.mark.e2e  # starts a process
async def test_standalone_entry_point() -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.simulator",
        "--port",
        "0",
        "--generation-time",
        "0.1",
        "--credits",
        "77",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        line = (await asyncio.wait_for(proc.stdout.readline(), 15)).decode().strip()
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", line), line
        async with (
            aiohttp.ClientSession() as session,
            session.get(
                line + "/api/v1/get-credits", headers={"Authorization": "Bearer k"}
            ) as resp,
        ):
            assert await resp.json() == {"credits": 77, "extra_credits": 0}
        proc.terminate()  # SIGTERM: a clean shutdown, exit status 0
        assert await asyncio.wait_for(proc.wait(), 10) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def test_request_log_is_bounded(make_sim: SimFactory, session: aiohttp.ClientSession) -> None:
    sim = await make_sim(max_recorded_requests=3)
    for _ in range(5):
        _, _, headers = await call(session, sim, "GET", "/api/v1/get-credits")
    assert len(sim.requests) == 3
    assert headers["x-request-id"] == "sim-5"  # ids keep counting past the trimmed log


async def test_generation_spread_varies_task_times_and_timing_route_reports_them() -> None:
    import aiohttp

    from bot.simulator import MusicAPISimulator, SimulatorConfig

    sim = MusicAPISimulator(SimulatorConfig(generation_time=10, generation_spread=0.5, seed=3))
    base = await sim.start()
    try:
        async with aiohttp.ClientSession() as session:
            ids = []
            for n in range(8):
                async with session.post(
                    f"{base}/api/v1/sonic/create",
                    json={
                        "custom_mode": False,
                        "mv": "sonic-v5",
                        "gpt_description_prompt": f"s{n}",
                    },
                    headers={"Authorization": "Bearer k"},
                ) as response:
                    ids.append((await response.json())["task_id"])
            times = [sim.tasks[i].generation_time for i in ids]
            assert all(5 <= t <= 15 for t in times) and len(set(times)) == len(times)
            async with session.get(f"{base}/_sim/tasks/{ids[0]}") as response:
                timing = await response.json()
            assert timing["completed_at"] == sim.completed_at(ids[0])
    finally:
        await sim.stop()
