"""MusicAPI as the operator sees it: requests and errors, the last error, outages, credits.

`UpstreamWatch.observe` is the MusicAPI transport's observer: it sees every attempt (retries
included). It counts requests by kind and errors by class, remembers the last error and its
time for `/musicbot status`, alerts the owner at once on a refused key, and when MusicAPI has
not answered at all (timeouts, refused connections, 5xx) for OUTAGE_ALERT_S. Any answer ends
an outage. `check_credits` reads the balance (also done periodically by the bot, which is how
an outage is noticed while nobody makes songs) and alerts below the threshold.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from bot.markdown import escape
from bot.musicapi.client import MusicAPIClient
from bot.musicapi.errors import AuthError, MusicAPIError, RequestTimeoutError, ServerError
from bot.musicapi.models import Credits
from bot.observability import alerts, metrics
from bot.observability.alerts import AlertKind

log = logging.getLogger(__name__)

OUTAGE_ALERT_S = 300.0


@dataclass(frozen=True, slots=True)
class UpstreamError:
    summary: str  # error class and MusicAPI's (redacted) message
    at: float  # unix time


def error_label(error: MusicAPIError) -> str:
    """`RequestTimeoutError` -> `request_timeout`: a fixed, small set of metric labels."""
    name = type(error).__name__.removesuffix("Error") or "unknown"
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


class UpstreamWatch:
    def __init__(
        self,
        *,
        credits_low: float,
        clock: Callable[[], float] = time.time,
        outage_alert_s: float = OUTAGE_ALERT_S,
    ) -> None:
        self.credits_low = credits_low
        self.clock = clock
        self.outage_alert_s = outage_alert_s
        self.last_error: UpstreamError | None = None
        self.down_since: float | None = None
        self.credits: Credits | None = None
        self.credits_at: float | None = None

    def observe(self, kind: str, status: int | None, error: MusicAPIError | None) -> None:
        metrics.upstream_request(kind)
        now = self.clock()
        if error is None:
            self.down_since = None
            return
        metrics.upstream_error(error_label(error))
        self.last_error = UpstreamError(f"{type(error).__name__}: {error}"[:300], now)
        if isinstance(error, AuthError):
            alerts.notify(
                AlertKind.KEY_REFUSED,
                f"MusicAPI answered {status or 'an error'} to a `{kind}` request: "
                f"{escape(str(error), 300)}. "
                "Check MUSICAPI_KEY (the dashboard at musicapi.ai shows your keys); "
                "no song can be made until it is fixed.",
            )
        if not isinstance(error, RequestTimeoutError | ServerError):
            self.down_since = None  # it answered, even if with a refusal
            return
        if self.down_since is None:
            self.down_since = now
        elif now - self.down_since >= self.outage_alert_s:
            minutes = (now - self.down_since) / 60
            alerts.notify(
                AlertKind.UPSTREAM_DOWN,
                f"No usable answer from MusicAPI for {minutes:.0f} minutes "
                f"(last: {type(error).__name__}). Jobs wait and are retried; nothing is lost.",
            )

    def credits_seen(self, credits: Credits) -> None:
        """Record a balance read anywhere (start-up check, /musicbot status, the watch)."""
        self.credits, self.credits_at = credits, self.clock()
        metrics.upstream_credits(credits.credits, credits.extra_credits)
        if credits.total < self.credits_low:
            alerts.notify(
                AlertKind.CREDITS_LOW,
                f"{credits.total:g} credits left ({credits.credits:g} monthly + "
                f"{credits.extra_credits:g} extra), below the alert threshold of "
                f"{self.credits_low:g} (MUSICAPI_CREDITS_LOW). Top up at musicapi.ai.",
            )

    async def check_credits(self, client: MusicAPIClient) -> Credits | None:
        """Read and record the balance; None (and the error noted) when MusicAPI fails."""
        try:
            credits = await client.get_credits()
        except MusicAPIError as error:
            log.info("credit check failed: %s", type(error).__name__)
            return None
        self.credits_seen(credits)
        return credits
