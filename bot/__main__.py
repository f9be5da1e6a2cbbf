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

from bot import startup
from bot.config import ConfigError, Settings, load_settings
from bot.observability.logs import setup_logging
from bot.observability.server import MetricsServer
from bot.observability.starting import StartingHealth, no_gauges
from bot.store.database import DatabaseUnavailable, check_database

log = logging.getLogger("bot")
# A stop signal ends the process within this (Docker waits 10 s before SIGKILL).
STOP_TIMEOUT_S = 7.0


def _point_discord_at(base_url: str) -> None:
    """Send REST and the gateway to another Discord, e.g. the local one the tests run.

    With SHARD_COUNT set, discord.py connects straight to DEFAULT_GATEWAY (without it, it
    asks REST's /gateway/bot), so both must move.
    """
    discord.http.Route.BASE = f"{base_url}/api/v10"
    gateway = "ws" + base_url.removeprefix("http") + "/gateway"
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway)


async def _health_server(settings: Settings, starting: StartingHealth) -> MetricsServer | None:
    """/metrics and /healthz on METRICS_LISTEN, listening before anything slow happens."""
    if settings.metrics_listen is None:
        return None
    host, port = settings.metrics_listen
    server = MetricsServer(host, port, health=starting.report, refresh=no_gauges)
    try:
        # Announced once the database opens: a database that cannot is the only line.
        await server.start(announce=False)
    except OSError as error:
        raise ConfigError(
            "METRICS_LISTEN", f"cannot listen on {host}:{port} ({error.strerror or error})"
        ) from None
    return server


async def _run(settings: Settings) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    starting = StartingHealth()
    server = await _health_server(settings, starting)
    try:
        await _start(settings, stop, starting, server)
    finally:
        if server is not None:
            await server.stop()


async def _start(
    settings: Settings, stop: asyncio.Event, starting: StartingHealth, server: MetricsServer | None
) -> None:
    from bot.app import MusicBot

    # Before Discord: a database that can't be reached or migrated is one line, not a
    # traceback after the login.
    starting.enter("opening the database")
    await check_database(settings.database)
    if server is not None:
        server.announce()
    if stop.is_set():
        log.info("stopped before start-up finished")
        return
    # Before Discord: a refused MusicAPI key is a configuration error like any other.
    starting.enter("checking the MusicAPI key")
    checking = asyncio.create_task(startup.check_musicapi(settings))
    stopper = asyncio.create_task(stop.wait())
    await asyncio.wait({checking, stopper}, return_when=asyncio.FIRST_COMPLETED)
    stopper.cancel()
    if stop.is_set():
        checking.cancel()
        log.info("stopped before start-up finished")
        return
    checking.result()  # re-raises ConfigError for a refused key

    bot = MusicBot(settings)
    bot.ops.server = server  # its own checks answer /healthz once it is set up
    async with bot:
        runner: asyncio.Task[None] | None = None
        try:
            if not await startup.login(bot, settings.discord_token, stop, starting):
                log.info("stopped before start-up finished")
                return
            runner = asyncio.create_task(bot.connect(reconnect=True))
            stopper = asyncio.create_task(stop.wait())
            done, _ = await asyncio.wait({runner, stopper}, return_when=asyncio.FIRST_COMPLETED)
            if stopper in done:
                log.info("stopping")
            stopper.cancel()
        finally:
            # Bounded, so a stop signal always ends the process within seconds: submits in
            # flight get a moment to finish, and every job stays in the database either way.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(bot.close(), STOP_TIMEOUT_S)
        assert runner is not None
        if not runner.done():
            # The bounded close gave up on a connection that would not end: stop waiting.
            runner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await runner
            return
        await runner  # re-raises what ended the connection (a refused token, a bad intent)


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
    startup.quiet_network_tracebacks()
    if settings.discord_api_base_url:
        _point_discord_at(settings.discord_api_base_url)
    try:
        asyncio.run(_run(settings))
    except ConfigError as error:
        print(f"Configuration error: {error.variable}: {error.problem}", file=sys.stderr)
        return 2
    except startup.StartupFailed as error:
        log.error("%s; exiting", error)
        return 1
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
    except Exception as error:
        if not startup.network_failure(error):
            raise
        log.error("lost the connection to Discord for good (%s); exiting", startup.describe(error))
        return 1
    return 0


if __name__ == "__main__":
    from bot.cli import main as cli

    sys.exit(cli(run=main))
