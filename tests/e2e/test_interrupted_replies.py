"""A command cut off after its "thinking…" (a stop, a crash) is answered after the restart."""

from __future__ import annotations

import asyncio

from bot.delivery.interrupted import INTERRUPTED
from tests.e2e.conftest import CHANNEL, GUILD, MEMBER, MODERATOR


async def open_rows(world) -> int:  # type: ignore[no-untyped-def]
    async with world.bot.db.read() as conn:
        cursor = await conn.execute("SELECT COUNT(*) FROM open_replies")
        row = await cursor.fetchone()
    return int(row[0])


async def test_a_command_cut_off_by_a_stop_is_answered_after_the_restart(make_world) -> None:  # type: ignore[no-untyped-def]
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
    make_world,
) -> None:  # type: ignore[no-untyped-def]
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
