"""/healthz while the bot starts: which step of start-up it is in, from the first second.

The endpoint listens before anything slow happens (the database, the MusicAPI key check, the
login to Discord), so an operator whose Discord is unreachable reads a 503 with the step and
the last error instead of "connection refused" for minutes. Once the bot's own set-up runs,
the full checks of `health.check` take over.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from bot.observability.health import HealthReport


class StartingHealth:
    """The current start-up step, and when the next login attempt is due while waiting."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.step = "reading the configuration"
        self._retry_at: float | None = None
        self._attempt = 0
        self._last_error: str | None = None

    def enter(self, step: str) -> None:
        self.step, self._retry_at, self._attempt, self._last_error = step, None, 0, None

    def login_attempt(self, attempt: int) -> None:
        self.step, self._attempt, self._retry_at = "logging in to Discord", attempt, None

    def login_failed(self, attempt: int, reason: str, retry_in_s: float) -> None:
        self.step, self._attempt = "logging in to Discord", attempt
        self._last_error = reason
        self._retry_at = self._clock() + retry_in_s

    def reasons(self) -> list[str]:
        step = self.step
        if self._retry_at is not None:
            left = max(0.0, self._retry_at - self._clock())
            step += f" (attempt {self._attempt}, next in {left:.0f} s)"
        elif self._attempt:
            step += f" (attempt {self._attempt})"
        reasons = [f"starting: {step}"]
        if self._last_error is not None:
            reasons.append(f"last error: {self._last_error}")
        return reasons

    async def report(self) -> HealthReport:
        return HealthReport(healthy=False, reasons=self.reasons())


async def no_gauges() -> None:
    """Nothing to refresh at scrape time before the database is open."""
