"""The real discord.py client against the fake Discord, in the test's event loop."""

from __future__ import annotations

import hashlib
import io
import time
from collections.abc import AsyncIterator

import aiohttp
import discord
import pytest
import pytest_asyncio

from tests.fakediscord import FakeDiscord, running_bot

from .conftest import (
    ADMIN_ID,
    CHANNEL_ID,
    GUILD_ID,
    SMALL_CHANNEL_ID,
    SMALL_GUILD_ID,
    SMALL_LIMIT,
    USER_ID,
)
from .demo_bot import DemoBot


@pytest_asyncio.fixture
async def bot(fake: FakeDiscord) -> AsyncIterator[DemoBot]:
    demo = DemoBot()
    async with running_bot(fake, demo):
        yield demo
    assert demo.errors == []
    assert fake.unknown_routes == []


async def test_startup_identity_and_guild_sync(fake: FakeDiscord, bot: DemoBot) -> None:
    assert bot.user is not None and bot.user.id == fake.bot_user_id
    assert bot.application_id == fake.application_id
    assert fake.heartbeats >= 1 and fake.identify_count == 1
    assert {g.id for g in bot.guilds} == {GUILD_ID, SMALL_GUILD_ID}
    guild = bot.get_guild(GUILD_ID)
    assert guild is not None and guild.get_channel(CHANNEL_ID) is not None
    assert guild.me.guild_permissions.attach_files
    assert await bot.is_owner(discord.Object(fake.owner_id))  # type: ignore[arg-type]

    assert await bot.tree.sync() and fake.registered_commands["global"][0]["name"] == "demo"
    bot.tree.copy_global_to(guild=discord.Object(GUILD_ID))
    synced = await bot.tree.sync(guild=discord.Object(GUILD_ID))
    stored = fake.registered_commands[GUILD_ID]
    assert [c["name"] for c in stored] == ["demo"] == [c.name for c in synced]
    assert stored[0]["id"] == str(synced[0].id) and stored[0]["guild_id"] == str(GUILD_ID)
    subcommands = {o["name"] for o in stored[0]["options"]}
    assert subcommands == {
        "ping",
        "twice",
        "modal",
        "counter",
        "hold",
        "upload",
        "pick",
        "menu",
        "slow",
    }
    # Re-syncing keeps Discord's ids stable.
    again = await bot.tree.sync(guild=discord.Object(GUILD_ID))
    assert again[0].id == synced[0].id
    assert ("PUT", f"/applications/{fake.application_id}/guilds/{GUILD_ID}/commands") in [
        (m, p) for m, p, _ in fake.requests
    ]


async def test_deferred_followup_fills_original_with_embed_and_file(
    fake: FakeDiscord, bot: DemoBot
) -> None:
    bot.tree.copy_global_to(guild=discord.Object(GUILD_ID))
    await bot.tree.sync(guild=discord.Object(GUILD_ID))
    ix = await fake.invoke_slash(
        guild_id=GUILD_ID,
        channel_id=CHANNEL_ID,
        user_id=USER_ID,
        command="demo",
        subcommand="ping",
        options={"text": "hi there"},
    )
    assert (await ix.wait_response())["type"] == 5
    original = await ix.wait_original()
    assert ix.followups == []  # the first followup filled the "thinking" message
    assert original["edits"] == 1 and original["history"][0]["flags"] & 128
    assert original["content"] == f"<@{USER_ID}> done"
    assert original["embeds"][0]["title"] == "Pong"
    assert original["embeds"][0]["description"] == "hi there"
    assert original["allowed_mentions"] == {"parse": []}
    assert original["mentions"] == []  # nobody pinged: allowed_mentions honoured
    (attachment,) = original["attachments"]
    assert (attachment["filename"], attachment["data"]) == ("hello.txt", b"hello file")
    assert attachment["content_type"] == "text/plain"
    assert fake.channel_messages(CHANNEL_ID) == [original]
    # The command id the bot saw is the registered one.
    assert ix.payload["data"]["id"] == fake.find_command("demo", guild_id=GUILD_ID)["id"]  # type: ignore[index]
    async with aiohttp.ClientSession() as session, session.get(attachment["url"]) as resp:
        assert resp.status == 200 and await resp.read() == b"hello file"


async def test_modal_round_trip_with_label_component(fake: FakeDiscord, bot: DemoBot) -> None:
    ix = await fake.invoke_slash(
        guild_id=GUILD_ID,
        channel_id=CHANNEL_ID,
        user_id=USER_ID,
        command="demo",
        subcommand="modal",
    )
    response = await ix.wait_response()
    assert response["type"] == 9 and ix.modal is not None
    assert ix.modal["title"] == "Demo form"
    assert [c["type"] for c in ix.modal["components"]] == [1, 18]

    submit = await fake.submit_modal(
        guild_id=GUILD_ID,
        channel_id=CHANNEL_ID,
        user_id=USER_ID,
        custom_id=ix.modal["custom_id"],
        values={"demo-name": "Ada", "demo-notes": "likes jazz"},
    )
    reply = await submit.wait_original()
    assert reply["content"] == "hello Ada; notes='likes jazz'"
    assert reply["ephemeral"] and fake.channel_messages(CHANNEL_ID) == []


