"""Helpers every test layer shares: one clock, builders of common records, refusal checks."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pytest

from bot.errors import InputError
from bot.states import ClipSource
from bot.store.clips import StoredClip

CLIP_ID = "0f0e0d0c-aaaa-bbbb-cccc-000000000001"

T = TypeVar("T")


async def wait_for(
    predicate: Callable[[], T | Awaitable[T]],
    timeout: float = 30.0,  # noqa: ASYNC109  # generous: a loaded machine is slow, not wrong
    what: str = "the condition",
) -> T:
    """Poll `predicate` (plain or async) until it returns something truthy; return that.

    What a test waits for instead of a fixed sleep: a row, a request, a message. Fails the
    test with `what` in the message when `timeout` passes first."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value  # type: ignore[return-value]  # awaited above when it was awaitable
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.02)


class Clock:
    """The clock the code under test reads (`clock()`), which the test moves.

    `Clock(t)` stands still at `t` until the test sets or advances `now`. `Clock.wall()` follows
    real time, for tests where real timeouts run alongside (the bot against the fake Discord);
    `offset` moves either forward, e.g. past a 15-minute interaction token.
    """

    def __init__(self, now: float | None = 1000.0) -> None:
        self.now = now  # None: real time
        self.offset = 0.0

    @classmethod
    def wall(cls) -> Clock:
        return cls(None)

    def __call__(self) -> float:
        return (time.time() if self.now is None else self.now) + self.offset


def stored_clip(**overrides: Any) -> StoredClip:
    """A clip of this server as the store returns it; any field can be overridden."""
    fields: dict[str, Any] = {
        "clip_id": CLIP_ID, "guild_id": 1, "job_id": 1, "user_id": 1, "title": "Rain",
        "tags": "lofi", "lyrics": "[Verse] la", "duration": 120.0, "model": "chirp-v5",
        "image_url": None, "audio_url": None, "source": ClipSource.GENERATED,
        "created_at": 0.0, "raw": {},
    }  # fmt: skip
    fields.update(overrides)
    return StoredClip(**fields)


def refused(call: Callable[..., Any], *args: Any, **options: Any) -> InputError:
    """The `InputError` that `call(*args, **options)` raises (the test fails if none)."""
    with pytest.raises(InputError) as caught:
        call(*args, **options)
    return caught.value


# -- answers the bot gave through the fake Discord ---------------------------------------------

EPHEMERAL = 1 << 6


def ephemeral_text(response: dict[str, Any]) -> str:
    """The text of an immediate private reply (callback type 4, ephemeral)."""
    assert response["type"] == 4, response
    assert response["data"]["flags"] & EPHEMERAL
    return str(response["data"]["content"])


async def refusal_text(interaction: Any) -> str:
    """The private message a refused command ends with, before or after deferring."""
    response = await interaction.wait_response()
    if response["type"] == 4:
        return ephemeral_text(response)
    return private_text((await interaction.wait_followups(1, timeout=10))[-1])


def private_text(message: dict[str, Any]) -> str:
    assert message["flags"] & EPHEMERAL, message
    return str(message["content"])
