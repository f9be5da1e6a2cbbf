"""When to look at a job next.

A fixed poll (the official SDK polls every 5 s) spends most requests on tasks that are nowhere
near done. Upstream tells us how far a task has got, so the delay follows that: long while
the task is queued, shorter once clips are rendering, short once audio is streaming (the
final file is seconds away). Old jobs slow down, and errors back off exponentially.
"""

from __future__ import annotations

import random

# Fractions of POLL_INTERVAL_S per upstream state.
STATE_FACTORS = {
    "queued": 1.0,  # not yet acknowledged by a first poll, or 202 not_ready
    "pending": 1.0,
    "running": 0.5,
    "streaming": 0.2,
}
# The first look comes sooner than a full interval: short operations finish that quickly.
FIRST_POLL_FACTOR = 0.5
# Past this age (in intervals) a job is unusually slow; look less often.
SLOW_AFTER_INTERVALS = 20
MAX_BACKOFF_S = 300.0


def first_poll_delay(base: float) -> float:
    return base * FIRST_POLL_FACTOR


def next_poll_delay(base: float, state: str, age: float) -> float:
    delay = base * STATE_FACTORS.get(state, 1.0)
    if age > base * SLOW_AFTER_INTERVALS:
        delay *= 2
    return delay


def backoff_delay(base: float, errors: int, retry_after: float | None = None) -> float:
    """Exponential backoff with jitter after `errors` consecutive failures (errors >= 1)."""
    delay = min(base * (2.0 ** max(0, errors - 1)), MAX_BACKOFF_S)
    delay *= random.uniform(0.8, 1.2)
    if retry_after is not None:
        delay = max(delay, retry_after)
    return delay
