"""The ceiling on status checks (MUSICAPI_MAX_POLLS_PER_S), on a clock the test moves.

`Queue` stands in for the jobs table the scheduler reads: each pass takes the due jobs
ordered by due time (`ORDER BY next_run_at`), hands them to the budget, polls what it admits
and schedules each polled job's next look; a job held back keeps its due time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pytest

from bot.jobs.poll_budget import PollBudget
from tests.helpers import Clock

TICK = 0.01  # how often the modelled loop runs a pass
EPSILON = 2 * TICK


@dataclass
class Queue:
    budget: PollBudget
    clock: Clock
    spacing: float  # a polled job is due again this long after its poll
    due_at: dict[int, float] = field(default_factory=dict)
    polls: list[tuple[float, int, float]] = field(default_factory=list)  # (at, job, due at)
    done_after: int | None = None  # polls after which a job stops (None: never)

    def add(self, job: int, due_at: float) -> None:
        self.due_at[job] = due_at

    def run_pass(self) -> None:
        now = self.clock()
        due = sorted((at, job) for job, at in self.due_at.items() if at <= now)
        for at, job in self.budget.admit(due, lambda item: True):
            self.polls.append((now, job, at))
            if self.done_after is not None and self.count(job) >= self.done_after:
                del self.due_at[job]
            else:
                self.due_at[job] = now + self.spacing

    def count(self, job: int) -> int:
        return sum(1 for _, polled, _ in self.polls if polled == job)

    def run_until(self, end: float, arrivals: dict[int, float] | None = None) -> None:
        pending = dict(arrivals or {})
        while self.clock() < end:
            for job, at in list(pending.items()):
                if at <= self.clock():
                    self.add(job, at)
                    del pending[job]
            self.run_pass()
            self.clock.now = round(self.clock() + TICK, 9)


def test_the_rate_is_held_over_any_window() -> None:
    clock = Clock(-100.0)
    rate = 10.0
    budget = PollBudget(rate, clock)
    clock.now = 0.0  # after 100 quiet seconds, only one burst is saved up
    queue = Queue(budget, clock, spacing=0.05)  # 2,000 jobs due every 50 ms: far above it
    for job in range(2000):
        queue.add(job, 0.0)
    queue.run_until(20.0)
    times = [at for at, _, _ in queue.polls]
    # Every window of w seconds holds at most one burst plus w × rate polls ...
    for i, start in enumerate(times):
        for window in (0.5, 1.0, 5.0):
            inside = sum(1 for t in times[i:] if t < start + window)
            assert inside <= budget.burst + window * rate + 1e-9
    # ... and the budget is used, not wasted: over the run, the rate itself.
    assert len(times) == pytest.approx(20.0 * rate + budget.burst, abs=2)


def test_every_due_job_is_polled_within_n_over_rate_oldest_due_first() -> None:
    clock = Clock(100.0)
    rate, jobs = 8.0, 200
    queue = Queue(PollBudget(rate, clock), clock, spacing=1.0)
    # All due already, each a little later than the one before (job 0 is the oldest).
    for job in range(jobs):
        queue.add(job, 100.0 - 10.0 + job * 0.01)
    start = clock()
    queue.run_until(start + 3 * jobs / rate)
    first: dict[int, float] = {}
    for at, job, _ in queue.polls:
        first.setdefault(job, at)
    assert sorted(first, key=first.__getitem__) == list(range(jobs))  # oldest due first
    bound = math.ceil(jobs / rate) + EPSILON
    assert max(first.values()) - start <= bound
    # Later rounds too: no job waits past its due time longer than a full round of the others.
    waits = [at - due for at, _, due in queue.polls if due >= start]
    assert waits and max(waits) <= bound
    counts = [queue.count(job) for job in range(jobs)]
    assert max(counts) - min(counts) <= 1  # shared evenly


def test_no_job_starves_while_new_ones_keep_arriving() -> None:
    clock = Clock(0.0)
    rate = 5.0
    queue = Queue(PollBudget(rate, clock), clock, spacing=0.2, done_after=2)
    # Twice as many checks asked for as the ceiling gives, for 20 s: the backlog grows.
    arrivals = {job: job / rate for job in range(100)}  # 5 jobs/s, 2 polls each
    queue.run_until(60.0, arrivals)
    assert not queue.due_at  # every job got both of its polls
    served = [(due, at) for at, _, due in queue.polls]
    # Strictly in order of due time: a job that waited is never overtaken by a newer one.
    assert [due for due, _ in served] == sorted(due for due, _ in served)
    # Each waits only for the polls due before it: its position in line over the rate.
    for position, (due, at) in enumerate(served):
        ahead = sum(1 for other, _ in served[:position] if other <= due)
        assert at - due <= ahead / rate + 1 / rate + EPSILON


def test_work_that_sends_no_poll_is_never_held_back() -> None:
    clock = Clock(0.0)
    budget = PollBudget(2.0, clock)
    items = ["poll-1", "poll-2", "deliver-1", "poll-3", "deliver-2", "poll-4"]
    admitted = budget.admit(items, lambda item: item.startswith("poll"))
    assert admitted == ["poll-1", "poll-2", "deliver-1", "deliver-2"]
    assert budget.held == 2 and budget.room() == 0
    assert budget.wait_s() == pytest.approx(0.5)
    clock.now = 0.5
    assert budget.admit(["poll-3", "poll-4"], lambda item: True) == ["poll-3"]


def test_without_a_ceiling_everything_is_admitted() -> None:
    budget = PollBudget(None, Clock(0.0))
    assert budget.admit(range(10_000), lambda item: True) == list(range(10_000))
    assert budget.room() is None and budget.wait_s() == 0.0 and budget.held == 0


def test_a_clock_stepped_back_gives_no_tokens() -> None:
    clock = Clock(50.0)
    budget = PollBudget(1.0, clock, burst=1)
    assert budget.admit([1], lambda item: True) == [1]
    clock.now = 10.0
    assert budget.room() == 0
    clock.now = 11.0
    assert budget.room() == 1


@pytest.mark.parametrize("rate", [0.0, -1.0, float("nan")])
def test_a_rate_must_be_positive(rate: float) -> None:
    with pytest.raises(ValueError):
        PollBudget(rate, Clock(0.0))
