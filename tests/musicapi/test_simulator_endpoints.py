"""The simulator's endpoints beyond create/poll, over raw HTTP: request validation and its error
texts, response shapes against the documented examples, knobs, files and costs."""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest

from bot.simulator import (
    ENDPOINT_COSTS,
    MSG_CATALOG_MATCH,
    MSG_MV,
    MSG_URL_NOT_ACCESSIBLE,
    MusicAPISimulator,
)
from tests.helpers import Clock

from .fixtures import load_example
from .simhelpers import GOOD, LYRICS, call, finished_clip, post_ok, uploaded_clip

SimFactory = Callable[..., Any]
GEN = {"custom_mode": False, "mv": "sonic-v5", "gpt_description_prompt": "jazz"}
URL = "https://example.com/my-own-song.mp3"


def body(name: str) -> Any:
    return load_example(name)["body"]


@pytest.fixture
async def world(
    make_sim: SimFactory, session: aiohttp.ClientSession
) -> tuple[MusicAPISimulator, Clock, dict[str, str]]:
    """A simulator with a finished generated clip, an uploaded clip and a Producer clip."""
    clock = Clock()
    sim = await make_sim(clock=clock, generation_time=10.0)
    producer = await post_ok(session, sim, "/producer/create", {"sound": "pop"})
    ids = {
        "clip": await finished_clip(session, sim, clock),
        "upload": await uploaded_clip(session, sim),
        "producer": sim.tasks[producer["task_id"]].clips[0].clip_id,
    }
    return sim, clock, ids


World = tuple[MusicAPISimulator, Clock, dict[str, str]]


def fill(value: Any, ids: dict[str, str]) -> Any:
    """Replace "{clip}"-style placeholders with the world's real ids."""
    if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
        return ids[value[1:-1]]
    if isinstance(value, dict):
        return {k: fill(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, ids) for v in value]
    return value


