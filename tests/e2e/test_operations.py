"""The operator's endpoint: /metrics scraped and parsed, /healthz through gateway and DB loss."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.observability import logs
from bot.simulator import SimulatorConfig
from tests.e2e.conftest import CHANNEL, GUILD, MEMBER, MODERATOR, MakeWorld, World
from tests.helpers import refusal_text

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


async def scrape(world: World) -> Samples:
    server = world.bot.ops.server
    assert server is not None
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"http://127.0.0.1:{server.port}/metrics") as resp,
    ):
        assert resp.status == 200
        assert resp.headers["Content-Type"].startswith("text/plain; version=")
        text = await resp.text()
    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def healthz(world: World) -> tuple[int, dict[str, Any]]:
    server = world.bot.ops.server
    assert server is not None
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"http://127.0.0.1:{server.port}/healthz") as resp,
    ):
        return resp.status, await resp.json()


async def wait_health(world: World, accept: Callable[[int, dict[str, Any]], bool]) -> Any:
    """Poll /healthz until `accept` says yes (or 15 s pass); returns the last answer."""
    deadline = asyncio.get_running_loop().time() + 15
    while True:
        status, body = await healthz(world)
        if accept(status, body) or asyncio.get_running_loop().time() > deadline:
            return status, body
        await asyncio.sleep(0.05)


async def test_metrics_scrape_parses_and_counts_a_song(make_world: MakeWorld) -> None:
    async with make_world(METRICS_LISTEN="127.0.0.1:0") as world:
        # Counters are per process and other tests ran in this one: compare before and after.
        before = await scrape(world)
        world.discord.rate_limit_next("POST /channels/", retry_after=0.01)  # one Discord 429
        await (await world.song(description="counted")).wait_response()
        assert len(await world.clip_messages(2)) == 2
        # The job is marked notified just after its last post: wait for that, not a fixed time.
        finished = ("musicbot_jobs_finished_total", (("family", "sonic"), ("state", "succeeded")))
        deadline = asyncio.get_running_loop().time() + 10
        while True:
            after = await scrape(world)
            grown = after.get(finished, 0) > before.get(finished, 0)
            if grown or asyncio.get_running_loop().time() > deadline:
                break
            await asyncio.sleep(0.05)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("musicbot_songs_delivered_total", family="sonic") == 2
    assert grew("musicbot_jobs_finished_total", state="succeeded", family="sonic") == 1
    assert grew("musicbot_upstream_requests_total", kind="create") == 1
    assert grew("musicbot_upstream_requests_total", kind="poll") >= 1
    assert grew("musicbot_reservations_total") == 1
    assert grew("musicbot_credits_total", step="committed") == 20
    assert grew("musicbot_delivery_lag_seconds_count") == 2
    assert grew("musicbot_discord_rate_limits_total", scope="user") == 1
    assert value(after, "musicbot_event_loop_lag_seconds_count") > 0
    assert value(after, "musicbot_info", version=world.bot.version, database="sqlite",
                 webhooks="off") == 1  # fmt: skip
    assert value(after, "process_resident_memory_bytes") > 0
    # Nothing left in flight: the job gauge has no unfinished job.
    assert not any(name == "musicbot_jobs" and v for (name, _), v in after.items())


async def test_in_flight_jobs_and_a_refused_key_show_in_metrics_and_reach_the_owner(
    make_world: MakeWorld,
) -> None:
    async with make_world(
        METRICS_LISTEN="127.0.0.1:0",
        OWNER_IDS=f"{MODERATOR},{MEMBER}",
        sim_config=SimulatorConfig(generation_time=30),
    ) as world:
        before = await scrape(world)
        song = await world.song(description="slow one")
        # The card fills the deferred reply after the submit: MusicAPI has taken the job.
        await song.wait_original(lambda m: bool(m["embeds"]))
        samples = await scrape(world)
        in_flight = {
            dict(labels)["state"]: v
            for (name, labels), v in samples.items()
            if name == "musicbot_jobs" and v
        }
        assert sum(in_flight.values()) == 1, in_flight

        # MusicAPI starts refusing the key (rotated in the dashboard, say).
        world.sim.config.api_key = "a-different-key"
        assert await world.bot.ops.upstream.check_credits(world.bot.musicapi) is None
        assert await world.bot.ops.upstream.check_credits(world.bot.musicapi) is None
        await world.bot.ops.alerts.drain()
        after = await scrape(world)
        auth_errors = value(after, "musicbot_upstream_errors_total", error="auth") - value(
            before, "musicbot_upstream_errors_total", error="auth"
        )
        assert auth_errors == 2
        # The first owner listed gets one DM, not one per failure.
        dm = world.discord.channel_messages(world.discord.dm_channel_id(MODERATOR))
        assert len(dm) == 1, dm
        assert "MusicAPI refused the key" in dm[0]["content"]
        assert "MUSICAPI_KEY" in dm[0]["content"]
        assert "test-musicapi-key" not in dm[0]["content"]
        assert world.discord.channel_messages(world.discord.dm_channel_id(MEMBER)) == []
        last = world.bot.ops.upstream.last_error
        assert last is not None and last.summary.startswith("AuthError")


async def test_healthz_follows_the_gateway_and_the_database(make_world: MakeWorld) -> None:
    async with make_world(METRICS_LISTEN="127.0.0.1:0") as world:
        status, body = await wait_health(world, lambda s, _: s == 200)
        assert (status, body) == (200, {"status": "ok", "reasons": []})

        # The gateway drops and Discord refuses to take it back.
        world.discord.gateway_open = False
        await world.discord.disconnect_clients()
        status, body = await wait_health(world, lambda s, _: s == 503)
        assert status == 503 and body["status"] == "unhealthy"
        assert body["reasons"] == ["gateway: not connected (shard 0)"]

        world.discord.gateway_open = True
        status, body = await wait_health(world, lambda s, _: s == 200)
        assert status == 200, body

        # The database goes away.
        await world.bot.db.close()
        status, body = await wait_health(world, lambda s, _: s == 503)
        assert status == 503
        assert any(reason.startswith("database: ") for reason in body["reasons"]), body


async def test_a_possibly_billed_orphan_alerts_the_owner(make_world: MakeWorld) -> None:
    async with make_world(OWNER_IDS=str(MODERATOR)) as world:
        # A gateway page instead of MusicAPI's answer: the task may exist and is released.
        world.sim.inject("/api/v1/sonic/create", 502, body="<html>bad gateway</html>")
        song = await world.song(description="lost in the gateway")
        await song.wait_response()
        await song.wait_followups()
        await world.bot.ops.alerts.drain()
        dm = world.discord.channel_messages(world.discord.dm_channel_id(MODERATOR))
        assert len(dm) == 1, dm
        assert "Possibly billed tasks" in dm[0]["content"]
        assert "/musicbot status" in dm[0]["content"]


async def test_an_unexpected_error_shares_one_reference_with_log_and_owner(
    make_world: MakeWorld,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with make_world(OWNER_IDS=str(MODERATOR)) as world:

        async def broken(guild_id: int) -> None:
            raise KeyError("a bug")

        world.bot.quota_admin.overview = broken  # type: ignore[assignment,method-assign]  # a bug
        show = await world.discord.invoke_slash(
            guild_id=GUILD, channel_id=CHANNEL, user_id=MODERATOR, command="quota",
            subcommand="show",
        )  # fmt: skip
        reply = await refusal_text(show)
        await world.bot.ops.alerts.drain()
        found = re.search(r"Reference: `([0-9a-f]{8})`", reply)
        assert found, reply
        incident = found.group(1)
        (record,) = [r for r in caplog.records if r.name == "bot.errors"]
        assert incident in record.getMessage() and "/quota show" in record.getMessage()
        assert record.exc_info is not None and record.exc_info[0] is KeyError
        dm = world.discord.channel_messages(world.discord.dm_channel_id(MODERATOR))
        assert len(dm) == 1 and incident in dm[0]["content"]


async def test_webhook_events_are_counted_and_the_secret_never_logged(
    make_world: MakeWorld,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from tests.e2e.test_webhooks import push_env

    config = SimulatorConfig(generation_time=0.6, webhook_duplicates=1)
    async with make_world(METRICS_LISTEN="127.0.0.1:0", sim_config=config, **push_env()) as world:
        before = await scrape(world)
        await (await world.song(description="pushed")).wait_response()
        assert len(await world.clip_messages(2)) == 2
        name = "musicbot_webhook_events_total"

        def grew(after: Samples, result: str, reason: str) -> float:
            return value(after, name, result=result, reason=reason) - value(
                before, name, result=result, reason=reason
            )

        deadline = asyncio.get_running_loop().time() + 10
        while True:  # the duplicate comes after the first delivery: wait for it, not a time
            after = await scrape(world)
            if grew(after, "refused", "duplicate") or asyncio.get_running_loop().time() > deadline:
                break
            await asyncio.sleep(0.05)
        assert grew(after, "accepted", "accepted") >= 1
        assert grew(after, "refused", "duplicate") >= 1
        secret = world.creates()[-1]["webhook_secret"]
        # Registered for redaction: no log line, in either format, can show it.
        assert logs.redact(f"the secret {secret}") == "the secret [redacted]"
        # Whoever can scrape learns that webhooks are on, not where they arrive.
        info = dict(version=world.bot.version, database="sqlite", webhooks="on")
        assert value(after, "musicbot_info", **info) == 1
        public_url = world.bot.settings.webhook_public_url
        labels = [v for (_, pairs), _ in after.items() for _, v in pairs]
        assert public_url and labels
        assert not [v for v in labels if "://" in v or public_url in v or secret in v]
