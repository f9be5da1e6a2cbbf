"""A bot run as a child process (``python -m tests.discordharness.subprocess_bot``).

Like ``python -m bot`` it only sets ``Route.BASE`` from ``DISCORD_API_BASE_URL``; the
gateway URL comes from the fakediscord ``sitecustomize`` shim on ``PYTHONPATH``.
"""

from __future__ import annotations

import asyncio
import os
import signal

import discord
from discord import app_commands


async def _run() -> None:
    discord.http.Route.BASE = f"{os.environ['DISCORD_API_BASE_URL']}/api/v10"
    client = discord.Client(intents=discord.Intents.default(), guild_ready_timeout=0.1)
    tree = app_commands.CommandTree(client)

    @tree.command(name="hello", description="Say hello")
    async def hello(interaction: discord.Interaction, name: str) -> None:
        await interaction.response.send_message(f"hello {name} from pid {os.getpid()}")

    async def setup_hook() -> None:
        await tree.sync()

    client.setup_hook = setup_hook  # type: ignore[method-assign]
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    async with client:
        runner = asyncio.create_task(client.start("subprocess-token"))
        stopper = asyncio.create_task(stop.wait())
        await asyncio.wait({runner, stopper}, return_when=asyncio.FIRST_COMPLETED)
        await client.close()
        stopper.cancel()
        await runner


if __name__ == "__main__":
    asyncio.run(_run())
