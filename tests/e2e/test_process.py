"""`python -m bot` as a real process: end to end, killed mid-job, and with bad configuration."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.simulator import MusicAPISimulator, SimulatorConfig
from tests.e2e.conftest import CHANNEL, GUILD, MEMBER, TOKEN, settings_env
from tests.fakediscord import FakeDiscord


def clean_env(**values: str) -> dict[str, str]:
    """The parent's environment minus anything that configures the bot, plus `values`."""
    prefixes = ("DISCORD_", "MUSICAPI_", "DATABASE_", "DEFAULT_", "DEV_", "SYNC_", "OWNER_",
                "POLL_", "JOB_", "LOG_", "MODELS", "SIMULATOR_")  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    env.update(values)
    return env


class BotProcess:
    def __init__(self, env: dict[str, str], cwd: Path, log: Path) -> None:
        self.env, self.cwd, self.log = env, cwd, log
        self.proc: asyncio.subprocess.Process | None = None

    @staticmethod
    def command() -> tuple[str, ...]:
        return (sys.executable, "-m", "bot")

    async def start(self) -> None:
        handle = self.log.open("ab")
        self.proc = await asyncio.create_subprocess_exec(
            *self.command(), env=self.env, cwd=self.cwd, stdout=handle, stderr=handle
        )
        handle.close()

    async def stop(self, sig: int = signal.SIGTERM) -> int:
        assert self.proc is not None
        if self.proc.returncode is None:
            self.proc.send_signal(sig)
        return await asyncio.wait_for(self.proc.wait(), 20)


@pytest.fixture
async def services() -> AsyncIterator[tuple[FakeDiscord, MusicAPISimulator]]:
    sim = MusicAPISimulator(SimulatorConfig(generation_time=2.0, seed=7))
    await sim.start()
    fake = FakeDiscord()
    await fake.start()
    fake.add_guild(GUILD, channels=[CHANNEL])
    fake.add_member(GUILD, MEMBER, name="member")
    yield fake, sim
    await fake.stop()
    await sim.stop()


def ledger(db_path: Path) -> list[tuple[str, int]]:
    with sqlite3.connect(db_path) as conn:
        rows = conn.execute("SELECT kind, amount FROM ledger WHERE kind != 'setting' ORDER BY id")
        return [(kind, amount) for kind, amount in rows]


def jobs_told(db_path: Path) -> bool:
    """Every job finished and marked notified: the bot posts nothing more for them."""
    with sqlite3.connect(db_path) as conn:
        rows = conn.execute("SELECT state, notified FROM jobs").fetchall()
    return bool(rows) and all(state in ("succeeded", "failed") and told for state, told in rows)


def clip_messages(fake: FakeDiscord) -> list[dict]:  # type: ignore[type-arg]
    return [
        m for m in fake.channel_messages(CHANNEL) if "your song is ready" in (m["content"] or "")
    ]


async def wait_until(predicate, within: float) -> bool:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + within
    while asyncio.get_running_loop().time() < deadline:
        if predicate():
            return True
        await asyncio.sleep(0.05)
    return predicate()


async def test_entry_point_makes_a_song_end_to_end(services, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    fake, sim = services
    db_path = tmp_path / "bot.db"
    env = clean_env(DISCORD_API_BASE_URL=fake.url, **settings_env(sim.base_url, db_path))
    bot = BotProcess(env, tmp_path, tmp_path / "bot.log")
    await bot.start()
    try:
        await fake.wait_ready(timeout=30)
        await fake.invoke_slash(
            guild_id=GUILD, channel_id=CHANNEL, user_id=MEMBER, command="song",
            subcommand="create", options={"description": "a song from a real process"},
        )  # fmt: skip
        assert await wait_until(lambda: len(clip_messages(fake)) >= 2, 30), (
            tmp_path / "bot.log"
        ).read_text()
        for message in clip_messages(fake):
            assert any(a["filename"].endswith(".wav") for a in message["attachments"])
        assert await wait_until(lambda: ledger(db_path) == [("reserve", 20), ("commit", 20)], 5)
    finally:
        code = await bot.stop()
    assert code == 0  # SIGTERM is a clean stop
    log = (tmp_path / "bot.log").read_text()
    assert "test-musicapi-key" not in log and TOKEN not in log  # secrets never logged


async def test_simulate_mode_runs_the_whole_bot_without_a_key(services, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    fake, _unused_sim = services
    env = clean_env(
        DISCORD_TOKEN=TOKEN,
        MUSICAPI_SIMULATE="1",
        SIMULATOR_GENERATION_S="0.5",
        POLL_INTERVAL_S="0.2",
        DISCORD_API_BASE_URL=fake.url,
    )
    # No DATABASE_URL: the embedded default, data/musicbot.db under the working directory.
    bot = BotProcess(env, tmp_path, tmp_path / "bot.log")
    await bot.start()
    try:
        await fake.wait_ready(timeout=30)
        await fake.invoke_slash(
            guild_id=GUILD, channel_id=CHANNEL, user_id=MEMBER, command="song",
            subcommand="create", options={"description": "try it for free"},
        )  # fmt: skip
        assert await wait_until(lambda: len(clip_messages(fake)) >= 2, 30), (
            tmp_path / "bot.log"
        ).read_text()
        assert (tmp_path / "data" / "musicbot.db").is_file()
    finally:
        assert await bot.stop() == 0


async def test_killed_mid_job_delivers_once_and_charges_once(services, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    fake, sim = services
    sim.config.generation_time = 4.0
    db_path = tmp_path / "bot.db"
    env = clean_env(DISCORD_API_BASE_URL=fake.url, **settings_env(sim.base_url, db_path))
    first = BotProcess(env, tmp_path, tmp_path / "bot.log")
    await first.start()
    await fake.wait_ready(timeout=30)
    interaction = await fake.invoke_slash(
        guild_id=GUILD, channel_id=CHANNEL, user_id=MEMBER, command="song",
        subcommand="create", options={"description": "survive the crash"},
    )  # fmt: skip
    # Wait until the job is accepted upstream and its card is shown, then kill -9.
    assert await wait_until(
        lambda: bool(interaction.original and interaction.original.get("embeds")), 20
    )
    await first.stop(signal.SIGKILL)
    assert clip_messages(fake) == []
    await fake.disconnect_clients()

    second = BotProcess(env, tmp_path, tmp_path / "bot.log")
    await second.start()
    try:
        assert await wait_until(lambda: len(clip_messages(fake)) >= 2, 40), (
            tmp_path / "bot.log"
        ).read_text()
        assert await wait_until(lambda: jobs_told(db_path), 30)  # none is posted again
        assert len(clip_messages(fake)) == 2
        assert ledger(db_path) == [("reserve", 20), ("commit", 20)]
        creates = [p for _, p, _ in sim.requests if p.endswith("/sonic/create")]
        assert len(creates) == 1  # resumed, not resubmitted
    finally:
        await second.stop()


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({}, "DISCORD_TOKEN"),
        ({"DISCORD_TOKEN": "a.b.c"}, "MUSICAPI_KEY"),
        (
            {"DISCORD_TOKEN": "a.b.c", "MUSICAPI_SIMULATE": "1", "POLL_INTERVAL_S": "soon"},
            "POLL_INTERVAL_S",
        ),
    ],
)
async def test_bad_configuration_prints_one_line(
    env: dict[str, str], variable: str, tmp_path: Path
) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", env=clean_env(**env), cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), 30)
    lines = err.decode().strip().splitlines()
    assert proc.returncode == 2
    assert len(lines) == 1 and variable in lines[0], lines
    assert "Traceback" not in err.decode() and out == b""
