"""/nuro vocal and /nuro instrumental: exact durations, documented enums, and a retired Nuro."""

from __future__ import annotations

from typing import Any

from bot.simulator import SimulatorConfig
from tests.e2e.conftest import CHANNEL, GUILD, MEMBER, MakeWorld, World, answer_of
from tests.helpers import EPHEMERAL, ephemeral_text

NURO_CREATE = "/api/v1/nuro/create"


async def nuro(world: World, sub: str, **options: Any) -> Any:
    return await world.slash("nuro", sub, **options)


async def respond(world: World, sub: str, **options: Any) -> dict[str, Any]:
    return await answer_of(await nuro(world, sub, **options))


def nuro_bodies(world: World) -> list[dict[str, Any]]:
    return [body for _, path, body in world.sim.requests if path == NURO_CREATE]


def fields_of(message: dict[str, Any]) -> dict[str, str]:
    return {f["name"]: f["value"] for f in message["embeds"][0]["fields"]}


async def test_vocal_song_has_the_exact_duration_and_defaults(make_world: MakeWorld) -> None:
    async with make_world() as world:
        lyrics = "[verse]\nexactly thirty seconds\n[chorus]\nand not one more"
        response = await respond(
            world, "vocal", lyrics=lyrics, duration=30, genre="Rock", gender="Male"
        )
        assert response["type"] == 5
        (message,) = await world.clip_messages(1)

        assert nuro_bodies(world) == [
            {
                "type": "vocal",
                "lyrics": lyrics,
                "duration": 30,
                "genre": "Rock",
                "gender": "Male",
                # Not chosen: the docs' example values.
                "mood": "Romantic",
                "timbre": "Warm",
            }
        ]
        assert fields_of(message)["Duration"] == "0:30"
        audio = [a for a in message["attachments"] if a["filename"].endswith(".wav")]
        assert len(audio) == 1 and audio[0]["data"][:4] == b"RIFF"
        assert await world.ledger_kinds() == [("reserve", 10), ("commit", 10)]


async def test_instrumental_takes_lists_of_documented_values(make_world: MakeWorld) -> None:
    async with make_world() as world:
        response = await respond(
            world, "instrumental", description="a product launch video", duration=12,
            genre="cinematic, Epic, cinematic", mood="uplifting", instrument="piano,strings",
        )  # fmt: skip
        assert response["type"] == 5
        (message,) = await world.clip_messages(1)

        assert nuro_bodies(world) == [
            {
                "type": "bgm",
                "description": "a product launch video",
                "duration": 12,
                "genre": ["cinematic", "epic"],
                "mood": ["uplifting"],
                "instrument": ["piano", "strings"],
            }
        ]
        assert fields_of(message)["Duration"] == "0:12"
        assert await world.ledger_kinds() == [("reserve", 10), ("commit", 10)]


async def test_every_limit_is_refused_before_anything_is_spent(make_world: MakeWorld) -> None:
    async with make_world() as world:
        six = "pop, rock, jazz, funk, folk, dance"
        cases = [
            ("vocal", {"lyrics": "la", "duration": 29}, "`duration`", "30 to 240"),
            ("vocal", {"lyrics": "la", "duration": 241}, "`duration`", "30 to 240"),
            ("vocal", {"lyrics": "x" * 2001, "duration": 60}, "`lyrics`", "2000"),
            ("vocal", {"lyrics": "  ", "duration": 60}, "`lyrics`", "required"),
            ("vocal", {"lyrics": "la", "duration": 60, "genre": "Polka"}, "`genre`", "Polka"),
            ("instrumental", {"description": "bgm", "duration": 0}, "`duration`", "1 to 60"),
            ("instrumental", {"description": "bgm", "duration": 61}, "`duration`", "1 to 60"),
            ("instrumental", {"description": "bgm", "duration": 30, "genre": "polka"},
             "`genre`", "polka"),
            ("instrumental", {"description": "bgm", "duration": 30, "genre": six},
             "`genre`", "at most 5"),
            ("instrumental", {"description": "bgm", "duration": 30, "instrument": "kazoo"},
             "`instrument`", "kazoo"),
        ]  # fmt: skip
        for sub, options, field, words in cases:
            text = ephemeral_text(await respond(world, sub, **options))
            assert field in text and words in text, (sub, text)
        assert nuro_bodies(world) == []
        assert await world.ledger_kinds() == []


async def test_instrumental_lists_autocomplete_item_by_item(make_world: MakeWorld) -> None:
    async with make_world() as world:

        async def suggest(focused: str, typed: str) -> list[str]:
            interaction = await world.discord.autocomplete(
                guild_id=GUILD, channel_id=CHANNEL, user_id=MEMBER, command="nuro",
                subcommand="instrumental", focused=focused, options={focused: typed},
            )  # fmt: skip
            await interaction.wait_response()
            return [c["value"] for c in interaction.autocomplete_choices]

        assert await suggest("genre", "cinematic, ep") == ["cinematic, epic"]
        assert "piano, guitar" in await suggest("instrument", "piano, gui")
        assert "piano, piano" not in await suggest("instrument", "piano, ")
        assert len(await suggest("mood", "")) == 25  # Discord's cap on suggestions
        assert await suggest("genre", "pop, rock, jazz, funk, folk, ") == []  # full


async def test_a_retired_nuro_is_a_plain_refusal_with_the_credits_back(
    make_world: MakeWorld,
) -> None:
    config = SimulatorConfig(generation_time=0.6, retired=frozenset({"nuro"}))
    async with make_world(sim_config=config) as world:
        interaction = await nuro(world, "instrumental", description="calm loop", duration=20)
        assert (await interaction.wait_response())["type"] == 5
        notice = (await interaction.wait_followups(1, timeout=5))[-1]
        assert notice["flags"] & EPHEMERAL
        text = notice["content"]
        assert "Nuro has been retired upstream (410 Gone)" in text
        assert "/song create" in text and "/producer create" in text
        assert "Your 10 credits were returned." in text
        assert "Traceback" not in text and "GoneError" not in text
        assert len(nuro_bodies(world)) == 1  # it did go upstream, once
        assert await world.ledger_kinds() == [("reserve", 10), ("release", 10)]
        await world.jobs_told()  # told: nothing more is posted for it
        assert await world.clip_messages(1, within=0) == []
        assert not [
            m for m in world.discord.channel_messages(CHANNEL) if "could not be made" in (
                m.get("content") or "")
        ]  # fmt: skip
