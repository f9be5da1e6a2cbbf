"""Songs delivered while MusicAPI's file server misbehaves: attached after passing 503s, linked
with the true reason when it keeps failing past the fetch budget."""

from __future__ import annotations

from bot.delivery.media import UNAVAILABLE_NOTE
from bot.simulator import SimulatorConfig
from tests.e2e.conftest import MakeWorld


async def test_songs_are_attached_after_passing_cdn_503s(make_world: MakeWorld) -> None:
    config = SimulatorConfig(generation_time=0.6, cdn_failures=2)
    async with make_world(sim_config=config) as world:
        await world.song(description="through a flaky CDN")
        messages = await world.clip_messages(2)
        assert len(messages) == 2
        for message in messages:
            assert [a["filename"].rsplit(".", 1)[1] for a in message["attachments"]].count(
                "wav"
            ) == 1
            assert "🔗" not in message["content"]
        audio = [name for name in world.sim.cdn_fetches if name.endswith(".wav")]
        assert len(audio) == 2 and all(world.sim.cdn_fetches[n] == 3 for n in audio)


async def test_a_cdn_failing_past_the_budget_links_with_the_true_reason(
    make_world: MakeWorld,
) -> None:
    config = SimulatorConfig(generation_time=0.6, cdn_always_fail=True)
    async with make_world(sim_config=config) as world:
        world.bot.scheduler.outcomes.fetch_budget_s = 1.0  # type: ignore[attr-defined]
        await world.song(description="through a broken CDN")
        messages = await world.clip_messages(2)
        assert len(messages) == 2
        for message in messages:
            assert not any(a["filename"].endswith(".wav") for a in message["attachments"])
            assert UNAVAILABLE_NOTE in message["content"]
            assert "too large" not in message["content"]
