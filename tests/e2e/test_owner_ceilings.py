"""The owner's ceilings through the real client: /musicbot allowance and servers (owner only),
/quota budget held to the allowance, OWNER_DAILY_CAP with its alerts, and ALLOWED_GUILDS."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import re
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import CHANNEL, GUILD, MEMBER, MODERATOR, MakeWorld, World, answer_of
from tests.e2e.test_process import clean_env
from tests.fakediscord import FakeUser
from tests.helpers import ephemeral_text

OWNER = MEMBER  # an owner who is no moderator of the test server
STRANGER = 900000000000000201
LATE_STRANGER = 900000000000000202


async def logged(caplog: pytest.LogCaptureFixture, line: str, within: float = 10) -> None:
    """Wait until the bot has logged `line` (logging wakes nothing up, so look again often)."""
    deadline = asyncio.get_running_loop().time() + within
    while line not in caplog.text:
        assert asyncio.get_running_loop().time() < deadline, f"never logged: {line}"
        await asyncio.sleep(0.05)


async def musicbot(world: World, sub: str, user: int = OWNER, **options: Any) -> dict[str, Any]:
    interaction = await world.slash("musicbot", sub, user=user, **options)
    return await answer_of(interaction)


async def quota_budget(world: World, amount: int, period: str) -> str:
    interaction = await world.slash("quota", "budget", user=MODERATOR, amount=amount, period=period)
    return ephemeral_text(await answer_of(interaction))


async def test_the_owner_sets_an_allowance_that_moderators_cannot_budget_past(
    make_world: MakeWorld,
) -> None:
    async with make_world(OWNER_IDS=str(OWNER)) as world:
        refused = await quota_budget(world, 10_000_000, "none")
        assert "allowance" in refused and "100 credits per month" in refused
        assert (await world.bot.quota.standing(GUILD)).settings.budget == 100

        # Not the owner: refused at run time, and nothing stored.
        denied = await musicbot(
            world, "allowance", user=MODERATOR, server=str(GUILD), amount=5000, period="none"
        )
        assert "owner" in ephemeral_text(denied)
        async with world.bot.db.read() as conn:
            assert await world.bot.quota.allowance(conn, GUILD) == world.bot.quota.default_allowance

        done = ephemeral_text(
            await musicbot(world, "allowance", server=str(GUILD), amount=5000, period="none")
        )
        assert "5000 credits in total" in done
        shown = await answer_of(await world.slash("quota", "show", user=MODERATOR))
        fields = {f["name"]: f["value"] for f in shown["data"]["embeds"][0]["fields"]}
        assert fields["Allowance"].startswith("5000 credits in total (set by the owner)")
        assert "Budget set to **5000**" in await quota_budget(world, 5000, "none")
        refused = await quota_budget(world, 5001, "none")
        assert "5000 credits in total" in refused and "allowance" in refused
        # A budget that resets can never fit a total that does not.
        assert "allowance" in await quota_budget(world, 1, "day")


async def test_servers_are_listed_in_pages_for_the_owner_only(make_world: MakeWorld) -> None:
    async with make_world(OWNER_IDS=str(OWNER)) as world:
        others = [900000000000000300 + n for n in range(11)]
        for guild in others:
            world.discord.add_guild(guild, name=f"server **{guild % 100}**", channels=[guild + 1])
        await world.discord._wait_until(
            lambda: all(world.bot.get_guild(g) is not None for g in others), 10, "the joins"
        )
        await musicbot(world, "allowance", server=str(others[0]), amount=70, period="week")
        await world.song(description="spends 20")
        await world.clip_messages(2)

        first = (await musicbot(world, "servers"))["data"]["embeds"][0]
        assert first["footer"]["text"].startswith("Page 1 of 2 (12 servers)")
        lines = first["description"].splitlines()
        assert len(lines) == 10
        (mine,) = [line for line in lines if f"`{GUILD}`" in line]
        assert "allowance 100 credits per month (default, 20 used)" in mine
        assert "budget 100 credits per month, 20 spent this month" in mine
        (owned,) = [line for line in lines if f"`{others[0]}`" in line]
        assert "allowance 70 credits per week (set by the owner" in owned
        assert "server \\*\\*" in owned  # a server's name is shown as typed, not as markdown

        second = (await musicbot(world, "servers", page=2))["data"]["embeds"][0]
        assert second["footer"]["text"].startswith("Page 2 of 2")
        assert len(second["description"].splitlines()) == 2

        # Next ▶ turns the private message's page in place, for the owner only.
        shown = await world.slash("musicbot", "servers", user=OWNER)
        message = await shown.wait_original()
        buttons = {c["label"]: c for row in message["components"] for c in row["components"]}
        assert buttons["◀ Previous"].get("disabled") is True

        async def press(user: int) -> Any:
            return await world.discord.click_button(
                guild_id=GUILD, channel_id=CHANNEL, user_id=user, message_id=message["id"],
                custom_id=buttons["Next ▶"]["custom_id"],
            )  # fmt: skip

        assert "owner" in ephemeral_text(await answer_of(await press(MODERATOR)))
        turned = await press(OWNER)
        await turned.wait_original(lambda m: "Page 2 of 2" in m["embeds"][0]["footer"]["text"])

        denied = await musicbot(world, "servers", user=MODERATOR)
        assert "owner" in ephemeral_text(denied) and not denied["data"].get("embeds")


async def test_the_daily_cap_refuses_with_the_reset_time_and_alerts_once(
    make_world: MakeWorld,
) -> None:
    async with make_world(OWNER_IDS=str(OWNER), OWNER_DAILY_CAP="25") as world:
        assert (await answer_of(await world.song(description="first")))["type"] == 5
        refused = ephemeral_text(await answer_of(await world.song(description="second")))
        assert "every server together" in refused and "resets <t:" in refused
        assert len(world.creates()) == 1  # the refused one never reached MusicAPI
        await world.clip_messages(2)
        await world.bot.ops.alerts.drain()
        dm = world.discord.channel_messages(world.discord.dm_channel_id(OWNER))
        # 20 of 25 is 80 %; the refusal then made it "reached". One message each.
        assert len(dm) == 2, dm
        assert "nearly used" in dm[0]["content"] and "80 % used" in dm[0]["content"]
        assert "reached (100 %)" in dm[1]["content"] and "reserved 20 of the 25" in dm[1]["content"]
        assert "<t:" in dm[1]["content"]
        await answer_of(await world.song(description="third"))  # refused again: no new alert
        await world.restart()
        await answer_of(await world.song(description="after a restart"))
        await world.bot.ops.alerts.drain()
        assert len(world.discord.channel_messages(world.discord.dm_channel_id(OWNER))) == 2


async def test_allowed_guilds_leaves_other_servers_on_join_and_at_start(
    make_world: MakeWorld,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="bot.app")
    async with make_world(ALLOWED_GUILDS=str(GUILD)) as world:
        fake = world.discord
        fake.add_guild(STRANGER, channels=[STRANGER + 1])  # someone adds the bot
        await logged(caplog, f"left server {STRANGER}: it is not in ALLOWED_GUILDS")
        assert fake.left_guilds == [STRANGER]

        # Added while the bot was stopped: left at the next start.
        await world.stop_bot()
        fake.add_guild(LATE_STRANGER, channels=[LATE_STRANGER + 1])
        await world.start_bot()
        await logged(caplog, f"left server {LATE_STRANGER}: it is not in ALLOWED_GUILDS")
        assert fake.left_guilds == [STRANGER, LATE_STRANGER]
        assert world.bot.get_guild(GUILD) is not None  # its own server stays
        assert (await answer_of(await world.song(description="still here")))["type"] == 5


@pytest.mark.parametrize(
    ("name", "value"), [("ALLOWED_GUILDS", "123456789012345678;1"), ("OWNER_DAILY_CAP", "lots")]
)
async def test_a_malformed_ceiling_stops_the_start_with_one_line(
    name: str, value: str, tmp_path: Path
) -> None:
    env = clean_env(DISCORD_TOKEN="a.b.c", MUSICAPI_SIMULATE="1", **{name: value})
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", env=env, cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), 30)
    lines = err.decode().strip().splitlines()
    assert proc.returncode == 2 and out == b""
    assert len(lines) == 1 and lines[0].count(name) == 1 and value in lines[0], lines


async def credits_embed(world: World, user: int = MEMBER) -> tuple[str, dict[str, str], str]:
    """/credits as the member sees it: its headline, its fields, and all of its text with the
    timestamps taken out (they are digits that say nothing about credits)."""
    embed = (await answer_of(await world.slash("credits", user=user)))["data"]["embeds"][0]
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    text = " ".join([embed.get("description", ""), *fields, *fields.values()])
    return embed.get("description", ""), fields, re.sub(r"<t:\d+(:\w)?>", "<t>", text)


async def test_credits_tell_the_tightest_limit_the_allowance(make_world) -> None:  # type: ignore[no-untyped-def]
    async with make_world(OWNER_IDS=str(OWNER)) as world:
        # The budget of 100 stays when the owner lowers the allowance to 30; the allowance binds.
        await musicbot(world, "allowance", server=str(GUILD), amount=30, period="month")
        await world.song(description="spends 20")
        await world.clip_messages(2)
        headline, fields, text = await credits_embed(world)
        assert "**10**" in headline  # not the 80 the server budget alone would leave
        assert "**80** of 100" in fields["Server budget"]
        allowance = fields["Owner's allowance"]
        assert "**10**" in allowance and "30 credits per month" in allowance and "<t:" in allowance
        assert "daily" not in text.lower()  # no daily cap is set: none is mentioned
        refused = ephemeral_text(await answer_of(await world.song(description="does not fit")))
        assert "allowance" in refused and "10 are left" in refused  # what /credits said


async def test_credits_tell_the_daily_cap_only_when_it_binds_and_not_its_size(make_world) -> None:  # type: ignore[no-untyped-def]
    other_guild, other_channel = 900000000000000111, 900000000000000112
    async with make_world(OWNER_IDS=str(OWNER), OWNER_DAILY_CAP="110") as world:
        world.discord.add_guild(other_guild, channels=[other_channel])
        await world.song(description="spends 20")
        await world.clip_messages(2)
        headline, fields, text = await credits_embed(world)
        assert "**80**" in headline  # 90 left today across the bot: the server budget binds
        assert "every server" not in text and "Owner's allowance" not in fields

        # Another server spends 40: the bot-wide cap now leaves less than this server's budget.
        for n in range(2):
            other = await world.discord.invoke_slash(
                guild_id=other_guild, channel_id=other_channel, user_id=MEMBER,
                command="song", subcommand="create", options={"description": f"elsewhere {n}"},
            )  # fmt: skip
            assert (await answer_of(other))["type"] == 5
        headline, fields, text = await credits_embed(world)
        assert "**50**" in headline  # not the 80 the budget leaves
        today = fields["Every server together"]
        assert "**50**" in today and "today" in today and "<t:" in today
        # Neither the cap itself nor what the bot spent in all is a member's to know.
        assert "110" not in text and "60" not in text
        assert "**80** of 100" in fields["Server budget"]  # this server's own figures stay


async def test_credits_tell_a_member_limit_when_it_is_tightest(make_world) -> None:  # type: ignore[no-untyped-def]
    async with make_world(OWNER_IDS=str(OWNER), OWNER_DAILY_CAP="1000") as world:
        who = FakeUser(MEMBER)
        limit = await world.slash("quota", "member", user=MODERATOR, member=who, amount=30)
        await answer_of(limit)
        await world.song(description="spends 20")
        await world.clip_messages(2)
        headline, fields, text = await credits_embed(world)
        assert "**10**" in headline and "**10** of 30" in fields["You"]
        assert "Owner's allowance" not in fields and "every server" not in text


async def test_an_interaction_from_a_server_not_in_allowed_guilds_is_refused(make_world) -> None:  # type: ignore[no-untyped-def]
    async with make_world(OWNER_IDS=str(OWNER)) as world:
        await world.song(description="made while the server was allowed")
        (clip, *_) = await world.clip_messages(2)
        # The server drops out of ALLOWED_GUILDS while the bot is still in it (leaving failed,
        # or its interactions arrive before the leave): nothing of it is served any more.
        world.bot.settings = dataclasses.replace(
            world.bot.settings, allowed_guilds=frozenset({STRANGER})
        )
        refused = ephemeral_text(await answer_of(await world.song(description="not any more")))
        assert "ALLOWED_GUILDS" not in refused and "not allowed" in refused
        credits = await answer_of(await world.slash("credits"))
        assert not credits["data"].get("embeds")
        again = next(
            c["custom_id"]
            for row in clip["components"]
            for c in row["components"]
            if c.get("label", "").endswith("Again")
        )
        pressed = await world.discord.click_button(
            guild_id=GUILD, channel_id=CHANNEL, user_id=MEMBER, message_id=clip["id"],
            custom_id=again,
        )  # fmt: skip
        assert "not allowed" in ephemeral_text(await answer_of(pressed))
        assert len(world.creates()) == 1  # only the song made before
