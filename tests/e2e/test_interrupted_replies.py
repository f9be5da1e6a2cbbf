"""A command or button press cut off after its "thinking…" (a stop, a crash) is answered after
the restart."""

from __future__ import annotations

import asyncio
import copy
from typing import Any

from bot.delivery.interrupted import INTERRUPTED
from tests.e2e.conftest import CHANNEL, GUILD, MEMBER, MODERATOR, MakeWorld, answer_of
from tests.e2e.test_buttons import press


async def open_rows(world) -> int:  # type: ignore[no-untyped-def]
    async with world.bot.db.read() as conn:
        cursor = await conn.execute("SELECT COUNT(*) FROM open_replies")
        row = await cursor.fetchone()
    return int(row[0])


async def settled(world, rows: int) -> None:  # type: ignore[no-untyped-def]
    for _ in range(200):
        if await open_rows(world) == rows:
            break
        await asyncio.sleep(0.02)
    assert await open_rows(world) == rows


async def test_a_command_cut_off_by_a_stop_is_answered_after_the_restart(
    make_world: MakeWorld,
) -> None:
    async with make_world(OWNER_IDS=str(MODERATOR)) as world:
        world.sim.stall("/api/v1/get-credits", 60)  # the command hangs after its defer
        status = await world.discord.invoke_slash(
            guild_id=GUILD, channel_id=CHANNEL, user_id=MODERATOR, command="musicbot",
            subcommand="status",
        )  # fmt: skip
        assert (await status.wait_response())["type"] == 5
        for _ in range(200):
            if await open_rows(world) == 1:
                break
            await asyncio.sleep(0.02)
        assert await open_rows(world) == 1
        # What a stop does to a command in flight: asyncio cancels its task.
        (invoker,) = [t for t in asyncio.all_tasks() if t.get_name() == "CommandTree-invoker"]
        invoker.cancel()
        await asyncio.wait({invoker})

        await world.restart()
        world.bot.open_replies.max_age_s = 0.0  # rather than waiting out MAX_COMMAND_S
        assert await world.bot.open_replies.sweep() == 1
        answered = await status.wait_original(lambda m: m["content"] == INTERRUPTED)
        assert "Nothing was charged" in answered["content"]
        assert await open_rows(world) == 0
        assert await world.bot.open_replies.sweep() == 0  # answered once


async def test_finished_commands_leave_nothing_behind_and_jobs_answer_for_themselves(
    make_world: MakeWorld,
) -> None:
    async with make_world() as world:
        song = await world.song(description="answered by its job")
        await song.wait_original(lambda m: bool(m["embeds"]))
        credits = await world.discord.invoke_slash(
            guild_id=GUILD, channel_id=CHANNEL, user_id=MEMBER, command="credits"
        )
        await credits.wait_original()
        for _ in range(200):
            if await open_rows(world) == 0:
                break
            await asyncio.sleep(0.02)
        assert await open_rows(world) == 0


async def test_a_button_press_cut_off_by_a_stop_is_answered_and_a_finished_one_is_not(
    make_world: MakeWorld,
) -> None:
    async with make_world() as world:
        await world.song(description="press me")
        song = (await world.clip_messages(2))[0]
        first = await press(world, song, "Timeline")  # charged once, answered in full
        finished = copy.deepcopy(await first.wait_original(lambda m: bool(m["attachments"])))
        await settled(world, 0)

        # A repeat timeline is free and makes no job row: only the open reply answers for it.
        world.sim.stall("/api/v1/sonic/aligned-lyrics", 60)
        second = await press(world, song, "Timeline")
        assert (await second.wait_response())["type"] == 5
        await settled(world, 1)
        # What a stop does to a press in flight: asyncio cancels its task.
        (handler,) = [
            t for t in asyncio.all_tasks()
            if t.get_name().startswith("discord-ui-dynamic-item-ClipAction-clip:timeline:")
        ]  # fmt: skip
        handler.cancel()
        await asyncio.wait({handler})

        await world.restart()
        world.bot.open_replies.max_age_s = 0.0  # rather than waiting out MAX_COMMAND_S
        assert await world.bot.open_replies.sweep() == 1
        answered = await second.wait_original(lambda m: m["content"] == INTERRUPTED)
        assert answered["id"] != song["id"]  # its own "thinking…", never the song
        assert first.original == finished  # the finished press is untouched
        assert await open_rows(world) == 0
        assert await world.bot.open_replies.sweep() == 0


async def cover_form(world, song: dict) -> Any:  # type: ignore[no-untyped-def]
    form = (await answer_of(await press(world, song, "Cover")))["data"]
    field = next(
        c["custom_id"]
        for row in form["components"]
        for c in row.get("components", []) or [row.get("component", {})]
        if c.get("type") == 4
    )
    return await world.discord.submit_modal(
        guild_id=GUILD, channel_id=CHANNEL, user_id=MEMBER, custom_id=form["custom_id"],
        values={field: "acoustic folk"},
    )  # fmt: skip


async def test_a_submitted_form_is_written_down_until_it_answers(make_world: MakeWorld) -> None:
    async with make_world(DEFAULT_GUILD_BUDGET="1000") as world:
        await world.song(description="cover me")
        song = (await world.clip_messages(2))[0]
        world.sim.stall("/api/v1/sonic/create", 60)  # the first cover hangs after its defer
        hanging = await cover_form(world, song)
        assert (await hanging.wait_response())["type"] == 5
        await settled(world, 1)

        finished = await cover_form(world, song)
        await finished.wait_original(lambda m: bool(m["embeds"]))  # its job card
        await settled(world, 1)  # crossed off; the hanging one stays written down
        async with world.bot.db.read() as conn:
            cursor = await conn.execute("SELECT token, command FROM open_replies")
            rows = [tuple(r) for r in await cursor.fetchall()]
        assert rows == [(hanging.token, "Cover this song form")]
        for task in asyncio.all_tasks():
            if task.get_name().startswith("discord-ui-modal-dispatch-"):
                task.cancel()
