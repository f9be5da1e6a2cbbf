"""No file freezes the bot, and nothing free skips the standing checks.

A crafted upload is parsed off the event loop while other commands keep being answered within
Discord's 3 seconds; the block list, the channel allow-list and the concurrency caps refuse a
file before a byte of it is fetched, and a free repeat before it reaches MusicAPI; a member
sending files too fast is told when to try again.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from bot.interactions.file_reads import FILE_READS_PER_MINUTE
from bot.simulator import SimulatorConfig
from bot.validation import offloop
from bot.validation.audio_length import FETCH_BUDGET_BYTES
from tests.audio_files import id3_bomb, mp3
from tests.e2e.conftest import CHANNEL, GUILD, MEMBER, MODERATOR, World, answer_of
from tests.fakediscord import FakeChannel, FakeUser
from tests.helpers import refusal_text

DISCORD_ANSWER_S = 3.0
SECOND_CHANNEL = 900000000000000060
GOOD = ("song.mp3", mp3(20.0), "audio/mpeg")


async def quota(world: World, sub: str, **options: Any) -> None:
    interaction = await world.discord.invoke_slash(
        guild_id=GUILD, channel_id=CHANNEL, user_id=MODERATOR, command="quota", subcommand=sub,
        options=options,
    )  # fmt: skip
    await answer_of(interaction)


async def credits_answer_time(world: World) -> float:
    """Seconds from /credits being sent to its answer arriving."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    interaction = await world.discord.invoke_slash(
        guild_id=GUILD, channel_id=CHANNEL, user_id=MEMBER, command="credits"
    )
    answer = await answer_of(interaction)
    took = loop.time() - started
    assert "Server budget" in str(answer)
    return took


async def wait_for_reads(world: World, count: int, within: float = 20) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while len(world.discord.attachment_reads) < count:
        assert asyncio.get_running_loop().time() < deadline, world.discord.attachment_reads
        await asyncio.sleep(0.01)


def upstream_posts(world: World) -> list[str]:
    return [path for method, path, _ in world.sim.requests if method == "POST"]


async def test_the_crafted_upload_is_refused_while_other_commands_are_answered(
    make_world: Any,
) -> None:
    bomb = ("tags.mp3", id3_bomb(415_000), "audio/mpeg")
    assert 8.3 * 2**20 < len(bomb[1]) < 8.9 * 2**20
    async with make_world() as world:
        upload = await world.slash("song", "upload", files={"file": bomb})
        await wait_for_reads(world, 1)
        assert await credits_answer_time(world) < DISCORD_ANSWER_S
        text = await refusal_text(upload)
        assert "`file`" in text and f"{FETCH_BUDGET_BYTES >> 20} MiB" in text
        assert upstream_posts(world) == [] and await world.ledger_kinds() == []
        # Only the first bytes were read: the tag beyond the budget never was.
        assert sum(count for _, _, count in world.discord.attachment_reads) <= 64 * 1024