REQUIRED = "The '{}' field is required."
SONIC_CASES: list[tuple[str, dict[str, Any], int, str]] = [
    ("/sonic/upload", {}, 400, REQUIRED.format("url")),
    ("/sonic/upload", {"url": "not a url"}, 400, MSG_URL_NOT_ACCESSIBLE),
    ("/sonic/upload", {"url": URL + "?[sim:catalog-match]"}, 413, MSG_CATALOG_MATCH),
    ("/sonic/upload-extend", GEN, 400, REQUIRED.format("url")),
    ("/sonic/upload-extend", {"url": URL, "custom_mode": "yes"}, 400,
     "The 'custom_mode' field should be boolean."),
    ("/sonic/upload-extend", {"url": URL, "custom_mode": False}, 400, REQUIRED.format("mv")),
    ("/sonic/upload-cover", {"url": URL, **GEN, "mv": "sonic-v9"}, 400, MSG_MV),
    ("/sonic/upload-cover", {"url": URL, **GEN, "title": "t" * 80}, 400,
     "The title character length should be less than 80."),
    ("/sonic/upload-cover", {"url": URL, **GEN, "audio_weight": 3}, 400,
     "The 'audio_weight' field should be between 0 and 1."),
    ("/sonic/upload-extend", {"url": URL, **GEN, "continue_at": "soon"}, 400,
     "The 'continue_at' field should be a number."),
    ("/sonic/sample", {"url": URL, "sample_clip_id": "{clip}", **GEN}, 400,
     "Exactly one of 'url' and 'sample_clip_id' is required."),
    ("/sonic/sample", {"url": URL, "chop_sample_start_s": 0, "chop_sample_end_s": 1, **GEN}, 400,
     REQUIRED.format("make_instrumental")),
    ("/sonic/sample", {"sample_clip_id": "{clip}", "chop_sample_start_s": 2,
                       "chop_sample_end_s": 1, "make_instrumental": True, **GEN}, 400,
     "The 'chop_sample_end_s' field should be greater than 'chop_sample_start_s'."),
    ("/sonic/sample", {"sample_clip_id": "missing", "chop_sample_start_s": 0,
                       "chop_sample_end_s": 1, "make_instrumental": True, **GEN}, 400,
     "The 'sample_clip_id' field is invalid. No clip with this id exists."),
    ("/sonic/mashup", {"mashup_clip_ids": ["{clip}"], **GEN}, 400,
     "The 'mashup_clip_ids' field should contain exactly 2 clip ids."),
    ("/sonic/stems/basic", {}, 400, REQUIRED.format("clip_id")),
    ("/sonic/stems/full", {"clip_id": "{producer}"}, 400,
     "The 'clip_id' field is invalid. No clip with this id exists."),
    ("/sonic/replace-section", {"clip_id": "{clip}", "mv": "sonic-v3-5", "infill_start_s": 0,
                                "infill_end_s": 1}, 400,
     "The 'mv' field is invalid. Replace section needs 'sonic-v4' or newer."),
    ("/sonic/replace-section", {"clip_id": "{clip}", "mv": "sonic-v4", "infill_start_s": 1,
                                "infill_end_s": 1}, 400,
     "The 'infill_end_s' field should be greater than 'infill_start_s'."),
    ("/sonic/replace-section", {"clip_id": "{clip}", "mv": "sonic-v4", "infill_start_s": 1,
                                "infill_end_s": 9}, 400,
     "The 'infill_end_s' field should be greater than 'infill_start_s', and both should lie "
     "within the clip (2.50 s)."),
    ("/sonic/persona", {"name": "n", "description": "d"}, 400,
     "name and continue_clip_id are required fields."),
    ("/sonic/persona", {"continue_clip_id": "{clip}"}, 400,
     "name and continue_clip_id are required fields."),
    ("/sonic/persona", {"name": "n" * 80, "continue_clip_id": "{clip}"}, 400,
     "The name character length should be less than 80."),
    ("/sonic/persona", {"name": "n", "continue_clip_id": "{clip}", "description": "d" * 200},
     400, "The description character length should be less than 200."),
    ("/sonic/persona", {"name": "n"}, 400, REQUIRED.format("clip_id")),
    ("/sonic/persona", {"name": "n" * 80, "clip_id": "{upload}"}, 400,
     "The name character length should be less than 80."),
    ("/sonic/persona", {"name": "n", "clip_id": "{upload}", "styles": "s" * 2001}, 400,
     "The styles character length should be less than or equal to 2000."),
    ("/sonic/persona", {"name": "n", "clip_id": "{upload}", "vox_audio_id": "v"}, 400,
     "The 'vox_audio_id' field is invalid. No vocal segment has this id."),
    ("/sonic/create-voice", {}, 400, REQUIRED.format("audio_url")),
    ("/sonic/create-voice", {"audio_url": URL + "?[sim:catalog-match]"}, 413, MSG_CATALOG_MATCH),
    ("/sonic/vox", {"clip_id": "{clip}", "vocal_start_s": 1, "vocal_end_s": 4}, 400,
     "The 'vocal_end_s' field should be greater than 'vocal_start_s', and both should lie "
     "within the clip (2.50 s)."),
    ("/sonic/upsample-tags", {}, 400, REQUIRED.format("tags")),
    ("/sonic/upsample-tags", {"tags": "t" * 1001}, 400,
     "The tags character length should be less than or equal to 1000."),
    ("/sonic/create", {**GEN, "mv": "sonic-v4-5-all"}, 400, MSG_MV),
]  # fmt: skip
PRODUCER_CASES: list[tuple[str, dict[str, Any], int, str]] = [
    ("/producer/create", {"task_type": "music_variation"}, 410,
     "This task type is no longer supported."),
    ("/producer/create", {"task_type": "swap_music_vocals", "clip_id": "{producer}"}, 410,
     "This task type is no longer supported."),
    ("/producer/create", {"task_type": "remix"}, 400, "The 'task_type' field is invalid."),
    ("/producer/create", {"title": "t"}, 400, "At least one of 'sound' and 'lyrics' is required."),
    ("/producer/create", {"sound": "s", "title": "t" * 81}, 400,
     "The title character length should be less than or equal to 80."),
    ("/producer/create", {"sound": "s", "length": 300}, 400,
     "The 'length' field should be between 1 and 240."),
    ("/producer/create", {"task_type": "extend_music", "starts_at": 1}, 400,
     "The 'clip_id' field is required when task_type = extend_music."),
    ("/producer/create", {"task_type": "extend_music", "clip_id": "{producer}"}, 400,
     "The 'starts_at' field is required when task_type = extend_music."),
    ("/producer/create", {"task_type": "extend_music", "clip_id": "{producer}", "starts_at": 9},
     400, "The 'starts_at' field should lie within the clip (0 to 2.50 s)."),
    ("/producer/create", {"task_type": "replace_music", "clip_id": "{producer}", "starts": 2,
                          "ends": 1}, 400,
     "The 'ends_at' field should be greater than 'starts_at'."),
    ("/producer/create", {"task_type": "cover_music", "clip_id": "{producer}",
                          "cover_strength": 2}, 400,
     "The 'strength' field should be between 0 and 1."),
    ("/producer/create", {"task_type": "cover_music", "clip_id": "{clip}"}, 400,
     "The 'clip_id' field is invalid. No clip with this id exists."),
    ("/producer/upload", {}, 400, REQUIRED.format("audio_url")),
    ("/producer/download", {"clip_id": "{producer}", "format": "flac"}, 400,
     "The 'format' field should be 'mp3' or 'wav'."),
    ("/riffusion/create", {"custom_mode": False, "prompt": "x", "mv": "FUZZ-2.0"}, 400,
     "The 'mv' field is invalid. The model should be one of 'FUZZ-1.1 Pro', 'FUZZ-1.0 Pro', "
     "'FUZZ-1.1', 'FUZZ-1.0'."),
    ("/riffusion/create", {"prompt": "x"}, 400, REQUIRED.format("custom_mode")),
    ("/riffusion/create", {"custom_mode": True}, 400,
     "The 'lyrics' field is required when custom_mode = true."),
    ("/riffusion/create", {"custom_mode": False, "prompt": "p" * 201}, 400,
     "The prompt character length should be less than or equal to 200."),
    ("/riffusion/create", {"task_type": "extend_music", "continue_clip_id": "c"}, 400,
     "The 'continue_at' field is required when task_type = extend_music."),
    ("/riffusion/create", {"task_type": "replace_upload_music", "continue_clip_id": "c",
                           "replace_start_time": 3, "replace_end_time": 1}, 400,
     "The 'replace_end_time' field should be greater than 'replace_start_time'."),
    ("/studio/create", {"lyrics_type": "rap"}, 400,
     "The 'lyrics_type' field should be 'user', 'generate' or 'instrumental'."),
    ("/studio/create", {"lyrics_type": "user"}, 400,
     "The 'lyrics' field is required when lyrics_type = user."),
    ("/studio/create", {"lyrics_type": "instrumental", "model_type": "studio64"}, 400,
     "The 'model_type' field should be 'studio130-v1.5' or 'studio32-v1.5'."),
    ("/studio/create", {"lyrics_type": "instrumental", "prompt_strength": 2}, 400,
     "The 'prompt_strength' field should be between 0 and 1."),
    ("/studio/create", {"lyrics_type": "instrumental", "config": {"mode": "continuation"}}, 400,
     REQUIRED.format("config.source.song_id")),
    ("/studio/create", {"lyrics_type": "instrumental",
                        "config": {"mode": "precede", "source": {"song_id": "{clip}"}}}, 400,
     "The 'config.source.song_id' field is invalid. No clip with this id exists."),
]  # fmt: skip


