"""The most status checks per second the process sends MusicAPI (MUSICAPI_MAX_POLLS_PER_S).

A token bucket in front of dispatch: tokens come in at `rate` per second, up to `burst` of
them saved, and each poll a pass starts spends one. The scheduler hands `admit` its due jobs
in order of due time; the oldest take the tokens there are, and the rest are simply not
started. Nothing is rewritten for a job held back, so its due time stays where it was and it
is first in line at the next pass, ahead of every job that came due after it: when the ceiling
is reached, lag grows evenly over all jobs instead of some of them starving.

Work that sends no status check (posting a finished job, applying a pushed webhook) needs no
token and is never held back.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import TypeVar

Item = TypeVar("Item")


class PollBudget:
    def __init__(
        self, rate: float | None, clock: Callable[[], float], *, burst: float | None = None
    ) -> None:
        """`rate` polls per second on average (None: no ceiling); `burst`, the most that may
        go out at once after a quiet spell, defaults to one second's worth (at least 1)."""
        if rate is not None and not rate > 0:
            raise ValueError(f"rate must be positive, got {rate}")
        self.rate = rate
        self.burst = max(1.0, rate if burst is None else burst) if rate is not None else math.inf
        self._clock = clock
        self._tokens = self.burst
        self._at = clock()
        self.held = 0  # polls the last `admit` could not start: they wait for tokens

    @property
    def limited(self) -> bool:
        return self.rate is not None

    def _refill(self) -> None:
        now = self._clock()
        if self.rate is not None:
            # max(): a clock stepped backwards adds nothing rather than taking tokens away.
            self._tokens = min(self.burst, self._tokens + max(0.0, now - self._at) * self.rate)
        self._at = now

    def room(self) -> int | None:
        """How many polls may start now (None: any number)."""
        if self.rate is None:
            return None
        self._refill()
        return math.floor(self._tokens)

    def wait_s(self) -> float:
        """Seconds until the next poll may start (0 when one may start now)."""
        if self.rate is None:
            return 0.0
        self._refill()
        return max(0.0, (1.0 - self._tokens) / self.rate)

    def admit(self, due: Iterable[Item], polls: Callable[[Item], bool]) -> list[Item]:
        """Of `due` (oldest due first), what may start now, in the same order: every item for
        which `polls` is false, and the polling ones while tokens last, each spending one.
        Once one polling item is held back, so is every later one: none overtakes it."""
        self._refill()
        admitted: list[Item] = []
        self.held = 0
        for item in due:
            if not polls(item):
                admitted.append(item)
            elif self.held == 0 and self._tokens >= 1.0:
                self._tokens -= 1.0
                admitted.append(item)
            else:
                self.held += 1
        return admitted
