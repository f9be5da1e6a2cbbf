"""/request song: direct when approval is off; Approve / Reject / Vote buttons when it is on."""

from __future__ import annotations

import asyncio
import copy
from typing import Any

from tests.e2e.conftest import (
    CHANNEL,
    GUILD,
    MANAGE_GUILD,
    MEMBER,
    MODERATOR,
    OTHER_MEMBER,
    MakeWorld,
    World,
    answer_of,
)
from tests.fakediscord import FakeUser
from tests.helpers import ephemeral_text

SECOND_MODERATOR = 900000000000000006


async def moderate(world: World, subcommand: str, **options: Any) -> None:
    interaction = await world.discord.invoke_slash(
        guild_id=GUILD, channel_id=CHANNEL, user_id=MODERATOR, command="quota",
        subcommand=subcommand, options=options,
    )  # fmt: skip
    await answer_of(interaction)


async def set_approval(world: World, state: str) -> None:
    await moderate(world, "approval", state=state)


async def ask(world: World, description: str = "a song for movie night") -> dict[str, Any]:
    """Post a request; returns the public request message."""
    interaction = await world.discord.invoke_slash(
        guild_id=GUILD, channel_id=CHANNEL, user_id=MEMBER, command="request", subcommand="song",
        options={"description": description, "style": "synthwave"},
    )  # fmt: skip
    response = await answer_of(interaction)
    assert response["type"] == 5, response  # deferred publicly, then filled with the request
    return await interaction.wait_original()