async def test_dynamic_item_button_edits_message(fake: FakeDiscord, bot: DemoBot) -> None:
    ix = await fake.invoke_slash(
        guild_id=GUILD_ID,
        channel_id=CHANNEL_ID,
        user_id=USER_ID,
        command="demo",
        subcommand="counter",
    )
    message = await ix.wait_original()
    assert message["components"][0]["components"][0]["custom_id"] == "demo:0"

    click = await fake.click_button(
        guild_id=GUILD_ID,
        channel_id=CHANNEL_ID,
        user_id=ADMIN_ID,
        message_id=message["id"],
        custom_id="demo:0",
    )
    assert (await click.wait_response())["type"] == 7
    assert message["content"] == "count=1" and message["edits"] == 1
    assert message["components"][0]["components"][0]["custom_id"] == "demo:1"
    click2 = await fake.click_button(
        guild_id=GUILD_ID,
        channel_id=CHANNEL_ID,
        user_id=USER_ID,
        message_id=message["id"],
        custom_id="demo:1",
    )
    await click2.wait_response()
    assert (await fake.wait_for(lambda m: m["content"] == "count=2"))["id"] == message["id"]
    with pytest.raises(ValueError, match="no component"):
        await fake.click_button(
            guild_id=GUILD_ID,
            channel_id=CHANNEL_ID,
            user_id=USER_ID,
            message_id=message["id"],
            custom_id="demo:0",
        )


async def test_enforced_nonce_creates_one_message(fake: FakeDiscord, bot: DemoBot) -> None:
    channel = bot.get_channel(CHANNEL_ID)
    assert isinstance(channel, discord.TextChannel)
    first = await channel.send("only once", nonce=424242)
    second = await channel.send("only once", nonce=424242)
    third = await channel.send("different nonce", nonce=434343)
    assert first.id == second.id != third.id
    assert [m["content"] for m in fake.channel_messages(CHANNEL_ID)] == [
        "only once",
        "different nonce",
    ]
    sent = [p for m, p, body in fake.requests if m == "POST" and p.endswith("/messages")]
    assert len(sent) == 3
    assert fake.channel_messages(CHANNEL_ID)[0]["nonce"] == "424242"


async def test_rate_limits_are_retried_and_deliver_once(fake: FakeDiscord, bot: DemoBot) -> None:
    fake.rate_limit_next("POST /webhooks/", retry_after=0.05)
    fake.rate_limit_next("POST /channels/", retry_after=0.05)
    ix = await fake.invoke_slash(
        guild_id=GUILD_ID,
        channel_id=CHANNEL_ID,
        user_id=USER_ID,
        command="demo",
        subcommand="twice",
    )
    (followup,) = await ix.wait_followups(1)
    assert followup["content"] == "second" and followup["ephemeral"]
    assert ix.original is not None and ix.original["content"] == "first"
    statuses = [r.status for r in fake.request_log if r.method == "POST" and "/webhooks/" in r.path]
    assert statuses == [429, 200]

    channel = bot.get_channel(CHANNEL_ID)
    assert isinstance(channel, discord.TextChannel)
    sent = await channel.send("after a 429")
    assert [
        m["id"] for m in fake.channel_messages(CHANNEL_ID) if m["content"] == "after a 429"
    ] == [sent.id]
    statuses = [r.status for r in fake.request_log if r.path == f"/channels/{CHANNEL_ID}/messages"]
    assert statuses == [429, 200]


async def test_expired_token_rejects_followups(fake: FakeDiscord, bot: DemoBot) -> None:
    ix = await fake.invoke_slash(
        guild_id=GUILD_ID, channel_id=CHANNEL_ID, user_id=USER_ID, command="demo", subcommand="hold"
    )
    response = await ix.wait_response()
    assert response == {"type": 5, "data": {"flags": 64}}
    held = bot.held[0]
    fake.expire_token(ix.token)
    with pytest.raises(discord.HTTPException) as excinfo:
        await held.followup.send("too late")
    assert (excinfo.value.status, excinfo.value.code) == (401, 50027)
    with pytest.raises(discord.HTTPException):
        await held.edit_original_response(content="too late")
    assert ix.original is not None and ix.original["flags"] & 128  # still "thinking"


