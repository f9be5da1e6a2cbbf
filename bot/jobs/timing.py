"""When to look at a job next.

A fixed poll (the official SDK polls every 5 s) spends most requests on tasks that are nowhere
near done. The schedule instead uses what finished jobs taught it (`learning.py`): no poll
before completion becomes plausible (the 1st percentile of the generation time), then one
every POLL_TARGET_LAG_S, so 99 % of completions are noticed within the target with as few
requests as that allows. Upstream progress refines it (a reported percentage pushes the next
look out), jobs far past their usual time slow down, and errors back off exponentially.

With webhooks, a poll is only a safety net: the first one comes after the 99th percentile plus
a margin, then rarely.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from bot.jobs.learning import Estimate

MAX_BACKOFF_S = 300.0
# With webhooks: the first safety poll comes this long after the usual latest completion (in
# POLL_INTERVAL_S, at least this fraction of that time), and later ones this far apart: with
# the default 15 s, 30 s and 60 s.
SAFETY_MARGIN_INTERVALS = 2.0
SAFETY_MARGIN_FRACTION = 0.25
SAFETY_SPACING_INTERVALS = 4.0


@dataclass(frozen=True, slots=True)
class Policy:
    target_lag: float  # POLL_TARGET_LAG_S
    max_interval: float  # POLL_INTERVAL_S: the longest wait between looks; base of backoffs
    push: bool = False  # webhooks on: polling is a safety net

    def first_delay(self, est: Estimate) -> float:
        if self.push:
            return self.safety_first(est)
        return max(est.p01, 0.0)

    def safety_first(self, est: Estimate) -> float:
        margin = SAFETY_MARGIN_INTERVALS * self.max_interval
        return est.p99 + max(margin, SAFETY_MARGIN_FRACTION * est.p99)

    def safety_spacing(self, est: Estimate) -> float:
        return max(SAFETY_SPACING_INTERVALS * self.max_interval, est.p50 / 2)

    def next_delay(
        self, est: Estimate, state: str, age: float, progress: int | None = None
    ) -> float:
        """Seconds until the next look at a job `age` seconds old that upstream says is in
        `state` (not finished). POLL_INTERVAL_S is the longest wait between two looks, so a
        shorter one than the target wins."""
        if self.push:
            return max(self.safety_first(est) - age, self.safety_spacing(est))
        spacing = min(self.target_lag, self.max_interval)
        if est.p01 - age > spacing / 2:
            # Looked early (e.g. an unverifiable webhook asked for it): wait until completion
            # becomes plausible.
            return est.p01 - age
        if state == "running" and progress is not None and 0 < progress < 100:
            # Upstream says how far it got: at its pace, the rest takes this long. Look at
            # half of it, so a speed-up is still caught within the target.
            remaining = age * (100 - progress) / progress
            spacing = max(spacing, min(remaining / 2, self.max_interval))
        if age > est.p99 and state != "streaming":
            # Far past its usual time: probably stuck upstream; look less often.
            spacing = max(spacing, min(self.max_interval, spacing * age / est.p99))
        return spacing


def backoff_delay(base: float, errors: int, retry_after: float | None = None) -> float:
    """Exponential backoff with jitter after `errors` consecutive failures (errors >= 1)."""
    delay = min(base * (2.0 ** max(0, errors - 1)), MAX_BACKOFF_S)
    delay *= random.uniform(0.8, 1.2)
    if retry_after is not None:
        delay = max(delay, retry_after)
    return delay
