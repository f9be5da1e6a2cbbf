"""The webhook receiver: both signature schemes, and everything it must refuse.

Each refusal is checked by its effect on the job, not only by the status code: nothing is
stored for the job and its schedule is untouched (except the one early poll an unverifiable
delivery for a real job may ask for). Runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.quota.costs import CostTable
from bot.quota.ledger import Quota
from bot.states import JobState
from bot.store import jobs as job_sql
from bot.store.database import Database
from bot.store.jobs import Job, NewJob
from bot.webhooks import events
from bot.webhooks.address import Addresses
from bot.webhooks.receiver import MAX_BODY, WebhookReceiver
from bot.webhooks.signature import (
    MAX_SKEW_S,
    Refusal,
    SignatureError,
    sign_v1,
    sign_v2,
    verify,
)

SECRET = "s3cret-for-the-tests-only"
NOW = 1_800_000_000.0
LATER = NOW + 10_000.0  # the job's next poll, far off


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


class Owner:
    def __init__(self) -> None:
        self.wakes = 0

    def wake(self) -> None:
        self.wakes += 1


@dataclass
class Env:
    db: Database
    client: TestClient[Any, Any]
    addresses: Addresses
    owner: Owner
    clock: Clock
    job_id: int
    receiver: WebhookReceiver


def completed_body(task_id: str, event: str = "song.completed") -> bytes:
    clip = {
        "clip_id": "c1",
        "state": "succeeded",
        "title": "Sun",
        "audio_url": "https://cdn1.suno.ai/c1.mp3",
        "duration": "104.88",
    }
    envelope = {
        "code": 200,
        "data": [clip],
        "message": "success",
        "task_id": task_id,
        "platform": "suno",
        "event": event,
    }
    return json.dumps(envelope).encode()


def v2_headers(body: bytes, *, secret: str = SECRET, at: float = NOW, event_id: str = "evt-1"):  # type: ignore[no-untyped-def]
    timestamp = str(int(at))
    return {
        "Content-Type": "application/json",
        "X-Webhook-Id": event_id,
        "Idempotency-Key": event_id,
        "X-Webhook-Event": "song.completed",
        "X-Webhook-Timestamp": timestamp,
        "X-Webhook-Signature": sign_v2(secret, timestamp, body),
    }


def v1_headers(body: bytes, *, secret: str = SECRET) -> dict[str, str]:
    return {"Content-Type": "application/json", "X-Signature": sign_v1(secret, body)}


async def new_job(db: Database, clock: Clock, *, task_id: str | None = "task-1") -> int:
    quota = Quota(db, CostTable(), default_budget=100, default_period="month", clock=clock)
    job_id = await quota.reserve(
        NewJob(
            guild_id=1,
            channel_id=2,
            user_id=3,
            operation="create_music",
            request={},
            summary="s",
            cost=10,
        )
    )
    if task_id is not None:
        async with db.transaction() as conn:
            await job_sql.mark_submitted(conn, job_id, task_id, NOW, LATER)
    return job_id


@pytest.fixture
async def env(db_target: Path | str) -> AsyncIterator[Env]:
    db = await Database.open(db_target)
    clock, owner = Clock(), Owner()
    addresses = Addresses("https://bot.example/hooks", SECRET, b"k" * 32)
    receiver = WebhookReceiver(db, addresses, owner, clock=clock)
    job_id = await new_job(db, clock)
    async with TestClient(TestServer(receiver.app)) as client:
        yield Env(db, client, addresses, owner, clock, job_id, receiver)
    await db.close()


def path_of(env: Env, job_id: int | None = None) -> str:
    url = env.addresses.for_job(env.job_id if job_id is None else job_id).url
    return url.removeprefix("https://bot.example")


async def stored(env: Env, job_id: int | None = None) -> list[str]:
    async with env.db.read() as conn:
        rows = await conn.execute_fetchall(
            "SELECT event FROM webhook_events WHERE job_id = ? ORDER BY id",
            (env.job_id if job_id is None else job_id,),
        )
    return [row[0] for row in rows]


async def the_job(env: Env, job_id: int | None = None) -> Job:
    async with env.db.read() as conn:
        job = await job_sql.get(conn, env.job_id if job_id is None else job_id)
    assert job is not None
    return job


async def post(env: Env, body: bytes, headers: dict[str, str], path: str | None = None) -> int:
    response = await env.client.post(path or path_of(env), data=body, headers=headers)
    return response.status


# -- the signature schemes on their own ---------------------------------------------------


def test_both_schemes_verify_and_name_the_event() -> None:
    body = completed_body("t")
    new = verify(v2_headers(body), body, SECRET, NOW + 60)
    assert (new.scheme, new.delivery_id) == ("v2", "evt-1")
    old = verify(v1_headers(body), body, SECRET, NOW)
    assert (old.scheme, old.delivery_id, old.timestamp) == ("v1", None, None)


@pytest.mark.parametrize(
    ("headers", "refusal"),
    [
        (lambda b: v2_headers(b, secret="another-secret-entirely"), Refusal.BAD_SIGNATURE),
        (lambda b: v1_headers(b, secret="another-secret-entirely"), Refusal.BAD_SIGNATURE),
        (lambda b: v2_headers(b, at=NOW - MAX_SKEW_S - 1), Refusal.STALE),
        (lambda b: v2_headers(b, at=NOW + MAX_SKEW_S + 1), Refusal.FUTURE),
        (lambda b: {**v2_headers(b), "X-Webhook-Timestamp": "soon"}, Refusal.BAD_TIMESTAMP),
        (lambda b: {"Content-Type": "application/json"}, Refusal.UNSIGNED),
    ],
)
def test_signature_refusals(headers, refusal: Refusal) -> None:  # type: ignore[no-untyped-def]
    body = completed_body("t")
    with pytest.raises(SignatureError) as caught:
        verify(headers(body), body, SECRET, NOW)
    assert caught.value.refusal is refusal


def test_a_changed_body_or_timestamp_breaks_the_signature() -> None:
    body = completed_body("t")
    headers = v2_headers(body)
    with pytest.raises(SignatureError):
        verify(headers, body.replace(b"Sun", b"Moon"), SECRET, NOW)
    with pytest.raises(SignatureError):
        verify({**headers, "X-Webhook-Timestamp": str(int(NOW) + 1)}, body, SECRET, NOW)


def test_tokens_differ_per_job_and_are_checked() -> None:
    addresses = Addresses("https://bot.example", SECRET, b"k" * 32)
    assert addresses.token(1) != addresses.token(2)
    assert addresses.token_matches(1, addresses.token(1))
    assert not addresses.token_matches(2, addresses.token(1))
    other_key = Addresses("https://bot.example", SECRET, b"q" * 32)
    assert other_key.token(1) != addresses.token(1)
    assert addresses.for_job(7).url.startswith("https://bot.example/webhook/7/")
    assert SECRET not in repr(addresses) and SECRET not in repr(addresses.for_job(7))


# -- the receiver ---------------------------------------------------------------------------


async def test_a_verified_webhook_is_stored_and_wakes_the_owner(env: Env) -> None:
    body = completed_body("task-1")
    assert await post(env, body, v2_headers(body)) == 200
    assert await stored(env) == ["song.completed"]
    assert (await the_job(env)).next_run_at == NOW  # due now, not at its far-off poll
    assert env.owner.wakes == 1


async def test_the_older_scheme_is_accepted(env: Env) -> None:
    body = completed_body("task-1")
    assert await post(env, body, v1_headers(body)) == 200
    assert await stored(env) == ["song.completed"]


async def test_replays_are_refused_by_id_and_by_task_and_event(env: Env) -> None:
    body = completed_body("task-1")
    assert await post(env, body, v2_headers(body)) == 200
    # The same event id again (a resend), then a new id on the same task and event (the id is
    # not signed), then the older scheme, which has no id at all.
    assert await post(env, body, v2_headers(body)) == 200
    assert await post(env, body, v2_headers(body, event_id="evt-2")) == 200
    assert await post(env, body, v1_headers(body)) == 200
    assert await stored(env) == ["song.completed"]
    assert env.owner.wakes == 1


@pytest.mark.parametrize(
    ("make", "status"),
    [
        (lambda b: v2_headers(b, secret="another-secret-entirely"), 401),
        (lambda b: v2_headers(b, at=NOW - MAX_SKEW_S - 5), 401),
        (lambda b: v2_headers(b, at=NOW + MAX_SKEW_S + 5), 401),
        (lambda b: {"Content-Type": "application/json"}, 401),
        (lambda b: {**v2_headers(b), "Content-Type": "text/plain"}, 415),
    ],
)
async def test_refused_deliveries_store_nothing(env: Env, make, status: int) -> None:  # type: ignore[no-untyped-def]
    body = completed_body("task-1")
    assert await post(env, body, make(body)) == status
    assert await stored(env) == []


async def test_an_unverifiable_delivery_asks_for_one_poll_only(env: Env) -> None:
    body = completed_body("task-1")
    bad = v2_headers(body, secret="another-secret-entirely")
    assert await post(env, body, bad) == 401
    assert (await the_job(env)).next_run_at == NOW  # one early poll will check upstream
    async with env.db.transaction() as conn:
        await job_sql.reschedule(conn, [(LATER, env.job_id)])  # that poll happened
    env.clock.now += 1
    assert await post(env, body, bad) == 401
    assert (await the_job(env)).next_run_at == LATER  # a flood does not become polls
    assert await stored(env) == []


async def test_oversize_bodies_are_refused(env: Env) -> None:
    body = b'{"task_id": "task-1", "pad": "' + b"x" * MAX_BODY + b'"}'
    assert await post(env, body, v2_headers(body)) == 413
    assert await stored(env) == []


async def test_malformed_json_is_refused(env: Env) -> None:
    for body in (b"{not json", b"[1, 2]", b'{"code": 200}'):
        assert await post(env, body, v2_headers(body)) == 400
    assert await stored(env) == []


async def test_unknown_jobs_and_wrong_tokens_are_refused(env: Env) -> None:
    body = completed_body("task-1")
    headers = v2_headers(body)
    wrong_token = f"/hooks/webhook/{env.job_id}/{'0' * 32}"
    assert await post(env, body, headers, wrong_token) == 404
    # A well-formed address for a job that does not exist.
    assert await post(env, body, headers, path_of(env, env.job_id + 1000)) == 404
    assert await stored(env) == [] and env.owner.wakes == 0


async def test_another_tasks_event_never_reaches_this_job(env: Env) -> None:
    body = completed_body("task-of-someone-else")
    assert await post(env, body, v2_headers(body)) == 409
    assert await stored(env) == []
    assert (await the_job(env)).next_run_at == LATER


async def test_a_webhook_before_the_submit_returns_is_kept_for_its_job(env: Env) -> None:
    job_id = await new_job(env.db, env.clock, task_id=None)  # still 'submitting'
    body = completed_body("task-early")
    assert await post(env, body, v2_headers(body), path_of(env, job_id)) == 200
    assert await stored(env, job_id) == ["song.completed"]
    assert (await the_job(env, job_id)).next_run_at == NOW


# -- the event name comes from the signed body only -------------------------------------------


def unnamed_body(task_id: str, state: str = "succeeded") -> bytes:
    """An envelope without `event` (as Producer's or Nuro's may be): only its data says what
    happened."""
    envelope = json.loads(completed_body(task_id))
    del envelope["event"]
    envelope["data"][0]["state"] = state
    return json.dumps(envelope).encode()


async def response_of(env: Env, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    response = await env.client.post(path_of(env), data=body, headers=headers)
    return response.status, (await response.json())["status"]


@pytest.mark.parametrize("make_body", [completed_body, unnamed_body], ids=["named", "unnamed"])
async def test_a_captured_body_replayed_with_a_forged_event_header_is_a_replay(
    env: Env, make_body: Any
) -> None:
    body = make_body("task-1")
    captured = v2_headers(body)
    assert await response_of(env, body, captured) == (200, "accepted")
    async with env.db.transaction() as conn:  # the scheduler applied it: the song was delivered
        assert await job_sql.finish(conn, env.job_id, JobState.SUCCEEDED, NOW)
    before = await the_job(env)
    # Same signed bytes, same timestamp and signature (still within the 5 minutes), but the
    # unsigned headers rewritten: a new event id and a failure named in X-Webhook-Event.
    forged = {**captured, "X-Webhook-Event": "song.failed", "X-Webhook-Id": "evt-forged"}
    forged["Idempotency-Key"] = "evt-forged"
    env.clock.now += 30
    assert await response_of(env, body, forged) == (200, "duplicate")
    assert await stored(env) == ["song.completed"]
    after = await the_job(env)
    assert after.state == "succeeded" and after == before
    assert env.owner.wakes == 1  # only the genuine delivery woke the job's owner


async def test_a_body_without_an_event_is_named_by_its_signed_data_not_the_header(
    env: Env,
) -> None:
    body = unnamed_body("task-1", state="succeeded")
    headers = {**v2_headers(body), "X-Webhook-Event": "song.failed"}
    assert await post(env, body, headers) == 200
    assert await stored(env) == ["song.completed"]
    async with env.db.read() as conn:
        (row,) = await conn.execute_fetchall(
            "SELECT event, payload FROM webhook_events WHERE job_id = ?", (env.job_id,)
        )
    status = events.status_of("sonic", "task-1", row[0], json.loads(row[1]))
    assert status is not None and status.state == "succeeded"


def test_an_unnamed_body_is_classified_from_its_data() -> None:
    def named(state: str) -> str:
        return events.event_name("sonic", "t", json.loads(unnamed_body("t", state)))

    assert named("succeeded") == events.COMPLETED
    assert named("failed") == events.FAILED
    assert named("running") == "song.running"
    garbage = {"code": 200, "task_id": "t", "data": "???"}
    key = events.event_name("sonic", "t", garbage)
    assert key.startswith("unreadable:")
    assert key == events.event_name("sonic", "t", dict(garbage))  # the same body, the same key
    assert key != events.event_name("sonic", "t", {**garbage, "data": "!!!"})
    assert events.status_of("sonic", "t", key, garbage) is None  # unreadable: the job polls


def test_the_event_name_never_overrides_the_parsed_status() -> None:
    success = json.loads(completed_body("t"))
    assert events.status_of("sonic", "t", events.COMPLETED, success).state == "succeeded"  # type: ignore[union-attr]
    # Named failed while the data says succeeded: neither is believed; the job polls.
    contradictory = {**success, "event": events.FAILED}
    assert events.event_name("sonic", "t", contradictory) == events.FAILED
    assert events.status_of("sonic", "t", events.FAILED, contradictory) is None
    # A signed failure whose data can't be read is still a failure, with its message.
    failed = {"code": 200, "task_id": "t", "data": "?", "event": "song.failed", "message": "GPU"}
    status = events.status_of("sonic", "t", events.FAILED, failed)
    assert status is not None and status.state == "failed"
    assert status.failure is not None and status.failure.message == "GPU"
    # The same unreadable data without that signed name is only a reason to poll.
    unnamed = {key: value for key, value in failed.items() if key != "event"}
    assert events.status_of("sonic", "t", events.FAILED, unnamed) is None


async def test_unauthenticated_posts_are_one_summary_not_a_warning_each(
    env: Env, caplog: pytest.LogCaptureFixture
) -> None:
    body = completed_body("task-1")
    with caplog.at_level(logging.DEBUG, "bot.webhooks.receiver"):
        for _ in range(20):
            assert await post(env, body, {"Content-Type": "application/json"}) == 401
        for _ in range(5):
            bad = v2_headers(body, secret="another-secret-entirely")
            assert await post(env, body, bad) == 401
        warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
        assert warnings == []  # nothing per request (only DEBUG lines)
        await env.receiver.stop()  # a stop writes the window's summary
    (summary,) = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert "25 in the last" in summary
    assert "20 × no signature header" in summary and "5 × signature does not match" in summary


async def test_a_forged_event_id_cannot_make_a_new_event_look_like_a_repeat(env: Env) -> None:
    streaming = unnamed_body("task-1", state="streaming")
    assert await response_of(env, streaming, v2_headers(streaming, event_id="evt-1")) == (
        200,
        "accepted",
    )
    # The completion arrives under the id of the earlier delivery (X-Webhook-Id is not
    # signed): it is still a new event of the task, and reaches the job.
    completed = completed_body("task-1")
    assert await response_of(env, completed, v2_headers(completed, event_id="evt-1")) == (
        200,
        "accepted",
    )
    assert await stored(env) == ["song.streaming", "song.completed"]


async def test_a_held_job_whose_submit_was_cut_off_takes_the_webhook_naming_its_task(
    env: Env,
) -> None:
    job_id = await new_job(env.db, env.clock, task_id=None)
    async with env.db.transaction() as conn:  # a restart found it sent but unanswered
        await job_sql.mark_unconfirmed(conn, job_id, LATER, "held")
    assert (await the_job(env, job_id)).state == "unconfirmed"
    body = completed_body("task-late")
    assert await post(env, body, v2_headers(body), path_of(env, job_id)) == 200
    assert await stored(env, job_id) == ["song.completed"]
    assert (await the_job(env, job_id)).next_run_at == NOW  # its owner adopts the task now


def nested_body(task_id: str, depth: int) -> bytes:
    """A signed-looking envelope whose `data` is `depth` lists inside one another."""
    return b'{"task_id": "%s", "data": ' % task_id.encode() + b"[" * depth + b"]" * depth + b"}"


@pytest.mark.parametrize("depth", [100_000, 900, 40])
async def test_a_deeply_nested_body_is_refused_quickly_and_nothing_else_breaks(
    env: Env, depth: int
) -> None:
    # 100,000 levels make json.loads raise RecursionError; 900 parse but would break whatever
    # reads the stored event later at a deeper stack; 40 is still far deeper than any of
    # MusicAPI's envelopes. Each is "not JSON" to the receiver: a 400, stored nowhere.
    body = nested_body("task-1", depth)
    started = time.perf_counter()
    assert await response_of(env, body, v2_headers(body)) == (400, "malformed JSON")
    assert time.perf_counter() - started < 1.0
    assert await stored(env) == [] and env.owner.wakes == 0
    # The receiver still takes the real delivery that follows.
    good = completed_body("task-1")
    assert await post(env, good, v2_headers(good)) == 200
    assert await stored(env) == ["song.completed"]


async def test_a_signed_body_too_large_to_parse_on_the_loop_is_refused(env: Env) -> None:
    # Under the 1 MiB transfer cap, over what is parsed on the event loop (a poll of the same
    # body would be unreadable too): refused as not JSON, never parsed.
    body = b'{"task_id": "task-1", "pad": [' + b"0," * (300 * 1024) + b"0]}"
    assert len(body) < MAX_BODY
    assert await response_of(env, body, v2_headers(body)) == (400, "malformed JSON")
    assert await stored(env) == []
