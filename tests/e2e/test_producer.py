"""/producer create, extend, replace, cover and download: the real bot against the simulator."""

from __future__ import annotations

import asyncio
from typing import Any

from bot.simulator import SimulatorConfig
from bot.store.jobs import Job
from tests.e2e.conftest import CHANNEL, GUILD, MEMBER, MakeWorld, World, answer_of
from tests.helpers import EPHEMERAL, ephemeral_text

PRODUCER_PATHS = ("/api/v1/producer/create", "/api/v1/producer/download")


async def producer(world: World, sub: str, **options: Any) -> Any:
    return await world.slash("producer", sub, **options)


async def respond(world: World, sub: str, **options: Any) -> dict[str, Any]:
    return await answer_of(await producer(world, sub, **options))


def producer_calls(world: World) -> list[tuple[str, dict[str, Any]]]:
    return [(path, body) for _, path, body in world.sim.requests if path in PRODUCER_PATHS]


def clip_id_of(message: dict[str, Any]) -> str:
    return str(message["embeds"][0]["footer"]["text"]).removeprefix("Clip ")


async def producer_song(world: World, **options: Any) -> str:
    """Make one Producer song; returns its clip id."""
    before = len(await world.clip_messages(0, within=0))
    assert (await respond(world, "create", **options))["type"] == 5
    messages = await world.clip_messages(before + 1)
    return clip_id_of(messages[before])


async def finished_job(world: World, job_id: int, within: float = 20) -> Job:
    deadline = asyncio.get_running_loop().time() + within
    while True:
        job = await world.bot.jobs.get(job_id)
        if job.state in ("succeeded", "failed") and job.notified:
            return job
        assert asyncio.get_running_loop().time() < deadline, job
        await asyncio.sleep(0.05)


async def test_create_reaches_producer_and_delivers_the_song(make_world: MakeWorld) -> None:
    async with make_world() as world:
        interaction = await producer(
            world, "create", lyrics="[Verse] Lyria sings", sound="synthwave", title="Neon",
            length=3,
        )  # fmt: skip
        assert (await interaction.wait_response())["type"] == 5
        (message,) = await world.clip_messages(1)

        assert producer_calls(world) == [
            (
                "/api/v1/producer/create",
                {
                    "task_type": "create_music",
                    "lyrics": "[Verse] Lyria sings",
                    "sound": "synthwave",
                    "title": "Neon",
                    "length": 3,
                },
            )
        ]
        audio = [a for a in message["attachments"] if a["filename"].startswith("neon-1.")]
        assert len(audio) == 1 and audio[0]["data"][:4] == b"RIFF"  # extension from the bytes
        embed = message["embeds"][0]
        assert embed["title"] == "Neon"
        assert {f["name"]: f["value"] for f in embed["fields"]}["Duration"] == "0:03"
        await world.jobs_told()  # the card edit follows the clip post
        assert "Done" in interaction.original["embeds"][0]["title"]
        assert await world.ledger_kinds() == [("reserve", 10), ("commit", 10)]
        assert len(await world.clip_messages(2, within=0)) == 1  # one song per Producer task


async def test_create_refuses_bad_options_before_anything_is_spent(make_world: MakeWorld) -> None:
    async with make_world() as world:
        cases = [
            ({"title": "no words"}, "`lyrics`", "`sound`"),
            ({"lyrics": "   ", "sound": " "}, "`lyrics`", "at least one"),
            ({"sound": "lofi", "title": "t" * 81}, "`title`", "80"),
            ({"sound": "lofi", "length": 0}, "`length`", "1 to 240"),
            ({"sound": "lofi", "length": 241}, "`length`", "1 to 240"),
        ]
        for options, field, words in cases:
            text = ephemeral_text(await respond(world, "create", **options))
            assert field in text and words in text, text
        assert producer_calls(world) == []
        assert await world.ledger_kinds() == []


async def test_extend_replace_and_cover_edit_a_producer_song(make_world: MakeWorld) -> None:
    async with make_world(DEFAULT_GUILD_BUDGET="1000") as world:
        clip_id = await producer_song(world, sound="lofi piano", title="Rain", length=10)

        extend = {"clip": clip_id, "starts_at": 10.0, "instruction": "build up", "length": 20}
        assert (await respond(world, "extend", **extend))["type"] == 5
        assert (
            await respond(world, "replace", clip=clip_id, starts_at=2.0, ends_at=4.5,
                          instruction="drum break")
        )["type"] == 5  # fmt: skip
        assert (await respond(world, "cover", clip=clip_id, strength=0.3))["type"] == 5
        await world.clip_messages(4)

        bodies = [body for _, body in producer_calls(world)][1:]
        assert bodies == [
            {"task_type": "extend_music", "clip_id": clip_id, "starts_at": 10.0,
             "instruction": "build up", "length": 20},
            {"task_type": "replace_music", "clip_id": clip_id, "starts_at": 2.0, "ends_at": 4.5,
             "instruction": "drum break"},
            {"task_type": "cover_music", "clip_id": clip_id, "strength": 0.3},
        ]  # fmt: skip
        kinds = await world.ledger_kinds()
        assert kinds.count(("commit", 10)) == 1 and kinds.count(("commit", 12)) == 3
        assert not [k for k in kinds if k[0] == "release"]


