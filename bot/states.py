"""The states and kinds the bot stores, as `StrEnum`s.

They are `StrEnum`s rather than plain `Enum`s because they are written to the database and
compared with what MusicAPI sends: a member equals its text (`JobState.QUEUED == "queued"`), so
rows written before these types existed, SQL literals and upstream strings all keep matching,
while code that builds or branches on a state gets a name the type checker knows.
"""

from __future__ import annotations

from enum import StrEnum


class JobState(StrEnum):
    """Where a job is: accepted locally, in flight upstream, or finished."""

    SUBMITTING = "submitting"  # reserved locally; MusicAPI has not confirmed a task yet
    # Sent, but no answer said whether MusicAPI made it: held in case a webhook names the
    # task, then released as a possibly billed orphan (see bot.jobs.orphans).
    UNCONFIRMED = "unconfirmed"
    QUEUED = "queued"
    PENDING = "pending"
    RUNNING = "running"
    STREAMING = "streaming"
    SUCCEEDED = "succeeded"
    FAILED = "failed"

    @property
    def final(self) -> bool:
        return self in (JobState.SUCCEEDED, JobState.FAILED)


# Upstream work in flight: the scheduler polls these.
ACTIVE_STATES = (JobState.QUEUED, JobState.PENDING, JobState.RUNNING, JobState.STREAMING)
FINAL_STATES = (JobState.SUCCEEDED, JobState.FAILED)


class RequestState(StrEnum):
    """A community song request (`/request`)."""

    PENDING = "pending"  # waiting for a moderator
    APPROVED = "approved"
    REJECTED = "rejected"
    DIRECT = "direct"  # the server lets members' requests start at once


class ClipSource(StrEnum):
    """How a clip came to be in this server."""

    GENERATED = "generated"
    UPLOAD = "upload"
    STEM = "stem"


class Family(StrEnum):
    """How a job's task is polled; `SYNC` marks a call answered at once (no task)."""

    SONIC = "sonic"
    PRODUCER = "producer"
    NURO = "nuro"
    RIFFUSION = "riffusion"
    STUDIO = "studio"
    SYNC = "sync"


class BudgetPeriod(StrEnum):
    """How often a server's budget resets (always in UTC); `NONE` never resets."""

    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    NONE = "none"
