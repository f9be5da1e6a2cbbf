"""End to end with the simulator's webhooks: the bot's receiver, the scheduler and delivery.

With webhooks on, a song is delivered once, by the webhook, with no poll at all (the first
safety-net poll is minutes away); a duplicate or a webhook that arrives before the submit
returns changes nothing about that. Both signature schemes are exercised.
"""

from __future__ import annotations

import socket
from typing import Any

import pytest

from bot.jobs import learning
from bot.simulator import SimulatorConfig
from bot.states import JobState
from bot.store import jobs as job_sql
from bot.store.jobs import NewJob
from tests.e2e.conftest import CHANNEL, MakeWorld, World
from tests.helpers import wait_for

GENERATION_S = 0.6


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def push_env() -> dict[str, str]:
    port = free_port()
    return {
        "WEBHOOK_PUBLIC_URL": f"http://127.0.0.1:{port}/musicapi",
        "WEBHOOK_LISTEN": f"127.0.0.1:{port}",
    }


def song_messages(world: Any) -> list[dict[str, Any]]:
    return [
        m
        for m in world.discord.channel_messages(CHANNEL)
        if "your song is ready" in (m.get("content") or "")
    ]


async def learned_from_history(world: Any, duration: float) -> None:
    """Finished jobs in the database, as earlier runs would have left them."""
    now = world.clock()
    async with world.bot.db.transaction() as conn:
        for n in range(learning.MIN_SAMPLES):
            job = NewJob(1, 2, 3, "create_music", {}, "earlier", 0, model="sonic-v5")
            job_id = await job_sql.insert(conn, job, now - 100)
            await job_sql.mark_submitted(conn, job_id, f"old-{n}", now - 100, now)
            await job_sql.finish(conn, job_id, JobState.SUCCEEDED, now - 100 + duration)
            await job_sql.set_duration(conn, job_id, duration)
            await job_sql.mark_notified(conn, job_id)
    await world.bot.scheduler.learned.refresh(force=True)


async def settle(world: World) -> None:
    """Wait until every job is finished and told: a stray post or poll of it comes before."""
    await world.jobs_told()


@pytest.mark.parametrize("scheme", ["timestamped", "body_only", "both"])
async def test_a_song_is_delivered_once_by_its_webhook_without_polling(
    make_world: MakeWorld, scheme: str
) -> None:
    config = SimulatorConfig(generation_time=GENERATION_S, webhook_scheme=scheme)  # type: ignore[arg-type]
    async with make_world(sim_config=config, **push_env()) as world:
        reply = await world.song(description="a song about push")
        assert (await reply.wait_response())["type"] == 5
        assert len(await world.clip_messages(2)) == 2
        await settle(world)
        assert len(song_messages(world)) == 2
        body = world.creates()[-1]
        assert body["webhook_url"].startswith(world.settings.webhook_public_url + "/webhook/")
        assert body["webhook_secret"]
        assert world.bot.scheduler.stats["polls"] == 0  # pushed, not polled
        receiver = world.bot.webhook_receiver
        assert receiver is not None and receiver.stats.get("accepted", 0) >= 1
        assert ("commit", 20) in await world.ledger_kinds()


async def test_duplicate_deliveries_post_once_and_charge_once(make_world: MakeWorld) -> None:
    config = SimulatorConfig(
        generation_time=GENERATION_S, webhook_duplicates=2, webhook_scheme="both"
    )
    async with make_world(sim_config=config, **push_env()) as world:
        reply = await world.song(description="twice is too many")
        await reply.wait_response()
        assert len(await world.clip_messages(2)) == 2
        receiver = world.bot.webhook_receiver
        assert receiver is not None
        await wait_for(lambda: receiver.stats.get("duplicate", 0) >= 2, 15, "the duplicates")
        await settle(world)
        assert len(song_messages(world)) == 2
        kinds = [kind for kind, _ in await world.ledger_kinds()]
        assert kinds.count("commit") == 1


async def test_a_webhook_that_arrives_before_the_submit_returns(make_world: MakeWorld) -> None:
    config = SimulatorConfig(generation_time=GENERATION_S, webhook_early=True)
    async with make_world(sim_config=config, **push_env()) as world:
        reply = await world.song(description="faster than its own receipt")
        await reply.wait_response()
        assert len(await world.clip_messages(2)) == 2
        await settle(world)
        assert len(song_messages(world)) == 2
        early = [d for d in world.sim.webhook_deliveries if d.event == "song.completed"]
        assert early and early[0].status == 200
        assert world.bot.scheduler.stats["polls"] == 0


async def test_a_lost_completion_webhook_is_found_by_a_poll(make_world: MakeWorld) -> None:
    config = SimulatorConfig(
        generation_time=GENERATION_S, webhook_drop=frozenset({"song.completed"})
    )
    async with make_world(sim_config=config, **push_env()) as world:
        # Earlier songs took as long as these do, so the safety poll comes soon after.
        await learned_from_history(world, GENERATION_S)
        reply = await world.song(description="the webhook never came")
        await reply.wait_response()
        assert len(await world.clip_messages(2, within=60)) == 2
        assert world.bot.scheduler.stats["polls"] >= 1