@pytest.mark.parametrize(
    ("path", "request_body", "status", "message"),
    SONIC_CASES + PRODUCER_CASES,
    ids=[f"{c[0]}-{i}" for i, c in enumerate(SONIC_CASES + PRODUCER_CASES)],
)
async def test_validation_texts(
    world: World,
    session: aiohttp.ClientSession,
    path: str,
    request_body: dict[str, Any],
    status: int,
    message: str,
) -> None:
    sim, _, ids = world
    before, tasks = sim.balance, len(sim.tasks)
    got = await call(session, sim, "POST", f"/api/v1{path}", fill(request_body, ids))
    assert got[:2] == (status, {"message": message})
    assert sim.balance == before and len(sim.tasks) == tasks  # refusals cost nothing


VOCAL = body("nuro-create-request-vocal")
NURO_CASES: list[tuple[dict[str, Any], str]] = [
    ({"type": "song"}, "The 'type' field should be 'vocal' or 'bgm'."),
    ({**VOCAL, "lyrics": ""}, REQUIRED.format("lyrics")),
    ({**VOCAL, "lyrics": "x" * 2001},
     "The lyrics character length should be less than or equal to 2000."),
    ({**VOCAL, "gender": "female"}, "The 'gender' field is invalid."),
    ({**VOCAL, "genre": "Polka"}, "The 'genre' field is invalid."),
    ({k: v for k, v in VOCAL.items() if k != "timbre"}, REQUIRED.format("timbre")),
    ({**VOCAL, "duration": 20}, "The 'duration' field should be between 30 and 240."),
    ({"type": "bgm", "description": "d", "duration": 61},
     "The 'duration' field should be between 1 and 60."),
    ({"type": "bgm"}, REQUIRED.format("description")),
    ({"type": "bgm", "description": "d", "mood": ["happy"] * 6},
     "The 'mood' field allows at most 5 values."),
    # The constructed example puts "business" in theme; docs/musicapi/protocol.md §9 lists it only
    # as a genre.
    (body("nuro-create-request-bgm"), "The 'theme' field is invalid."),
    ({"type": "bgm", "description": "d", "segments": [{"name": "intro", "duration": 5}]},
     "The 'segments' field needs version 'v2.0'."),
    ({"type": "bgm", "description": "d", "version": "v2.0",
      "segments": [{"name": "bridge", "duration": 5}]}, "The 'segments' field is invalid."),
    ({**body("nuro-create-request-bgm-v2"), "duration": 100},
     "The segment durations should add up to 'duration'."),
]  # fmt: skip


