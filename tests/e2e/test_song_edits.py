"""/song extend, cover, full and remaster: right task type and body, validation, charging."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import CHANNEL, GUILD, MEMBER, MakeWorld, World, answer_of
from tests.helpers import ephemeral_text


async def first_song(world: World) -> tuple[str, dict[str, Any]]:
    await world.song(description="a song to edit", title="Seed")
    message = (await world.clip_messages(2))[0]
    return message["embeds"][0]["footer"]["text"].removeprefix("Clip "), message


async def edit(world: World, sub: str, **options: Any) -> dict[str, Any]:
    interaction = await world.discord.invoke_slash(
        guild_id=GUILD, channel_id=CHANNEL, user_id=MEMBER, command="song", subcommand=sub,
        options=options,
    )  # fmt: skip
    return await answer_of(interaction)


async def clip_ids_after(world: World, count: int) -> list[str]:
    messages = await world.clip_messages(count)
    return [m["embeds"][0]["footer"]["text"].removeprefix("Clip ") for m in messages]


async def test_extend_then_full_song(make_world: MakeWorld) -> None:
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


async def test_extend_refuses_a_moment_outside_the_song(make_world: MakeWorld) -> None:
    async with make_world() as world:
        clip_id, _ = await first_song(world)
        for at, words in ((0.0, "more than 0"), (-3.0, "more than 0"), (9999.0, "length")):
            text = ephemeral_text(await edit(world, "extend", clip=clip_id, at=at))
            assert "`at`" in text and words in text
        assert len(world.creates()) == 1
        assert await world.ledger_kinds() == [("reserve", 20), ("commit", 20)]


async def test_full_needs_an_extended_part(make_world: MakeWorld) -> None:
    async with make_world() as world:
        clip_id, _ = await first_song(world)
        text = ephemeral_text(await edit(world, "full", clip=clip_id))
        assert "`clip`" in text and "/song extend" in text
        assert len(world.creates()) == 1


async def test_cover_keeps_the_lyrics_and_checks_the_weight(make_world: MakeWorld) -> None:
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


async def test_remaster_only_young_songs(make_world: MakeWorld) -> None:
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


async def test_replace_mashup_and_sample(make_world: MakeWorld) -> None:
    async with make_world(DEFAULT_GUILD_BUDGET="1000") as world:
        first, _ = await first_song(world)
        await world.song(description="another", title="Other")
        second = (await clip_ids_after(world, 4))[2]

        assert (await edit(world, "replace", clip=first, start=0.5, end=1.5, lyrics="[Verse] new"))[
            "type"
        ] == 5
        assert (await edit(world, "mashup", clip_a=first, clip_b=second))["type"] == 5
        assert (await edit(world, "sample", clip=second, start=0.2, end=1.0))["type"] == 5
        await world.clip_messages(10, within=30)
        paths = [p for _, p, _ in world.sim.requests if p.startswith("/api/v1/sonic/")]
        assert {
            "/api/v1/sonic/replace-section",
            "/api/v1/sonic/mashup",
            "/api/v1/sonic/sample",
        } <= set(paths)
        bodies = {p: b for _, p, b in world.sim.requests}
        replace = bodies["/api/v1/sonic/replace-section"]
        assert (replace["clip_id"], replace["infill_start_s"], replace["infill_end_s"]) == (
            first, 0.5, 1.5,
        )  # fmt: skip
        assert replace["infill_lyrics"] == "[Verse] new"
        assert bodies["/api/v1/sonic/mashup"]["mashup_clip_ids"] == [first, second]
        sample = bodies["/api/v1/sonic/sample"]
        assert sample["sample_clip_id"] == second and sample["chop_sample_end_s"] == 1.0
        kinds = await world.ledger_kinds()
        for cost in (10, 14, 15):  # replace_section, mashup, sample
            assert ("commit", cost) in kinds


async def test_window_and_pair_rules(make_world: MakeWorld) -> None:
    async with make_world() as world:
        clip_id, _ = await first_song(world)
        cases = [
            ("replace", {"clip": clip_id, "start": 2.0, "end": 1.0}, "`end`", "after"),
            ("replace", {"clip": clip_id, "start": -1.0, "end": 1.0}, "`start`", "negative"),
            ("sample", {"clip": clip_id, "start": 0.0, "end": 999.0}, "`end`", "length"),
            ("mashup", {"clip_a": clip_id, "clip_b": clip_id}, "`clip_b`", "different"),
        ]
        for sub, options, field, words in cases:
            text = ephemeral_text(await edit(world, sub, **options))
            assert field in text and words in text, text
        edits = ("/replace-section", "/mashup", "/sample")
        assert not [p for _, p, _ in world.sim.requests if p.endswith(edits)]
        assert await world.ledger_kinds() == [("reserve", 20), ("commit", 20)]
