"""/credits, /queue and /quota budget through the real client."""

from __future__ import annotations

from bot.simulator import SimulatorConfig
from bot.states import BudgetPeriod
from tests.e2e.conftest import CHANNEL, GUILD, MEMBER, MODERATOR, MakeWorld, answer_of
from tests.helpers import ephemeral_text


async def test_credits_show_what_is_left_and_when_it_resets(make_world: MakeWorld) -> None:
    async with make_world() as world:
        await world.song(description="first")
        await world.clip_messages(2)
        interaction = await world.discord.invoke_slash(
            guild_id=GUILD, channel_id=CHANNEL, user_id=MEMBER, command="credits"
        )
        response = await answer_of(interaction)
        assert response["data"]["flags"] & 64
        fields = {f["name"]: f["value"] for f in response["data"]["embeds"][0]["fields"]}
        assert "**80** of 100" in fields["Server budget"]
        assert "20 credits spent" in fields["You"]
        assert "<t:" in fields["Resets"]


async def test_queue_lists_jobs_in_flight(make_world: MakeWorld) -> None:
    async with make_world(sim_config=SimulatorConfig(generation_time=5)) as world:
        await answer_of(await world.song(description="still cooking"))
        interaction = await world.discord.invoke_slash(
            guild_id=GUILD, channel_id=CHANNEL, user_id=MODERATOR, command="queue"
        )
        response = await answer_of(interaction)
        text = response["data"]["embeds"][0]["description"]
        assert "still cooking" in text and f"<@{MEMBER}>" in text and "<t:" in text


async def test_budget_needs_manage_server_at_run_time(make_world: MakeWorld) -> None:
    async with make_world() as world:
        denied = await world.discord.invoke_slash(
            guild_id=GUILD, channel_id=CHANNEL, user_id=MEMBER, command="quota",
            subcommand="budget", options={"amount": 5000, "period": "day"},
        )  # fmt: skip
        assert "moderators" in ephemeral_text(await answer_of(denied)).lower()
        assert (await world.bot.quota.standing(GUILD)).settings.budget == 100

        # A daily budget fits an allowance per day (of a month of 100, 40 a day might not).
        await world.bot.owner_ceilings.set_allowance(GUILD, 40, BudgetPeriod.DAY, owner_id=1)
        allowed = await world.discord.invoke_slash(
            guild_id=GUILD, channel_id=CHANNEL, user_id=MODERATOR, command="quota",
            subcommand="budget", options={"amount": 40, "period": "day"},
            permissions=1 << 5,
        )  # fmt: skip
        assert "40" in ephemeral_text(await answer_of(allowed))
        settings = (await world.bot.quota.standing(GUILD)).settings
        assert (settings.budget, settings.budget_period) == (40, "day")
        async with world.bot.db.read() as conn:
            from bot.store import ledger as ledger_sql

            entries = await ledger_sql.guild_entries(conn, GUILD)
        assert entries[-1].moderator_id == MODERATOR

        # Lowering the budget stops new songs (40 left, a song costs 20: two more, then no).
        for n in range(2):
            assert (await answer_of(await world.song(description=f"s{n}")))["type"] == 5
        refused = await answer_of(await world.song(description="one too many"))
        assert "daily budget" in ephemeral_text(refused)


async def test_one_server_never_sees_another_servers_jobs(make_world: MakeWorld) -> None:
    other_guild, other_channel = 900000000000000101, 900000000000000102
    async with make_world(sim_config=SimulatorConfig(generation_time=5)) as world:
        world.discord.add_guild(other_guild, channels=[other_channel])
        await answer_of(await world.song(description="private to the first server"))
        interaction = await world.discord.invoke_slash(
            guild_id=other_guild, channel_id=other_channel, user_id=MEMBER, command="queue"
        )
        response = await answer_of(interaction)
        assert response["data"]["content"] == "Nothing is being made right now."
        credits = await world.discord.invoke_slash(
            guild_id=other_guild, channel_id=other_channel, user_id=MEMBER, command="credits"
        )
        fields = {
            f["name"]: f["value"] for f in (await answer_of(credits))["data"]["embeds"][0]["fields"]
        }
        assert "**100** of 100" in fields["Server budget"]
