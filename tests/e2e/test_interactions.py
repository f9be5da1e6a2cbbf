"""The one gate and error path, acknowledgement first, shedding, and the Again / Delete buttons,
end to end through the fake Discord."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest

from bot.interactions.errors import GENERIC_FAILURE
from bot.interactions.gate import BUSY
from bot.store import jobs as job_sql
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
from tests.fakediscord import FakeChannel, FakeUser
from tests.helpers import ephemeral_text

OTHER_CHANNEL = 900000000000000009


def is_apology(text: str) -> bool:
    """The generic apology with the short reference that the log line also carries."""
    return (
        re.fullmatch(re.escape(GENERIC_FAILURE) + r" \(Reference: `[0-9a-f]{8}`\.\)", text)
        is not None
    )


async def a_song(world: World, **options: Any) -> dict[str, Any]:
    before = len(await world.clip_messages(0, within=0))
    await world.song(**{"description": "a song about lighthouses", **options})
    return (await world.clip_messages(before + 2))[before]


async def moderate(world: World, sub: str, **options: Any) -> None:
    interaction = await world.slash("quota", sub, user=MODERATOR, **options)
    await answer_of(interaction)


def labels(message: dict[str, Any]) -> dict[str, str]:
    return {
        c["label"]: c["custom_id"]
        for row in message.get("components") or []
        for c in row.get("components", [])
    }


async def press(world: World, message: dict[str, Any], label: str, user: int = MEMBER) -> Any:
    return await world.discord.click_button(
        guild_id=GUILD, channel_id=CHANNEL, user_id=user, message_id=message["id"],
        custom_id=labels(message)[label],
    )  # fmt: skip


def form_fields(form: dict[str, Any]) -> list[str]:
    return [
        c["custom_id"]
        for row in form["components"]
        for c in row.get("components", []) or [row.get("component", {})]
        if c.get("type") == 4
    ]


# -- acknowledge first, and shed what cannot be served ----------------------------------------


async def test_a_command_is_deferred_before_the_database_is_touched(make_world: MakeWorld) -> None:
    async with make_world(DEFAULT_GUILD_BUDGET="1000") as world:
        song = await a_song(world)
        # The database is held (a long transaction elsewhere): every member is answered anyway.
        async with world.bot.db.transaction():
            create = await world.song(description="while the database is busy")
            assert (await create.wait_response())["type"] == 5
            credits = await world.slash("credits")  # a private answer: deferred privately
            response = await credits.wait_response()
            assert response["type"] == 5 and response["data"]["flags"] & 64
            bpm = await press(world, song, "BPM")  # a button reads the clip after deferring
            assert (await bpm.wait_response())["type"] == 5
            assert len(world.creates()) == 1  # nothing new reserved or sent yet
        # Once the database is free the same interactions go on and are answered in full.
        assert len(await world.clip_messages(4)) == 4
        assert (await answer_of(credits))["data"]["embeds"][0]["title"] == "Credits"
        assert (await bpm.wait_original())["embeds"][0]["title"].startswith("Tempo of")
        kinds = await world.ledger_kinds()
        assert kinds.count(("reserve", 20)) == 2 and ("commit", 1) in kinds


async def test_a_flood_beyond_the_limit_is_shed_with_a_busy_reply(make_world: MakeWorld) -> None:
    async with make_world() as world:
        world.bot.tree.max_in_flight = 1
        async with world.bot.db.transaction():
            first = await world.song(description="first")
            assert (await first.wait_response())["type"] == 5  # served, waiting on the database
            second = await world.song(description="second")
            assert ephemeral_text(await second.wait_response()) == BUSY
            # Every kind of command counts against the same limit.
            credits = await world.slash("credits")
            assert ephemeral_text(await credits.wait_response()) == BUSY
        assert len(await world.clip_messages(2)) == 2
        assert len(world.creates()) == 1  # the shed command was never reserved or sent
        assert world.bot.tree.in_flight == 0


# -- one error path: a command, a button and a form all answer an unexpected error -------------


async def test_an_unexpected_error_is_answered_for_a_command_a_button_and_a_form(
    make_world: MakeWorld,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with make_world() as world:
        song = await a_song(world)

        async def broken(*_: Any, **__: Any) -> int:
            raise RuntimeError("a bug")

        monkeypatch.setattr(world.bot.jobs, "reserve", broken)
        command = await world.song(description="hits the bug")
        assert is_apology(ephemeral_text(await answer_of(command)))

        button = await press(world, song, "Remaster")
        assert is_apology(ephemeral_text(await answer_of(button)))

        opened = await press(world, song, "Extend")
        form = (await opened.wait_response())["data"]
        submitted = await world.discord.submit_modal(
            guild_id=GUILD, channel_id=CHANNEL, user_id=MEMBER, custom_id=form["custom_id"],
            values={form_fields(form)[0]: "1.5", form_fields(form)[1]: ""},
        )  # fmt: skip
        assert is_apology(ephemeral_text(await answer_of(submitted)))
        # Nothing was left half-done: no "thinking…" stays public, nothing was charged.
        for interaction in (command, button, submitted):
            assert interaction.original is None or interaction.original["deleted"]
        assert await world.ledger_kinds() == [("reserve", 20), ("commit", 20)]


async def test_a_refusal_that_repeats_a_huge_value_still_fits(make_world: MakeWorld) -> None:
    async with make_world() as world:
        huge = "@everyone " + "x" * 4000
        refused = await world.song(description="ok", model=huge)
        text = ephemeral_text(await answer_of(refused))
        assert "`model`" in text and len(text) <= 2000
        assert world.creates() == []


# -- buttons run exactly the checks of their command -------------------------------------------


async def test_a_blocked_member_cannot_use_a_songs_buttons(make_world: MakeWorld) -> None:
    async with make_world() as world:
        song = await a_song(world)
        await moderate(world, "block", member=FakeUser(MEMBER))
        for label in ("BPM", "Again", "Stems"):
            refused = await press(world, song, label)
            assert "blocked" in ephemeral_text(await answer_of(refused))
        assert await world.ledger_kinds() == [("reserve", 20), ("commit", 20)]
        assert len(world.creates()) == 1


async def test_a_button_outside_the_channel_allow_list_is_refused(make_world: MakeWorld) -> None:
    async with make_world() as world:
        song = await a_song(world)
        world.discord.add_channel(GUILD, OTHER_CHANNEL)
        await moderate(world, "channels", action="add", channel=FakeChannel(OTHER_CHANNEL))
        refused = await press(world, song, "WAV")
        assert "can be made in" in ephemeral_text(await answer_of(refused))
        assert world.posts("/sonic/wav") == []


# -- Again and Delete -------------------------------------------------------------------------


async def test_again_makes_the_same_request_once_more_and_says_its_cost(
    make_world: MakeWorld,
) -> None:
    async with make_world(DEFAULT_GUILD_BUDGET="1000") as world:
        song = await a_song(world, style="folk", title="Harbour")
        await world.restart()  # buttons survive a restart
        again = await press(world, song, "Again", user=OTHER_MEMBER)
        assert (await again.wait_response())["type"] == 5
        card = await again.wait_original(lambda m: bool(m["embeds"]))
        assert "20 credits" in card["content"]
        assert len(await world.clip_messages(4)) == 4
        first, second = world.creates()
        assert first == second  # the very same request
        assert await world.ledger_kinds() == [("reserve", 20), ("commit", 20)] * 2
        async with world.bot.db.read() as conn:
            repeat = await job_sql.get(conn, 2)
        assert repeat is not None and repeat.user_id == OTHER_MEMBER  # charged to the presser


async def test_delete_is_for_the_requester_and_moderators_and_keeps_the_ledger(
    make_world: MakeWorld,
) -> None:
    async with make_world() as world:
        await world.song(description="to delete")
        first, second = await world.clip_messages(2)
        await world.restart()

        refused = await press(world, first, "Delete", user=OTHER_MEMBER)
        assert "moderator" in ephemeral_text(await answer_of(refused))
        assert not world.discord.messages[first["id"]]["deleted"]

        mine = await press(world, first, "Delete", user=MEMBER)
        assert "Deleted" in ephemeral_text(await answer_of(mine))
        assert world.discord.messages[first["id"]]["deleted"]

        theirs = await press(world, second, "Delete", user=MODERATOR)
        assert "Deleted" in ephemeral_text(await answer_of(theirs))
        assert world.discord.messages[second["id"]]["deleted"]
        assert await world.ledger_kinds() == [("reserve", 20), ("commit", 20)]


async def test_every_song_button_is_answered_even_when_pressed_at_once(
    make_world: MakeWorld,
) -> None:
    async with make_world(DEFAULT_GUILD_BUDGET="1000") as world:
        song = await a_song(world)
        presses = await asyncio.gather(
            *(press(world, song, label) for label in ("BPM", "WAV", "Again", "MIDI"))
        )
        for interaction in presses:
            assert (await interaction.wait_response())["type"] == 5
            await interaction.wait_original(lambda m: bool(m["embeds"] or m["attachments"]))
        # Every press was counted while it ran and released when done.
        await world.discord._wait_until(
            lambda: world.bot.tree.in_flight == 0, 5, "no interaction in flight"
        )