async def test_edit_rules_are_checked_before_anything_is_spent(make_world: MakeWorld) -> None:
    async with make_world() as world:
        clip_id = await producer_song(world, sound="lofi", length=10)
        await world.song(description="a Sonic song")
        sonic_id = clip_id_of((await world.clip_messages(3))[1])
        cases = [
            ("extend", {"clip": clip_id, "starts_at": -1.0}, "`starts_at`", "negative"),
            ("extend", {"clip": clip_id, "starts_at": 10.5}, "`starts_at`", "10 seconds"),
            ("extend", {"clip": clip_id, "starts_at": 1.0, "length": 300}, "`length`", "240"),
            ("replace", {"clip": clip_id, "starts_at": 4.0, "ends_at": 4.0}, "`ends_at`", "after"),
            ("replace", {"clip": clip_id, "starts_at": 4.0, "ends_at": 11.0}, "`ends_at`", "10"),
            ("cover", {"clip": clip_id, "strength": 1.5}, "`strength`", "0 and 1"),
            ("cover", {"clip": sonic_id}, "`clip`", "/producer"),
            ("download", {"clip": sonic_id, "format": "mp3"}, "`clip`", "/producer"),
            ("download", {"clip": clip_id, "format": "flac"}, "`format`", "mp3, wav"),
            ("extend", {"clip": "not-a-clip", "starts_at": 1.0}, "`clip`", "choose"),
        ]
        for sub, options, field, words in cases:
            text = ephemeral_text(await respond(world, sub, **options))
            assert field in text and words in text, (sub, text)
        assert len(producer_calls(world)) == 1  # only the first song
        kinds = await world.ledger_kinds()
        assert kinds == [("reserve", 10), ("commit", 10), ("reserve", 20), ("commit", 20)]


async def test_clip_option_offers_only_producer_songs(make_world: MakeWorld) -> None:
    async with make_world() as world:
        clip_id = await producer_song(world, sound="lofi", title="Mine")
        await world.song(description="a Sonic song", title="Not mine")
        await world.clip_messages(3)
        interaction = await world.discord.autocomplete(
            guild_id=GUILD, channel_id=CHANNEL, user_id=MEMBER, command="producer",
            subcommand="cover", focused="clip", options={"clip": ""},
        )  # fmt: skip
        await interaction.wait_response()
        choices = interaction.autocomplete_choices
        assert [c["value"] for c in choices] == [clip_id]
        assert choices[0]["name"].startswith("Mine · ")


async def test_download_keeps_the_file_url_as_the_result(make_world: MakeWorld) -> None:
    async with make_world() as world:
        clip_id = await producer_song(world, sound="lofi", title="Keep")
        assert (await respond(world, "download", clip=clip_id, format="wav"))["type"] == 5
        job = await finished_job(world, 2)

        assert producer_calls(world)[-1] == (
            "/api/v1/producer/download",
            {"clip_id": clip_id, "format": "wav"},
        )
        assert (job.operation, job.family) == ("producer_download", "producer")
        assert job.state == "succeeded"
        assert job.result is not None
        (url,) = job.result.files
        assert url.endswith(f"/files/{clip_id}.wav")
        assert await world.ledger_kinds() == [
            ("reserve", 10), ("commit", 10), ("reserve", 2), ("commit", 2),
        ]  # fmt: skip
        # The delivery posts the file itself (checked on its bytes, not on its wording).
        files = [
            a
            for m in world.discord.channel_messages(CHANNEL)
            if "your song is ready" not in (m.get("content") or "")
            for a in m["attachments"]
        ]
        assert [a["data"][:4] for a in files] == [b"RIFF"]
        assert files[0]["filename"].endswith(".wav")


async def test_a_retired_cover_is_refused_in_words_and_refunded(make_world: MakeWorld) -> None:
    config = SimulatorConfig(generation_time=0.6, retired=frozenset({"producer_cover"}))
    async with make_world(sim_config=config) as world:
        clip_id = await producer_song(world, sound="lofi")
        interaction = await producer(world, "cover", clip=clip_id, instruction="as a waltz")
        await interaction.wait_response()
        notice = (await interaction.wait_followups(1, timeout=5))[-1]
        assert notice["flags"] & EPHEMERAL
        assert "Producer covers are switched off upstream (410 Gone)" in notice["content"]
        assert "12 credits were returned" in notice["content"]
        assert "Traceback" not in notice["content"]
        kinds = await world.ledger_kinds()
        assert kinds[-2:] == [("reserve", 12), ("release", 12)]
