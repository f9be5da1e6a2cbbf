"""The `clip` option: this server's songs, newest first; other servers' songs refused."""

from __future__ import annotations

from tests.e2e.conftest import CHANNEL, GUILD, MEMBER, MakeWorld, answer_of
from tests.helpers import ephemeral_text, wait_for

OTHER_GUILD, OTHER_CHANNEL = 900000000000000201, 900000000000000202


async def made_songs(world, description: str, title: str) -> list[str]:  # type: ignore[no-untyped-def]
    before = len(await world.clip_messages(0, within=0))
    await world.song(description=description, title=title)
    messages = await world.clip_messages(before + 2)
    return [m["embeds"][0]["footer"]["text"].removeprefix("Clip ") for m in messages[before:]]


async def test_autocomplete_lists_this_servers_clips_newest_first(make_world: MakeWorld) -> None:
    async with make_world() as world:
        await made_songs(world, "first", "Morning Tide")
        newest = await made_songs(world, "second", "Evening Tide")
        interaction = await world.discord.autocomplete(
            guild_id=GUILD, channel_id=CHANNEL, user_id=MEMBER, command="song",
            subcommand="info", focused="clip", options={"clip": "tide"},
        )  # fmt: skip
        await interaction.wait_response()
        choices = interaction.autocomplete_choices
        assert len(choices) == 4
        assert [c["name"].split(" · ")[0] for c in choices][:2] == ["Evening Tide"] * 2
        assert {c["value"] for c in choices[:2]} == set(newest)
        assert all("just now" in c["name"] for c in choices)
        narrowed = await world.discord.autocomplete(
            guild_id=GUILD, channel_id=CHANNEL, user_id=MEMBER, command="song",
            subcommand="info", focused="clip", options={"clip": "morning"},
        )  # fmt: skip
        await narrowed.wait_response()
        assert [c["name"].split(" · ")[0] for c in narrowed.autocomplete_choices] == [
            "Morning Tide"
        ] * 2


async def test_pasted_ids_and_other_servers(make_world: MakeWorld) -> None:
    async with make_world() as world:
        clip_id = (await made_songs(world, "ours", "Harbour Lights"))[0]
        info = await world.discord.invoke_slash(
            guild_id=GUILD, channel_id=CHANNEL, user_id=MEMBER, command="song",
            subcommand="info", options={"clip": clip_id},
        )  # fmt: skip
        embed = (await answer_of(info))["data"]["embeds"][0]
        assert embed["title"] == "Harbour Lights" and clip_id in embed["footer"]["text"]

        world.discord.add_guild(OTHER_GUILD, channels=[OTHER_CHANNEL])
        await wait_for(lambda: world.bot.get_guild(OTHER_GUILD), 10, "the new server")
        stolen = await world.discord.invoke_slash(
            guild_id=OTHER_GUILD, channel_id=OTHER_CHANNEL, user_id=MEMBER, command="song",
            subcommand="info", options={"clip": clip_id},
        )  # fmt: skip
        text = ephemeral_text(await answer_of(stolen))
        assert "`clip`" in text and "another server" in text and "Harbour" not in text
        listed = await world.discord.autocomplete(
            guild_id=OTHER_GUILD, channel_id=OTHER_CHANNEL, user_id=MEMBER, command="song",
            subcommand="info", focused="clip", options={"clip": ""},
        )  # fmt: skip
        await listed.wait_response()
        assert listed.autocomplete_choices == []

        unknown = await world.discord.invoke_slash(
            guild_id=GUILD, channel_id=CHANNEL, user_id=MEMBER, command="song",
            subcommand="info", options={"clip": "0123abcd-0000-0000-0000-000000000000"},
        )  # fmt: skip
        assert "no song with id" in ephemeral_text(await answer_of(unknown))
        garbage = await world.discord.invoke_slash(
            guild_id=GUILD, channel_id=CHANNEL, user_id=MEMBER, command="song",
            subcommand="info", options={"clip": "<@everyone> hi"},
        )  # fmt: skip
        assert "`clip`" in ephemeral_text(await answer_of(garbage))
