"""Parsing of poll, credits and lyrics payloads from the shared examples."""

from __future__ import annotations

import pytest

from bot.musicapi.errors import MalformedResponseError
from bot.musicapi.models import Clip, Credits, LyricsDraft, TaskStatus, parse_duration

from .fixtures import load_example


def _poll(name: str) -> TaskStatus:
    example = load_example(name)
    return TaskStatus.from_poll("task-1", example["http_status"], example["body"], "rid")


def test_not_ready_is_pending() -> None:
    status = _poll("sonic-get-music-response-not-ready")
    assert status.state == "pending"
    assert not status.done
    assert status.clips == ()
    assert status.failure is None
    assert status.request_id == "rid"


def test_not_ready_type_on_a_200_is_also_pending() -> None:
    assert TaskStatus.from_poll("t", 200, {"type": "not_ready"}).state == "pending"


def test_in_progress_aggregates_to_running_with_empty_urls_as_none() -> None:
    status = _poll("sonic-get-music-response-in-progress")
    assert status.state == "running"
    assert not status.done
    assert [c.state for c in status.clips] == ["running", "pending"]
    for clip in status.clips:
        assert clip.audio_url is None and clip.image_url is None and clip.video_url is None
        assert clip.duration is None
        assert not clip.is_usable
    assert status.usable_clips == ()


def test_observed_payload_decimal_string_duration_and_extra_fields() -> None:
    status = _poll("sonic-get-music-response-observed")
    assert status.state == "succeeded" and status.done
    (clip,) = status.clips
    assert clip.clip_id == "30264033-2b01-43a7-8779-2a834b067486"
    assert clip.duration == pytest.approx(104.88)
    assert isinstance(clip.duration, float)
    assert clip.mv == "chirp-v5"
    assert clip.video_url is None
    assert clip.title == "Sunshine in My Pocket"
    assert clip.tags.startswith("electric with claps")
    assert clip.lyrics.startswith("[Verse]\nWoke up today")
    assert clip.audio_url == "https://cdn1.suno.ai/30264033-2b01-43a7-8779-2a834b067486.mp3"
    assert clip.image_url is not None and clip.image_url.endswith(".jpeg")
    assert clip.created_at == "2025-10-12T13:13:02.488Z"
    assert clip.negative_tags is None and clip.gpt_description_prompt is None
    # Fields we do not model are kept.
    assert "style_weight" in clip.raw and "weirdness_constraint" in clip.raw
    assert status.usable_clips == (clip,)


def test_succeeded_payload_integer_duration() -> None:
    status = _poll("sonic-get-music-response-succeeded")
    assert status.state == "succeeded"
    (clip,) = status.clips
    assert clip.duration == 180.0 and isinstance(clip.duration, float)
    assert clip.mv == "sonic-v3-5"
    assert clip.video_url is not None and clip.video_url.endswith(".mp4")
    assert clip.is_usable


def test_failed_upstream_payload() -> None:
    status = _poll("sonic-get-music-response-failed-upstream")
    assert status.state == "failed" and status.done
    assert status.failure is not None
    assert status.failure.kind == "failed"
    assert status.failure.message == "<human readable reason>"
    assert status.usable_clips == ()


@pytest.mark.parametrize("kind", ["failed", "timeout", "forbidden", "api_error"])
@pytest.mark.parametrize("key", ["error", "message"])
def test_every_failure_type_and_text_key(kind: str, key: str) -> None:
    status = TaskStatus.from_poll("t", 200, {"type": kind, key: "why it failed"})
    assert status.state == "failed"
    assert status.failure is not None
    assert (status.failure.kind, status.failure.message) == (kind, "why it failed")


def test_failure_without_text_gets_a_generic_message() -> None:
    status = TaskStatus.from_poll("t", 200, {"type": "timeout"})
    assert status.failure is not None and "timeout" in status.failure.message


def _clip(state: str, audio: str | None = "https://x/a.mp3", n: int = 0) -> dict[str, object]:
    return {"clip_id": f"c{n}-{state}", "state": state, "audio_url": audio}


