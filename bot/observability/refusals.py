"""Refusals of requests from outside, logged as one summary line a minute instead of one each.

Anyone who can reach the webhook port can send unsigned POSTs by the thousand; a WARNING for
each would flood the log and bury everything else. A `RefusalLog` counts refusals by reason
and writes one line per window (`every_s`) with the counts, once the first refusal of a
window is a window old. Reasons must be fixed words from the code, never request data: they
are the keys of the count, and bounded (`MAX_REASONS`) so a mistake cannot grow memory.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Callable

WINDOW_S = 60.0
MAX_REASONS = 32
OTHER = "other"


class RefusalLog:
    def __init__(
        self,
        logger: logging.Logger,
        what: str,
        *,
        every_s: float = WINDOW_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.logger = logger
        self.what = what  # e.g. "webhook deliveries refused"
        self.every_s = every_s
        self.clock = clock
        self._counts: Counter[str] = Counter()
        self._opened_at: float | None = None
        self._timer: asyncio.TimerHandle | None = None

    def note(self, reason: str) -> None:
        """Count one refusal; the summary follows within `every_s`."""
        if self._opened_at is not None and self.clock() - self._opened_at >= self.every_s:
            self.flush()  # the timer's loop is gone (or never was): close the window here
        if reason not in self._counts and len(self._counts) >= MAX_REASONS:
            reason = OTHER
        self._counts[reason] += 1
        if self._opened_at is None:
            self._opened_at = self.clock()
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:  # no loop (a synchronous caller): summarised at the next flush
                return
            self._timer = loop.call_later(self.every_s, self.flush)

    def flush(self) -> None:
        """Write the window's summary now (also at stop), if anything was refused."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self._counts:
            return
        opened = self._opened_at if self._opened_at is not None else self.clock()
        counts = ", ".join(f"{count} × {reason}" for reason, count in self._counts.most_common())
        total = sum(self._counts.values())
        self._counts.clear()
        self._opened_at = None
        self.logger.warning(
            "%s: %d in the last %.0f s (%s)", self.what, total, self.clock() - opened, counts
        )