@pytest.mark.parametrize(("request_body", "description"), NURO_CASES)
async def test_nuro_validation_uses_the_catalogue_envelope(
    make_sim: SimFactory,
    session: aiohttp.ClientSession,
    request_body: dict[str, Any],
    description: str,
) -> None:
    sim = await make_sim()
    got = await call(session, sim, "POST", "/api/v1/nuro/create", request_body)
    assert got[:2] == (400, {"type": "bad_request", "description": description})
    assert sim.balance == 10000


async def test_nuro_segments_reading_knob(
    make_sim: SimFactory, session: aiohttp.ClientSession
) -> None:
    mismatch = {**body("nuro-create-request-bgm-v2"), "duration": 100}
    lenient = await make_sim(nuro_segments_must_sum=False)
    await post_ok(session, lenient, "/nuro/create", mismatch)
    strict = await make_sim()
    for name in ("nuro-create-request-vocal", "nuro-create-request-bgm-v2"):
        assert set(await post_ok(session, strict, "/nuro/create", body(name))) == set(
            body("nuro-create-response")
        )


@pytest.mark.parametrize(
    ("magic", "status", "problem"),
    [
        ("[sim:queue-full]", 403, ("forbidden", "Queue is full")),
        ("[sim:language]", 400, ("bad_request", "Input language not supported")),
    ],
)
async def test_nuro_magic_refusals(
    make_sim: SimFactory,
    session: aiohttp.ClientSession,
    magic: str,
    status: int,
    problem: tuple[str, str],
) -> None:
    sim = await make_sim()
    request_body = {**VOCAL, "lyrics": f"[verse]\n{magic}"}
    got = await call(session, sim, "POST", "/api/v1/nuro/create", request_body)
    assert got[:2] == (status, {"type": problem[0], "description": problem[1]})


async def test_nuro_auth_credits_not_found_and_failure_shapes(
    make_sim: SimFactory, session: aiohttp.ClientSession
) -> None:
    clock = Clock()
    sim = await make_sim(clock=clock, credits=10)
    got = await call(session, sim, "GET", "/api/v1/nuro/task/x", headers={})
    assert got[:2] == (401, {"type": "unauthorized", "description": "Invalid signature"})
    got = await call(session, sim, "GET", "/api/v1/nuro/task/x")
    assert got[:2] == (404, {"type": "not_found", "description": "Task not found"})
    task = await post_ok(session, sim, "/nuro/create", {**VOCAL, "lyrics": "[sim:fail]"})
    got = await call(session, sim, "POST", "/api/v1/nuro/create", VOCAL)
    assert got[:2] == (403, {"type": "forbidden", "description": "API usage limit exceeded"})
    clock.now += 1000
    _, flat, _ = await call(session, sim, "GET", f"/api/v1/nuro/task/{task['task_id']}")
    assert flat["status"] == "failed"
    assert (flat["type"], flat["description"]) == ("api_error", "Algorithm error")
    assert sim.balance == 10


async def test_nuro_poll_is_flat_like_the_example(
    make_sim: SimFactory, session: aiohttp.ClientSession
) -> None:
    clock = Clock()
    sim = await make_sim(clock=clock)
    task = await post_ok(session, sim, "/nuro/create", VOCAL)
    clock.now += 1000
    _, flat, _ = await call(session, sim, "GET", f"/api/v1/nuro/task/{task['task_id']}")
    assert set(flat) == set(body("nuro-get-music-response-succeeded"))
    assert (flat["status"], flat["progress"], flat["duration"]) == ("succeeded", 100, 120.0)
    assert flat["audio_url"].endswith(".wav") and flat["lyrics"] == VOCAL["lyrics"]
    assert (flat["genre"], flat["gender"]) == ("Pop", "Female")