@pytest.mark.parametrize(
    ("clips", "expected", "usable"),
    [
        ([], "pending", 0),
        ([_clip("pending"), _clip("pending", n=1)], "pending", 0),
        ([_clip("running"), _clip("pending", n=1)], "running", 0),
        ([_clip("streaming"), _clip("running", n=1)], "streaming", 0),
        ([_clip("succeeded"), _clip("streaming", n=1)], "streaming", 1),
        ([_clip("succeeded"), _clip("running", n=1)], "running", 1),
        ([_clip("succeeded"), _clip("pending", n=1)], "pending", 1),
        ([_clip("succeeded"), _clip("succeeded", n=1)], "succeeded", 2),
        ([_clip("succeeded"), _clip("failed", None, n=1)], "succeeded", 1),
        ([_clip("failed", None), _clip("failed", None, n=1)], "failed", 0),
        # Succeeded without audio is finished but unusable, so the task failed.
        ([_clip("succeeded", ""), _clip("failed", None, n=1)], "failed", 0),
        ([_clip("SUCCEEDED")], "succeeded", 1),
    ],
)
def test_clip_state_aggregation(clips: list[dict[str, object]], expected: str, usable: int) -> None:
    status = TaskStatus.from_poll("t", 200, {"code": 200, "data": clips, "message": "success"})
    assert status.state == expected
    assert len(status.usable_clips) == usable
    assert len(status.clips) == len(clips)
    if expected == "failed":
        assert status.failure is not None and status.failure.kind == "clips_failed"
    else:
        assert status.failure is None


def test_null_data_is_pending() -> None:
    assert TaskStatus.from_poll("t", 200, {"code": 200, "data": None}).state == "pending"


@pytest.mark.parametrize(
    "body",
    [
        "not json at all",
        ["a", "list"],
        {"code": 200, "message": "success"},
        # An object ``data`` is only valid as a create-voice result, which needs its persona id.
        {"code": 200, "data": {"name": "n"}},
        {"code": 200, "data": {"persona_id": "", "name": "n"}},
        {"code": 200, "data": [{"state": "running"}]},
        {"code": 200, "data": ["not a clip"]},
    ],
)
def test_wrong_shapes_are_malformed(body: object) -> None:
    with pytest.raises(MalformedResponseError):
        TaskStatus.from_poll("t", 200, body)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (180, 180.0),
        (104.88, 104.88),
        ("104.88", 104.88),
        (" 12 ", 12.0),
        ("0", 0.0),
        (None, None),
        ("", None),
        ("abc", None),
        ("nan", None),
        ("inf", None),
        (-3, None),
        (True, None),
        ([], None),
    ],
)
def test_parse_duration(value: object, expected: float | None) -> None:
    result = parse_duration(value)
    if expected is None:
        assert result is None
    else:
        assert result == pytest.approx(expected)


def test_clip_defaults_and_unknown_fields() -> None:
    clip = Clip.from_api({"clip_id": "abc", "brand_new_field": {"x": 1}})
    assert clip.state == "pending"
    assert (clip.title, clip.tags, clip.lyrics) == ("", "", "")
    assert clip.audio_url is None and clip.duration is None and clip.mv is None
    assert clip.raw["brand_new_field"] == {"x": 1}
    assert not clip.is_usable


@pytest.mark.parametrize("data", [{}, {"clip_id": ""}, {"clip_id": 5}])
def test_clip_without_id_is_malformed(data: dict[str, object]) -> None:
    with pytest.raises(MalformedResponseError):
        Clip.from_api(data)


def test_models_are_frozen_and_hashable() -> None:
    status = _poll("sonic-get-music-response-observed")
    with pytest.raises(AttributeError):
        status.state = "failed"  # type: ignore[misc]
    assert hash(status) == hash(_poll("sonic-get-music-response-observed"))


def test_credits_example() -> None:
    credits = Credits.from_api(load_example("get-credits-response")["body"])
    assert credits == Credits(credits=50.0, extra_credits=0.0)
    assert credits.total == 50.0
    assert Credits.from_api({"credits": 10, "extra_credits": 2.5}).total == 12.5
    assert Credits.from_api({"credits": "7.5"}).total == 7.5


@pytest.mark.parametrize(
    "body", [{}, {"extra_credits": 1}, {"credits": True}, {"credits": "lots"}, [1], None]
)
def test_bad_credits_are_malformed(body: object) -> None:
    with pytest.raises(MalformedResponseError):
        Credits.from_api(body)


def test_lyrics_example() -> None:
    drafts = LyricsDraft.list_from_api(load_example("lyrics-response")["body"])
    assert [d.title for d in drafts] == ["<title A>", "<title B>"]
    assert all(d.lyrics.startswith("[Verse]") for d in drafts)


@pytest.mark.parametrize(
    "body", [{}, {"results": "x"}, {"results": [{"title": "t"}]}, {"results": [3]}, None]
)
def test_bad_lyrics_are_malformed(body: object) -> None:
    with pytest.raises(MalformedResponseError):
        LyricsDraft.list_from_api(body)
