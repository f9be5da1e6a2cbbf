"""Meeting the operator on a bad day: the checks and waits between configuration and "ready".

- The MusicAPI key is checked with `get-credits` before anything else: a refused key stops
  start-up with one line naming MUSICAPI_KEY (exit 2, like any configuration error); an
  unreachable MusicAPI is a warning, and the bot starts anyway; few credits left is a warning.
- Logging in to Discord has a timeout of its own (discord.py would wait 300 s on a server that
  accepts the connection and never answers), and an unreachable or silent Discord is retried
  with growing delays, one log line per attempt, never a traceback. discord.py's own reconnect
  messages lose their tracebacks for network errors too (`QuietNetworkErrors`).
- A stop signal ends every wait at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

import aiohttp
import discord

from bot.config import ConfigError, Settings
from bot.musicapi.client import MusicAPIClient
from bot.musicapi.errors import AuthError, MusicAPIError
from bot.musicapi.models import Credits

if TYPE_CHECKING:
    from bot.app import MusicBot
    from bot.observability.starting import StartingHealth

log = logging.getLogger("bot")

# Longer than a healthy login (well under a second) plus the set-up that follows it, short
# enough that an operator hears about a silent Discord within 30 s.
LOGIN_TIMEOUT_S = 20.0
# Waits between login attempts, then the last one for ever after.
RETRY_DELAYS_S = (5.0, 10.0, 20.0, 40.0, 80.0, 160.0, 300.0)
# The start-up credits check must not hold the start for long when MusicAPI is slow.
CREDITS_CHECK_TIMEOUT_S = 10.0


class StartupFailed(Exception):
    """Start-up cannot go on; the message is the one line the operator sees."""


def network_failure(error: BaseException) -> bool:
    """An outage or a silent server, not a bug: worth a line and a retry, not a traceback."""
    if isinstance(error, discord.HTTPException):
        return error.status >= 500 or error.status == 429
    return isinstance(
        error,
        OSError
        | TimeoutError
        | aiohttp.ClientError
        | discord.GatewayNotFound
        | discord.ConnectionClosed,
    )


def describe(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


class QuietNetworkErrors(logging.Filter):
    """Folds the traceback of a network error logged by discord.py into its one line.

    discord.py logs "Attempting a reconnect in 4.21s" with the full traceback of a connection
    failure; the operator needs the delay and the reason, not 79 lines. Tracebacks of anything
    else (real bugs) are kept."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.name.startswith("discord"):
            error = record.exc_info[1]
            if error is not None and network_failure(error):
                record.msg = f"{record.getMessage()} ({describe(error)})"
                record.args = None
                record.exc_info = None
                record.exc_text = None
        return True


def quiet_network_tracebacks() -> None:
    for handler in logging.getLogger().handlers:
        handler.addFilter(QuietNetworkErrors())


async def check_musicapi(settings: Settings) -> None:
    """Ask MusicAPI for the account's credits: raises ConfigError for a refused key, warns
    when MusicAPI cannot be reached or the credits run low."""
    if settings.musicapi_simulate:
        return
    # The check says what it found in one line of its own; the transport's per-attempt lines
    # would only repeat it.
    transport_log = logging.getLogger("bot.musicapi")
    previous_level = transport_log.level
    transport_log.setLevel(logging.ERROR)
    try:
        credits = await _credits(settings)
    except AuthError as error:
        raise ConfigError(
            "MUSICAPI_KEY",
            f"MusicAPI refused the key ({error}); copy it again from your MusicAPI dashboard",
        ) from None
    except MusicAPIError as error:
        log.warning(
            "could not check the MusicAPI key: MusicAPI is not reachable (%s); starting "
            "anyway, songs will fail until it answers",
            describe(error),
        )
        return
    finally:
        transport_log.setLevel(previous_level)
    left = credits.credits + credits.extra_credits
    log.info("MusicAPI key accepted: %g credits left", left)
    if settings.credits_low and left < settings.credits_low:
        log.warning(
            "MusicAPI credits are low: %g left (warning below MUSICAPI_CREDITS_LOW=%d); top up "
            "the account or songs will start failing",
            left,
            settings.credits_low,
        )


async def _credits(settings: Settings) -> Credits:
    timeout = aiohttp.ClientTimeout(total=CREDITS_CHECK_TIMEOUT_S)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        client = MusicAPIClient(
            session,
            settings.musicapi_base_url,
            settings.musicapi_key or "",
            max_retries=1,
            request_timeout=CREDITS_CHECK_TIMEOUT_S / 2,
        )
        return await client.get_credits()


async def _interruptible_sleep(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)


async def login(
    bot: MusicBot, token: str, stop: asyncio.Event, progress: StartingHealth | None = None
) -> bool:
    """Log in, retrying an unreachable or silent Discord until it answers or `stop` is set.

    Returns False when stopped first. Raises LoginFailure for a refused token, and
    StartupFailed when Discord fails after the bot's own set-up began (it cannot run twice).
    `progress` hears of each attempt and wait, for /healthz."""
    attempt = 0
    while not stop.is_set():
        if progress is not None:
            progress.login_attempt(attempt + 1)
        attempt_task = asyncio.create_task(bot.login(token), name="discord-login")
        stopper = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait(
            {attempt_task, stopper}, timeout=LOGIN_TIMEOUT_S, return_when=asyncio.FIRST_COMPLETED
        )
        stopper.cancel()
        if attempt_task in done:
            error = attempt_task.exception()
            if error is None:
                return True
            if not network_failure(error):
                raise error
            reason = describe(error)
        else:
            attempt_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await attempt_task
            if stop.is_set():
                return False
            reason = f"no answer within {LOGIN_TIMEOUT_S:.0f} s"
        if bot.setup_started:
            raise StartupFailed(f"Discord stopped answering during start-up ({reason})")
        await _fresh_http_session(bot)
        delay = RETRY_DELAYS_S[min(attempt, len(RETRY_DELAYS_S) - 1)]
        attempt += 1
        if progress is not None:
            progress.login_failed(attempt, reason, delay)
        log.warning(
            "Discord is not reachable (%s); retrying in %.0f s (attempt %d)",
            reason,
            delay,
            attempt,
        )
        await _interruptible_sleep(stop, delay)
    return False


async def _fresh_http_session(bot: MusicBot) -> None:
    """discord.py opens a new HTTP session at every login without closing the last one:
    close it, and let the next login make a connector too, so retries leak nothing."""
    with contextlib.suppress(Exception):
        await bot.http.close()
    bot.http.connector = discord.utils.MISSING