# --------------------------------------------------------------------------- shapes


async def test_sync_shapes_match_the_examples(world: World, session: aiohttp.ClientSession) -> None:
    sim, _, ids = world
    clip = {"clip_id": ids["clip"]}
    sample_request = {**body("sonic-sample-request"), "chop_sample_start_s": 0.5}
    sample_request["chop_sample_end_s"] = 1.5
    for path, request_body, example in (
        ("/sonic/bpm", clip, "sonic-bpm-response"),
        ("/sonic/vox", clip, "sonic-vox-response"),
        ("/sonic/wav", clip, "sonic-wav-response"),
        ("/sonic/midi", clip, "sonic-midi-response"),
        ("/sonic/aligned-lyrics", clip, "sonic-aligned-lyrics-response"),
        ("/sonic/upsample-tags", {"tags": "lofi, chill"}, "sonic-upsample-tags-response"),
        ("/sonic/upload", body("sonic-upload-request"), "sonic-upload-response"),
        ("/sonic/persona", {"name": "n", "clip_id": ids["upload"]}, "sonic-persona-response"),
        ("/sonic/create-voice", body("sonic-create-voice-request"), "sonic-create-voice-response"),
        ("/sonic/stems/basic", clip, "sonic-stems-response"),
        ("/sonic/upload-cover", body("sonic-upload-cover-request"), "sonic-upload-cover-response"),
        # The documented 10-20 s window, moved inside the simulator's 2.5 s clips.
        ("/sonic/sample", sample_request, "sonic-sample-response"),
        ("/producer/create", body("producer-create-request-sound"), "producer-create-response"),
        ("/riffusion/upload", {"url": URL}, "riffusion-upload-response"),
        ("/studio/create", body("studio-create-request-custom"), "studio-create-response"),
    ):  # fmt: skip
        data = await post_ok(session, sim, path, request_body)
        expected = body(example)
        assert set(data) == set(expected), path
        if isinstance(expected.get("data"), dict):
            assert set(data["data"]) == set(expected["data"]), path
        if "steps" in expected:
            assert set(data["steps"]) == set(expected["steps"])
            assert all(set(s) >= {"success"} for s in data["steps"].values())
    alignment = (await post_ok(session, sim, "/sonic/aligned-lyrics", clip))["data"]["alignment"]
    assert set(alignment[0]) == set(body("sonic-aligned-lyrics-response")["data"]["alignment"][0])


async def test_family_poll_shapes_match_the_examples(
    world: World, session: aiohttp.ClientSession
) -> None:
    sim, clock, _ = world
    producer = await post_ok(session, sim, "/producer/create", {"sound": "pop", "seed": "42"})
    riffusion = await post_ok(
        session, sim, "/riffusion/create", body("riffusion-create-request-lyrics")
    )
    studio = await post_ok(session, sim, "/studio/create", body("studio-create-request-custom"))
    voice = await post_ok(session, sim, "/sonic/create-voice", body("sonic-create-voice-request"))
    clock.now += 1000

    _, data, _ = await call(session, sim, "GET", f"/api/v1/producer/task/{producer['task_id']}")
    example = body("producer-task-response-succeeded")
    assert set(data) == set(example) and data["status"] == "SUCCESS"
    assert set(data["data"][0]) == set(example["data"][0]) and data["data"][0]["seed"] == "42"

    _, data, _ = await call(session, sim, "GET", f"/api/v1/riffusion/task/{riffusion['task_id']}")
    example = body("riffusion-get-music-response")
    assert set(data) == set(example) and len(data["data"]) == 2
    assert all(set(song) == set(example["data"][0]) for song in data["data"])

    _, data, _ = await call(session, sim, "GET", f"/api/v1/studio/task/{studio['data']}")
    example = body("studio-get-music-response")
    assert data["code"] == "success" and set(data) == set(example)
    assert set(data["data"]) == set(example["data"])
    assert set(data["data"]["data"]["songs"][0]) >= set(example["data"]["data"]["songs"][0])
    assert (data["data"]["status"], data["data"]["progress"]) == ("SUCCESS", "100%")

    _, data, _ = await call(session, sim, "GET", f"/api/v1/sonic/task/{voice['task_id']}")
    assert set(data) == set(body("sonic-create-voice-task-result"))
    assert set(data["data"]) == {"persona_id", "name"}


