"""The operator's HTTP endpoint on METRICS_LISTEN: `/metrics` and `/healthz`.

A small aiohttp server inside the bot process. It exposes counts and health, nothing about
members, but it is not meant for the internet: bind it to a private address (or keep the
port unpublished) and let Prometheus and the container's health check reach it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from bot.observability.health import HealthReport
from bot.observability.metrics import REGISTRY

log = logging.getLogger(__name__)

# Gauges read from the database at scrape time must not hold a scrape up for long.
REFRESH_TIMEOUT_S = 5.0


class MetricsServer:
    def __init__(
        self,
        host: str,
        port: int,
        *,
        health: Callable[[], Awaitable[HealthReport]],
        refresh: Callable[[], Awaitable[None]],
    ) -> None:
        self.host = host
        self.port = port
        self._health = health
        self._refresh = refresh
        self._runner: web.AppRunner | None = None
        self._bound_host = host

    def serve(
        self,
        *,
        health: Callable[[], Awaitable[HealthReport]],
        refresh: Callable[[], Awaitable[None]],
    ) -> None:
        """Answer with these from now on: the server listens from the first second of the
        process with start-up's answers, and the bot's own checks take over once set up."""
        self._health = health
        self._refresh = refresh

    async def start(self, *, announce: bool = True) -> str:
        """Listen; returns the base URL (the real port when 0 was asked for). `announce`:
        log the address now (else the caller does, with `announce()`)."""
        app = web.Application()
        app.router.add_get("/metrics", self._metrics)
        app.router.add_get("/healthz", self._healthz)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        await site.start()
        self._runner = runner
        host, port = runner.addresses[0][:2]
        self.port = port
        self._bound_host = host
        if announce:
            self.announce()
        return f"http://{host}:{port}"

    def announce(self) -> None:
        log.info(
            "metrics and health on http://%s:%d (/metrics, /healthz)", self._bound_host, self.port
        )

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _metrics(self, request: web.Request) -> web.Response:
        try:
            await asyncio.wait_for(self._refresh(), timeout=REFRESH_TIMEOUT_S)
        except Exception as error:  # serve what we have: a scrape must not fail on one gauge
            log.warning("metrics: could not refresh the job gauges (%s)", type(error).__name__)
        return web.Response(
            body=generate_latest(REGISTRY), headers={"Content-Type": CONTENT_TYPE_LATEST}
        )

    async def _healthz(self, request: web.Request) -> web.Response:
        report = await self._health()
        return web.json_response(report.as_json(), status=200 if report.healthy else 503)
