"""The client against a tiny loopback server that replays the documented example bodies."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

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
    ServerError,
    SubmitOutcomeUnknown,
    UnknownOutcome,
    UpstreamValidationError,
)
from bot.musicapi.families.sonic import SonicCreate
from bot.musicapi.models import Credits

from .conftest import TEST_KEY, ReplayServer
from .fixtures import load_example

ClientFactory = Callable[..., MusicAPIClient]
REQ = SonicCreate(custom_mode=False, mv="sonic-v5", gpt_description_prompt="a road trip song")


@pytest.fixture
def client(replay: ReplayServer, make_client: ClientFactory) -> MusicAPIClient:
    # No retries: each test sees exactly one request.
    return make_client(replay.base_url + "/", max_retries=0)


def _replay_example(replay: ReplayServer, name: str, **headers: str) -> dict[str, Any]:
    example = load_example(name)
    replay.reply(example["http_status"], example["body"], headers)
    return example


async def test_create_sends_auth_json_and_returns_task_id(
    replay: ReplayServer, client: MusicAPIClient
) -> None:
    _replay_example(replay, "sonic-create-response")
    assert await client.create_music(REQ) == "<uuid>"
    (seen,) = replay.seen
    assert seen["method"] == "POST"
    assert seen["path"] == "/api/v1/sonic/create"  # trailing slash of base_url stripped
    assert seen["headers"]["Authorization"] == f"Bearer {TEST_KEY}"
    assert seen["headers"]["Content-Type"].startswith("application/json")
    assert json.loads(seen["body"]) == REQ.to_body()
    assert client.stats["create"] == 1


async def test_create_accepts_the_older_envelope_with_code(
    replay: ReplayServer, client: MusicAPIClient
) -> None:
    replay.reply(200, {"code": 200, "message": "success", "task_id": "t-42"})
    assert await client.create_music(REQ) == "t-42"


@pytest.mark.parametrize("body", [{"message": "success"}, {"task_id": ""}, {"task_id": 5}, []])
async def test_create_without_task_id_is_an_unknown_outcome(
    replay: ReplayServer, client: MusicAPIClient, body: Any
) -> None:
    # A 2xx without a readable task id: MusicAPI may have made the task, so it is not resent.
    replay.reply(200, body, {"x-request-id": "r-9"})
    with pytest.raises(SubmitOutcomeUnknown) as info:
        await client.create_music(REQ)
    assert info.value.request_id == "r-9"
    assert info.value.reason is UnknownOutcome.UNREADABLE  # an answer came: it was unreadable


async def test_invalid_request_is_refused_before_sending(
    replay: ReplayServer, client: MusicAPIClient
) -> None:
    with pytest.raises(ValueError, match="persona_id"):
        await client.create_music(SonicCreate(task_type="persona_music", custom_mode=True, mv="m"))
    assert replay.seen == []


@pytest.mark.parametrize(
    ("name", "state", "clips", "usable"),
    [
        ("sonic-get-music-response-not-ready", "pending", 0, 0),
        ("sonic-get-music-response-in-progress", "running", 2, 0),
        ("sonic-get-music-response-observed", "succeeded", 1, 1),
        ("sonic-get-music-response-succeeded", "succeeded", 1, 1),
        ("sonic-get-music-response-failed-upstream", "failed", 0, 0),
    ],
)
async def test_poll_examples(
    replay: ReplayServer,
    client: MusicAPIClient,
    name: str,
    state: str,
    clips: int,
    usable: int,
) -> None:
    _replay_example(replay, name, **{"x-vercel-id": "fra1::abc"})
    status = await client.get_task("task/with odd?chars")
    assert status.task_id == "task/with odd?chars"
    assert (status.state, len(status.clips), len(status.usable_clips)) == (state, clips, usable)
    assert status.request_id == "fra1::abc"
    # The id is path-quoted, so it cannot escape the task route.
    assert replay.seen[0]["path"] == "/api/v1/sonic/task/task/with odd?chars"
    assert client.stats["poll"] == 1


async def test_observed_clip_fields_survive_the_wire(
    replay: ReplayServer, client: MusicAPIClient
) -> None:
    _replay_example(replay, "sonic-get-music-response-observed")
    (clip,) = (await client.get_task("t")).clips
    assert clip.duration == pytest.approx(104.88)
    assert clip.mv == "chirp-v5"


@pytest.mark.parametrize("status_code", [400, 404])
@pytest.mark.parametrize("text", ["task not found.", "missing task id."])
async def test_task_not_found_both_readings(
    replay: ReplayServer, client: MusicAPIClient, status_code: int, text: str
) -> None:
    replay.reply(status_code, {"message": text}, {"cf-ray": "8a1b2c"})
    with pytest.raises(NotFoundError) as info:
        await client.get_task("gone")
    assert str(info.value) == text
    assert info.value.status == status_code
    assert info.value.request_id == "8a1b2c"


async def test_task_not_found_example(replay: ReplayServer, client: MusicAPIClient) -> None:
    _replay_example(replay, "sonic-get-music-response-task-not-found")
    with pytest.raises(NotFoundError, match=r"^task not found\.$"):
        await client.get_task("x")
    _replay_example(replay, "error-task-not-found")
    with pytest.raises(NotFoundError):
        await client.get_task("x")


async def test_poll_504_is_a_timed_out_task(replay: ReplayServer, client: MusicAPIClient) -> None:
    text = "Task failed due to timeout. Credits were previously refunded."
    replay.reply(504, {"message": text}, {"x-request-id": "r-504"})
    status = await client.get_task("t")
    assert status.state == "failed" and status.done
    assert status.failure is not None
    assert (status.failure.kind, status.failure.message) == ("timeout", text)
    assert status.request_id == "r-504"


async def test_credits_and_lyrics_examples(replay: ReplayServer, client: MusicAPIClient) -> None:
    _replay_example(replay, "get-credits-response")
    assert await client.get_credits() == Credits(50.0, 0.0)
    assert replay.seen[-1]["path"] == "/api/v1/get-credits"
    _replay_example(replay, "lyrics-response")
    drafts = await client.make_lyrics("a hopeful song about moving to a new city")
    assert [d.title for d in drafts] == ["<title A>", "<title B>"]
    assert replay.seen[-1]["path"] == "/api/v1/sonic/lyrics"
    assert json.loads(replay.seen[-1]["body"]) == load_example("lyrics-request")["body"]
    assert client.stats == {"create": 0, "poll": 0, "credits": 1, "lyrics": 1}


@pytest.mark.parametrize(
    ("name", "status", "cls"),
    [
        ("error-insufficient-credits", 403, InsufficientCreditsError),
        ("error-insufficient-credits", 402, InsufficientCreditsError),
        ("error-invalid-params", 400, UpstreamValidationError),
        ("error-unauthorized", 401, AuthError),
        ("error-gone-410", 410, GoneError),
    ],
)
async def test_error_examples(
    replay: ReplayServer,
    client: MusicAPIClient,
    name: str,
    status: int,
    cls: type[MusicAPIError],
) -> None:
    body = load_example(name)["body"]
    replay.reply(status, body, {"x-request-id": "rid-7"})
    with pytest.raises(cls) as info:
        await client.create_music(REQ)
    assert type(info.value) is cls
    assert str(info.value) == body["message"]
    assert info.value.status == status
    assert info.value.request_id == "rid-7"
    assert len(replay.seen) == 1  # 4xx is never retried


@pytest.mark.parametrize(
    "entry",
    load_example("error-catalog-sonic")["body"],
    ids=lambda e: f"{e['http_status']}-{e['message'][:30]}",
)
async def test_every_catalog_entry_over_the_wire(
    replay: ReplayServer, client: MusicAPIClient, entry: dict[str, Any]
) -> None:
    replay.reply(entry["http_status"], {"message": entry["message"]})
    with pytest.raises(MusicAPIError) as info:
        await client.create_music(REQ)
    assert str(info.value) == entry["message"]
    if entry["http_status"] >= 500:
        assert isinstance(info.value, ServerError)
    if "'specificError'" in entry["message"]:
        assert isinstance(info.value, ModerationError)
        assert info.value.offending == "specificError"


@pytest.mark.parametrize("variant", load_example("error-envelope-variants")["body"])
async def test_every_envelope_variant_over_the_wire(
    replay: ReplayServer, client: MusicAPIClient, variant: dict[str, Any]
) -> None:
    replay.reply(400, variant)
    with pytest.raises(UpstreamValidationError, match=r"^<text>$"):
        await client.get_credits()


@pytest.mark.parametrize("entry", load_example("error-upstream-upload-rejected")["body"])
async def test_upload_rejections_keep_their_text(
    replay: ReplayServer, client: MusicAPIClient, entry: dict[str, Any]
) -> None:
    replay.reply(413, entry)
    with pytest.raises(MusicAPIError) as info:
        await client.create_music(REQ)
    assert str(info.value) == entry["message"]
    assert info.value.retryable is False


async def test_plain_text_error_body(replay: ReplayServer, client: MusicAPIClient) -> None:
    replay.reply(401, "Invalid authorization format.")
    with pytest.raises(AuthError, match=r"^Invalid authorization format\.$"):
        await client.get_credits()


@pytest.mark.parametrize("body", ["", "<html>oops</html>", "{not json"])
async def test_non_json_success_is_malformed(
    replay: ReplayServer, client: MusicAPIClient, body: str
) -> None:
    replay.reply(200, body)
    with pytest.raises(MalformedResponseError):
        await client.get_credits()
    with pytest.raises(MalformedResponseError):
        await client.get_task("t")


async def test_empty_202_poll_is_pending(replay: ReplayServer, client: MusicAPIClient) -> None:
    replay.reply(202, "")
    assert (await client.get_task("t")).state == "pending"


async def test_empty_task_id_is_refused_locally(
    replay: ReplayServer, client: MusicAPIClient
) -> None:
    with pytest.raises(ValueError):
        await client.get_task("")
    assert replay.seen == []


async def test_upstream_text_shown_to_members_hides_the_webhook_secret(
    replay: ReplayServer, client: MusicAPIClient
) -> None:
    secret = "whsec-echoed-back-0123456789"
    replay.reply(400, {"code": 400, "message": f"webhook_secret {secret} and key {TEST_KEY}"})
    with pytest.raises(UpstreamValidationError) as info:
        await client.with_webhook("https://bot.example/webhook/1/ab", secret).create_music(REQ)
    text = str(info.value)
    assert secret not in text and TEST_KEY not in text and text.count("[redacted]") == 2
    # The secret did go upstream: it is hidden on the way back, not left out of the request.
    assert json.loads(replay.seen[0]["body"])["webhook_secret"] == secret
