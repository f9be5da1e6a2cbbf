"""/riffusion and /studio behind the owner's switch, and /musicbot feature itself."""

from __future__ import annotations

from typing import Any

from bot.simulator import SimulatorConfig
from tests.e2e.conftest import GUILD, MEMBER, MODERATOR, MakeWorld, World, answer_of
from tests.fakediscord import DEFAULT_OWNER_ID
from tests.helpers import EPHEMERAL, ephemeral_text

RIFFUSION_OFF = "The bot owner has not turned on Riffusion (deprecated upstream)."
STUDIO_OFF = "The bot owner has not turned on Studio (unavailable upstream)."


async def run(world: World, command: str, sub: str, user: int = MEMBER, **options: Any) -> Any:
    return await world.slash(command, sub, user=user, **options)


async def respond(world: World, command: str, sub: str, **options: Any) -> dict[str, Any]:
    return await answer_of(await run(world, command, sub, **options))


async def switch(world: World, name: str, state: str, user: int = DEFAULT_OWNER_ID) -> str:
    response = await respond(world, "musicbot", "feature", user=user, name=name, state=state)
    return ephemeral_text(response)


def family_calls(world: World, family: str) -> list[dict[str, Any]]:
    """Bodies sent to the family's create endpoint (polls left out)."""
    create = f"/api/v1/{family}/create"
    return [body for method, path, body in world.sim.requests if path == create]


async def test_both_families_are_off_until_the_owner_turns_them_on(make_world: MakeWorld) -> None:
    async with make_world() as world:
        text = ephemeral_text(await respond(world, "riffusion", "create", description="a song"))
        assert text == RIFFUSION_OFF
        text = ephemeral_text(await respond(world, "studio", "create", style="lofi"))
        assert text == STUDIO_OFF
        assert family_calls(world, "riffusion") == family_calls(world, "studio") == []
        assert await world.ledger_kinds() == []


async def test_a_non_owner_cannot_switch_anything(make_world: MakeWorld) -> None:
    async with make_world() as world:
        for user in (MEMBER, MODERATOR):  # Manage Server is not enough: the owner pays
            text = await switch(world, "riffusion", "on", user=user)
            assert "Only the bot's owner" in text
        text = ephemeral_text(await respond(world, "riffusion", "create", description="a song"))
        assert text == RIFFUSION_OFF
        async with world.bot.db.read() as conn:
            cursor = await conn.execute("SELECT COUNT(*) FROM feature_changes")
            assert (await cursor.fetchone())[0] == 0


async def test_the_application_owner_turns_riffusion_on_and_off(make_world: MakeWorld) -> None:
    async with make_world() as world:
        # No OWNER_IDS: the owner comes from Discord's application info, as in production.
        world.discord.add_member(GUILD, DEFAULT_OWNER_ID, name="owner")
        text = await switch(world, "riffusion", "on")
        assert "Riffusion (deprecated upstream) is now on" in text
        assert "riffusion on, studio off" in text
        assert "is already on" in await switch(world, "riffusion", "on")

        await world.restart()  # the switch lives in the database, not in memory
        options = {"description": "a song about old radios", "sound": "lofi", "title": "Dial"}
        assert (await respond(world, "riffusion", "create", **options))["type"] == 5
        messages = await world.clip_messages(2)
        assert len(messages) == 2  # Riffusion makes two songs per task
        assert family_calls(world, "riffusion") == [
            {
                "task_type": "create_music",
                "custom_mode": False,
                "prompt": "a song about old radios",
                "sound": "lofi",
                "title": "Dial",
            }
        ]
        assert await world.ledger_kinds() == [("reserve", 12), ("commit", 12)]

        assert "is now off" in await switch(world, "riffusion", "off")
        text = ephemeral_text(await respond(world, "riffusion", "create", description="again"))
        assert text == RIFFUSION_OFF
        assert len(family_calls(world, "riffusion")) == 1
        history = await world.bot.cogs["Owner"].features.history("riffusion")  # type: ignore[attr-defined]
        assert [(c.enabled, c.user_id) for c in history] == [
            (False, DEFAULT_OWNER_ID), (True, DEFAULT_OWNER_ID), (True, DEFAULT_OWNER_ID),
        ]  # fmt: skip


async def test_studio_works_once_on_with_the_priced_model(make_world: MakeWorld) -> None:
    async with make_world(OWNER_IDS=str(MODERATOR)) as world:
        assert "Studio (unavailable upstream) is now on" in await switch(
            world, "studio", "on", user=MODERATOR
        )
        options = {"style": "dream pop", "lyrics": "[Verse] studio words"}
        assert (await respond(world, "studio", "create", **options))["type"] == 5
        messages = await world.clip_messages(2)
        assert len(messages) == 2
        assert family_calls(world, "studio") == [
            {
                "lyrics_type": "user",
                "prompt": "dream pop",
                "lyrics": "[Verse] studio words",
                "model_type": "studio32-v1.5",
                "config": {"mode": "regular"},
            }
        ]
        assert await world.ledger_kinds() == [("reserve", 15), ("commit", 15)]


async def test_options_are_checked_once_a_family_is_on(make_world: MakeWorld) -> None:
    async with make_world(OWNER_IDS=str(MODERATOR)) as world:
        await switch(world, "riffusion", "on", user=MODERATOR)
        await switch(world, "studio", "on", user=MODERATOR)
        cases = [
            ("riffusion", {"description": "a", "lyrics": "b"}, "`lyrics`", "`description`"),
            ("riffusion", {"description": "d" * 201}, "`description`", "200"),
            ("riffusion", {"lyrics": "l" * 3001}, "`lyrics`", "3000"),
            ("riffusion", {"description": "a", "sound": "s" * 201}, "`sound`", "200"),
            ("riffusion", {}, "`description`", "`lyrics`"),
            ("riffusion", {"lyrics": "la", "instrumental": True}, "`instrumental`", "sung"),
            ("studio", {"style": "  "}, "`style`", "required"),
            ("studio", {"style": "x", "lyrics": "la", "instrumental": True}, "`instrumental`",
             "sung"),
        ]  # fmt: skip
        for command, options, field, words in cases:
            text = ephemeral_text(await respond(world, command, "create", **options))
            assert field in text and words in text, (command, text)
        assert family_calls(world, "riffusion") == family_calls(world, "studio") == []
        assert await world.ledger_kinds() == []


async def test_a_family_gone_upstream_is_refused_in_words(make_world: MakeWorld) -> None:
    config = SimulatorConfig(generation_time=0.6, retired=frozenset({"riffusion"}))
    async with make_world(sim_config=config, OWNER_IDS=str(MODERATOR)) as world:
        await switch(world, "riffusion", "on", user=MODERATOR)
        interaction = await run(world, "riffusion", "create", instrumental=True)
        assert (await interaction.wait_response())["type"] == 5
        notice = (await interaction.wait_followups(1, timeout=5))[-1]
        assert notice["flags"] & EPHEMERAL
        assert "Riffusion is no longer served upstream (410 Gone" in notice["content"]
        assert "Your 12 credits were returned." in notice["content"]
        assert await world.ledger_kinds() == [("reserve", 12), ("release", 12)]


async def test_a_crafted_feature_name_is_refused_by_name(make_world: MakeWorld) -> None:
    async with make_world(OWNER_IDS=str(MODERATOR)) as world:
        text = await switch(world, "sonic", "on", user=MODERATOR)
        assert "`name`" in text and "riffusion, studio" in text
        text = await switch(world, "studio", "maybe", user=MODERATOR)
        assert "`state`" in text
