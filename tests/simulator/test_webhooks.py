"""The simulator's webhooks (docs/musicapi/protocol.md §5): events, envelope, both signature
schemes, and the fault knobs the bot's receiver is tested against."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.simulator import MusicAPISimulator
from bot.simulator.protocol import MSG_TASK_FAILED
from tests.helpers import Clock
from tests.simulator.conftest import Sim

AUTH = {"Authorization": "Bearer k"}
SECRET = "whsec-test-3b9d"
DESCRIBE = {"custom_mode": False, "mv": "sonic-v5", "gpt_description_prompt": "a calm tune"}


@dataclass
class Received:
    headers: dict[str, str]
    raw: bytes

    @property
    def body(self) -> Any:
        return json.loads(self.raw)


@dataclass
class Receiver:
    """A loopback endpoint that records every POST and answers the next planned status."""

    url: str = ""
    got: list[Received] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    arrived: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def handle(self, request: web.Request) -> web.Response:
        raw = await request.read()
        async with self.arrived:
            self.got.append(Received(dict(request.headers), raw))
            self.arrived.notify_all()
        return web.Response(status=self.statuses.pop(0) if self.statuses else 204)

    async def wait_for(self, count: int) -> None:
        async with asyncio.timeout(15), self.arrived:
            await self.arrived.wait_for(lambda: len(self.got) >= count)

    def events(self) -> list[str]:
        return [r.body["event"] for r in self.got]


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    rec = Receiver()
    app = web.Application()
    app.router.add_post("/hook", rec.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    rec.url = f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
    yield rec
    await runner.cleanup()


SIM_SEED = 5  # make_sim (tests/simulator/conftest.py) seeds with it


async def post(sim: MusicAPISimulator, path: str, body: dict[str, Any]) -> tuple[int, Any]:
    async with (
        aiohttp.ClientSession(headers=AUTH) as session,
        session.post(f"{sim.base_url}/api/v1{path}", json=body) as resp,
    ):
        return resp.status, await resp.json(content_type=None)


async def create(sim: MusicAPISimulator, path: str = "/sonic/create", **body: Any) -> str:
    status, data = await post(sim, path, body)
    assert status == 200, data
    return str(data["task_id"])


def timestamped_ok(got: Received, secret: str) -> bool:
    timestamp = got.headers["X-Webhook-Timestamp"]
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + got.raw, hashlib.sha256)
    return hmac.compare_digest(got.headers["X-Webhook-Signature"], "sha256=" + expected.hexdigest())


def body_only_ok(got: Received, secret: str) -> bool:
    expected = hmac.new(secret.encode(), got.raw, hashlib.sha256).hexdigest()
    return hmac.compare_digest(got.headers["X-Signature"], expected)


async def test_a_song_streams_then_completes_signed_with_the_timestamped_scheme(
    make_sim: Sim, receiver: Receiver
) -> None:
    clock = Clock()
    sim = await make_sim(clock=clock)
    task_id = await create(sim, **DESCRIBE, webhook_url=receiver.url, webhook_secret=SECRET)
    clock.now += 5.0  # half way: nothing to tell yet
    await sim.deliver_due_webhooks()
    assert receiver.got == []

    clock.now += 1.5  # 65 %: the first clip streams
    await sim.deliver_due_webhooks()
    [streaming] = receiver.got
    assert streaming.headers["X-Webhook-Event"] == "song.streaming"
    assert streaming.body["event"] == "song.streaming"
    states = [clip["state"] for clip in streaming.body["data"]]
    assert states == ["streaming", "running"]
    assert streaming.body["data"][0]["audio_url"].startswith(sim.base_url)

    clock.now += 10.0
    await sim.deliver_due_webhooks()
    assert receiver.events() == ["song.streaming", "song.completed"]
    completed = receiver.got[1]
    assert set(completed.body) == {"code", "data", "message", "task_id", "platform", "event"}
    assert completed.body["code"] == 200 and completed.body["message"] == "success"
    assert (completed.body["task_id"], completed.body["platform"]) == (task_id, "suno")
    assert [c["state"] for c in completed.body["data"]] == ["succeeded", "succeeded"]
    assert all(c["duration"] for c in completed.body["data"])
    for got in receiver.got:
        assert got.headers["Content-Type"] == "application/json"
        assert got.headers["X-Webhook-Id"] == got.headers["Idempotency-Key"]
        assert abs(int(got.headers["X-Webhook-Timestamp"]) - time.time()) < 60
        assert timestamped_ok(got, SECRET)
        assert not timestamped_ok(got, SECRET + "x")
        assert "X-Signature" not in got.headers
    assert receiver.got[0].headers["X-Webhook-Id"] != completed.headers["X-Webhook-Id"]

    clock.now += 100.0  # nothing is sent twice
    await sim.deliver_due_webhooks()
    assert len(receiver.got) == 2


async def test_a_failed_song_says_why(make_sim: Sim, receiver: Receiver) -> None:
    clock = Clock()
    sim = await make_sim(clock=clock)
    body = {**DESCRIBE, "gpt_description_prompt": "doomed [sim:fail]"}
    await create(sim, **body, webhook_url=receiver.url, webhook_secret=SECRET)
    clock.now += 20.0  # straight past the streaming moment: only the final state is told
    await sim.deliver_due_webhooks()
    [failed] = receiver.got
    assert failed.headers["X-Webhook-Event"] == failed.body["event"] == "song.failed"
    assert failed.body["message"] == MSG_TASK_FAILED
    assert [c["state"] for c in failed.body["data"]] == ["failed", "failed"]


async def test_body_only_scheme_signs_the_body_only(make_sim: Sim, receiver: Receiver) -> None:
    clock = Clock()
    sim = await make_sim(clock=clock, webhook_scheme="body_only")
    await create(sim, **DESCRIBE, webhook_url=receiver.url, webhook_secret=SECRET)
    clock.now += 20.0
    await sim.deliver_due_webhooks()
    [got] = receiver.got
    assert body_only_ok(got, SECRET) and not body_only_ok(got, "other")
    assert not {h for h in got.headers if h.startswith("X-Webhook-") or h == "Idempotency-Key"}
    assert got.body["event"] == "song.completed"


async def test_both_schemes_at_once(make_sim: Sim, receiver: Receiver) -> None:
    clock = Clock()
    sim = await make_sim(clock=clock, webhook_scheme="both")
    await create(sim, **DESCRIBE, webhook_url=receiver.url, webhook_secret=SECRET)
    clock.now += 20.0
    await sim.deliver_due_webhooks()
    [got] = receiver.got
    assert body_only_ok(got, SECRET) and timestamped_ok(got, SECRET)


async def test_without_a_secret_the_platform_default_signs(
    make_sim: Sim, receiver: Receiver
) -> None:
    clock = Clock()
    sim = await make_sim(clock=clock)
    await create(sim, **DESCRIBE, webhook_url=receiver.url)
    clock.now += 20.0
    await sim.deliver_due_webhooks()
    [got] = receiver.got
    assert timestamped_ok(got, sim.config.webhook_default_secret)
    assert not timestamped_ok(got, "")


async def test_timestamp_clock_can_be_skewed(make_sim: Sim, receiver: Receiver) -> None:
    clock = Clock()
    sim = await make_sim(clock=clock, webhook_clock=lambda: 1_000_000.0)
    await create(sim, **DESCRIBE, webhook_url=receiver.url, webhook_secret=SECRET)
    clock.now += 20.0
    await sim.deliver_due_webhooks()
    [got] = receiver.got
    assert got.headers["X-Webhook-Timestamp"] == "1000000" and timestamped_ok(got, SECRET)


async def test_dropped_events_are_never_sent(make_sim: Sim, receiver: Receiver) -> None:
    clock = Clock()
    sim = await make_sim(clock=clock, webhook_drop=frozenset({"song.completed"}))
    await create(sim, **DESCRIBE, webhook_url=receiver.url, webhook_secret=SECRET)
    clock.now += 6.5
    await sim.deliver_due_webhooks()
    clock.now += 10.0
    await sim.deliver_due_webhooks()
    assert receiver.events() == ["song.streaming"]
    assert [(d.event, d.dropped) for d in sim.webhook_deliveries] == [
        ("song.streaming", False),
        ("song.completed", True),
    ]


async def test_a_drop_rate_of_one_loses_everything(make_sim: Sim, receiver: Receiver) -> None:
    clock = Clock()
    sim = await make_sim(clock=clock, webhook_drop_rate=1.0)
    await create(sim, **DESCRIBE, webhook_url=receiver.url, webhook_secret=SECRET)
    clock.now += 20.0
    await sim.deliver_due_webhooks()
    assert receiver.got == [] and all(d.dropped for d in sim.webhook_deliveries)


async def test_duplicates_repeat_the_same_delivery(make_sim: Sim, receiver: Receiver) -> None:
    clock = Clock()
    sim = await make_sim(clock=clock, webhook_duplicates=2)
    await create(sim, **DESCRIBE, webhook_url=receiver.url, webhook_secret=SECRET)
    clock.now += 20.0
    await sim.deliver_due_webhooks()
    assert len(receiver.got) == 3
    first = receiver.got[0]
    assert all(r.raw == first.raw and r.headers == first.headers for r in receiver.got)


async def test_a_failed_post_is_retried_with_the_same_id(make_sim: Sim, receiver: Receiver) -> None:
    clock = Clock()
    sim = await make_sim(clock=clock, webhook_retries=3, webhook_retry_delay=0.0)
    receiver.statuses = [500, 503]
    await create(sim, **DESCRIBE, webhook_url=receiver.url, webhook_secret=SECRET)
    clock.now += 20.0
    await sim.deliver_due_webhooks()
    assert len(receiver.got) == 3  # 500, 503, then accepted: no fourth try
    assert len({r.headers["X-Webhook-Id"] for r in receiver.got}) == 1
    assert [(d.attempt, d.status) for d in sim.webhook_deliveries] == [
        (1, 500),
        (2, 503),
        (3, 204),
    ]


async def test_an_unreachable_receiver_is_recorded(make_sim: Sim, receiver: Receiver) -> None:
    clock = Clock()
    sim = await make_sim(clock=clock)
    closed = receiver.url.replace("/hook", "/nowhere")  # 404 from the same loopback server
    await create(sim, **DESCRIBE, webhook_url=closed, webhook_secret=SECRET)
    clock.now += 20.0
    await sim.deliver_due_webhooks()
    [delivery] = sim.webhook_deliveries
    assert delivery.status == 404 and receiver.got == []


async def test_a_delay_holds_each_delivery_back(make_sim: Sim, receiver: Receiver) -> None:
    clock = Clock()
    sim = await make_sim(clock=clock, webhook_delay=0.3)
    await create(sim, **DESCRIBE, webhook_url=receiver.url, webhook_secret=SECRET)
    clock.now += 20.0
    started = time.monotonic()
    await sim.deliver_due_webhooks()
    assert time.monotonic() - started >= 0.3
    assert receiver.events() == ["song.completed"]


async def test_early_webhook_arrives_before_the_create_response(
    make_sim: Sim, receiver: Receiver
) -> None:
    sim = await make_sim(webhook_early=True)
    task_id = await create(sim, **DESCRIBE, webhook_url=receiver.url, webhook_secret=SECRET)
    # Nothing else has happened since the response: the webhook was already in.
    [got] = receiver.got
    assert got.body["event"] == "song.completed" and got.body["task_id"] == task_id
    assert [c["state"] for c in got.body["data"]] == ["succeeded", "succeeded"]


async def test_webhooks_follow_the_real_clock(make_sim: Sim, receiver: Receiver) -> None:
    sim = await make_sim(generation_time=0.3)
    await create(sim, **DESCRIBE, webhook_url=receiver.url, webhook_secret=SECRET)
    await receiver.wait_for(2)  # no deliver_due_webhooks(): the sender keeps time itself
    assert receiver.events() == ["song.streaming", "song.completed"]


async def test_producer_and_nuro_wrap_their_own_poll_shapes(
    make_sim: Sim, receiver: Receiver
) -> None:
    clock = Clock()
    sim = await make_sim(clock=clock)
    hook = {"webhook_url": receiver.url, "webhook_secret": SECRET}
    producer = await create(sim, "/producer/create", sound="warm synth pads", **hook)
    nuro = {
        "type": "bgm",
        "description": "a calm morning",
        "duration": 30,
        "genre": ["ambient"],
        **hook,
    }
    nuro_id = await create(sim, "/nuro/create", **nuro)
    clock.now += 20.0
    await sim.deliver_due_webhooks()
    by_task = {r.body["task_id"]: r.body for r in receiver.got}
    assert by_task[producer]["platform"] == "producer"
    assert by_task[producer]["event"] == "song.completed"
    [track] = by_task[producer]["data"]
    assert track["state"] == "succeeded" and track["audio_url"]
    assert by_task[nuro_id]["platform"] == "nuro"
    assert by_task[nuro_id]["data"]["status"] == "succeeded"
    assert by_task[nuro_id]["data"]["task_id"] == nuro_id


async def test_stems_have_no_webhooks(make_sim: Sim, receiver: Receiver) -> None:
    clock = Clock()
    sim = await make_sim(clock=clock)
    song = await create(sim, **DESCRIBE)
    clock.now += 20.0
    clip_id = sim.tasks[song].clips[0].clip_id
    await create(sim, "/sonic/stems/basic", clip_id=clip_id, webhook_url=receiver.url)
    clock.now += 20.0
    await sim.deliver_due_webhooks()
    assert receiver.got == [] and sim.webhook_deliveries == []


async def test_only_loopback_receivers_are_contacted(
    make_sim: Sim, caplog: pytest.LogCaptureFixture
) -> None:
    sim = await make_sim()
    urls = [f"https://hooks.example.com/musicapi/{n}" for n in range(3)]
    task_ids = [await create(sim, **DESCRIBE, webhook_url=url) for url in urls]
    assert sim.webhooks.refused == list(zip(task_ids, urls, strict=True))
    await sim.deliver_due_webhooks()
    assert sim.webhook_deliveries == []
    warnings = [r for r in caplog.records if "loopback hosts only" in r.getMessage()]
    assert len(warnings) == 1  # one line per host, not one per job


@pytest.mark.parametrize(
    ("hook", "message"),
    [
        ({"webhook_url": "http://hooks.example.com/x"}, "should be an https URL"),
        ({"webhook_url": "ftp://127.0.0.1/x"}, "should be an https URL"),
        ({"webhook_url": "https://x.example/" + "a" * 1010}, "less than or equal to 1024"),
        ({"webhook_url": 5}, "non-empty string"),
        ({"webhook_url": "https://x.example/h", "webhook_secret": 7}, "should be a string"),
    ],
)
async def test_malformed_webhook_fields_are_refused(
    make_sim: Sim, hook: dict[str, Any], message: str
) -> None:
    sim = await make_sim()
    status, data = await post(sim, "/sonic/create", {**DESCRIBE, **hook})
    assert status == 400 and message in data["message"]
    assert sim.tasks == {}
