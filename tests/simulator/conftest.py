"""Fixtures shared by the simulator's own tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from bot.simulator import MusicAPISimulator, SimulatorConfig

Sim = Callable[..., Awaitable[MusicAPISimulator]]


@pytest.fixture
async def make_sim(request: pytest.FixtureRequest) -> AsyncIterator[Sim]:
    """``await make_sim(**config)`` -> a started simulator with slow songs, stopped after.
    Seeded for repeatable ids; a test module may pick its seed with ``SIM_SEED``."""
    started: list[MusicAPISimulator] = []
    seed = getattr(request.module, "SIM_SEED", 3)

    async def factory(**config: Any) -> MusicAPISimulator:
        config.setdefault("generation_time", 10.0)
        config.setdefault("seed", seed)
        sim = MusicAPISimulator(SimulatorConfig(**config))
        await sim.start()
        started.append(sim)
        return sim

    yield factory
    for sim in started:
        await sim.stop()
