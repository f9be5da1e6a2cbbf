"""How long MusicAPI takes, learned from the jobs that finished.

Per family, operation and model, the generation times of recent finished jobs (kept in the
jobs table, so the estimate survives restarts and every process sharing the database learns
from every other) are fitted with a log-normal distribution. Until a kind of job has
`MIN_SAMPLES` finished examples, a prior stands in for it.

The estimate gives the two numbers the schedule needs: when completion becomes plausible (the
1st percentile: no poll before it) and when it is all but certain (the 99th: where a
webhook-driven job gets its safety-net poll).
"""

from __future__ import annotations

import math
import statistics
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass

from bot.jobs.operations import is_stems
from bot.store import jobs as job_sql
from bot.store.database import Database
from bot.store.jobs import Job

MIN_SAMPLES = 20
WINDOW = 200  # the newest finished jobs per kind that count
HORIZON_S = 14 * 24 * 3600.0  # older jobs say little about today's upstream
REFRESH_S = 60.0  # how often other processes' finished jobs are read back
Z99 = 2.326  # standard normal quantile of 0.99
MIN_SIGMA = 0.03  # nothing upstream is that regular; keeps a tiny sample from overfitting

Kind = tuple[str, str, str | None]  # family, operation, model


@dataclass(frozen=True, slots=True)
class Estimate:
    p01: float
    p50: float
    p99: float
    samples: int  # 0: the prior

    @classmethod
    def lognormal(cls, median: float, sigma: float, samples: int = 0) -> Estimate:
        return cls(
            p01=median * math.exp(-Z99 * sigma),
            p50=median,
            p99=median * math.exp(Z99 * sigma),
            samples=samples,
        )


# The configured priors. Sonic has no documented generation time (docs/musicapi/protocol.md §2.3:
# the SDK's 300 s timeout implies minutes at most); Producer and Nuro are stated as about 30 s. Wide
# on purpose: polling a little too early costs a few requests, too late costs members' time.
SONIC_PRIOR = Estimate.lognormal(median=80.0, sigma=0.6)
FAST_PRIOR = Estimate.lognormal(median=30.0, sigma=0.6)
PRIORS: dict[str, Estimate] = {
    "sonic": SONIC_PRIOR,
    "producer": FAST_PRIOR,
    "nuro": FAST_PRIOR,
    "riffusion": SONIC_PRIOR,
    "studio": SONIC_PRIOR,
}
STEMS_PRIOR = Estimate.lognormal(median=40.0, sigma=0.6)


def prior_for(family: str, operation: str) -> Estimate:
    if is_stems(operation):
        return STEMS_PRIOR
    return PRIORS.get(family, SONIC_PRIOR)


def fit(durations: list[float]) -> Estimate:
    """Log-normal fit; the 1st percentile never above what was actually seen."""
    logs = [math.log(max(d, 0.5)) for d in durations]
    mu = statistics.fmean(logs)
    sigma = max(statistics.pstdev(logs), MIN_SIGMA)
    fitted = Estimate.lognormal(math.exp(mu), sigma, len(durations))
    lowest = min(durations)
    if fitted.p01 > lowest:  # a heavier left tail than log-normal: trust the data
        return Estimate(lowest, fitted.p50, fitted.p99, fitted.samples)
    return fitted


class CompletionTimes:
    """The learned estimate per kind of job, refreshed from the database."""

    def __init__(self, db: Database | None, *, clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self.clock = clock
        self._samples: dict[Kind, deque[float]] = defaultdict(lambda: deque(maxlen=WINDOW))
        self._fits: dict[Kind, Estimate] = {}
        self._loaded_at = float("-inf")

    def estimate(self, family: str, operation: str, model: str | None) -> Estimate:
        kind = (family, operation, model)
        found = self._fits.get(kind)
        if found is not None:
            return found
        samples = self._samples.get(kind)
        if samples is not None and len(samples) >= MIN_SAMPLES:
            found = self._fits[kind] = fit(list(samples))
            return found
        return prior_for(family, operation)

    def observe(self, family: str, operation: str, model: str | None, duration: float) -> None:
        """A job of this process just finished (others' are read on the next refresh)."""
        kind = (family, operation, model)
        self._samples[kind].append(duration)
        self._fits.pop(kind, None)

    async def refresh(self, *, force: bool = False) -> None:
        """Re-read recent finished jobs (from every process) at most every REFRESH_S."""
        now = self.clock()
        if self.db is None or (not force and now - self._loaded_at < REFRESH_S):
            return
        self._loaded_at = now
        async with self.db.read() as conn:
            rows = await job_sql.recent_durations(conn, now - HORIZON_S, 50 * WINDOW)
        samples: dict[Kind, deque[float]] = defaultdict(lambda: deque(maxlen=WINDOW))
        for row in reversed(rows):  # oldest first, so the deque keeps the newest
            samples[(row.family, row.operation, row.model)].append(row.duration_s)
        self._samples = samples
        self._fits = {}


def generation_time(
    job: Job, now: float, pushed_at: float | None, target_lag: float
) -> float | None:
    """How long upstream took, as well as this job can tell, for the learned schedule.

    A webhook arrives when the task finishes. A poll only bounds it: after the last time
    upstream said "not done" (the middle of that gap is the estimate), or, when the first
    poll already found it done, some time before: one target spacing earlier is assumed,
    which errs towards polling a little early rather than noticing late."""
    if job.submitted_at is None:
        return None
    if pushed_at is not None:
        return max(0.0, pushed_at - job.submitted_at)
    if job.seen_pending_at is not None and job.seen_pending_at > job.submitted_at:
        return (job.seen_pending_at + now) / 2 - job.submitted_at
    return max(0.0, now - job.submitted_at - target_lag)
