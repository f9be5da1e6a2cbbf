"""The text of `/musicbot status`: what the owner checks first when something seems off."""

from __future__ import annotations

from dataclasses import dataclass

from bot.markdown import escape
from bot.observability.upstream import UpstreamError


@dataclass(frozen=True, slots=True)
class StatusFacts:
    version: str
    mode: str  # live or simulator
    uptime_s: float
    gateway_latency_s: float | None
    shards: str
    servers: int
    database: str
    jobs_by_state: dict[str, int]
    webhooks: str
    balance: str
    orphans: int  # jobs released although MusicAPI may have made (and billed) them
    last_upstream_error: UpstreamError | None
    features: str


def duration(seconds: float) -> str:
    """3 d 4 h, 2 h 5 min, 12 min, 40 s: the two largest units."""
    seconds = int(seconds)
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            parts.append(f"{seconds // size} {unit}")
            seconds %= size
    if not parts:
        return f"{seconds} s"
    return " ".join(parts[:2])


def render(facts: StatusFacts) -> str:
    latency = (
        "not connected"
        if facts.gateway_latency_s is None
        else f"{facts.gateway_latency_s * 1000:.0f} ms"
    )
    in_flight = sum(facts.jobs_by_state.values())
    by_state = ", ".join(f"{count} {state}" for state, count in sorted(facts.jobs_by_state.items()))
    error = facts.last_upstream_error
    last_error = (
        "none since start"
        if error is None
        else f"{escape(error.summary, 300)} (<t:{int(error.at)}:R>, <t:{int(error.at)}:f>)"
    )
    lines = [
        f"**musicbot {facts.version}** ({facts.mode}), up {duration(facts.uptime_s)}",
        f"Gateway latency: {latency} · shards: {facts.shards} · {facts.servers} server(s)",
        f"Database: {facts.database}",
        f"Jobs in flight: {in_flight}" + (f" ({by_state})" if by_state else ""),
        f"Webhooks: {facts.webhooks}",
        f"MusicAPI credits: {facts.balance}",
        f"Possibly billed orphans: {facts.orphans} (sent to MusicAPI when the bot restarted or "
        "got no answer; released, and not tracked)",
        f"Last MusicAPI error: {last_error}",
        f"Features: {facts.features}",
    ]
    return "\n".join(lines)[:2000]