def buttons(message: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found = {}
    for row in message.get("components") or []:
        for component in row.get("components", []):
            found[component["custom_id"].split(":")[1]] = component
    return found


async def click(world: World, message: dict[str, Any], action: str, user: int) -> Any:
    return await world.discord.click_button(
        guild_id=GUILD, channel_id=CHANNEL, user_id=user, message_id=message["id"],
        custom_id=buttons(message)[action]["custom_id"],
    )  # fmt: skip


async def test_without_approval_a_request_runs_at_once_charged_to_the_requester(
    make_world: MakeWorld,
) -> None:
    async with make_world() as world:
        interaction = await world.discord.invoke_slash(
            guild_id=GUILD, channel_id=CHANNEL, user_id=MEMBER, command="request",
            subcommand="song", options={"description": "right now please"},
        )  # fmt: skip
        assert (await interaction.wait_response())["type"] == 5
        assert len(await world.clip_messages(2)) == 2
        async with world.bot.db.read() as conn:
            rows = await conn.execute_fetchall("SELECT state, user_id, job_id FROM song_requests")
            ledger = await conn.execute_fetchall("SELECT kind, user_id, member_share FROM ledger")
        assert [tuple(r) for r in rows] == [("direct", MEMBER, 1)]
        assert ("reserve", MEMBER, 1) in [tuple(r) for r in ledger]
        assert (await world.bot.quota.standing(GUILD, MEMBER)).member_spent == 20


async def test_approval_flow_with_votes(make_world: MakeWorld) -> None:
    async with make_world() as world:
        await set_approval(world, "on")
        # The requester's own limit is zero: an approved request is paid by the server.
        await moderate(world, "member", member=FakeUser(MEMBER), amount=0)
        message = await ask(world)
        assert set(buttons(message)) == {"approve", "reject", "vote"}
        assert world.creates() == []  # nothing spent while waiting

        vote = await click(world, message, "vote", OTHER_MEMBER)
        # Acknowledged first (a deferred update), then the message is updated in place.
        assert (await vote.wait_response())["type"] == 6
        message = await vote.wait_original(lambda m: buttons(m)["vote"]["label"] == "👍 1")
        assert buttons(message)["vote"]["label"] == "👍 1"
        again = await click(world, message, "vote", OTHER_MEMBER)
        assert "already voted" in ephemeral_text(await answer_of(again))

        sneaky = await click(world, message, "approve", OTHER_MEMBER)
        assert "Only moderators" in ephemeral_text(await answer_of(sneaky))
        assert world.creates() == []

        approve = await click(world, message, "approve", MODERATOR)
        await answer_of(approve)
        assert len(await world.clip_messages(2)) == 2
        final = world.discord.messages[message["id"]]
        assert "Approved by" in str(final["embeds"][0]) and not final["components"]
        async with world.bot.db.read() as conn:
            rows = await conn.execute_fetchall(
                "SELECT kind, user_id, member_share FROM ledger "
                "WHERE job_id IS NOT NULL ORDER BY id"
            )
        assert [tuple(r) for r in rows] == [("reserve", MEMBER, 0), ("commit", MEMBER, 0)]
        standing = await world.bot.quota.standing(GUILD, MEMBER)
        assert (standing.server_spent, standing.member_spent) == (20, 0)


async def test_rejection_tells_the_requester_why(make_world: MakeWorld) -> None:
    async with make_world() as world:
        await set_approval(world, "on")
        message = await ask(world)
        reject = await click(world, message, "reject", MODERATOR)
        modal = await reject.wait_response()
        assert modal["type"] == 9
        text_input = next(
            c["custom_id"]
            for row in modal["data"]["components"]
            for c in row.get("components", []) or [row.get("component", {})]
            if c.get("type") == 4
        )
        await world.discord.submit_modal(
            guild_id=GUILD, channel_id=CHANNEL, user_id=MODERATOR,
            custom_id=modal["data"]["custom_id"], values={text_input: "not family friendly"},
            message=world.discord.messages[message["id"]],
        )  # fmt: skip
        notice = await world.discord.wait_for(
            lambda m: "was rejected" in (m.get("content") or ""), timeout=10
        )
        assert f"<@{MEMBER}>" in notice["content"] and "not family friendly" in notice["content"]
        assert [int(u) for u in notice["allowed_mentions"]["users"]] == [MEMBER]
        final = world.discord.messages[message["id"]]
        assert "Rejected by" in str(final["embeds"][0]) and not final["components"]
        assert world.creates() == [] and await world.ledger_kinds() == []


async def test_buttons_work_after_a_restart(make_world: MakeWorld) -> None:
    async with make_world() as world:
        await set_approval(world, "on")
        message = await ask(world)
        await world.restart()
        vote = await click(world, message, "vote", OTHER_MEMBER)
        assert (await vote.wait_response())["type"] == 6
        await vote.wait_original(lambda m: buttons(m)["vote"]["label"] == "👍 1")
        approve = await click(world, message, "approve", MODERATOR)
        await answer_of(approve)
        assert len(await world.clip_messages(2)) == 2


async def test_two_moderators_approving_at_once_start_one_song(make_world: MakeWorld) -> None:
    async with make_world() as world:
        world.discord.add_member(GUILD, SECOND_MODERATOR, name="mod2", permissions=MANAGE_GUILD)
        await set_approval(world, "on")
        # A copy: the live record loses its buttons as soon as the first approval lands.
        message = copy.deepcopy(await ask(world))
        first, second = await asyncio.gather(
            click(world, message, "approve", MODERATOR),
            click(world, message, "approve", SECOND_MODERATOR),
        )
        await asyncio.gather(first.wait_response(), second.wait_response())
        assert len(await world.clip_messages(2)) == 2
        await world.jobs_told()  # every job made is finished: a second approval made none
        assert len(world.creates()) == 1
        assert await world.ledger_kinds() == [("reserve", 20), ("commit", 20)]
        texts = [f["content"] for i in (first, second) for f in i.followups] + [
            str(i.response) for i in (first, second)
        ]
        assert any("already" in t for t in texts)


async def test_approval_over_budget_is_refused_and_the_request_stays_open(
    make_world: MakeWorld,
) -> None:
    async with make_world(DEFAULT_GUILD_BUDGET="10") as world:
        await set_approval(world, "on")
        message = await ask(world)
        approve = await click(world, message, "approve", MODERATOR)
        await answer_of(approve)
        for _ in range(100):
            if approve.followups:
                break
            await asyncio.sleep(0.02)
        assert "budget" in approve.followups[-1]["content"]
        assert world.creates() == []
        request = await world.bot.requests.get(1)
        assert request is not None and request.state == "pending"
        assert buttons(world.discord.messages[message["id"]])  # still open


async def test_blocked_members_cannot_ask(make_world: MakeWorld) -> None:
    async with make_world() as world:
        await set_approval(world, "on")
        await moderate(world, "block", member=FakeUser(MEMBER))
        interaction = await world.discord.invoke_slash(
            guild_id=GUILD, channel_id=CHANNEL, user_id=MEMBER, command="request",
            subcommand="song", options={"description": "let me in"},
        )  # fmt: skip
        assert "blocked" in ephemeral_text(await answer_of(interaction))
        assert await world.bot.requests.get(1) is None


async def test_an_approved_request_refused_upstream_tells_both(make_world: MakeWorld) -> None:
    async with make_world() as world:
        await set_approval(world, "on")
        message = await ask(world, "sounds like [sim:moderate]")
        approve = await click(world, message, "approve", MODERATOR)
        await answer_of(approve)
        notice = await world.discord.wait_for(
            lambda m: "was approved, but" in (m.get("content") or ""), timeout=10
        )
        assert f"<@{MEMBER}>" in notice["content"] and "sim artist" in notice["content"]
        assert "credits were returned" in notice["content"]
        assert await world.ledger_kinds() == [("reserve", 20), ("release", 20)]
