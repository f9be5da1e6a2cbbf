"""Every metric the bot exports, and one small function per event that feeds them.

Code elsewhere records an event by calling a function here (`song_delivered(...)`,
`webhook_event(...)`), never by touching a metric object, so names and labels live in one
place. The functions are cheap, synchronous and never raise: instrumentation must not be able
to break the path it watches.

The metrics live in their own registry (not prometheus-client's global one), with the process
collector (memory, CPU, open files) added: `/metrics` serves exactly this registry.
Counters are per process; with several processes, sum them in Prometheus.
"""

from __future__ import annotations

import time

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
)

REGISTRY = CollectorRegistry(auto_describe=True)
ProcessCollector(registry=REGISTRY)
PlatformCollector(registry=REGISTRY)

# -- jobs and delivery ---------------------------------------------------------------------

JOBS = Gauge(
    "musicbot_jobs",
    "Unfinished jobs in the database (not yet delivered or reported), by state and family",
    ["state", "family"],
    registry=REGISTRY,
)
JOBS_FINISHED = Counter(
    "musicbot_jobs_finished",
    "Jobs whose outcome was posted, by final state and family",
    ["state", "family"],
    registry=REGISTRY,
)
SONGS_DELIVERED = Counter(
    "musicbot_songs_delivered",
    "Songs (clips) posted in a channel, by family",
    ["family"],
    registry=REGISTRY,
)
DELIVERY_LAG = Histogram(
    "musicbot_delivery_lag_seconds",
    "From the job being known finished to its song posted in the channel",
    buckets=(0.25, 0.5, 1, 2, 3, 5, 8, 13, 21, 34, 60, 120, 300),
    registry=REGISTRY,
)

# -- MusicAPI ------------------------------------------------------------------------------

UPSTREAM_REQUESTS = Counter(
    "musicbot_upstream_requests",
    "HTTP requests sent to MusicAPI (retries included), by kind: create, poll, credits, ...",
    ["kind"],
    registry=REGISTRY,
)
UPSTREAM_ERRORS = Counter(
    "musicbot_upstream_errors",
    "Failed MusicAPI requests, by error: timeout, rate_limited, server, auth, ...",
    ["error"],
    registry=REGISTRY,
)
UPSTREAM_CREDITS = Gauge(
    "musicbot_upstream_credits",
    "MusicAPI credits left on the account at the last check, by balance (monthly, extra)",
    ["balance"],
    registry=REGISTRY,
)
WEBHOOK_EVENTS = Counter(
    "musicbot_webhook_events",
    "Webhook deliveries from MusicAPI: accepted, or refused with the reason",
    ["result", "reason"],
    registry=REGISTRY,
)

# -- credits and quotas --------------------------------------------------------------------

RESERVATIONS = Counter(
    "musicbot_reservations",
    "Credit reservations granted (one per job submitted)",
    registry=REGISTRY,
)
QUOTA_REFUSALS = Counter(
    "musicbot_quota_refusals",
    "Commands refused by a limit, by limit",
    ["limit"],
    registry=REGISTRY,
)
CREDITS_SETTLED = Counter(
    "musicbot_credits",
    "Credits settled in the ledger: committed (charged) or released (refunded)",
    ["step"],
    registry=REGISTRY,
)

# -- Discord and the process ---------------------------------------------------------------

DISCORD_RATE_LIMITS = Counter(
    "musicbot_discord_rate_limits",
    "HTTP 429 answers from Discord, by scope (user, shared, global, cloudflare)",
    ["scope"],
    registry=REGISTRY,
)
GATEWAY_LATENCY = Gauge(
    "musicbot_gateway_latency_seconds",
    "Discord gateway heartbeat latency (the worst shard)",
    registry=REGISTRY,
)
EVENT_LOOP_LAG = Histogram(
    "musicbot_event_loop_lag_seconds",
    "How late the event loop ran a timer: a busy or blocked loop delays everything",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
    registry=REGISTRY,
)
SCHEDULER_LAST_PASS = Gauge(
    "musicbot_scheduler_last_pass_timestamp_seconds",
    "Unix time of the job scheduler's last completed pass",
    registry=REGISTRY,
)
INFO = Gauge(
    "musicbot_info",
    "Always 1; the labels describe this process",
    ["version", "database", "webhooks"],
    registry=REGISTRY,
)


def song_delivered(family: str, lag_s: float | None) -> None:
    """One clip posted; `lag_s` from the job's finish to the post, when known."""
    SONGS_DELIVERED.labels(family).inc()
    if lag_s is not None:
        DELIVERY_LAG.observe(max(0.0, lag_s))


def job_finished(state: str, family: str) -> None:
    """A job's final outcome (succeeded or failed) was posted."""
    JOBS_FINISHED.labels(state, family).inc()


def upstream_request(kind: str) -> None:
    UPSTREAM_REQUESTS.labels(kind).inc()


def upstream_error(error: str) -> None:
    UPSTREAM_ERRORS.labels(error).inc()


def upstream_credits(monthly: float, extra: float) -> None:
    UPSTREAM_CREDITS.labels("monthly").set(monthly)
    UPSTREAM_CREDITS.labels("extra").set(extra)


def webhook_event(accepted: bool, reason: str = "ok") -> None:
    """A webhook delivery was accepted, or refused for `reason` (one of the receiver's fixed
    outcomes, such as "unknown job", "duplicate" or a signature refusal; never a value taken
    from the request, which would let a caller invent label values)."""
    WEBHOOK_EVENTS.labels("accepted" if accepted else "refused", reason).inc()


def reservation_granted() -> None:
    RESERVATIONS.inc()


def quota_refused(limit: str) -> None:
    QUOTA_REFUSALS.labels(limit).inc()


def credits_settled(step: str, amount: int) -> None:
    """`step` is "commit" or "release"; called once per job, when the ledger row is new."""
    CREDITS_SETTLED.labels("committed" if step == "commit" else "released").inc(amount)


def discord_rate_limited(scope: str) -> None:
    DISCORD_RATE_LIMITS.labels(scope).inc()


def scheduler_pass() -> None:
    """The job scheduler finished one pass of its loop."""
    SCHEDULER_LAST_PASS.set(time.time())