async def test_create_voice_with_the_200_reading(
    make_sim: SimFactory, session: aiohttp.ClientSession
) -> None:
    clock = Clock()
    sim = await make_sim(clock=clock, not_ready_202=False)
    voice = await post_ok(session, sim, "/sonic/create-voice", {"audio_url": URL})
    got = await call(session, sim, "GET", f"/api/v1/sonic/task/{voice['task_id']}")
    assert got[:2] == (200, {"code": 200, "data": None, "message": "success"})


@pytest.mark.parametrize("family", ["producer", "nuro", "riffusion", "studio"])
async def test_missing_task_id_on_every_family(
    make_sim: SimFactory, session: aiohttp.ClientSession, family: str
) -> None:
    sim = await make_sim()
    got = await call(session, sim, "GET", f"/api/v1/{family}/task/")
    assert got[:2] == (400, {"message": "missing task id."})


@pytest.mark.parametrize(
    ("family", "path", "text"),
    [
        ("nuro", "/nuro/create", "Nuro has been retired"),
        ("riffusion", "/riffusion/upload", "Riffusion is deprecated"),
        ("studio", "/studio/task/x", "Studio is unavailable."),
    ],
)
async def test_retired_families_answer_410(
    make_sim: SimFactory, session: aiohttp.ClientSession, family: str, path: str, text: str
) -> None:
    sim = await make_sim(retired=frozenset({family}))
    method = "GET" if "/task/" in path else "POST"
    status, data, _ = await call(session, sim, method, f"/api/v1{path}", {})
    assert status == 410 and data["message"].startswith(text)


# --------------------------------------------------------------------------- timing phases


async def test_riffusion_first_song_alone_then_both(
    make_sim: SimFactory, session: aiohttp.ClientSession
) -> None:
    clock = Clock()
    sim = await make_sim(clock=clock, generation_time=10.0)
    task = await post_ok(session, sim, "/riffusion/create", {"custom_mode": False, "prompt": "x"})
    path = f"/api/v1/riffusion/task/{task['task_id']}"
    seen = []
    for t in (0, 5, 7.5, 8.9, 9.5, 10):
        clock.now = 1000 + t
        _, data, _ = await call(session, sim, "GET", path)
        seen.append([song["state"] for song in data["data"]])
    assert seen == [
        ["pending"],
        ["running"],
        ["succeeded"],  # the phase where one finished song is all there is
        ["succeeded", "streaming"],
        ["succeeded", "streaming"],
        ["succeeded", "succeeded"],
    ]


async def test_producer_and_studio_status_phases(
    make_sim: SimFactory, session: aiohttp.ClientSession
) -> None:
    clock = Clock()
    sim = await make_sim(clock=clock, generation_time=10.0)
    producer = await post_ok(session, sim, "/producer/create", {"sound": "pop"})
    studio = await post_ok(session, sim, "/studio/create", {"lyrics_type": "instrumental"})
    seen = []
    for t in (0, 5, 10):
        clock.now = 1000 + t
        _, p, _ = await call(session, sim, "GET", f"/api/v1/producer/task/{producer['task_id']}")
        _, s, _ = await call(session, sim, "GET", f"/api/v1/studio/task/{studio['data']}")
        seen.append((p["status"], s["data"]["status"], s["data"]["progress"]))
    assert seen == [
        ("PENDING", "NOT_START", "0%"),
        ("RUNNING", "IN_PROGRESS", "50%"),
        ("SUCCESS", "SUCCESS", "100%"),
    ]


async def test_failed_families_are_refunded(
    make_sim: SimFactory, session: aiohttp.ClientSession
) -> None:
    clock = Clock()
    sim = await make_sim(clock=clock)
    producer = await post_ok(session, sim, "/producer/create", {"sound": "[sim:fail]"})
    studio = await post_ok(
        session, sim, "/studio/create", {"lyrics_type": "generate", "prompt": "[sim:fail]"}
    )
    assert sim.balance == 10000 - 10 - 15
    clock.now += 1000
    _, p, _ = await call(session, sim, "GET", f"/api/v1/producer/task/{producer['task_id']}")
    assert (p["status"], p["data"]) == ("FAILED", [])
    _, s, _ = await call(session, sim, "GET", f"/api/v1/studio/task/{studio['data']}")
    assert s["data"]["status"] == "FAILED" and s["data"]["fail_reason"]
    assert sim.balance == 10000


