"""/song create and /song custom end to end: real discord.py, fake Discord, MusicAPI simulator."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from bot.simulator import SimulatorConfig
from tests.e2e.conftest import CHANNEL, GUILD, MEMBER, MakeWorld, answer_of
from tests.helpers import EPHEMERAL, ephemeral_text, wait_for


async def test_create_delivers_two_songs_and_charges_once(make_world: MakeWorld) -> None:
    async with make_world() as world:
        interaction = await world.song(description="a song about lighthouses", style="folk")
        response = await interaction.wait_response()
        assert response["type"] == 5  # deferred at once, publicly

        messages = await world.clip_messages(2)
        assert len(messages) == 2
        for message in messages:
            names = [a["filename"] for a in message["attachments"]]
            audio = [a for a in message["attachments"] if a["filename"].endswith(".wav")]
            assert len(audio) == 1, names  # the simulator serves WAV: the name says so
            assert audio[0]["data"][:4] == b"RIFF"
            embed = message["embeds"][0]
            fields = {f["name"]: f["value"] for f in embed["fields"]}
            assert fields["Style"] and fields["Model"].startswith("chirp-")
            assert ":" in fields["Duration"]
            assert embed["image"]["url"].startswith("attachment://cover-")
            assert [int(u) for u in message["allowed_mentions"]["users"]] == [MEMBER]
            assert not message["allowed_mentions"].get("parse")

        body = world.creates()[0]
        assert body["custom_mode"] is False and body["tags"] == "folk"
        assert body["gpt_description_prompt"] == "a song about lighthouses"

        await world.jobs_told()  # the card edit follows the clip posts
        card = interaction.original["embeds"][0]
        assert "Done" in card["title"]
        assert await world.ledger_kinds() == [("reserve", 20), ("commit", 20)]
        assert len(await world.clip_messages(3, within=0)) == 2  # and never a third


async def test_upstream_failure_returns_credits_and_says_so(make_world: MakeWorld) -> None:
    async with make_world() as world:
        await world.song(description="this one breaks [sim:fail]")
        notice = await world.discord.wait_for(
            lambda m: "could not be made" in (m.get("content") or ""), timeout=15
        )
        assert f"<@{MEMBER}>" in notice["content"]
        assert "20 credits were returned" in notice["content"]
        assert await world.ledger_kinds() == [("reserve", 20), ("release", 20)]
        await world.jobs_told()  # told: nothing more is posted for it
        assert await world.clip_messages(1, within=0) == []


async def test_moderation_refusal_shows_the_offending_text(make_world: MakeWorld) -> None:
    async with make_world() as world:
        interaction = await world.song(description="sounds like [sim:moderate]")
        await interaction.wait_response()
        await wait_for(lambda: interaction.followups, 15, "the refusal")
        text = interaction.followups[-1]["content"]
        assert "sim artist" in text and "credits were returned" in text
        assert interaction.followups[-1]["flags"] & EPHEMERAL
        assert await world.ledger_kinds() == [("reserve", 20), ("release", 20)]


async def test_simultaneous_creates_never_overspend(make_world: MakeWorld) -> None:
    # Budget 100, songs cost 20: exactly five of twelve may reach MusicAPI.
    async with make_world() as world:
        interactions = await asyncio.gather(
            *(world.song(user=MEMBER, description=f"song {n}") for n in range(12))
        )
        responses = await asyncio.gather(*(answer_of(i) for i in interactions))
        refused = [r for r in responses if r["type"] == 4]
        assert len(refused) == 7
        for response in refused:
            text = ephemeral_text(response)
            assert "budget" in text and "resets <t:" in text
        assert len(await world.clip_messages(10)) == 10
        await world.jobs_told(5)
        assert len(world.creates()) == 5
        assert (await world.bot.quota.standing(GUILD)).server_spent == 100


async def test_bad_input_is_refused_before_anything_is_spent(make_world: MakeWorld) -> None:
    async with make_world() as world:
        cases = [
            ({"description": "x" * 401}, "description", "400"),
            ({"description": "ok", "title": "t" * 80}, "title", "79"),
            ({"description": "ok", "style": "s" * 1001}, "style", "1000"),
            ({"description": "ok", "model": "sonic-v4", "style": "s" * 200}, "style", "199"),
            ({"description": "ok", "model": "nonexistent"}, "model", "sonic-v5"),
            ({"description": "ok", "model": "sonic-v4", "vocal": "m"}, "vocal", "sonic-v4-5"),
        ]
        for options, field, limit in cases:
            response = await answer_of(await world.song(**options))
            text = ephemeral_text(response)
            assert f"`{field}`" in text and limit in text, text
        assert world.creates() == []
        assert await world.ledger_kinds() == []


async def test_member_text_pings_nobody(make_world: MakeWorld) -> None:
    async with make_world() as world:
        await world.song(description="@everyone party <@&123456789012345678>", title="@here")
        messages = await world.clip_messages(2)
        assert len(messages) == 2
        for message in world.discord.channel_messages(CHANNEL):
            mentions = message.get("allowed_mentions") or {}
            assert not mentions.get("parse"), message  # no @everyone/@here/role parsing
            assert not mentions.get("roles")


async def test_custom_lyrics_typed_in_a_modal(make_world: MakeWorld) -> None:
    async with make_world() as world:
        interaction = await world.discord.invoke_slash(
            guild_id=GUILD, channel_id=CHANNEL, user_id=MEMBER, command="song",
            subcommand="custom", options={"title": "Harbour", "style": "sea shanty"},
        )  # fmt: skip
        response = await interaction.wait_response()
        assert response["type"] == 9  # a modal
        custom_id = response["data"]["custom_id"]
        lyrics_input = _first_text_input(response["data"])
        await world.discord.submit_modal(
            guild_id=GUILD, channel_id=CHANNEL, user_id=MEMBER, custom_id=custom_id,
            values={lyrics_input: "[Verse]\nHeave away, heave away"},
        )  # fmt: skip
        messages = await world.clip_messages(2)
        assert len(messages) == 2
        body = world.creates()[0]
        assert body["custom_mode"] is True and body["prompt"].startswith("[Verse]")
        assert body["title"] == "Harbour" and body["tags"] == "sea shanty"


async def test_custom_lyrics_from_a_txt_attachment(make_world: MakeWorld) -> None:
    async with make_world() as world:
        lyrics = "[Chorus]\n" + "la " * 50
        interaction = await world.discord.invoke_slash(
            guild_id=GUILD, channel_id=CHANNEL, user_id=MEMBER, command="song",
            subcommand="custom", options={"title": "From a file"},
            attachments={"lyrics_file": ("lyrics.txt", lyrics.encode(), "text/plain")},
        )  # fmt: skip
        assert (await interaction.wait_response())["type"] == 5
        assert len(await world.clip_messages(2)) == 2
        assert world.creates()[0]["prompt"] == lyrics.strip()


async def test_lyrics_file_of_the_wrong_type_is_refused(make_world: MakeWorld) -> None:
    async with make_world() as world:
        interaction = await world.discord.invoke_slash(
            guild_id=GUILD, channel_id=CHANNEL, user_id=MEMBER, command="song",
            subcommand="custom", options={},
            attachments={"lyrics_file": ("song.mp3", b"ID3\x03\x00", "audio/mpeg")},
        )  # fmt: skip
        text = ephemeral_text(await answer_of(interaction))
        assert "`lyrics_file`" in text and ".txt" in text
        assert world.creates() == [] and await world.ledger_kinds() == []


async def test_audio_too_big_for_the_channel_is_linked(make_world: MakeWorld) -> None:
    config = SimulatorConfig(generation_time=0.5, audio_bytes_size=600_000)
    async with make_world(sim_config=config, attachment_limit=512 * 1024) as world:
        await world.song(description="a long one")
        messages = await world.clip_messages(2)
        assert len(messages) == 2
        for message in messages:
            assert not [a for a in message["attachments"] if a["filename"].endswith(".wav")]
            assert "may expire" in message["content"] and "/files/" in message["content"]


async def test_long_lyrics_come_as_a_text_file(make_world: MakeWorld) -> None:
    async with make_world() as world:
        lyrics = "[Verse]\n" + ("a long line of words\n" * 200)
        interaction = await world.discord.invoke_slash(
            guild_id=GUILD, channel_id=CHANNEL, user_id=MEMBER, command="song",
            subcommand="custom", options={},
            attachments={"lyrics_file": ("long.txt", lyrics.encode(), "text/plain")},
        )  # fmt: skip
        await interaction.wait_response()
        messages = await world.clip_messages(2)
        for message in messages:
            texts = [a for a in message["attachments"] if a["filename"].endswith("-lyrics.txt")]
            assert len(texts) == 1 and texts[0]["data"].decode().startswith("[Verse]")
            assert not message["embeds"][0].get("description")


async def test_after_the_token_expires_results_still_reach_the_channel(
    make_world: MakeWorld,
) -> None:
    config = SimulatorConfig(generation_time=1.5)
    async with make_world(sim_config=config, JOB_TIMEOUT_S="3600") as world:
        interaction = await world.song(description="slow one")
        await interaction.wait_response()
        await wait_for(
            lambda: interaction.original and interaction.original.get("embeds"), 15, "the card"
        )
        world.discord.expire_token(interaction.token)
        world.clock.offset = 15 * 60 + 1  # the interaction token is dead now
        messages = await world.clip_messages(2)
        assert len(messages) == 2
        assert all(f"<@{MEMBER}>" in m["content"] for m in messages)
        assert "Queued" in interaction.original["embeds"][0]["title"]  # no edits after expiry


async def test_upstream_rate_limits_and_errors_lose_nothing(make_world: MakeWorld) -> None:
    async with make_world() as world:
        world.sim.inject("/api/v1/sonic/task", 429, count=2, headers={"Retry-After": "0.1"})
        world.sim.inject("/api/v1/sonic/task", 502, count=2)
        world.sim.inject("/api/v1/sonic/task", 200, count=1, body="<html>garbage</html>")
        await world.song(description="through the storm")
        assert len(await world.clip_messages(2, within=30)) == 2
        assert await world.ledger_kinds() == [("reserve", 20), ("commit", 20)]


async def test_discord_rate_limit_on_delivery_posts_once(make_world: MakeWorld) -> None:
    async with make_world() as world:
        world.discord.rate_limit_next(f"/channels/{CHANNEL}/messages", retry_after=0.2, count=2)
        await world.song(description="patience")
        assert len(await world.clip_messages(2)) == 2
        await world.jobs_told()  # the rate-limited posts are done: none is repeated
        assert len(await world.clip_messages(3, within=0)) == 2


async def test_crash_between_post_and_record_does_not_post_twice(
    make_world: MakeWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.store import clips as clip_sql

    real = clip_sql.record_delivery
    crashed: list[str] = []

    async def crash_once(conn, job_id, item, message_id, now):  # type: ignore[no-untyped-def]
        if not crashed:
            crashed.append(item)
            raise RuntimeError("process died after Discord accepted the message")
        await real(conn, job_id, item, message_id, now)

    monkeypatch.setattr(clip_sql, "record_delivery", crash_once)
    async with make_world() as world:
        await world.song(description="once only")
        messages = await world.clip_messages(2)
        await world.jobs_told()  # the delivery after the crash is done and recorded
        assert crashed
        assert len(await world.clip_messages(3, within=0)) == 2
        assert len({m["id"] for m in messages}) == 2


def _first_text_input(modal: dict[str, Any]) -> str:
    for row in modal["components"]:
        for component in row.get("components", []) or [row.get("component", {})]:
            if component.get("type") == 4:
                return str(component["custom_id"])
    raise AssertionError(f"no text input in {modal}")


async def test_gateway_reconnect_mid_job_loses_nothing(make_world: MakeWorld) -> None:
    async with make_world(sim_config=SimulatorConfig(generation_time=1.5)) as world:
        await answer_of(await world.song(description="through a reconnect"))
        await world.discord.disconnect_clients()
        assert len(await world.clip_messages(2)) == 2
        assert await world.ledger_kinds() == [("reserve", 20), ("commit", 20)]
