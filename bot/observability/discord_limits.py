"""Discord's 429s, seen on every HTTP response of discord.py's own session.

discord.py retries rate-limited requests by itself, so a 429 never surfaces as an error; an
aiohttp trace on its session (`Client(http_trace=...)`) is how they are counted. Many in a
short time (a "storm") means the bot is close to a Cloudflare ban: the owner is alerted.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Mapping
from types import SimpleNamespace

import aiohttp

from bot.observability import alerts, metrics
from bot.observability.alerts import AlertKind

STORM_COUNT = 20
STORM_WINDOW_S = 60.0


def rate_limit_scope(headers: Mapping[str, str]) -> str:
    """user, shared or global from Discord's header; a 429 without `Via` comes from
    Cloudflare, in front of Discord, which is the dangerous kind."""
    if not headers.get("Via"):
        return "cloudflare"
    scope = (headers.get("X-RateLimit-Scope") or "user").lower()
    return scope if scope in ("user", "shared", "global") else "user"


class DiscordRateLimits:
    def __init__(
        self,
        *,
        storm_count: int = STORM_COUNT,
        storm_window_s: float = STORM_WINDOW_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.storm_count = storm_count
        self.storm_window_s = storm_window_s
        self.clock = clock
        self._recent: deque[float] = deque()

    def trace_config(self) -> aiohttp.TraceConfig:
        trace = aiohttp.TraceConfig()
        trace.on_request_end.append(self._on_request_end)
        return trace

    async def _on_request_end(
        self,
        session: aiohttp.ClientSession,
        context: SimpleNamespace,
        params: aiohttp.TraceRequestEndParams,
    ) -> None:
        if params.response.status == 429:
            self.record(rate_limit_scope(params.response.headers))

    def record(self, scope: str) -> None:
        metrics.discord_rate_limited(scope)
        now = self.clock()
        self._recent.append(now)
        while self._recent and now - self._recent[0] > self.storm_window_s:
            self._recent.popleft()
        if len(self._recent) >= self.storm_count:
            alerts.notify(
                AlertKind.DISCORD_RATE_LIMITS,
                f"{len(self._recent)} rate-limited requests (HTTP 429) in the last "
                f"{self.storm_window_s:.0f} s, the latest {scope}-scoped. discord.py waits and "
                "retries them, but many more can get the bot's IP banned by Cloudflare for an "
                "hour: look for a loop posting or editing messages.",
            )
