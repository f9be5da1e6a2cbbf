"""/song extend, cover, full and remaster: right task type and body, validation, charging."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import CHANNEL, GUILD, MEMBER, World
from tests.e2e.test_song import ephemeral_text


async def first_song(world: World) -> tuple[str, dict[str, Any]]:
    await world.song(description="a song to edit", title="Seed")
    message = (await world.clip_messages(2))[0]
    return message["embeds"][0]["footer"]["text"].removeprefix("Clip "), message


async def edit(world: World, sub: str, **options: Any) -> dict[str, Any]:
    interaction = await world.discord.invoke_slash(
        guild_id=GUILD, channel_id=CHANNEL, user_id=MEMBER, command="song", subcommand=sub,
        options=options,
    )  # fmt: skip
    return await interaction.wait_response()


async def clip_ids_after(world: World, count: int) -> list[str]:
    messages = await world.clip_messages(count)
    return [m["embeds"][0]["footer"]["text"].removeprefix("Clip ") for m in messages]


async def test_extend_then_full_song(make_world) -> None:  # type: ignore[no-untyped-def]
    async with make_world() as world:
        clip_id, _ = await first_song(world)
        assert (await edit(world, "extend", clip=clip_id, at=1.0, style="faster"))["type"] == 5
        extended = (await clip_ids_after(world, 4))[2]
        body = world.creates()[1]
        assert body["task_type"] == "extend_music" and body["continue_clip_id"] == clip_id
        assert body["continue_at"] == 1.0 and body["tags"] == "faster"
        assert body["custom_mode"] is True and body["auto_lyrics"] is True

        assert (await edit(world, "full", clip=extended))["type"] == 5
        await clip_ids_after(world, 5)
        concat = world.creates()[2]
        assert concat == {"task_type": "concat_music", "continue_clip_id": extended}
        kinds = await world.ledger_kinds()
        assert kinds.count(("commit", 15)) == 1 and kinds.count(("commit", 2)) == 1


async def test_extend_refuses_a_moment_outside_the_song(make_world) -> None:  # type: ignore[no-untyped-def]
    async with make_world() as world:
        clip_id, _ = await first_song(world)
        for at, words in ((0.0, "more than 0"), (-3.0, "more than 0"), (9999.0, "length")):
            text = ephemeral_text(await edit(world, "extend", clip=clip_id, at=at))
            assert "`at`" in text and words in text
        assert len(world.creates()) == 1
        assert await world.ledger_kinds() == [("reserve", 20), ("commit", 20)]


async def test_full_needs_an_extended_part(make_world) -> None:  # type: ignore[no-untyped-def]
    async with make_world() as world:
        clip_id, _ = await first_song(world)
        text = ephemeral_text(await edit(world, "full", clip=clip_id))
        assert "`clip`" in text and "/song extend" in text
        assert len(world.creates()) == 1


async def test_cover_keeps_the_lyrics_and_checks_the_weight(make_world) -> None:  # type: ignore[no-untyped-def]
    async with make_world() as world:
        clip_id, _ = await first_song(world)
        text = ephemeral_text(await edit(world, "cover", clip=clip_id, audio_weight=1.5))
        assert "`audio_weight`" in text and "0 and 1" in text
        response = await edit(world, "cover", clip=clip_id, style="jazz", audio_weight=0.4)
        assert response["type"] == 5
        await clip_ids_after(world, 4)
        body = world.creates()[1]
        assert body["task_type"] == "cover_music" and body["audio_weight"] == 0.4
        assert body["tags"] == "jazz" and body["prompt"]  # the original song's lyrics


async def test_remaster_only_young_songs(make_world) -> None:  # type: ignore[no-untyped-def]
    async with make_world(JOB_TIMEOUT_S="999999") as world:
        clip_id, _ = await first_song(world)
        response = await edit(world, "remaster", clip=clip_id, variation="subtle")
        assert response["type"] == 5
        await clip_ids_after(world, 4)
        body = world.creates()[1]
        assert body["task_type"] == "remaster" and body["variation_category"] == "subtle"
        world.clock.offset = 25 * 3600
        text = ephemeral_text(await edit(world, "remaster", clip=clip_id))
        assert "`clip`" in text and "24 hours" in text
        assert len(world.creates()) == 2
