"""Parsing of every family's poll shape and every sync result, from the shared examples."""

from __future__ import annotations

from typing import Any

import pytest

from bot.musicapi.errors import MalformedResponseError, StepFailedError
from bot.musicapi.families.nuro import nuro_status
from bot.musicapi.families.producer import producer_status
from bot.musicapi.families.riffusion import riffusion_status
from bot.musicapi.families.studio import studio_status
from bot.musicapi.models import PersonaResult, TaskStatus, parse_progress
from bot.musicapi.results import (
    AlignedWord,
    BpmResult,
    MidiResult,
    StepsResult,
    VoxResult,
)

from .fixtures import load_example


def body(name: str) -> Any:
    return load_example(name)["body"]


# --------------------------------------------------------------------------- producer


def test_producer_succeeded_example() -> None:
    status = producer_status("t", 200, body("producer-task-response-succeeded"), "rid")
    assert status.state == "succeeded" and status.done and status.failure is None
    (clip,) = status.clips
    assert clip.clip_id == "ac78601b-bd05-48dd-b5c6-89195561de36"
    # The clip's own state is a placeholder ("<state>"), so it takes the task's SUCCESS.
    assert clip.state == "succeeded" and clip.is_usable
    assert clip.audio_url is not None and clip.audio_url.endswith(".m4a")
    assert clip.wav_url is not None and clip.wav_url.endswith("-wav.wav")
    assert status.files == (clip.audio_url, clip.wav_url)
    assert clip.title == "Back to You" and clip.duration is None
    assert status.request_id == "rid"


@pytest.mark.parametrize(
    ("raw", "state"),
    [("PENDING", "pending"), ("RUNNING", "running"), ("running", "running")],
)
def test_producer_in_flight_states(raw: str, state: str) -> None:
    status = producer_status("t", 200, {"code": 200, "status": raw, "message": "", "data": []})
    assert status.state == state and not status.done


def test_producer_failed_keeps_the_message() -> None:
    failed = {"code": 200, "status": "FAILED", "message": "Lyria refused it.", "data": []}
    status = producer_status("t", 200, failed)
    assert status.state == "failed"
    assert status.failure is not None and status.failure.message == "Lyria refused it."
    generic = producer_status("t", 200, {"code": 200, "status": "FAILED", "message": "success"})
    assert generic.failure is not None and generic.failure.message == "The Producer task failed."


def test_producer_download_result_is_reachable_as_files() -> None:
    # The SDK's reading of a download result: bare [{audio_url}] without a clip id.
    url = "https://musicapi-cdn.b-cdn.net/producer/x.wav"
    data = {"code": 200, "status": "SUCCESS", "message": "success", "data": [{"audio_url": url}]}
    status = producer_status("t", 200, data)
    assert status.state == "succeeded"
    assert status.files == (url,) and status.clips == ()


def test_producer_success_without_audio_is_a_failure() -> None:
    status = producer_status("t", 200, {"code": 200, "status": "SUCCESS", "data": []})
    assert status.state == "failed"
    assert status.failure is not None and status.failure.kind == "empty_result"


def test_producer_without_status_falls_back_to_clip_states() -> None:
    clip = {"clip_id": "c", "state": "running", "audio_url": ""}
    assert producer_status("t", 200, {"code": 200, "data": [clip]}).state == "running"


@pytest.mark.parametrize(
    "bad",
    [{"status": "EXPLODED", "data": []}, {"status": "SUCCESS", "data": {}}, ["x"]],
)
def test_producer_wrong_shapes(bad: Any) -> None:
    with pytest.raises(MalformedResponseError):
        producer_status("t", 200, bad)


# --------------------------------------------------------------------------- nuro


def test_nuro_succeeded_example() -> None:
    example = body("nuro-get-music-response-succeeded")
    status = nuro_status("4c35433b-1649-433d-b513-8422af70fbaa", 200, example)
    assert status.state == "succeeded" and status.progress == 100
    (clip,) = status.clips
    # Nuro songs have no clip id: the task id stands in for it.
    assert clip.clip_id == "4c35433b-1649-433d-b513-8422af70fbaa"
    assert clip.audio_url == example["audio_url"] and clip.audio_url.endswith(".wav")
    assert clip.lyrics.startswith("[intro]")
    assert clip.mv == "nuro"


def test_nuro_running_exposes_progress_and_no_clip_yet() -> None:
    flat = {"task_id": "t", "status": "running", "progress": 42, "audio_url": ""}
    status = nuro_status("t", 200, flat)
    assert (status.state, status.progress, status.clips) == ("running", 42, ())


@pytest.mark.parametrize(
    "failure",
    [
        {"task_id": "t", "status": "failed", "type": "api_error", "description": "Algorithm error"},
        {"type": "api_error", "description": "Algorithm error"},
    ],
)
def test_nuro_failure_readings(failure: dict[str, Any]) -> None:
    status = nuro_status("t", 200, failure)
    assert status.state == "failed"
    assert status.failure is not None
    assert (status.failure.kind, status.failure.message) == ("api_error", "Algorithm error")


