"""`musicbot healthcheck` (the Docker HEALTHCHECK) against a real /healthz server."""

from __future__ import annotations

import asyncio

import pytest

from bot.cli import main as cli
from bot.observability.health import HealthReport
from bot.observability.server import MetricsServer


async def test_healthcheck_exit_code_follows_healthz(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    report = HealthReport(healthy=True)

    async def health() -> HealthReport:
        return report

    async def refresh() -> None:
        return None

    server = MetricsServer("127.0.0.1", 0, health=health, refresh=refresh)
    await server.start()
    try:
        # The bot listens on every address; the check connects to loopback.
        monkeypatch.setenv("METRICS_LISTEN", f"0.0.0.0:{server.port}")
        assert await asyncio.to_thread(cli, ["healthcheck"]) == 0
        assert '"status": "ok"' in capsys.readouterr().out
        report = HealthReport(healthy=False, reasons=["scheduler: last pass 400 s ago"])
        assert await asyncio.to_thread(cli, ["healthcheck"]) == 1
        assert "scheduler: last pass 400 s ago" in capsys.readouterr().out
    finally:
        await server.stop()
    assert await asyncio.to_thread(cli, ["healthcheck"]) == 1  # nothing listens any more
    assert "no answer" in capsys.readouterr().err
    # Docker health checks know 0 and 1 only: a configuration error is "unhealthy" too.
    monkeypatch.delenv("METRICS_LISTEN")
    assert cli(["healthcheck"]) == 1
    assert "METRICS_LISTEN is not set" in capsys.readouterr().err
    monkeypatch.setenv("METRICS_LISTEN", "no port here")
    assert cli(["healthcheck"]) == 1
    assert "Configuration error: METRICS_LISTEN" in capsys.readouterr().err
