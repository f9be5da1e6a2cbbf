"""`python -m bot` on a bad day: Discord unreachable or silent, stop signals at awkward moments,
a refused or unreachable MusicAPI, and a kill in the middle of a submit.

Each test runs the real entry point as a process against the fake Discord and the simulator on
127.0.0.1, and reads what an operator would read: the exit status and the log.
"""

from __future__ import annotations

import asyncio
import signal
import socket
import sqlite3
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.simulator import MusicAPISimulator, SimulatorConfig
from tests.e2e.conftest import CHANNEL, GUILD, MEMBER, TOKEN, settings_env
from tests.e2e.test_process import BotProcess, clean_env, clip_messages, ledger, wait_until
from tests.fakediscord import FakeDiscord

STOP_WITHIN_S = 10.0


@pytest.fixture
async def services() -> AsyncIterator[tuple[FakeDiscord, MusicAPISimulator]]:
    sim = MusicAPISimulator(SimulatorConfig(generation_time=2.0, api_key="test-musicapi-key"))
    await sim.start()
    fake = FakeDiscord(token=TOKEN)
    await fake.start()
    fake.add_guild(GUILD, channels=[CHANNEL])
    fake.add_member(GUILD, MEMBER, name="member")
    yield fake, sim
    await fake.stop()
    await sim.stop()


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
async def silent_discord() -> AsyncIterator[str]:
    """Accepts connections, reads what is sent, and never answers."""
    held: list[asyncio.StreamWriter] = []

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)
        while await reader.read(65536):
            pass

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    for writer in held:
        writer.close()
    server.close()


def log_of(path: Path) -> str:
    return path.read_text() if path.exists() else ""


async def stopped_within(bot: BotProcess, sig: int = signal.SIGTERM) -> tuple[int, float]:
    started = time.monotonic()
    code = await bot.stop(sig)
    return code, time.monotonic() - started


def orphan_count(db_path: Path) -> int:
    with sqlite3.connect(db_path) as conn:
        row = conn.execute("SELECT COUNT(*) FROM jobs WHERE orphaned_at IS NOT NULL").fetchone()
        return int(row[0])