def test_nuro_unknown_status_is_malformed() -> None:
    with pytest.raises(MalformedResponseError):
        nuro_status("t", 200, {"task_id": "t", "status": "exploded"})


@pytest.mark.parametrize(
    ("value", "expected"),
    [(42, 42), ("100%", 100), (" 7% ", 7), (99.6, 100), (150, 100), ("x", None), (None, None)],
)
def test_parse_progress(value: Any, expected: int | None) -> None:
    assert parse_progress(value) == expected


# --------------------------------------------------------------------------- riffusion


def test_riffusion_example_with_one_song_keeps_polling() -> None:
    # The example holds one finished song; a task makes two, so it is not done yet.
    status = riffusion_status("t", 200, body("riffusion-get-music-response"))
    assert not status.done
    assert status.state == "streaming" and len(status.usable_clips) == 1


def test_riffusion_two_songs_finish() -> None:
    song = body("riffusion-get-music-response")["data"][0]
    both = {"code": 200, "data": [song, {**song, "clip_id": "second"}], "message": "success"}
    status = riffusion_status("t", 200, both)
    assert status.state == "succeeded" and len(status.usable_clips) == 2


def test_riffusion_one_failed_song_keeps_polling_but_a_failure_body_ends_it() -> None:
    song = {"clip_id": "a", "state": "failed"}
    assert riffusion_status("t", 200, {"code": 200, "data": [song]}).state == "running"
    ended = riffusion_status("t", 200, {"type": "failed", "error": "nope"})
    assert ended.state == "failed"


# --------------------------------------------------------------------------- studio


def test_studio_example() -> None:
    status = studio_status("t", 200, body("studio-get-music-response"))
    # The example's song carries no audio field (the stored copy was cut), so a "success"
    # with nothing playable is reported as a failure rather than an empty delivery.
    assert status.progress == 100
    assert status.state == "failed"
    assert status.failure is not None and status.failure.kind == "empty_result"
    (clip,) = status.clips
    assert clip.clip_id == "6b021760-9c10-413b-b2df-b379496cb37c"
    assert clip.tags == "jazz, bossa nova, mpb, vocal jazz, spy, 2010s"
    assert clip.title == "Moonlit Caper ext v1.2.1"


def test_studio_song_with_audio_succeeds() -> None:
    example = body("studio-get-music-response")
    song = {**example["data"]["data"]["songs"][0], "song_path": "https://cdn/x.mp3"}
    data = {**example["data"], "data": {"songs": [song]}}
    status = studio_status("t", 200, {**example, "data": data})
    assert status.state == "succeeded"
    assert status.clips[0].audio_url == "https://cdn/x.mp3"


@pytest.mark.parametrize(
    ("raw", "progress", "state"),
    [("NOT_START", "0%", "pending"), ("IN_PROGRESS", "40%", "running")],
)
def test_studio_in_flight(raw: str, progress: str, state: str) -> None:
    data = {"status": raw, "progress": progress, "fail_reason": "", "data": {"songs": []}}
    status = studio_status("t", 200, {"code": "success", "message": "", "data": data})
    assert status.state == state and status.progress == int(progress[:-1])


def test_studio_failure_reason() -> None:
    data = {"status": "FAILED", "fail_reason": "GPU on fire", "progress": "50%"}
    status = studio_status("t", 200, {"code": "success", "data": data})
    assert status.state == "failed"
    assert status.failure is not None and status.failure.message == "GPU on fire"


# --------------------------------------------------------------------------- sonic extras


def test_create_voice_result_surfaces_the_persona() -> None:
    status = TaskStatus.from_poll("t", 200, body("sonic-create-voice-task-result"))
    assert status.state == "succeeded" and status.done
    assert status.persona == PersonaResult(
        persona_id="<persona id usable with task_type=persona_music>", name="<voice name>"
    )
    assert status.clips == () and status.failure is None


def test_stems_come_back_one_clip_per_stem() -> None:
    stem = {"state": "succeeded", "audio_url": "https://cdn1.suno.ai/s.mp3"}
    data = [{**stem, "clip_id": f"s{i}", "title": name} for i, name in enumerate(("Vocals", "X"))]
    status = TaskStatus.from_poll("t", 200, {"code": 200, "data": data, "message": "success"})
    assert [c.title for c in status.usable_clips] == ["Vocals", "X"]


def _clip(clip_id: str, state: str = "succeeded") -> dict[str, Any]:
    url = f"https://cdn1.suno.ai/{clip_id}.mp3" if state == "succeeded" else ""
    return {"clip_id": clip_id, "state": state, "audio_url": url}


