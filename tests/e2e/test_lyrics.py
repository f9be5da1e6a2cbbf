"""/lyrics write: two drafts, each with a button that opens the lyrics form prefilled."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import CHANNEL, GUILD, MEMBER, OTHER_MEMBER, MakeWorld, answer_of
from tests.helpers import ephemeral_text


def text_input(modal: dict[str, Any]) -> dict[str, Any]:
    for row in modal["components"]:
        for component in row.get("components", []) or [row.get("component", {})]:
            if component.get("type") == 4:
                return component
    raise AssertionError(modal)


async def test_drafts_become_songs_even_after_a_restart(make_world: MakeWorld) -> None:
    async with make_world() as world:
        interaction = await world.discord.invoke_slash(
            guild_id=GUILD, channel_id=CHANNEL, user_id=MEMBER, command="lyrics",
            subcommand="write", options={"description": "a hopeful song about a new city"},
        )  # fmt: skip
        assert (await interaction.wait_response())["type"] == 5
        message = await interaction.wait_original()
        assert [e["title"].split(":")[0] for e in message["embeds"]] == ["Draft 1", "Draft 2"]
        buttons = [c for row in message["components"] for c in row["components"]]
        assert len(buttons) == 2
        assert await world.ledger_kinds() == [("reserve", 10), ("commit", 10)]

        await world.restart()
        click = await world.discord.click_button(
            guild_id=GUILD, channel_id=CHANNEL, user_id=OTHER_MEMBER, message_id=message["id"],
            custom_id=buttons[1]["custom_id"],
        )  # fmt: skip
        modal = await click.wait_response()
        assert modal["type"] == 9
        field = text_input(modal["data"])
        assert field["value"]  # prefilled with the draft
        await world.discord.submit_modal(
            guild_id=GUILD, channel_id=CHANNEL, user_id=OTHER_MEMBER,
            custom_id=modal["data"]["custom_id"], values={field["custom_id"]: field["value"]},
        )  # fmt: skip
        assert len(await world.clip_messages(2)) == 2
        body = world.creates()[0]
        assert body["custom_mode"] is True and body["prompt"] == field["value"].strip()


async def test_description_limit(make_world: MakeWorld) -> None:
    async with make_world() as world:
        interaction = await world.discord.invoke_slash(
            guild_id=GUILD, channel_id=CHANNEL, user_id=MEMBER, command="lyrics",
            subcommand="write", options={"description": "x" * 120},
        )  # fmt: skip
        text = ephemeral_text(await answer_of(interaction))
        assert "`description`" in text and "119" in text
        assert await world.ledger_kinds() == []
        assert not [r for r in world.sim.requests if r[1].endswith("/sonic/lyrics")]
