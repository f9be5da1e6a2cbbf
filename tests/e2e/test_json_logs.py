"""LOG_FORMAT=json on a real `python -m bot` run: every line is one JSON object."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e import test_process
from tests.e2e.conftest import CHANNEL, GUILD, MEMBER, TOKEN, settings_env
from tests.e2e.test_process import BotProcess, clean_env, clip_messages, wait_until

services = test_process.services  # the fake Discord and simulator fixture, shared


async def test_a_json_log_run_parses_line_by_line(services, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    fake, sim = services
    env = clean_env(
        DISCORD_API_BASE_URL=fake.url,
        LOG_FORMAT="json",
        LOG_LEVEL="DEBUG",
        **settings_env(sim.base_url, tmp_path / "bot.db"),
    )
    log_path = tmp_path / "bot.log"
    bot = BotProcess(env, tmp_path, log_path)
    await bot.start()
    try:
        await fake.wait_ready(timeout=30)
        # The first post of the song fails: the scheduler logs it with its traceback.
        fake.fail_next("POST /channels/", status=403)
        await fake.invoke_slash(
            guild_id=GUILD, channel_id=CHANNEL, user_id=MEMBER, command="song",
            subcommand="create", options={"description": "logged as JSON"},
        )  # fmt: skip
        assert await wait_until(lambda: len(clip_messages(fake)) >= 2, 40), log_path.read_text()
    finally:
        assert await bot.stop() == 0
    raw = log_path.read_text()
    entries = [json.loads(line) for line in raw.splitlines()]  # fails on any non-JSON line
    assert len(entries) > 20
    for entry in entries:
        assert {"time", "level", "logger", "message"} <= set(entry), entry
    assert TOKEN not in raw and "test-musicapi-key" not in raw
    job_lines = [e for e in entries if "job_id" in e]
    assert job_lines and all(e["guild_id"] == GUILD for e in job_lines)
    failed = [e for e in job_lines if "exc_info" in e]
    assert failed and "Forbidden" in failed[0]["exc_info"], [e["message"] for e in job_lines]
    assert any(e.get("task_id") for e in job_lines)
