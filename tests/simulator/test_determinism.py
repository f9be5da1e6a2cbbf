"""A seeded simulator repeats itself: ids, what is derived from them, task times and faults."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from bot.config import ConfigError, load_settings
from bot.simulator import MusicAPISimulator, SimulatorConfig

AUTH = {"Authorization": "Bearer k"}
CREATE = {"custom_mode": False, "mv": "sonic-v5", "gpt_description_prompt": "a calm tune"}


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(headers=AUTH) as s:
        yield s


async def run(session: aiohttp.ClientSession, **config: Any) -> dict[str, Any]:
    """Three creates on a fresh simulator: ids, task times, BPMs and which tasks fail."""
    sim = MusicAPISimulator(SimulatorConfig(generation_time=0, **config))
    base = await sim.start()
    seen: dict[str, Any] = {"tasks": [], "clips": [], "bpm": [], "times": [], "fails": []}
    try:
        for _ in range(3):
            async with session.post(f"{base}/api/v1/sonic/create", json=CREATE) as resp:
                task_id = (await resp.json())["task_id"]
            task = sim.tasks[task_id]
            seen["tasks"].append(task_id)
            seen["times"].append(task.generation_time)
            seen["fails"].append(task.fail_message is not None)
            clip_ids = [clip.clip_id for clip in task.clips]
            seen["clips"] += clip_ids
            if task.fail_message is None:
                body = {"clip_id": clip_ids[0]}
                async with session.post(f"{base}/api/v1/sonic/bpm", json=body) as resp:
                    seen["bpm"].append((await resp.json())["data"])
    finally:
        await sim.stop()
    return seen


async def test_the_same_seed_repeats_everything(session: aiohttp.ClientSession) -> None:
    knobs = {"generation_spread": 0.5, "failure_rate": 0.5}
    first = await run(session, seed=11, **knobs)
    assert first == await run(session, seed=11, **knobs)
    assert len(set(first["clips"])) == 6  # still distinct within a run


async def test_other_seeds_and_no_seed_differ(session: aiohttp.ClientSession) -> None:
    seeded = await run(session, seed=11)
    assert (await run(session, seed=12))["tasks"] != seeded["tasks"]
    # No seed: a fresh one each time, so a restarted demo never reuses ids.
    assert (await run(session))["tasks"] != (await run(session))["tasks"]


def test_the_bot_passes_simulator_seed_on() -> None:
    env = {"DISCORD_TOKEN": "abc.def.ghi", "MUSICAPI_SIMULATE": "1"}
    assert load_settings(env).simulator_seed is None
    assert load_settings({**env, "SIMULATOR_SEED": "42"}).simulator_seed == 42
    with pytest.raises(ConfigError) as caught:
        load_settings({**env, "SIMULATOR_SEED": "forty-two"})
    assert caught.value.variable == "SIMULATOR_SEED"
