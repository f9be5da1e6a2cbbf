"""Running bots against a FakeDiscord: in-process (``running_bot``) or as a subprocess."""

# The public API takes explicit ``timeout=`` arguments (bounded waits by design).
# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import discord

    from .server import FakeDiscord

SHIM_DIR = Path(__file__).resolve().parent / "_shim"
FAKE_TOKEN = "fake-bot-token"


def subprocess_env(fake: FakeDiscord, *, shim: bool = True) -> dict[str, str]:
    """Variables to add to a bot subprocess's environment.

    ``DISCORD_API_BASE_URL`` is read by ``python -m bot`` (it sets ``Route.BASE``).
    ``FAKEDISCORD_GATEWAY_URL``/``FAKEDISCORD_API_BASE`` plus ``PYTHONPATH`` pointing at
    ``_shim/`` make the child's ``sitecustomize`` also set
    ``DiscordWebSocket.DEFAULT_GATEWAY`` — discord.py 2.7's plain ``Client`` connects
    there directly and never asks ``GET /gateway/bot``.
    """
    env = {
        "DISCORD_API_BASE_URL": fake.url,
        "FAKEDISCORD_GATEWAY_URL": fake.gateway_url,
        "FAKEDISCORD_API_BASE": fake.api_base,
    }
    if shim:
        existing = os.environ.get("PYTHONPATH")
        env["PYTHONPATH"] = str(SHIM_DIR) + (os.pathsep + existing if existing else "")
    return env


async def _race(coro: Any, task: asyncio.Task[Any], timeout: float, what: str) -> None:
    """Await ``coro`` unless ``task`` (the bot) dies first or ``timeout`` passes."""
    waiter = asyncio.ensure_future(coro)
    try:
        done, _ = await asyncio.wait(
            {waiter, task}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
        )
    except BaseException:
        waiter.cancel()
        raise
    if waiter in done:
        waiter.result()
        return
    waiter.cancel()
    with contextlib.suppress(BaseException):
        await waiter
    if task in done:
        exc = task.exception()
        raise RuntimeError(f"bot stopped while waiting for {what}") from exc
    raise TimeoutError(f"timed out after {timeout}s waiting for {what}")


@contextlib.asynccontextmanager
async def running_bot(
    fake: FakeDiscord,
    bot: discord.Client,
    *,
    token: str | None = None,
    timeout: float = 10.0,
) -> AsyncIterator[discord.Client]:
    """Start ``bot`` in this event loop against ``fake``; yield once it is ready; close it.

    Create the bot with a small ``guild_ready_timeout`` (e.g. 0.1) or ``on_ready`` waits
    the discord.py default of 2 s.
    """
    restore = fake.patch_discord()
    task = asyncio.create_task(bot.start(token or fake.token or FAKE_TOKEN), name="fakediscord-bot")
    try:
        await _race(fake.wait_ready(timeout), task, timeout, "the bot to identify")
        await _race(bot.wait_until_ready(), task, timeout, "the bot's on_ready")
        yield bot
    finally:
        try:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(bot.close(), timeout)
            if not task.done():
                try:
                    await asyncio.wait_for(task, timeout)
                except (TimeoutError, asyncio.CancelledError):
                    task.cancel()
                    with contextlib.suppress(BaseException):
                        await task
                except Exception:
                    pass
            elif not task.cancelled():
                task.exception()  # retrieve it: no "exception was never retrieved"
        finally:
            restore()
