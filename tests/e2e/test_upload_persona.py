"""/song upload with its actions, /persona create|voice|list and /song persona."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.audio_files import mp3
from tests.e2e.conftest import CHANNEL, GUILD, MEMBER, MakeWorld, World, answer_of
from tests.helpers import ephemeral_text

AUDIO = ("my-demo.mp3", mp3(2.4), "audio/mpeg")  # not past the 2.5 s the simulator gives uploads


async def upload(world: World, **options: Any) -> Any:
    return await world.slash("song", "upload", files={"file": AUDIO}, **options)


async def test_upload_alone_is_remembered_as_an_uploaded_clip(make_world: MakeWorld) -> None:
    async with make_world() as world:
        interaction = await upload(world)
        assert (await interaction.wait_response())["type"] == 5
        message = await interaction.wait_original()
        assert "Uploaded **my-demo**" in message["content"]
        clip_id = message["content"].split("clip `")[1].split("`")[0]
        assert world.posts("/sonic/upload")[0]["url"].endswith("my-demo.mp3")
        assert await world.ledger_kinds() == [("reserve", 2), ("commit", 2)]
        async with world.bot.db.read() as conn:
            rows = await conn.execute_fetchall("SELECT clip_id, source FROM clips")
        assert [tuple(r) for r in rows] == [(clip_id, "upload")]


async def test_upload_then_extend_uses_the_upload_task_type(make_world: MakeWorld) -> None:
    async with make_world() as world:
        interaction = await upload(world, action="extend", style="lofi")
        await interaction.wait_response()
        assert len(await world.clip_messages(2)) == 2
        body = world.creates()[0]
        assert body["task_type"] == "extend_upload_music" and body["continue_at"] == 0.1
        assert body["tags"] == "lofi"
        assert await world.ledger_kinds() == [
            ("reserve", 2), ("commit", 2), ("reserve", 15), ("commit", 15),
        ]  # fmt: skip


async def test_upload_add_instrumental_paints_the_window(make_world: MakeWorld) -> None:
    async with make_world() as world:
        interaction = await upload(world, action="add-instrumental", start=0.0, end=2.0)
        await interaction.wait_response()
        assert len(await world.clip_messages(2)) == 2
        body = world.creates()[0]
        assert body["task_type"] == "add_instrumental"
        assert (body["overpainting_start_s"], body["overpainting_end_s"]) == (0.0, 2.0)


async def test_upload_refusals_cost_nothing(make_world: MakeWorld) -> None:
    async with make_world() as world:
        cases = [
            ({"action": "add-vocals", "end": 5.0}, "`lyrics`"),
            ({"action": "add-instrumental"}, "`end`"),
            ({"action": "add-instrumental", "start": 3.0, "end": 1.0}, "`end`"),
            ({"action": "none", "at": 3.0}, "`at`"),
            ({"action": "extend", "at": 0.0}, "`at`"),
        ]
        for options, field in cases:
            text = ephemeral_text(await answer_of(await upload(world, **options)))
            assert field in text, (options, text)
        wrong = await world.discord.invoke_slash(
            guild_id=GUILD, channel_id=CHANNEL, user_id=MEMBER, command="song",
            subcommand="upload", options={},
            attachments={"file": ("notes.pdf", b"%PDF-1.4", "application/pdf")},
        )  # fmt: skip
        assert "`file`" in ephemeral_text(await answer_of(wrong))
        assert world.posts("/sonic/upload") == [] and world.creates() == []
        assert await world.ledger_kinds() == []


async def test_persona_from_a_song_then_sing_with_it(make_world: MakeWorld) -> None:
    async with make_world(DEFAULT_GUILD_BUDGET="1000") as world:
        await world.song(description="a voice to keep", title="Voice")
        clip_id = (await world.clip_messages(2))[0]["embeds"][0]["footer"]["text"][5:]
        create = await world.discord.invoke_slash(
            guild_id=GUILD, channel_id=CHANNEL, user_id=MEMBER, command="persona",
            subcommand="create", options={"clip": clip_id, "name": "Night Singer"},
        )  # fmt: skip
        await create.wait_response()
        saved = await create.wait_original()
        persona_id = saved["content"].split("id `")[1].split("`")[0]
        assert world.posts("/sonic/persona")[0]["clip_id"] == clip_id

        listed = await world.discord.invoke_slash(
            guild_id=GUILD, channel_id=CHANNEL, user_id=MEMBER, command="persona",
            subcommand="list",
        )  # fmt: skip
        assert persona_id in (await answer_of(listed))["data"]["embeds"][0]["description"]

        sing = await world.discord.invoke_slash(
            guild_id=GUILD, channel_id=CHANNEL, user_id=MEMBER, command="song",
            subcommand="persona", options={"persona": persona_id, "style": "torch song"},
        )  # fmt: skip
        modal = (await answer_of(sing))["data"]
        field = next(
            c["custom_id"]
            for row in modal["components"]
            for c in row.get("components", []) or [row.get("component", {})]
            if c.get("type") == 4
        )
        await world.discord.submit_modal(
            guild_id=GUILD, channel_id=CHANNEL, user_id=MEMBER, custom_id=modal["custom_id"],
            values={field: "[Verse]\nSing it low"},
        )  # fmt: skip
        assert len(await world.clip_messages(4)) == 4
        body = world.creates()[-1]
        assert body["task_type"] == "persona_music" and body["persona_id"] == persona_id
        assert body["tags"] == "torch song"


async def test_persona_from_a_voice_recording(make_world: MakeWorld) -> None:
    async with make_world() as world:
        voice = await world.discord.invoke_slash(
            guild_id=GUILD, channel_id=CHANNEL, user_id=MEMBER, command="persona",
            subcommand="voice", options={}, attachments={"file": AUDIO},
        )  # fmt: skip
        assert (await voice.wait_response())["type"] == 5
        for _ in range(200):
            async with world.bot.db.read() as conn:
                rows = await conn.execute_fetchall("SELECT persona_id FROM personas")
            if rows:
                break
            await asyncio.sleep(0.05)
        assert len(rows) == 1
        assert world.posts("/sonic/create-voice")[0]["audio_url"].endswith("my-demo.mp3")
        assert ("commit", 4) in await world.ledger_kinds()
        other = await world.discord.invoke_slash(
            guild_id=GUILD, channel_id=CHANNEL, user_id=MEMBER, command="song",
            subcommand="persona", options={"persona": "not-a-persona"},
        )  # fmt: skip
        assert "`persona`" in ephemeral_text(await answer_of(other))
