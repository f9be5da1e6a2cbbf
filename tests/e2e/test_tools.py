"""/tools end to end: the real bot against the fake Discord and the MusicAPI simulator."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest

from bot.delivery.media import UPLOAD_MARGIN
from bot.simulator import SimulatorConfig
from tests.e2e.conftest import CHANNEL, GUILD, MEMBER, MakeWorld, World, answer_of
from tests.helpers import refusal_text, wait_for

OTHER_GUILD, OTHER_CHANNEL = 900000000000000301, 900000000000000302
FAST = SimulatorConfig(generation_time=0.2)
SONG = [("reserve", 20), ("commit", 20)]
FULL_STEM_NAMES = {
    "vocals", "backing-vocals", "drums", "bass", "guitar", "keyboard", "percussion", "strings",
    "synth", "fx", "brass", "woodwinds",
}  # fmt: skip
LRC_LINE = re.compile(r"^\[(\d\d):(\d\d)\.(\d\d)\](.+)$")


def tool_posts(world: World) -> list[str]:
    """Every upstream call a /tools command could make (the song's create and polls excluded)."""
    song = ("/sonic/create", "/sonic/task/")
    return [p for _, p, _ in world.sim.requests if not any(s in p for s in song)]


async def made_song(world: World, **options: Any) -> str:
    """A finished song of this server; returns its first clip's id."""
    before = len(await world.clip_messages(0, within=0))
    await world.song(**{"description": "a song about lighthouses", **options})
    messages = await world.clip_messages(before + 2)
    return str(messages[before]["embeds"][0]["footer"]["text"]).removeprefix("Clip ")


async def tool(world: World, subcommand: str, guild: int = GUILD, **options: Any) -> Any:
    channel = CHANNEL if guild == GUILD else OTHER_CHANNEL
    return await world.discord.invoke_slash(
        guild_id=guild, channel_id=channel, user_id=MEMBER, command="tools",
        subcommand=subcommand, options=options,
    )  # fmt: skip


async def reply(interaction: Any) -> dict[str, Any]:
    """The filled public reply of a deferred /tools command."""
    assert (await interaction.wait_response())["type"] == 5
    return dict(await interaction.wait_original(timeout=10))


def stem_messages(world: World) -> list[dict[str, Any]]:
    return [
        m
        for m in world.discord.channel_messages(CHANNEL)
        if "your stems of" in (m.get("content") or "")
    ]


async def wait_stems(world: World, count: int, within: float = 20) -> list[dict[str, Any]]:
    """Messages once `count` stems (files or links) have arrived and every job is told, so a
    duplicate would have shown up."""
    deadline = asyncio.get_running_loop().time() + within
    while asyncio.get_running_loop().time() < deadline:
        if stems_in(stem_messages(world)) >= count:
            break
        await asyncio.sleep(0.05)
    await world.jobs_told()
    return stem_messages(world)


def stems_in(messages: list[dict[str, Any]]) -> int:
    return sum(len(m["attachments"]) + m["content"].count("🔗") for m in messages)


def assert_no_pings(message: dict[str, Any]) -> None:
    mentions = message.get("allowed_mentions") or {}
    assert not mentions.get("parse") and not mentions.get("roles"), message
    assert not message.get("mention_everyone")


# -- stems ------------------------------------------------------------------------------------


async def test_basic_stems_arrive_as_named_files_and_are_charged_once(
    make_world: MakeWorld,
) -> None:
    async with make_world(sim_config=FAST) as world:
        clip_id = await made_song(world, title="Harbour @everyone")
        interaction = await tool(world, "stems", clip=clip_id)
        assert (await interaction.wait_response())["type"] == 5
        messages = await wait_stems(world, 2)
        assert world.posts("/sonic/stems/basic") == [{"clip_id": clip_id}]
        assert len(messages) == 1
        message = messages[0]
        files = {a["filename"]: a["data"] for a in message["attachments"]}
        assert set(files) == {"vocals.wav", "instrumental.wav"}
        assert all(data[:4] == b"RIFF" and data[8:12] == b"WAVE" for data in files.values())
        assert "Harbour" in message["content"] and f"<@{MEMBER}>" in message["content"]
        assert [int(u) for u in message["allowed_mentions"]["users"]] == [MEMBER]
        assert_no_pings(message)
        assert await world.ledger_kinds() == [*SONG, ("reserve", 30), ("commit", 30)]
        card = await interaction.wait_original(lambda m: "Done" in m["embeds"][0]["title"])
        fields = {f["name"]: f["value"] for f in card["embeds"][0]["fields"]}
        assert fields["Result"] == "2 stem(s) posted below."
        # Stems are this server's clips now, but not songs: no "your song is ready" for them.
        assert len(await world.clip_messages(3, within=0.3)) == 2


async def test_full_stems_are_batched_ten_files_a_message(make_world: MakeWorld) -> None:
    async with make_world(sim_config=FAST) as world:
        clip_id = await made_song(world)
        await answer_of(await tool(world, "stems", clip=clip_id, mode="full"))
        messages = await wait_stems(world, 12)
        assert world.posts("/sonic/stems/full") == [{"clip_id": clip_id}]
        assert [len(m["attachments"]) for m in messages] == [10, 2]
        names = [a["filename"] for m in messages for a in m["attachments"]]
        assert {n.removesuffix(".wav") for n in names} == FULL_STEM_NAMES and len(names) == 12
        assert "(1–10 of 12)" in messages[0]["content"]
        assert "(11–12 of 12)" in messages[1]["content"]
        assert await world.ledger_kinds() == [*SONG, ("reserve", 75), ("commit", 75)]


async def test_stems_batches_stay_under_the_upload_limit(make_world: MakeWorld) -> None:
    # Each stem is ~100 kB and a message may carry 250 kB: two stems a message.
    limit = UPLOAD_MARGIN + 250_000
    config = SimulatorConfig(generation_time=0.2, audio_bytes_size=100_000)
    async with make_world(sim_config=config, attachment_limit=limit) as world:
        clip_id = await made_song(world)
        await answer_of(await tool(world, "stems", clip=clip_id, mode="full"))
        messages = await wait_stems(world, 12)
        assert [len(m["attachments"]) for m in messages] == [2] * 6
        for message in messages:
            assert sum(a["size"] for a in message["attachments"]) <= limit - UPLOAD_MARGIN
            assert "🔗" not in message["content"]
        names = [a["filename"].removesuffix(".wav") for m in messages for a in m["attachments"]]
        assert sorted(names) == sorted(FULL_STEM_NAMES)  # each exactly once


async def test_stems_too_big_to_attach_are_linked(make_world: MakeWorld) -> None:
    config = SimulatorConfig(generation_time=0.2, audio_bytes_size=600_000)
    async with make_world(sim_config=config, attachment_limit=512 * 1024) as world:
        clip_id = await made_song(world)
        await answer_of(await tool(world, "stems", clip=clip_id))
        messages = await wait_stems(world, 2)
        assert len(messages) == 1 and messages[0]["attachments"] == []
        content = messages[0]["content"]
        assert "[Vocals](<" in content and "[Instrumental](<" in content
        assert content.count("/files/") == 2 and "may expire" in content


async def test_stems_crash_after_the_first_batch_posts_no_duplicate(
    make_world: MakeWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.store import clips as clip_sql

    real = clip_sql.record_delivery
    song_job: list[int] = []
    crashed: list[str] = []

    async def crash_once(conn, job_id, item, message_id, now):  # type: ignore[no-untyped-def]
        song_job[:] = song_job or [job_id]  # the song's job records first
        if job_id != song_job[0] and not crashed:  # the first record of the stems job
            crashed.append(item)
            raise RuntimeError("process died after Discord accepted the message")
        await real(conn, job_id, item, message_id, now)

    monkeypatch.setattr(clip_sql, "record_delivery", crash_once)
    async with make_world(sim_config=FAST) as world:
        clip_id = await made_song(world)
        await answer_of(await tool(world, "stems", clip=clip_id, mode="full"))
        messages = await wait_stems(world, 12)  # the retry after the crash is told too
        assert crashed
        messages = stem_messages(world)
        assert [len(m["attachments"]) for m in messages] == [10, 2]
        assert len({m["id"] for m in messages}) == 2
        async with world.bot.db.read() as conn:
            rows = await conn.execute_fetchall("SELECT COUNT(*) FROM deliveries")
        assert rows[0][0] == 2 + 12  # two songs, twelve stems, each recorded once


# -- synchronous tools -----------------------------------------------------------------------


async def test_wav_is_attached_with_its_real_extension(make_world: MakeWorld) -> None:
    async with make_world(sim_config=FAST) as world:
        clip_id = await made_song(world, title="@everyone Tide")
        message = await reply(await tool(world, "wav", clip=clip_id))
        assert world.posts("/sonic/wav") == [{"clip_id": clip_id}]
        [attachment] = message["attachments"]
        assert attachment["filename"] == "everyone-tide.wav"
        assert attachment["data"][:4] == b"RIFF" and attachment["data"][8:12] == b"WAVE"
        assert_no_pings(message)
        assert await world.ledger_kinds() == [*SONG, ("reserve", 2), ("commit", 2)]


async def test_wav_too_big_is_a_link_that_may_expire(make_world: MakeWorld) -> None:
    config = SimulatorConfig(generation_time=0.2, audio_bytes_size=600_000)
    async with make_world(sim_config=config, attachment_limit=512 * 1024) as world:
        clip_id = await made_song(world)
        message = await reply(await tool(world, "wav", clip=clip_id))
        assert message["attachments"] == []
        assert f"/files/{clip_id}.wav" in message["content"] and "may expire" in message["content"]
        assert await world.ledger_kinds() == [*SONG, ("reserve", 2), ("commit", 2)]


async def test_midi_is_a_real_midi_file(make_world: MakeWorld) -> None:
    async with make_world(sim_config=FAST) as world:
        clip_id = await made_song(world, title="Harbour")
        message = await reply(await tool(world, "midi", clip=clip_id))
        assert world.posts("/sonic/midi") == [{"clip_id": clip_id}]
        [attachment] = message["attachments"]
        assert attachment["filename"] == "harbour.mid" and attachment["data"][:4] == b"MThd"
        assert "Lead (" in message["content"]
        assert await world.ledger_kinds() == [*SONG, ("reserve", 1), ("commit", 1)]


async def test_midi_not_ready_says_try_again_and_charges_nothing(make_world: MakeWorld) -> None:
    config = SimulatorConfig(generation_time=0.2, midi_not_ready_calls=1)
    async with make_world(sim_config=config) as world:
        clip_id = await made_song(world)
        text = await refusal_text(await tool(world, "midi", clip=clip_id))
        assert "try again in a minute" in text.lower() and "not charged" in text
        assert await world.ledger_kinds() == [*SONG, ("reserve", 1), ("release", 1)]
        # A minute later it is there, and only that call is charged.
        message = await reply(await tool(world, "midi", clip=clip_id))
        assert message["attachments"][0]["data"][:4] == b"MThd"
        assert len(world.posts("/sonic/midi")) == 2
        assert await world.ledger_kinds() == [
            *SONG, ("reserve", 1), ("release", 1), ("reserve", 1), ("commit", 1),
        ]  # fmt: skip


async def test_bpm_is_shown_inline(make_world: MakeWorld) -> None:
    async with make_world(sim_config=FAST) as world:
        clip_id = await made_song(world)
        message = await reply(await tool(world, "bpm", clip=clip_id))
        assert world.posts("/sonic/bpm") == [{"clip_id": clip_id}]
        fields = {f["name"]: f["value"] for f in message["embeds"][0]["fields"]}
        average = float(fields["Average"].removesuffix(" BPM"))
        low, high = (float(x) for x in fields["Range"].removesuffix(" BPM").split("–"))
        # The simulator's BPM (bot/simulator/handlers/sonic_tools.py): an average in [70, 160)
        # with a range of 2.5 either side, so the low end may be under 70.
        assert 70 <= average < 160
        assert (low, high) == (pytest.approx(average - 2.5), pytest.approx(average + 2.5))
        assert await world.ledger_kinds() == [*SONG, ("reserve", 1), ("commit", 1)]


async def test_timeline_is_an_lrc_file_with_one_line_per_lyric_line(make_world: MakeWorld) -> None:
    async with make_world(sim_config=FAST) as world:
        clip_id = await made_song(world, title="Harbour")
        message = await reply(await tool(world, "timeline", clip=clip_id))
        assert world.posts("/sonic/aligned-lyrics") == [{"clip_id": clip_id}]
        [attachment] = message["attachments"]
        assert attachment["filename"] == "harbour.lrc"
        rows = attachment["data"].decode().splitlines()
        assert rows[0] == "[ti:Harbour]"
        timed = [LRC_LINE.match(row) for row in rows[1:]]
        assert all(timed), rows
        # The simulator's lyrics: two sung lines under [Verse] and [Chorus].
        assert [m.group(4) for m in timed if m] == [
            "A simulated song about a song about lighthouses",
            "La la la, the simulator sings",
        ]
        seconds = [
            int(m.group(1)) * 60 + int(m.group(2)) + int(m.group(3)) / 100 for m in timed if m
        ]
        assert 0 < seconds[0] < seconds[1]
        preview = message["embeds"][0]["description"]
        assert "A simulated song about" in preview and "La la la" in preview
        assert await world.ledger_kinds() == [*SONG, ("reserve", 1), ("commit", 1)]


async def test_vox_cuts_the_window_asked_for(make_world: MakeWorld) -> None:
    async with make_world(sim_config=FAST) as world:
        clip_id = await made_song(world)
        message = await reply(await tool(world, "vox", clip=clip_id, start=0.5, end=2.0))
        body = {"clip_id": clip_id, "vocal_start_s": 0.5, "vocal_end_s": 2.0}
        assert world.posts("/sonic/vox") == [body]
        fields = {f["name"]: f["value"] for f in message["embeds"][0]["fields"]}
        assert re.fullmatch(r"`[0-9a-f-]{36}`", fields["Segment id"])
        assert fields["Window"] == "0.5–2 s"
        assert await world.ledger_kinds() == [*SONG, ("reserve", 1), ("commit", 1)]


async def test_tags_are_upsampled_inline_and_ping_nobody(make_world: MakeWorld) -> None:
    async with make_world(sim_config=FAST) as world:
        message = await reply(await tool(world, "tags", style="lofi hip hop @everyone"))
        assert world.posts("/sonic/upsample-tags") == [{"tags": "lofi hip hop @everyone"}]
        assert "lofi hip hop @everyone, " in message["embeds"][0]["description"]
        assert_no_pings(message)
        assert await world.ledger_kinds() == [("reserve", 1), ("commit", 1)]


# -- refusals --------------------------------------------------------------------------------


async def test_bad_input_is_refused_before_anything_is_spent(make_world: MakeWorld) -> None:
    async with make_world(sim_config=FAST) as world:
        clip_id = await made_song(world)  # 2.5 s long in the simulator
        cases = [
            ("vox", {"clip": clip_id, "start": -1.0}, "`start`", "0 seconds"),
            ("vox", {"clip": clip_id, "start": 2.0, "end": 1.0}, "`end`", "after `start`"),
            ("vox", {"clip": clip_id, "start": 1.0, "end": 1.0}, "`end`", "after `start`"),
            ("vox", {"clip": clip_id, "start": 0.0, "end": 31.0}, "`end`", "30 seconds"),
            ("vox", {"clip": clip_id, "end": 40.0}, "`end`", "30 seconds"),
            ("vox", {"clip": clip_id, "start": 1.0, "end": 10.0}, "`end`", "song's length"),
            ("vox", {"clip": clip_id, "start": 3.0}, "`start`", "song's length"),
            ("tags", {"style": "   "}, "`style`", "empty"),
            ("tags", {"style": "s" * 1001}, "`style`", "1000"),
        ]
        for subcommand, options, field, limit in cases:
            text = await refusal_text(await tool(world, subcommand, **options))
            assert field in text and limit in text, (options, text)
        assert tool_posts(world) == []
        assert await world.ledger_kinds() == SONG


async def test_a_clip_from_another_server_is_refused(make_world: MakeWorld) -> None:
    async with make_world(sim_config=FAST) as world:
        clip_id = await made_song(world, title="Ours")
        world.discord.add_guild(OTHER_GUILD, channels=[OTHER_CHANNEL])
        world.discord.add_member(OTHER_GUILD, MEMBER, name="member")
        await wait_for(lambda: world.bot.get_guild(OTHER_GUILD), 10, "the new server")
        for subcommand in ("stems", "wav", "midi", "bpm", "timeline", "vox"):
            elsewhere = await tool(world, subcommand, guild=OTHER_GUILD, clip=clip_id)
            text = await refusal_text(elsewhere)
            assert "`clip`" in text and "another server" in text and "Ours" not in text
        assert tool_posts(world) == []
        assert await world.ledger_kinds() == SONG


async def test_a_repeat_timeline_is_not_charged_again(make_world: MakeWorld) -> None:
    async with make_world() as world:
        clip_id = await made_song(world)
        for _ in range(2):
            answer = await reply(await tool(world, "timeline", clip=clip_id))
            assert answer["attachments"][0]["filename"].endswith(".lrc")
        assert len(world.posts("/sonic/aligned-lyrics")) == 2  # free upstream after the first
        kinds = await world.ledger_kinds()
        assert kinds.count(("commit", 1)) == 1 and ("reserve", 1) in kinds
