"""Helpers for tests that talk to the simulator directly: raw HTTP calls."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aiohttp

from bot.simulator import MusicAPISimulator
from tests.helpers import Clock

from .conftest import TEST_KEY

AUTH = {"Authorization": f"Bearer {TEST_KEY}"}
GOOD = {"custom_mode": False, "mv": "sonic-v5", "gpt_description_prompt": "a calm piano tune"}
LYRICS = "[Verse]\nStars they shine above me\nMoonlight softly glows\n\n[Chorus]\nStarry night"


async def call(
    session: aiohttp.ClientSession,
    sim: MusicAPISimulator,
    method: str,
    path: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, Any, Mapping[str, str]]:
    async with session.request(
        method, sim.base_url + path, json=body, headers=AUTH if headers is None else headers
    ) as resp:
        try:
            data: Any = await resp.json(content_type=None)
        except ValueError:
            data = await resp.text()
        return resp.status, data, resp.headers


async def post_ok(
    session: aiohttp.ClientSession, sim: MusicAPISimulator, path: str, body: Any
) -> Any:
    status, data, _ = await call(session, sim, "POST", f"/api/v1{path}", body)
    assert status == 200, (status, data)
    return data


async def finished_clip(
    session: aiohttp.ClientSession,
    sim: MusicAPISimulator,
    clock: Clock,
    **body: Any,
) -> str:
    """A generated Sonic clip (custom lyrics by default), finished by moving the clock."""
    create = {"custom_mode": True, "mv": "sonic-v5", "prompt": LYRICS, **body}
    data = await post_ok(session, sim, "/sonic/create", create)
    clock.now += 1000
    return str(sim.tasks[data["task_id"]].clips[0].clip_id)


async def uploaded_clip(
    session: aiohttp.ClientSession,
    sim: MusicAPISimulator,
    url: str = "https://example.com/my-own-song.mp3",
) -> str:
    data = await post_ok(session, sim, "/sonic/upload", {"url": url})
    return str(data["clip_id"])