# --------------------------------------------------------------------------- files and costs


async def test_midi_file_is_well_formed_and_matches_its_json(
    world: World, session: aiohttp.ClientSession
) -> None:
    sim, _, ids = world
    data = (await post_ok(session, sim, "/sonic/midi", {"clip_id": ids["clip"]}))["data"]
    async with session.get(data["midi_url"]) as resp:
        midi = await resp.read()
    assert midi[:4] == b"MThd"
    length, fmt, tracks, division = struct.unpack(">IHHH", midi[4:14])
    assert (length, fmt, tracks, division) == (6, 0, 1, 480)
    assert midi[14:18] == b"MTrk"
    (track_length,) = struct.unpack(">I", midi[18:22])
    assert len(midi) == 22 + track_length
    notes = data["instruments"][0]["notes"]
    assert midi.count(b"\x90") >= len(notes) >= 4  # one note-on per note (at least)


async def test_producer_mp3_download_is_mpeg_frames(
    world: World, session: aiohttp.ClientSession
) -> None:
    sim, clock, ids = world
    task = await post_ok(
        session, sim, "/producer/download", {"clip_id": ids["producer"], "format": "mp3"}
    )
    clock.now += 1000
    _, data, _ = await call(session, sim, "GET", f"/api/v1/producer/task/{task['task_id']}")
    async with session.get(data["data"][0]["audio_url"]) as resp:
        assert resp.content_type == "audio/mpeg"
        audio = await resp.read()
    assert len(audio) % 417 == 0 and len(audio) // 417 >= 90  # ~2.5 s of 26 ms frames
    assert all(audio[i : i + 4] == b"\xff\xfb\x90\xc0" for i in range(0, len(audio), 417))


def test_endpoint_costs_follow_the_reference() -> None:
    assert ENDPOINT_COSTS["upload"] == 2 and ENDPOINT_COSTS["create_voice"] == 4
    assert ENDPOINT_COSTS["stems_basic"] == 15 and ENDPOINT_COSTS["stems_full"] == 75
    for name in ("bpm", "vox", "midi", "aligned_lyrics", "upsample_tags", "persona"):
        assert ENDPOINT_COSTS[name] == 1, name
    assert ENDPOINT_COSTS["wav"] == 2
    assert (ENDPOINT_COSTS["mashup"], ENDPOINT_COSTS["replace_section"]) == (14, 10)
    assert ENDPOINT_COSTS["producer_create_music"] == 10
    assert ENDPOINT_COSTS["producer_extend"] == ENDPOINT_COSTS["producer_replace"] == 12
    assert ENDPOINT_COSTS["producer_upload"] == ENDPOINT_COSTS["producer_download"] == 2
    assert (ENDPOINT_COSTS["nuro"], ENDPOINT_COSTS["riffusion"], ENDPOINT_COSTS["studio"]) == (
        10,
        12,
        15,
    )


async def test_upload_extend_checks_credits_for_both_steps(
    make_sim: SimFactory, session: aiohttp.ClientSession
) -> None:
    sim = await make_sim(credits=16)
    request_body = {**body("sonic-upload-extend-request"), "auto_concat": False}
    status, data, _ = await call(session, sim, "POST", "/api/v1/sonic/upload-extend", request_body)
    assert status == 403 and "credits" in data["message"]
    assert sim.balance == 16 and not sim.tasks


# --------------------------------------------------------------------------- the SDK's /suno names


async def test_suno_aliases(world: World, session: aiohttp.ClientSession) -> None:
    sim, clock, ids = world
    task = await post_ok(session, sim, "/suno/create", GOOD)
    clock.now += 1000
    status, data, _ = await call(session, sim, "GET", f"/api/v1/suno/clip/{task['task_id']}")
    assert status == 200 and [c["state"] for c in data["data"]] == ["succeeded"] * 2
    lyrics = await post_ok(session, sim, "/suno/make-lyrics", {"prompt": "the sea"})
    _, got, _ = await call(
        session, sim, "GET", f"/api/v1/suno/get-lyrics/{lyrics['data']['task_id']}"
    )
    assert got["code"] == 200 and "the sea" in got["data"]["text"]
    song = await post_ok(
        session, sim, "/suno/get-song", {"share_link": f"https://suno.com/song/{ids['clip']}"}
    )
    assert set(song) == {
        "audio_url", "video_url", "cover_image", "song_title", "song_author", "music_styles",
    }  # fmt: skip
    status, _, _ = await call(session, sim, "POST", "/api/v1/suno/get-song", {"share_link": "x/y"})
    assert status == 404


