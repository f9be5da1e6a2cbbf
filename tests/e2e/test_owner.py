"""/musicbot status and sync: the owner's view, refused to everyone else."""

from __future__ import annotations

from bot.simulator import SimulatorConfig
from tests.e2e.conftest import CHANNEL, GUILD, MEMBER, MODERATOR, MakeWorld, answer_of
from tests.helpers import ephemeral_text


async def test_status_shows_upstream_credits_and_jobs_in_flight(make_world: MakeWorld) -> None:
    config = SimulatorConfig(generation_time=5, credits=1234)
    async with make_world(sim_config=config, OWNER_IDS=str(MODERATOR)) as world:
        song = await world.song(description="still running")
        await song.wait_response()
        # The card fills the deferred reply after the submit: MusicAPI has taken the job.
        await song.wait_original(lambda m: bool(m["embeds"]))
        status = await world.discord.invoke_slash(
            guild_id=GUILD, channel_id=CHANNEL, user_id=MODERATOR, command="musicbot",
            subcommand="status",
        )  # fmt: skip
        await status.wait_response()
        text = (await status.wait_original())["content"]
        # The song's cost left the simulated account: 1234 - 15 for create_music.
        assert "MusicAPI credits: 1219" in text and "Jobs in flight: 1" in text

        denied = await world.discord.invoke_slash(
            guild_id=GUILD, channel_id=CHANNEL, user_id=MEMBER, command="musicbot",
            subcommand="status",
        )  # fmt: skip
        assert "owner" in ephemeral_text(await answer_of(denied))


async def test_sync_registers_the_commands(make_world: MakeWorld) -> None:
    async with make_world(OWNER_IDS=str(MODERATOR)) as world:
        sync = await world.discord.invoke_slash(
            guild_id=GUILD, channel_id=CHANNEL, user_id=MODERATOR, command="musicbot",
            subcommand="sync", options={"scope": "here"},
        )  # fmt: skip
        await sync.wait_response()
        reply = (await sync.wait_original())["content"]
        names = {c["name"] for c in world.discord.registered_commands[GUILD]}
        assert {"song", "tools", "quota", "request", "credits", "queue", "lyrics"} <= names
        assert f"Synced {len(names)} command(s)." == reply


async def test_status_counts_possibly_billed_orphans(make_world: MakeWorld) -> None:
    async with make_world(OWNER_IDS=str(MODERATOR)) as world:
        # A gateway page instead of MusicAPI's answer: the task may exist, so it is not resent.
        world.sim.inject("/api/v1/sonic/create", 502, body="<html>bad gateway</html>")
        song = await world.song(description="lost in the gateway")
        await song.wait_response()
        told = (await song.wait_followups())[-1]["content"]
        assert "did not answer in time" in told and "might still be made" in told
        assert "Its 20 credits were returned." in told
        assert len(world.creates()) == 1
        assert await world.ledger_kinds() == [("reserve", 20), ("release", 20)]

        status = await world.discord.invoke_slash(
            guild_id=GUILD, channel_id=CHANNEL, user_id=MODERATOR, command="musicbot",
            subcommand="status",
        )  # fmt: skip
        await status.wait_response()
        text = (await status.wait_original())["content"]
        assert "Possibly billed orphans: 1" in text


async def test_sync_clears_a_servers_copies_only_once_global_commands_exist(
    make_world: MakeWorld,
) -> None:
    async def sync(world, scope: str) -> str:  # type: ignore[no-untyped-def]
        interaction = await world.discord.invoke_slash(
            guild_id=GUILD, channel_id=CHANNEL, user_id=MODERATOR, command="musicbot",
            subcommand="sync", options={"scope": scope},
        )  # fmt: skip
        await interaction.wait_response()
        return str((await interaction.wait_original())["content"])

    async with make_world(OWNER_IDS=str(MODERATOR)) as world:
        registered = world.discord.registered_commands
        await sync(world, "here")
        copies = len(registered[GUILD])
        # Nothing global yet: clearing would leave the server without /musicbot.
        refused = await sync(world, "clear-here")
        assert "No global commands are registered yet" in refused
        assert len(registered[GUILD]) == copies

        assert await sync(world, "global") == f"Synced {copies} command(s)."
        cleared = await sync(world, "clear-here")
        assert "Removed this server's copies" in cleared
        assert registered[GUILD] == [] and len(registered["global"]) == copies
