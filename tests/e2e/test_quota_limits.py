"""Every /quota command and limit through the real client: refusals say which limit applies."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from bot.simulator import SimulatorConfig
from tests.e2e.conftest import (
    CHANNEL,
    GUILD,
    MEMBER,
    MODERATOR,
    OTHER_MEMBER,
    MakeWorld,
    World,
    answer_of,
)
from tests.fakediscord import FakeChannel, FakeRole, FakeUser
from tests.helpers import ephemeral_text

DJ_ROLE = 900000000000000050
STAFF_ROLE = 900000000000000051
SECOND_CHANNEL = 900000000000000060


async def quota(world: World, sub: str, user: int = MODERATOR, **options: Any) -> dict[str, Any]:
    interaction = await world.discord.invoke_slash(
        guild_id=GUILD, channel_id=CHANNEL, user_id=user, command="quota", subcommand=sub,
        options=options,
    )  # fmt: skip
    return await answer_of(interaction)


async def committed(world: World, count: int, within: float = 20) -> None:
    """Wait until `count` jobs of the test server are charged (committed) in the ledger."""
    deadline = asyncio.get_running_loop().time() + within
    while [kind for kind, _ in await world.ledger_kinds()].count("commit") < count:
        assert asyncio.get_running_loop().time() < deadline, await world.ledger_kinds()
        await asyncio.sleep(0.05)


async def song_response(world: World, user: int = MEMBER, channel: int = CHANNEL) -> dict[str, Any]:
    interaction = await world.discord.invoke_slash(
        guild_id=GUILD, channel_id=channel, user_id=user, command="song", subcommand="create",
        options={"description": "a test song"},
    )  # fmt: skip
    return await answer_of(interaction)


@pytest.mark.parametrize(
    ("sub", "options"),
    [
        ("show", {}),
        ("budget", {"amount": 1, "period": "day"}),
        ("member", {"member": FakeUser(MEMBER), "amount": 999}),
        ("role", {"role": FakeRole(GUILD), "amount": 999}),
        ("grant", {"member": FakeUser(MEMBER), "amount": 999}),
        ("reset", {}),
        ("history", {}),
        ("usage", {}),
        ("costs", {}),
        ("block", {"member": FakeUser(OTHER_MEMBER)}),
        ("unblock", {"member": FakeUser(OTHER_MEMBER)}),
        ("channels", {"action": "clear"}),
        ("approval", {"state": "on"}),
        ("concurrency", {"per_member": 1, "per_server": 1}),
        ("modrole", {"role": FakeRole(GUILD)}),
    ],
)
async def test_regular_members_are_refused_every_quota_command(
    make_world: MakeWorld, sub: str, options: dict[str, Any]
) -> None:
    async with make_world() as world:
        text = ephemeral_text(await quota(world, sub, user=MEMBER, **options))
        assert "Only moderators" in text
        async with world.bot.db.read() as conn:
            rows = await conn.execute_fetchall("SELECT COUNT(*) FROM ledger")
        assert next(iter(rows))[0] == 0  # nothing was changed or recorded


async def test_member_gets_the_highest_role_limit_and_own_limit_wins(make_world: MakeWorld) -> None:
    async with make_world() as world:
        world.discord.add_role(GUILD, DJ_ROLE, name="dj")
        world.discord.add_member(GUILD, MEMBER, name="member", roles=[DJ_ROLE])
        await quota(world, "role", role=FakeRole(GUILD), amount=20)  # @everyone: default
        await quota(world, "role", role=FakeRole(DJ_ROLE), amount=40)
        assert (await song_response(world))["type"] == 5
        assert (await song_response(world))["type"] == 5  # 40 from the DJ role, not 20
        error = ephemeral_text(await song_response(world))
        assert "limit has 0 of 40 left" in error and "resets <t:" in error
        # OTHER_MEMBER has only @everyone: one song.
        assert (await song_response(world, OTHER_MEMBER))["type"] == 5
        assert "0 of 20" in ephemeral_text(await song_response(world, OTHER_MEMBER))
        # A member's own limit overrides their roles.
        await quota(world, "member", member=FakeUser(OTHER_MEMBER), amount=60)
        assert (await song_response(world, OTHER_MEMBER))["type"] == 5


async def test_grants_reset_and_credits_view(make_world: MakeWorld) -> None:
    async with make_world() as world:
        await quota(world, "member", member=FakeUser(MEMBER), amount=20)
        assert (await song_response(world))["type"] == 5
        await quota(world, "grant", member=FakeUser(MEMBER), amount=20)
        assert (await song_response(world))["type"] == 5  # the grant made room
        credits = await answer_of(
            await world.discord.invoke_slash(
                guild_id=GUILD, channel_id=CHANNEL, user_id=MEMBER, command="credits"
            )
        )
        fields = {f["name"]: f["value"] for f in credits["data"]["embeds"][0]["fields"]}
        assert "**0** of 40" in fields["You"] and "20 granted" in fields["You"]
        # A reset forgives what is committed: both songs are made (and charged) first.
        await committed(world, 2)
        reset = ephemeral_text(await quota(world, "reset", member=FakeUser(MEMBER)))
        assert "40 credits forgiven" in reset
        assert (await song_response(world))["type"] == 5  # forgiven: the limit is free again
        await world.clip_messages(6)


async def test_concurrency_caps_free_up_when_songs_finish(make_world: MakeWorld) -> None:
    async with make_world(sim_config=SimulatorConfig(generation_time=1.0)) as world:
        await quota(world, "concurrency", per_member=1, per_server=2)
        assert (await song_response(world))["type"] == 5
        text = ephemeral_text(await song_response(world))
        assert "in progress" in text and "(1)" in text
        assert (await song_response(world, OTHER_MEMBER))["type"] == 5
        text = ephemeral_text(await song_response(world, MODERATOR))
        assert "This server already has 2" in text
        await world.clip_messages(4)
        await world.jobs_told(2)  # both finished
        assert (await song_response(world))["type"] == 5  # a slot freed up


async def test_block_and_unblock(make_world: MakeWorld) -> None:
    async with make_world() as world:
        await quota(world, "block", member=FakeUser(MEMBER))
        assert "blocked" in ephemeral_text(await song_response(world))
        await quota(world, "unblock", member=FakeUser(MEMBER))
        assert (await song_response(world))["type"] == 5
        assert len(await world.clip_messages(2)) == 2
        assert len(world.creates()) == 1  # only the unblocked attempt reached MusicAPI


async def test_channel_allow_list(make_world: MakeWorld) -> None:
    async with make_world() as world:
        world.discord.add_channel(GUILD, SECOND_CHANNEL)
        reply = await quota(world, "channels", action="add", channel=FakeChannel(SECOND_CHANNEL))
        assert f"<#{SECOND_CHANNEL}>" in ephemeral_text(reply)
        text = ephemeral_text(await song_response(world, channel=CHANNEL))
        assert f"<#{SECOND_CHANNEL}> only" in text
        assert (await song_response(world, channel=SECOND_CHANNEL))["type"] == 5
        await quota(world, "channels", action="clear")
        assert (await song_response(world, channel=CHANNEL))["type"] == 5


async def test_moderator_role_may_run_quota(make_world: MakeWorld) -> None:
    async with make_world() as world:
        world.discord.add_role(GUILD, STAFF_ROLE, name="staff")
        world.discord.add_member(GUILD, OTHER_MEMBER, name="other", roles=[STAFF_ROLE])
        assert "Only moderators" in ephemeral_text(await quota(world, "show", user=OTHER_MEMBER))
        await quota(world, "modrole", role=FakeRole(STAFF_ROLE))
        shown = await quota(world, "show", user=OTHER_MEMBER)
        assert shown["data"]["embeds"][0]["title"] == "Quota"


async def test_history_is_paginated_filtered_and_names_the_moderator(make_world: MakeWorld) -> None:
    async with make_world() as world:
        for amount in range(1, 13):
            await quota(world, "grant", member=FakeUser(OTHER_MEMBER), amount=amount)
        await quota(world, "block", member=FakeUser(MEMBER))
        first = (await quota(world, "history"))["data"]["embeds"][0]
        assert "Page 1 of 2 (13 entries)" in first["footer"]["text"]
        assert f"<@{MODERATOR}>" in first["description"]
        assert first["description"].splitlines()[0].endswith(f"blocked for <@{MEMBER}>")
        second = (await quota(world, "history", page=2))["data"]["embeds"][0]
        assert "Page 2 of 2" in second["footer"]["text"]
        assert len(second["description"].splitlines()) == 3
        # The ◀ ▶ buttons turn the pages of the private message in place.
        shown = await world.discord.invoke_slash(
            guild_id=GUILD, channel_id=CHANNEL, user_id=MODERATOR, command="quota",
            subcommand="history",
        )  # fmt: skip
        message = await shown.wait_original()
        older = next(
            c for row in message["components"] for c in row["components"] if "Older" in c["label"]
        )
        turned = await world.discord.click_button(
            guild_id=GUILD, channel_id=CHANNEL, user_id=MODERATOR, message_id=message["id"],
            custom_id=older["custom_id"],
        )  # fmt: skip
        # Acknowledged first (a deferred update), then the page is replaced in place.
        assert (await turned.wait_response())["type"] == 6
        await turned.wait_original(lambda m: "Page 2 of 2" in m["embeds"][0]["footer"]["text"])
        mine = (await quota(world, "history", member=FakeUser(MEMBER)))["data"]["embeds"][0]
        assert len(mine["description"].splitlines()) == 1 and "blocked" in mine["description"]


async def test_show_and_costs(make_world: MakeWorld) -> None:
    async with make_world() as world:
        await quota(world, "approval", state="on")
        embed = (await quota(world, "show"))["data"]["embeds"][0]
        fields = {f["name"]: f["value"] for f in embed["fields"]}
        assert fields["Request approval"] == "on"
        assert "100 credits per month" in fields["Budget"]
        costs = (await quota(world, "costs"))["data"]["embeds"][0]["description"]
        assert "`create_music` 20" in costs and "`stems_full` 75" in costs


async def test_simultaneous_songs_never_overspend_a_member_limit(make_world: MakeWorld) -> None:
    async with make_world(DEFAULT_GUILD_BUDGET="1000") as world:
        await quota(world, "member", member=FakeUser(MEMBER), amount=60)
        responses = await asyncio.gather(*(song_response(world) for _ in range(10)))
        assert sum(r["type"] == 5 for r in responses) == 3
        assert all("member limit" not in str(r) for r in responses if r["type"] == 5)
        await world.jobs_told(3)  # the three accepted are made; the refused never were
        assert len(world.creates()) == 3


async def test_bad_quota_values_are_refused(make_world: MakeWorld) -> None:
    async with make_world() as world:
        text = ephemeral_text(await quota(world, "budget", amount=-5, period="day"))
        assert "`amount`" in text
        text = ephemeral_text(await quota(world, "concurrency", per_member=-1, per_server=1))
        assert "`per_member`" in text
        text = ephemeral_text(await quota(world, "channels", action="add"))
        assert "`channel`" in text
        assert (await world.bot.quota.standing(GUILD)).settings.budget == 100
