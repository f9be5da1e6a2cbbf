"""The fake serving a bot that runs in another process."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from tests.fakediscord import FakeDiscord

from .conftest import CHANNEL_ID, GUILD_ID, USER_ID

REPO = Path(__file__).resolve().parents[2]


async def test_bot_subprocess_round_trip(fake: FakeDiscord) -> None:
    env = os.environ | fake.subprocess_env()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.discordharness.subprocess_bot",
        cwd=REPO,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        await fake.wait_ready(timeout=20)
        assert fake.find_command("hello") is not None  # synced in setup_hook
        ix = await fake.invoke_slash(
            guild_id=GUILD_ID,
            channel_id=CHANNEL_ID,
            user_id=USER_ID,
            command="hello",
            options={"name": "bob"},
        )
        message = await ix.wait_original(timeout=10)
        assert message["content"] == f"hello bob from pid {proc.pid}"
    finally:
        if proc.returncode is None:
            proc.terminate()
        try:
            _, stderr = await asyncio.wait_for(proc.communicate(), 10)
        except TimeoutError:
            proc.kill()
            _, stderr = await proc.communicate()
    assert proc.returncode == 0, stderr.decode()
    assert b"Traceback" not in stderr, stderr.decode()
    await fake.wait_disconnected(timeout=5)
    assert fake.identify_count == 1 and fake.connected_clients == 0