async def test_create_accepts_the_sdk_lyrics_alias(
    make_sim: SimFactory, session: aiohttp.ClientSession
) -> None:
    clock = Clock()
    sim = await make_sim(clock=clock)
    clip_id = await finished_clip(session, sim, clock, prompt=None, lyrics=LYRICS)
    assert sim.clip(clip_id).lyrics == LYRICS


# --------------------------------------------------------------------------- robustness

JUNK: tuple[Any, ...] = (None, "x", -1, 10**6, 0.5, [], {}, True, ["a", "b"])


def valid_bodies(ids: dict[str, str]) -> dict[str, dict[str, Any]]:
    clip = ids["clip"]
    return {
        "/sonic/create": {"custom_mode": True, "mv": "sonic-v5", "prompt": "la"},
        "/sonic/upload": {"url": URL},
        "/sonic/upload-extend": {"url": URL, "continue_at": 0.5, "auto_concat": True, **GEN},
        "/sonic/upload-cover": {"url": URL, "audio_weight": 0.5, **GEN},
        "/sonic/sample": {"sample_clip_id": clip, "chop_sample_start_s": 0, "chop_sample_end_s": 1,
                          "make_instrumental": True, **GEN},
        "/sonic/mashup": {"mashup_clip_ids": [clip, clip], **GEN},
        "/sonic/stems/basic": {"clip_id": clip},
        "/sonic/stems/full": {"clip_id": clip},
        "/sonic/replace-section": {"clip_id": clip, "mv": "sonic-v5", "infill_start_s": 0,
                                   "infill_end_s": 1, "auto_concat": True},
        "/sonic/persona": {"name": "n", "clip_id": clip, "describe": "d", "styles": "s",
                           "vocal_start_s": 0, "vocal_end_s": 1},
        "/sonic/create-voice": {"audio_url": URL},
        "/sonic/bpm": {"clip_id": clip},
        "/sonic/vox": {"clip_id": clip, "vocal_start_s": 0, "vocal_end_s": 1},
        "/sonic/wav": {"clip_id": clip},
        "/sonic/midi": {"clip_id": clip},
        "/sonic/aligned-lyrics": {"clip_id": clip},
        "/sonic/upsample-tags": {"tags": "lofi"},
        "/sonic/lyrics": {"description": "the sea"},
        "/producer/create": {"task_type": "replace_music", "clip_id": ids["producer"],
                             "starts_at": 0, "ends_at": 1, "length": 10, "seed": 3},
        "/producer/upload": {"audio_url": URL},
        "/producer/download": {"clip_id": ids["producer"], "format": "wav"},
        "/nuro/create": {"type": "bgm", "description": "d", "version": "v2.0", "duration": 10,
                         "segments": [{"name": "intro", "duration": 10}], "genre": ["pop"]},
        "/riffusion/create": {"task_type": "create_music", "custom_mode": True, "lyrics": "la",
                              "vocal_variation": 0.5},
        "/riffusion/upload": {"url": URL},
        "/studio/create": {"lyrics_type": "user", "lyrics": "la", "seed": 1,
                           "config": {"mode": "regular"}, "song_section_start": 0,
                           "song_section_end": 1},
        "/suno/make-lyrics": {"prompt": "sea"},
        "/suno/get-song": {"share_link": f"https://suno.com/song/{clip}"},
    }  # fmt: skip


async def test_no_body_makes_any_endpoint_fail_with_a_5xx(
    world: World, session: aiohttp.ClientSession
) -> None:
    sim, _, ids = world
    sim.config.credits = sim.balance = 10**9
    for path, valid in valid_bodies(ids).items():
        url = f"{sim.base_url}/api/v1{path}"
        headers = {"Authorization": "Bearer k", "Content-Type": "application/json"}
        async with session.post(url, data=b"{nope", headers=headers) as resp:
            assert resp.status < 500, path
        bodies: list[Any] = [valid, {}, [], "text", None]
        bodies += [{**valid, key: junk} for key in valid for junk in JUNK]
        for request_body in bodies:
            status, data, _ = await call(session, sim, "POST", f"/api/v1{path}", request_body)
            assert status < 500, (path, request_body, data)
            assert isinstance(data, dict), (path, request_body, data)