def test_auto_concat_pairs() -> None:
    waiting = [{"replaced": _clip("p1"), "full": None}, {"replaced": _clip("p2"), "full": None}]
    status = TaskStatus.from_poll("t", 200, {"code": 200, "data": waiting})
    assert status.state == "streaming" and not status.done
    assert [c.clip_id for c in status.parts] == ["p1", "p2"] and status.clips == ()

    done = [{"extended": _clip("p1"), "full": _clip("f1")}]
    status = TaskStatus.from_poll("t", 200, {"code": 200, "data": done})
    assert status.state == "succeeded"
    assert [c.clip_id for c in status.clips] == ["f1"]
    assert [c.clip_id for c in status.parts] == ["p1"]

    running = [{"replaced": _clip("p1", "running"), "full": None}]
    assert TaskStatus.from_poll("t", 200, {"code": 200, "data": running}).state == "running"

    concat_failed = [{"replaced": _clip("p1"), "full": _clip("f1", "failed")}]
    status = TaskStatus.from_poll("t", 200, {"code": 200, "data": concat_failed})
    assert status.state == "succeeded" and [c.clip_id for c in status.clips] == ["p1"]

    edit_failed = [{"replaced": _clip("p1", "failed"), "full": None}]
    assert TaskStatus.from_poll("t", 200, {"code": 200, "data": edit_failed}).state == "failed"


def test_bpm_vox_midi_aligned_examples() -> None:
    assert BpmResult.from_api(body("sonic-bpm-response")) == BpmResult(120.0, 122.0, 118.0)
    vox = VoxResult.from_api(body("sonic-vox-response"))
    assert vox.vox_audio_id == "<id>" and vox.source_clip_id == "<clip_id>"
    assert (vox.vocal_start_s, vox.vocal_end_s) == (30.0, 55.0)
    assert vox.wave_response == "<opaque>"
    midi = MidiResult.from_api(body("sonic-midi-response"))
    assert midi.midi_url == "https://<cdn>/<clip_id>.mid"
    assert [i.name for i in midi.instruments] == ["<instrument>"]
    words = AlignedWord.list_from_api(body("sonic-aligned-lyrics-response"))
    assert words == [
        AlignedWord("Stars ", 12.4, 12.9, 0.98, True),
        AlignedWord("they ", 12.9, 13.2, 0.97, True),
    ]


@pytest.mark.parametrize(
    ("parser", "bad"),
    [
        (BpmResult.from_api, {"code": 200, "data": {"avg_bpm": "fast"}}),
        (VoxResult.from_api, {"code": 200, "data": {}}),
        (MidiResult.from_api, {"code": 200, "data": {"instruments": []}}),
        (AlignedWord.list_from_api, {"code": 200, "data": {"alignment": [{"word": "x"}]}}),
        (AlignedWord.list_from_api, {"code": 200, "data": None}),
    ],
)
def test_sync_results_wrong_shapes(parser: Any, bad: Any) -> None:
    with pytest.raises(MalformedResponseError):
        parser(bad)


@pytest.mark.parametrize("name", ["sonic-upload-cover-response", "sonic-sample-response"])
def test_steps_examples(name: str) -> None:
    result = StepsResult.from_api(body(name))
    assert result.task_id == "<uuid>" and result.failed_step is None
    assert result.uploaded_clip_id == "<uploaded clip_id>"
    assert all(step.success for step in result.steps.values())


def test_steps_task_id_only_inside_the_step() -> None:
    steps = {
        "upload": {"success": True, "clip_id": "u"},
        "extend": {"success": True, "task_id": "x"},
    }
    assert StepsResult.from_api({"code": 200, "steps": steps}).task_id == "x"


def test_failed_step_raises_with_the_step_error() -> None:
    failure = {
        "code": 413,
        "message": "This audio matches an existing recording in our catalog.",
        "steps": {"upload": {"success": False, "error": "Audio URL is not accessible: x"}},
        "failed_step": "upload",
    }
    with pytest.raises(StepFailedError) as info:
        StepsResult.from_api(failure, status=200, request_id="r")
    assert info.value.step == "upload"
    assert str(info.value) == "Audio URL is not accessible: x"  # the step's text wins
    assert info.value.uploaded_clip_id is None and info.value.request_id == "r"

    later = {
        "message": "success",
        "steps": {"upload": {"success": True, "clip_id": "u1"}, "cover": {"success": False}},
        "failed_step": "cover",
    }
    with pytest.raises(StepFailedError) as info:
        StepsResult.from_api(later)
    assert info.value.step == "cover" and info.value.uploaded_clip_id == "u1"
    assert "cover" in str(info.value)


def test_steps_without_task_or_failure_are_malformed() -> None:
    with pytest.raises(MalformedResponseError):
        StepsResult.from_api({"code": 200, "message": "success", "steps": {}})
