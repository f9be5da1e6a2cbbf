"""/quota usage end to end: the chart of a server's spending, as a PNG attachment."""

from __future__ import annotations

import io

from PIL import Image

from bot.quota.usage_chart import COLOURS, HEIGHT, WIDTH
from tests.e2e.conftest import CHANNEL, GUILD, MEMBER, MODERATOR, MakeWorld
from tests.helpers import refusal_text

EPHEMERAL = 1 << 6


async def test_usage_chart_shows_the_member_who_spent(make_world: MakeWorld) -> None:
    async with make_world() as world:
        await (await world.song(description="charted")).wait_response()
        assert len(await world.clip_messages(2)) == 2

        usage = await world.discord.invoke_slash(
            guild_id=GUILD, channel_id=CHANNEL, user_id=MODERATOR, command="quota",
            subcommand="usage",
        )  # fmt: skip
        assert (await usage.wait_response())["type"] == 5  # deferred: drawing takes a moment
        message = await usage.wait_original()
        assert message["flags"] & EPHEMERAL
        assert "budget 100 credits per month" in message["content"]
        assert "20 spent so far" in message["content"] and "resets" in message["content"]
        assert "By member: member 20" in message["content"]
        (attachment,) = message["attachments"]
        assert attachment["filename"] == "usage.png"
        image = Image.open(io.BytesIO(attachment["data"]))
        assert image.format == "PNG" and image.size == (WIDTH, HEIGHT)
        colours = {c for _, c in image.convert("RGB").getcolors(maxcolors=WIDTH * HEIGHT) or []}
        assert COLOURS[0] in colours and len(colours) > 50

        # A member is not a moderator: refused, and nothing drawn.
        denied = await world.discord.invoke_slash(
            guild_id=GUILD, channel_id=CHANNEL, user_id=MEMBER, command="quota",
            subcommand="usage", options={"period": "previous"},
        )  # fmt: skip
        assert "Manage Server" in await refusal_text(denied)
        assert not any(m["attachments"] for m in denied.followups)


async def test_usage_of_the_previous_period_is_empty_on_a_new_server(make_world: MakeWorld) -> None:
    async with make_world() as world:
        usage = await world.discord.invoke_slash(
            guild_id=GUILD, channel_id=CHANNEL, user_id=MODERATOR, command="quota",
            subcommand="usage", options={"period": "previous"},
        )  # fmt: skip
        message = await usage.wait_original()
        assert "0 spent in these days" in message["content"]
        assert message["attachments"][0]["filename"] == "usage.png"
