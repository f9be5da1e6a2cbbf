"""Tell the bot owner when something needs them, at most once per kind per hour.

Where: the channel OWNER_ALERT_CHANNEL_ID, else a DM to the first owner. Any code may call
`notify(kind, text)`: it never blocks and never raises. Sending happens in the background;
an alert that cannot be sent is logged and dropped. Alerts repeated within the hour are
counted, and the next one sent for that kind says how many were held back.

    from bot.observability import alerts
    alerts.notify(alerts.AlertKind.ORPHANED_TASKS, "3 tasks may have been billed ...")
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from enum import StrEnum

from bot.redaction import redact

log = logging.getLogger(__name__)

ALERT_INTERVAL_S = 3600.0
DISCORD_MESSAGE_MAX = 2000


class AlertKind(StrEnum):
    KEY_REFUSED = "key_refused"
    CREDITS_LOW = "credits_low"
    UPSTREAM_DOWN = "upstream_down"
    DISCORD_RATE_LIMITS = "discord_rate_limits"
    ORPHANED_TASKS = "orphaned_tasks"
    UNEXPECTED_ERROR = "unexpected_error"
    DAILY_CAP_NEAR = "daily_cap_near"
    DAILY_CAP_REACHED = "daily_cap_reached"


TITLES = {
    AlertKind.KEY_REFUSED: "MusicAPI refused the key",
    AlertKind.CREDITS_LOW: "MusicAPI credits are running low",
    AlertKind.UPSTREAM_DOWN: "MusicAPI is unreachable",
    AlertKind.DISCORD_RATE_LIMITS: "Discord is rate-limiting the bot",
    AlertKind.ORPHANED_TASKS: "Possibly billed tasks without a job",
    AlertKind.UNEXPECTED_ERROR: "Unexpected error",
    AlertKind.DAILY_CAP_NEAR: "The bot's daily cap is nearly used",
    AlertKind.DAILY_CAP_REACHED: "The bot's daily cap is reached",
}


class OwnerAlerts:
    def __init__(
        self,
        send: Callable[[str], Awaitable[None]],
        *,
        clock: Callable[[], float] = time.monotonic,
        interval_s: float = ALERT_INTERVAL_S,
    ) -> None:
        self._send = send
        self._clock = clock
        self._interval = interval_s
        self._last_sent: dict[AlertKind, float] = {}
        self._held_back: Counter[AlertKind] = Counter()
        self._pending: set[asyncio.Task[None]] = set()

    def notify(self, kind: AlertKind, text: str) -> bool:
        """Queue an alert; False when one of this kind went out less than an hour ago."""
        text = redact(text)  # it may quote upstream or error text; it goes to Discord
        now = self._clock()
        last = self._last_sent.get(kind)
        if last is not None and now - last < self._interval:
            self._held_back[kind] += 1
            log.info(
                "owner alert %s held back (one was sent %.0f s ago): %s", kind, now - last, text
            )
            return False
        self._last_sent[kind] = now
        message = f"⚠️ **{TITLES[kind]}**\n{text}"
        held = self._held_back.pop(kind, 0)
        if held:
            message += f"\n({held} more of these in the last hour were not sent separately.)"
        log.warning("owner alert %s: %s", kind, text)
        try:
            task = asyncio.get_running_loop().create_task(self._deliver(kind, message))
        except RuntimeError:  # no event loop (a synchronous caller at shutdown): log only
            return False
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)
        return True

    async def _deliver(self, kind: AlertKind, message: str) -> None:
        if len(message) > DISCORD_MESSAGE_MAX:
            message = message[: DISCORD_MESSAGE_MAX - 1] + "…"
        try:
            await self._send(message)
        except Exception as error:  # the owner's channel may be gone; never fail the caller
            log.warning("could not send the owner alert %s (%s)", kind, type(error).__name__)

    async def drain(self) -> None:
        """Wait for alerts in flight (before closing, and in tests)."""
        if self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)


_current: OwnerAlerts | None = None


def install(alerts: OwnerAlerts | None) -> None:
    """Make `notify` use these alerts (the running bot's); None to detach."""
    global _current
    _current = alerts


def notify(kind: AlertKind, text: str) -> bool:
    """Tell the owner (rate-limited per kind). Without a running bot, it is only logged."""
    if _current is None:
        log.warning("owner alert %s (no bot to send it): %s", kind, text)
        return False
    return _current.notify(kind, text)