async def test_upload_over_the_guild_limit_is_413(fake: FakeDiscord, bot: DemoBot) -> None:
    channel = bot.get_channel(SMALL_CHANNEL_ID)
    assert isinstance(channel, discord.TextChannel)
    with pytest.raises(discord.HTTPException) as excinfo:
        await channel.send(file=discord.File(io.BytesIO(b"x" * (SMALL_LIMIT + 1)), "big.bin"))
    assert (excinfo.value.status, excinfo.value.code) == (413, 40005)
    assert fake.channel_messages(SMALL_CHANNEL_ID) == []
    ok = await channel.send(file=discord.File(io.BytesIO(b"x" * SMALL_LIMIT), "fits.bin"))
    assert fake.messages[ok.id]["attachments"][0]["size"] == SMALL_LIMIT

    ix = await fake.invoke_slash(
        guild_id=SMALL_GUILD_ID,
        channel_id=SMALL_CHANNEL_ID,
        user_id=USER_ID,
        command="demo",
        subcommand="hold",
    )
    await ix.wait_response()
    held = bot.held[0]
    assert held.filesize_limit == SMALL_LIMIT  # from INTERACTION_CREATE attachment_size_limit
    with pytest.raises(discord.HTTPException) as excinfo:
        await held.followup.send(file=discord.File(io.BytesIO(b"y" * 2048), "big.bin"))
    assert excinfo.value.code == 40005


async def test_allowed_mentions_recorded_as_sent(fake: FakeDiscord, bot: DemoBot) -> None:
    channel = bot.get_channel(CHANNEL_ID)
    assert isinstance(channel, discord.TextChannel)
    quiet = await channel.send(
        f"hi <@{USER_ID}>", allowed_mentions=discord.AllowedMentions(users=False)
    )
    loud = await channel.send(f"hi <@{USER_ID}>")
    assert fake.messages[quiet.id]["allowed_mentions"] == {
        "parse": ["everyone", "roles"],
        "replied_user": True,
    }
    assert fake.messages[quiet.id]["mentions"] == []
    assert fake.messages[loud.id]["allowed_mentions"] is None
    assert fake.messages[loud.id]["mentions"] == [USER_ID]
    assert [u.id for u in loud.mentions] == [USER_ID]


async def test_attachment_option_is_downloadable(fake: FakeDiscord, bot: DemoBot) -> None:
    await bot.tree.sync()
    blob = bytes(range(256)) * 4
    ix = await fake.invoke_slash(
        guild_id=GUILD_ID,
        channel_id=CHANNEL_ID,
        user_id=USER_ID,
        command="demo",
        subcommand="upload",
        options={"times": 3},
        attachments={"file": ("song.mp3", blob, "audio/mpeg")},
    )
    reply = await ix.wait_original()
    digest = hashlib.sha256(blob).hexdigest()
    assert reply["content"] == f"song.mp3 {len(blob)} {digest} x3 limit=8388608"
    with pytest.raises(ValueError, match="no option"):
        await fake.invoke_slash(
            guild_id=GUILD_ID,
            channel_id=CHANNEL_ID,
            user_id=USER_ID,
            command="demo",
            subcommand="upload",
            options={"nope": 1},
        )


async def test_gateway_disconnect_resumes(fake: FakeDiscord, bot: DemoBot) -> None:
    await fake.disconnect_clients()
    await fake.wait_ready(timeout=5)
    assert fake.resume_count == 1 and fake.identify_count == 1
    ix = await fake.invoke_slash(
        guild_id=GUILD_ID,
        channel_id=CHANNEL_ID,
        user_id=USER_ID,
        command="demo",
        subcommand="twice",
    )
    await ix.wait_followups(1)


async def test_members_intent_startup_chunks_quickly(fake: FakeDiscord) -> None:
    intents = discord.Intents.default()
    intents.members = True
    demo = DemoBot(intents=intents)
    started = time.monotonic()
    async with running_bot(fake, demo):
        elapsed = time.monotonic() - started
        guild = demo.get_guild(GUILD_ID)
        assert guild is not None and guild.chunked
        assert {m.id for m in guild.members} >= {USER_ID, ADMIN_ID, fake.bot_user_id}
    assert elapsed < 3


async def test_startup_failures_do_not_hang() -> None:
    strict = FakeDiscord(token="the-real-token")
    await strict.start()
    try:
        with pytest.raises(RuntimeError, match="bot stopped") as excinfo:
            async with running_bot(strict, DemoBot(), token="wrong", timeout=5):
                pass
        assert isinstance(excinfo.value.__cause__, discord.LoginFailure)
        strict.add_guild(GUILD_ID, channels=[CHANNEL_ID])
        with pytest.raises(TimeoutError, match="connected gateway client"):
            await strict.invoke_slash(
                guild_id=GUILD_ID,
                channel_id=CHANNEL_ID,
                user_id=USER_ID,
                command="demo",
                subcommand="ping",
                timeout=0.2,
            )
        async with running_bot(strict, DemoBot()):  # the right token (fake.token) works
            assert strict.identify_count == 1
    finally:
        await strict.stop()


async def test_unknown_route_is_recorded(fake: FakeDiscord) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{fake.api_base}/nope/123") as resp:
            assert resp.status == 404
            assert resp.headers["Content-Type"] == "application/json"
            assert await resp.json() == {"message": "Unknown route", "code": 0}
        async with session.get(f"{fake.api_base}/users/@me") as resp:
            assert resp.headers["Content-Type"] == "application/json"
    assert fake.unknown_routes == [("GET", "/api/v10/nope/123")]