async def test_unreachable_discord_is_one_line_per_attempt_with_growing_delays(
    services, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    _fake, sim = services
    log = tmp_path / "bot.log"
    env = clean_env(
        DISCORD_API_BASE_URL=f"http://127.0.0.1:{closed_port()}",
        **settings_env(sim.base_url, tmp_path / "bot.db"),
    )
    bot = BotProcess(env, tmp_path, log)
    await bot.start()
    try:
        assert await wait_until(lambda: "retrying in 10 s" in log_of(log), 30), log_of(log)
    finally:
        code, took = await stopped_within(bot)
    text = log_of(log)
    attempts = [line for line in text.splitlines() if "Discord is not reachable" in line]
    assert "retrying in 5 s (attempt 1)" in attempts[0]
    assert "retrying in 10 s (attempt 2)" in attempts[1]
    assert "Traceback" not in text
    assert code == 0 and took < STOP_WITHIN_S


async def test_silent_discord_is_reported_within_30_s_and_sigterm_ends_the_login(
    services, silent_discord: str, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    _fake, sim = services
    log = tmp_path / "bot.log"
    env = clean_env(
        DISCORD_API_BASE_URL=silent_discord, **settings_env(sim.base_url, tmp_path / "bot.db")
    )
    bot = BotProcess(env, tmp_path, log)
    await bot.start()
    started = time.monotonic()
    try:
        assert await wait_until(lambda: "Discord is not reachable" in log_of(log), 30), log_of(log)
        assert time.monotonic() - started < 30
        assert "no answer within 20 s" in log_of(log)
        # The bot now waits for its second attempt (the line above says so): a stop must
        # still end the login at once.
    finally:
        code, took = await stopped_within(bot)
    assert code == 0 and took < STOP_WITHIN_S
    assert "Traceback" not in log_of(log)


async def test_sigterm_during_the_first_login_is_a_clean_exit(
    services, silent_discord: str, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    _fake, sim = services
    log = tmp_path / "bot.log"
    env = clean_env(
        DISCORD_API_BASE_URL=silent_discord, **settings_env(sim.base_url, tmp_path / "bot.db")
    )
    bot = BotProcess(env, tmp_path, log)
    await bot.start()
    # The MusicAPI check passed: the process is inside its first Discord login now.
    assert await wait_until(lambda: "MusicAPI key accepted" in log_of(log), 20), log_of(log)
    code, took = await stopped_within(bot)
    assert code == 0 and took < STOP_WITHIN_S
    assert "Traceback" not in log_of(log)


async def test_a_refused_token_is_one_line_and_exit_2(services, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    fake, sim = services
    env = clean_env(
        DISCORD_API_BASE_URL=fake.url,
        **{**settings_env(sim.base_url, tmp_path / "bot.db"), "DISCORD_TOKEN": "not.the.token"},
    )
    proc = await asyncio.create_subprocess_exec(
        *BotProcess.command(), env=env, cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _out, err = await asyncio.wait_for(proc.communicate(), 30)
    text = err.decode()
    assert proc.returncode == 2
    assert "Traceback" not in text
    assert [line for line in text.splitlines() if "DISCORD_TOKEN" in line] == [
        "Configuration error: DISCORD_TOKEN: Discord rejected the token; copy it again from the "
        "Developer Portal (Bot tab)"
    ]


async def test_a_refused_musicapi_key_is_one_line_naming_it_and_exit_2(
    services, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    fake, sim = services
    env = clean_env(
        DISCORD_API_BASE_URL=fake.url,
        **{**settings_env(sim.base_url, tmp_path / "bot.db"), "MUSICAPI_KEY": "sk-wrong-key"},
    )
    proc = await asyncio.create_subprocess_exec(
        *BotProcess.command(), env=env, cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _out, err = await asyncio.wait_for(proc.communicate(), 30)
    text = err.decode()
    # Routine INFO lines (a first start migrates the database) aside, one line says it all.
    lines = [line for line in text.strip().splitlines() if "INFO" not in line]
    assert proc.returncode == 2
    assert len(lines) == 1 and lines[0].startswith("Configuration error: MUSICAPI_KEY: "), lines
    assert "sk-wrong-key" not in text and "Traceback" not in text
    assert fake.connected_clients == 0  # never reached Discord


async def test_unreachable_musicapi_warns_and_starts_anyway(services, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    fake, _sim = services
    log = tmp_path / "bot.log"
    env = clean_env(
        DISCORD_API_BASE_URL=fake.url,
        **settings_env(f"http://127.0.0.1:{closed_port()}", tmp_path / "bot.db"),
    )
    bot = BotProcess(env, tmp_path, log)
    await bot.start()
    try:
        await fake.wait_ready(timeout=30)
    finally:
        code, _took = await stopped_within(bot)
    assert code == 0
    warnings = [
        line for line in log_of(log).splitlines() if "could not check the MusicAPI key" in line
    ]
    assert len(warnings) == 1 and "starting anyway" in warnings[0]
    assert "Traceback" not in log_of(log)


async def test_low_upstream_credits_are_a_warning(services, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    fake, sim = services
    sim.balance = 150
    log = tmp_path / "bot.log"
    env = clean_env(
        DISCORD_API_BASE_URL=fake.url,
        MUSICAPI_CREDITS_LOW="500",
        **settings_env(sim.base_url, tmp_path / "bot.db"),
    )
    bot = BotProcess(env, tmp_path, log)
    await bot.start()
    try:
        await fake.wait_ready(timeout=30)
    finally:
        assert (await bot.stop()) == 0
    assert "MusicAPI credits are low: 150 left (warning below MUSICAPI_CREDITS_LOW=500)" in (
        log_of(log)
    )


async def test_a_start_that_registers_nothing_says_how_to(services, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    fake, sim = services
    log = tmp_path / "bot.log"
    env = clean_env(DISCORD_API_BASE_URL=fake.url, **settings_env(sim.base_url, tmp_path / "b.db"))
    bot = BotProcess(env, tmp_path, log)
    await bot.start()
    try:
        await fake.wait_ready(timeout=30)
    finally:
        assert (await bot.stop()) == 0
    hints = [line for line in log_of(log).splitlines() if "no slash commands" in line]
    assert len(hints) == 1
    assert "SYNC_COMMANDS=global" in hints[0] and "DEV_GUILD_ID" in hints[0]


async def test_sigterm_mid_job_exits_cleanly_and_keeps_the_job(services, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    fake, sim = services
    sim.config.generation_time = 4.0
    db_path = tmp_path / "bot.db"
    log = tmp_path / "bot.log"
    env = clean_env(DISCORD_API_BASE_URL=fake.url, **settings_env(sim.base_url, db_path))
    first = BotProcess(env, tmp_path, log)
    await first.start()
    await fake.wait_ready(timeout=30)
    interaction = await fake.invoke_slash(
        guild_id=GUILD, channel_id=CHANNEL, user_id=MEMBER, command="song",
        subcommand="create", options={"description": "stopped politely"},
    )  # fmt: skip
    assert await wait_until(
        lambda: bool(interaction.original and interaction.original.get("embeds")), 20
    )
    code, took = await stopped_within(first)
    assert code == 0 and took < STOP_WITHIN_S
    await fake.disconnect_clients()

    second = BotProcess(env, tmp_path, log)
    await second.start()
    try:
        assert await wait_until(lambda: len(clip_messages(fake)) >= 2, 40), log_of(log)
        assert ledger(db_path) == [("reserve", 20), ("commit", 20)]
        assert len([p for _, p, _ in sim.requests if p.endswith("/sonic/create")]) == 1
    finally:
        assert (await second.stop()) == 0
    assert "Traceback" not in log_of(log)


async def test_sigterm_during_a_submit_lets_it_finish(services, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    fake, sim = services
    sim.stall("/api/v1/sonic/create", 1.5)
    db_path = tmp_path / "bot.db"
    log = tmp_path / "bot.log"
    env = clean_env(DISCORD_API_BASE_URL=fake.url, **settings_env(sim.base_url, db_path))
    first = BotProcess(env, tmp_path, log)
    await first.start()
    await fake.wait_ready(timeout=30)
    await fake.invoke_slash(
        guild_id=GUILD, channel_id=CHANNEL, user_id=MEMBER, command="song",
        subcommand="create", options={"description": "on its way when stopped"},
    )  # fmt: skip
    assert await wait_until(
        lambda: any(p.endswith("/sonic/create") for _, p, _ in sim.requests), 10
    )
    code, took = await stopped_within(first)  # the create is still stalled upstream
    assert code == 0 and took < STOP_WITHIN_S
    await fake.disconnect_clients()

    second = BotProcess(env, tmp_path, log)
    await second.start()
    try:
        assert await wait_until(lambda: len(clip_messages(fake)) >= 2, 40), log_of(log)
        assert ledger(db_path) == [("reserve", 20), ("commit", 20)]
        assert orphan_count(db_path) == 0
    finally:
        assert (await second.stop()) == 0


async def test_killed_during_a_submit_the_member_hears_the_truth_after_the_restart(
    services, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    fake, sim = services
    sim.stall("/api/v1/sonic/create", 3.0)  # the create is still on its way at the kill
    db_path = tmp_path / "bot.db"
    log = tmp_path / "bot.log"
    env = clean_env(DISCORD_API_BASE_URL=fake.url, **settings_env(sim.base_url, db_path))
    first = BotProcess(env, tmp_path, log)
    await first.start()
    await fake.wait_ready(timeout=30)
    interaction = await fake.invoke_slash(
        guild_id=GUILD, channel_id=CHANNEL, user_id=MEMBER, command="song",
        subcommand="create", options={"description": "cut off on its way"},
    )  # fmt: skip
    assert await wait_until(
        lambda: any(p.endswith("/sonic/create") for _, p, _ in sim.requests), 10
    )
    await first.stop(signal.SIGKILL)
    await fake.disconnect_clients()
    # Stuck: deferred ("thinking…"), never filled.
    assert interaction.original is not None and not interaction.original.get("embeds")

    second = BotProcess(env, tmp_path, log)
    await second.start()
    try:
        notice = await fake.wait_for(
            lambda m: "might still have been made" in (m.get("content") or ""), timeout=30
        )
        assert f"<@{MEMBER}>" in notice["content"]
        # The deferred reply itself is answered too, while its token lives.
        card = await interaction.wait_original(lambda m: bool(m.get("embeds")), timeout=10)
        assert "Failed" in card["embeds"][0]["title"]
        assert ledger(db_path) == [("reserve", 20), ("release", 20)]
        assert orphan_count(db_path) == 1
        # Never sent again (whether the first one made a task, the bot cannot know).
        assert len([p for _, p, _ in sim.requests if p.endswith("/sonic/create")]) == 1
        assert "possibly billed orphans so far: 1" in log_of(log)
    finally:
        assert (await second.stop()) == 0