async def test_a_parse_that_runs_too_long_is_stopped_and_the_bot_answers_meanwhile(
    make_world: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Within the budget: mutagen works on this tag for tens of seconds, in the child process.
    monkeypatch.setattr(offloop, "PARSE_TIME_LIMIT_S", 2.5)
    bomb = ("tags.mp3", id3_bomb(170_000), "audio/mpeg")
    assert len(bomb[1]) < FETCH_BUDGET_BYTES
    async with make_world() as world:
        upload = await world.slash("song", "upload", files={"file": bomb})
        await wait_for_reads(world, 2)  # the head, then the whole tag: now it is being parsed
        for _ in range(3):
            assert await credits_answer_time(world) < DISCORD_ANSWER_S
        assert upload.followups == []  # still parsing while /credits was answered
        text = await refusal_text(upload)
        assert "`file`" in text and "could not be read within 2.5 seconds" in text
        assert upstream_posts(world) == [] and await world.ledger_kinds() == []


async def test_files_past_the_rate_limit_are_refused_with_when_to_try_again(
    make_world: Any,
) -> None:
    async with make_world(DEFAULT_GUILD_BUDGET="1000") as world:
        for _ in range(FILE_READS_PER_MINUTE):
            await answer_of(await world.slash("song", "upload", files={"file": GOOD}))
        reads = len(world.discord.attachment_reads)
        text = await refusal_text(await world.slash("song", "upload", files={"file": GOOD}))
        assert f"({FILE_READS_PER_MINUTE} a minute)" in text and "Try again <t:" in text
        assert len(world.discord.attachment_reads) == reads  # refused before any fetch
        assert len(world.posts("/sonic/upload")) == FILE_READS_PER_MINUTE


async def make_standing_refuse(world: World, standing: str) -> str:
    """Set up one standing check that refuses MEMBER in CHANNEL; returns words of its text."""
    if standing == "block":
        await quota(world, "block", member=FakeUser(MEMBER))
        return "blocked"
    if standing == "channel":
        world.discord.add_channel(GUILD, SECOND_CHANNEL)
        await quota(world, "channels", action="add", channel=FakeChannel(SECOND_CHANNEL))
        return f"<#{SECOND_CHANNEL}> only"
    await quota(world, "concurrency", per_member=1, per_server=5)
    assert (await answer_of(await world.song(description="still cooking")))["type"] == 5
    return "in progress"


STANDING = ["block", "channel", "concurrency"]


@pytest.mark.parametrize("standing", STANDING)
@pytest.mark.parametrize(
    ("command", "subcommand", "files"),
    [
        ("song", "upload", {"file": GOOD}),
        ("persona", "voice", {"file": GOOD}),
        ("song", "custom", {"lyrics_file": ("words.txt", b"[Verse]\nla la", "text/plain")}),
    ],
)
async def test_standing_checks_refuse_a_file_before_it_is_fetched(
    make_world: Any,
    standing: str,
    command: str,
    subcommand: str,
    files: dict[str, Any],
) -> None:
    async with make_world(sim_config=SimulatorConfig(generation_time=10)) as world:
        words = await make_standing_refuse(world, standing)
        posts = upstream_posts(world)
        text = await refusal_text(await world.slash(command, subcommand, files=files))
        assert words in text
        assert world.discord.attachment_reads == []
        assert upstream_posts(world) == posts


async def made_song(world: World) -> str:
    await world.song(description="a song about lighthouses")
    messages = await world.clip_messages(2)
    return str(messages[0]["embeds"][0]["footer"]["text"]).removeprefix("Clip ")


@pytest.mark.parametrize("standing", STANDING)
@pytest.mark.parametrize("via", ["command", "button"])
async def test_a_free_timeline_repeat_runs_the_standing_checks(
    make_world: Any, standing: str, via: str
) -> None:
    async with make_world(sim_config=SimulatorConfig(generation_time=1.5)) as world:
        clip_id = await made_song(world)
        first = await world.slash("tools", "timeline", clip=clip_id)
        assert (await first.wait_response())["type"] == 5
        await first.wait_original(timeout=10)
        assert len(world.posts("/sonic/aligned-lyrics")) == 1  # paid: repeats are free now
        words = await make_standing_refuse(world, standing)
        if via == "command":
            again = await world.slash("tools", "timeline", clip=clip_id)
        else:
            song = (await world.clip_messages(2))[0]
            timeline = next(
                c["custom_id"]
                for row in song["components"]
                for c in row["components"]
                if c["label"] == "Timeline"
            )
            again = await world.discord.click_button(
                guild_id=GUILD, channel_id=CHANNEL, user_id=MEMBER, message_id=song["id"],
                custom_id=timeline,
            )  # fmt: skip
        assert words in await refusal_text(again)
        assert len(world.posts("/sonic/aligned-lyrics")) == 1  # nothing reached MusicAPI
