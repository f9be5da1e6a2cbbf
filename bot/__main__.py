"""`python -m bot` (or the `musicbot` command): read the configuration, then run until stopped.

`python -m bot backup PATH` copies the database instead (see `bot/cli.py`).

A bad configuration prints one line naming the variable and exits with status 2; no traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from urllib.parse import urlparse

import discord
import yarl
from dotenv import find_dotenv, load_dotenv

from bot.config import ConfigError, Settings, load_settings
from bot.observability.logs import setup_logging
from bot.store.database import DatabaseUnavailable, check_database

log = logging.getLogger("bot")


def _point_discord_at(base_url: str) -> None:
    """Send REST and the gateway to another Discord, e.g. the local one the tests run.

    With SHARD_COUNT set, discord.py connects straight to DEFAULT_GATEWAY (without it, it
    asks REST's /gateway/bot), so both must move.
    """
    discord.http.Route.BASE = f"{base_url}/api/v10"
    gateway = "ws" + base_url.removeprefix("http") + "/gateway"
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway)


async def _run(settings: Settings) -> None:
    from bot.app import MusicBot

    bot = MusicBot(settings)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    async with bot:
        runner = asyncio.create_task(bot.start(settings.discord_token))
        stopper = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait({runner, stopper}, return_when=asyncio.FIRST_COMPLETED)
        if stopper in done:
            log.info("stopping")
            await bot.close()
        stopper.cancel()
        await runner  # re-raises LoginFailure and the like


def _database_password(settings: Settings) -> str | None:
    """The password inside a postgresql:// URL, which must not appear in a log line either."""
    return urlparse(settings.postgres_url).password if settings.postgres_url else None


def main() -> int:
    load_dotenv(find_dotenv(usecwd=True))  # the .env of the directory the bot runs in
    try:
        settings = load_settings()
    except ConfigError as error:
        print(f"Configuration error: {error.variable}: {error.problem}", file=sys.stderr)
        return 2
    setup_logging(
        settings.log_level,
        settings.log_format,
        secrets=(settings.discord_token, settings.musicapi_key, _database_password(settings)),
    )
    try:
        # Before Discord: a database that can't be reached or migrated is one line, not a
        # traceback after the login.
        asyncio.run(check_database(settings.database))
    except DatabaseUnavailable as error:
        print(f"Configuration error: DATABASE_URL: {error}", file=sys.stderr)
        return 2
    if settings.discord_api_base_url:
        _point_discord_at(settings.discord_api_base_url)
    try:
        asyncio.run(_run(settings))
    except discord.LoginFailure:
        print(
            "Configuration error: DISCORD_TOKEN: Discord rejected the token; copy it again from "
            "the Developer Portal (Bot tab)",
            file=sys.stderr,
        )
        return 2
    except DatabaseUnavailable as error:
        print(f"Configuration error: DATABASE_URL: {error}", file=sys.stderr)
        return 2
    except discord.PrivilegedIntentsRequired:
        print("Discord refused a privileged intent the bot asked for.", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    from bot.cli import main as cli

    sys.exit(cli(run=main))
