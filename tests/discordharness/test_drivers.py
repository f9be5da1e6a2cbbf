"""Less common drivers: autocomplete, selects, DMs, user messages, failure injection."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import discord
import pytest
import pytest_asyncio

from tests.fakediscord import FakeDiscord, FakeUser, running_bot

from .conftest import CHANNEL_ID, GUILD_ID, USER_ID
from .demo_bot import DemoBot


@pytest_asyncio.fixture
async def bot(fake: FakeDiscord) -> AsyncIterator[DemoBot]:
    demo = DemoBot()
    async with running_bot(fake, demo):
        await demo.tree.sync()
        yield demo
    assert demo.errors == []


async def test_autocomplete_choices(fake: FakeDiscord, bot: DemoBot) -> None:
    ix = await fake.autocomplete(
        guild_id=GUILD_ID,
        channel_id=CHANNEL_ID,
        user_id=USER_ID,
        command="demo",
        subcommand="pick",
        focused="fruit",
        options={"fruit": "ap"},
    )
    assert (await ix.wait_response())["type"] == 8
    assert ix.autocomplete_choices == [
        {"name": "apple", "value": "apple"},
        {"name": "apricot", "value": "apricot"},
    ]


async def test_select_deferred_update_then_followup(fake: FakeDiscord, bot: DemoBot) -> None:
    ix = await fake.invoke_slash(
        guild_id=GUILD_ID, channel_id=CHANNEL_ID, user_id=USER_ID, command="demo", subcommand="menu"
    )
    menu = await ix.wait_original()
    await asyncio.wait_for(bot.menu_ready.wait(), 5)
    pick = await fake.select_values(
        guild_id=GUILD_ID,
        channel_id=CHANNEL_ID,
        user_id=USER_ID,
        message_id=menu["id"],
        custom_id="demo-menu",
        values=["b"],
    )
    (followup,) = await pick.wait_followups(1)
    assert pick.response_type == 6 and followup["content"] == "chose b"
    assert pick.original is menu and menu["edits"] == 0  # deferred update does not edit
    assert [m["content"] for m in fake.channel_messages(CHANNEL_ID)] == ["choose", "chose b"]


async def test_dm_and_user_messages(fake: FakeDiscord, bot: DemoBot) -> None:
    user = await bot.fetch_user(USER_ID)
    sent = await user.send("psst")
    dm = fake.dm_channel_id(USER_ID)
    assert [m["id"] for m in fake.channel_messages(dm)] == [sent.id]
    assert fake.messages[sent.id]["guild_id"] is None

    # MESSAGE_CREATE reaches on_message; content is hidden without the message-content
    # intent unless the bot is mentioned (as on Discord).
    mentioned = asyncio.ensure_future(
        bot.wait_for("message", check=lambda m: m.content.endswith("hey"), timeout=5)
    )
    await fake.post_user_message(channel_id=CHANNEL_ID, user_id=USER_ID, content="no intent")
    await fake.post_user_message(
        channel_id=CHANNEL_ID, user_id=USER_ID, content=f"<@{fake.bot_user_id}> hey"
    )
    await mentioned
    contents = [m.content for m in bot.seen_messages if m.author.id == USER_ID]
    assert contents == ["", f"<@{fake.bot_user_id}> hey"]


async def test_user_option_and_fail_next(fake: FakeDiscord, bot: DemoBot) -> None:
    fake.fail_next("POST /channels/", status=403)
    channel = bot.get_channel(CHANNEL_ID)
    assert isinstance(channel, discord.TextChannel)
    with pytest.raises(discord.Forbidden) as excinfo:
        await channel.send("nope")
    assert excinfo.value.code == 50013
    assert (await channel.send("yes")).content == "yes"
    with pytest.raises(ValueError, match="no option"):
        await fake.invoke_slash(
            guild_id=GUILD_ID,
            channel_id=CHANNEL_ID,
            user_id=USER_ID,
            command="demo",
            subcommand="pick",
            options={"who": FakeUser(USER_ID)},
        )


async def test_three_second_window_is_enforced() -> None:
    fake = FakeDiscord(interaction_response_timeout=0.2)
    await fake.start()
    try:
        fake.add_guild(GUILD_ID, channels=[CHANNEL_ID])
        demo = DemoBot()
        async with running_bot(fake, demo):
            late = await fake.invoke_slash(
                guild_id=GUILD_ID,
                channel_id=CHANNEL_ID,
                user_id=USER_ID,
                command="demo",
                subcommand="slow",
                options={"delay": 0.4},
            )
            on_time = await fake.invoke_slash(
                guild_id=GUILD_ID,
                channel_id=CHANNEL_ID,
                user_id=USER_ID,
                command="demo",
                subcommand="slow",
                options={"delay": 0.0},
            )
            await on_time.wait_response()
            await fake.wait_for_request("POST", f"/interactions/{late.id}/", status=404)
            await asyncio.wait_for(demo.late_error_seen.wait(), 5)
            assert late.response is None
            assert [(e.status, e.code) for e in demo.late_errors] == [(404, 10062)]
    finally:
        await fake.stop()
