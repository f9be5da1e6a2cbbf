"""`python -m bot` as a process, read as an operator reads it in Docker: /healthz from the first
second of start-up, and a database it cannot open as one line with no traceback."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.simulator import MusicAPISimulator, SimulatorConfig
from tests.e2e.conftest import CHANNEL, GUILD, MEMBER, TOKEN, settings_env
from tests.e2e.test_faults import closed_port, log_of
from tests.e2e.test_process import BotProcess, clean_env
from tests.fakediscord import FakeDiscord


@pytest.fixture
async def simulator() -> AsyncIterator[MusicAPISimulator]:
    sim = MusicAPISimulator(SimulatorConfig(generation_time=2.0, api_key="test-musicapi-key"))
    await sim.start()
    yield sim
    await sim.stop()


async def healthz(http: aiohttp.ClientSession, url: str) -> tuple[int, dict[str, Any]] | None:
    """/healthz's status and body, or None while nothing listens."""
    try:
        async with http.get(url, timeout=aiohttp.ClientTimeout(total=5)) as response:
            return response.status, await response.json()
    except aiohttp.ClientConnectionError:
        return None


async def wait_for_health(
    http: aiohttp.ClientSession, url: str, accept: Any, within: float, log: Path
) -> tuple[int, dict[str, Any]]:
    deadline = time.monotonic() + within
    answer = None
    while time.monotonic() < deadline:
        answer = await healthz(http, url)
        if answer is not None and accept(*answer):
            return answer
        await asyncio.sleep(0.05)
    raise AssertionError(f"/healthz never gave the expected answer (last: {answer})\n{log_of(log)}")


async def test_healthz_names_the_login_step_while_discord_is_unreachable_then_turns_ok(
    simulator: MusicAPISimulator, tmp_path: Path
) -> None:
    discord_port, metrics_port = closed_port(), closed_port()
    log = tmp_path / "bot.log"
    env = clean_env(
        DISCORD_API_BASE_URL=f"http://127.0.0.1:{discord_port}",
        METRICS_LISTEN=f"127.0.0.1:{metrics_port}",
        **settings_env(simulator.base_url, tmp_path / "bot.db"),
    )
    url = f"http://127.0.0.1:{metrics_port}/healthz"
    bot = BotProcess(env, tmp_path, log)
    fake = FakeDiscord(token=TOKEN)
    async with aiohttp.ClientSession() as http:
        await bot.start()
        try:
            # The first answer the endpoint ever gives is start-up's, not the bot's checks.
            status, first = await wait_for_health(http, url, lambda s, b: True, 30, log)
            assert status == 503 and first["status"] == "unhealthy"
            assert first["reasons"][0].startswith("starting: "), first
            # The first login failed at once (nothing listens): the step, the attempt, the wait
            # before the next one, and why.
            _, waiting = await wait_for_health(
                http, url, lambda s, b: "next in" in b["reasons"][0], 30, log
            )
            step = waiting["reasons"][0]
            assert step.startswith("starting: logging in to Discord (attempt 1, next in "), step
            assert step.endswith(" s)") and int(step.split("next in ")[1].split()[0]) <= 5
            assert any(r.startswith("last error: ClientConnectorError") for r in waiting["reasons"])
            async with http.get(f"http://127.0.0.1:{metrics_port}/metrics") as response:
                assert response.status == 200  # scrapes work during start-up too

            # Discord comes back on the address the bot retries: the next attempt logs in, the
            # bot's own checks take over, and /healthz turns 200 once the gateway is up.
            fake.add_guild(GUILD, channels=[CHANNEL])
            fake.add_member(GUILD, MEMBER, name="member")
            await fake.start(port=discord_port)
            status, ready = await wait_for_health(http, url, lambda s, b: s == 200, 30, log)
            assert ready == {"status": "ok", "reasons": []}
        finally:
            code = await bot.stop()
            await fake.stop()
    assert code == 0
    assert "Traceback" not in log_of(log)


async def run_bot(env: dict[str, str], cwd: Path) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", env=env, cwd=cwd,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, (out + err).decode()


async def test_a_database_sqlite_cannot_open_is_one_line_and_no_traceback(tmp_path: Path) -> None:
    # A directory where the file should be: SQLite fails inside aiosqlite's worker thread, the
    # path a root-owned /data takes too. The process exits at once on that error, which used to
    # close the event loop before the thread reported its stop ("Event loop is closed") in some
    # runs: several runs at once.
    # METRICS_LISTEN as in the image: /healthz listens before the database opens, and says
    # where only once it has, so the error stays the only line.
    (tmp_path / "musicbot.db").mkdir()
    env = clean_env(
        DISCORD_TOKEN=TOKEN,
        MUSICAPI_SIMULATE="1",
        DATABASE_URL=f"sqlite:///{tmp_path / 'musicbot.db'}",
    )
    envs = [{**env, "METRICS_LISTEN": f"127.0.0.1:{closed_port()}"} for _ in range(4)]
    results = await asyncio.gather(*(run_bot(each, tmp_path) for each in envs))
    for code, output in results:
        assert code == 2, output
        assert output.strip().count("\n") == 0, output  # one line
        assert output.startswith("Configuration error: DATABASE_URL: "), output
        assert "Traceback" not in output and "Event loop is closed" not in output
