"""The real bot, in-process, against the fake Discord and the MusicAPI simulator on loopback."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pytest

from bot.app import MusicBot
from bot.config import Settings, load_settings
from bot.simulator import MusicAPISimulator, SimulatorConfig
from bot.store import ledger as ledger_sql
from bot.store.jobs import Job
from bot.validation import offloop
from tests.fakediscord import FakeDiscord
from tests.fakediscord.records import FakeInteraction
from tests.helpers import Clock, wait_for


@pytest.fixture(autouse=True)
def roomy_parse_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """A member's file is parsed in a child process stopped after 5 s: milliseconds of work
    after ~0.1 s of start-up on a quiet machine, but a test machine running several workers
    can take longer just to start it. End-to-end tests are about other things, so they give
    the parse room; the test of the limit itself sets its own, shorter one."""
    monkeypatch.setattr(offloop, "PARSE_TIME_LIMIT_S", 30.0)

GUILD = 900000000000000001
CHANNEL = 900000000000000002
MEMBER = 900000000000000003
OTHER_MEMBER = 900000000000000004
MODERATOR = 900000000000000005
MANAGE_GUILD = 1 << 5
TOKEN = "test.bot.token"
SIM_SEED = 7


@dataclass
class World:
    bot: MusicBot
    discord: FakeDiscord
    sim: MusicAPISimulator
    clock: Clock
    db_path: Path
    settings: Settings
    runner: asyncio.Task[None] | None = None

    async def start_bot(self) -> None:
        self.bot = MusicBot(self.settings, clock=self.clock, guild_ready_timeout=0.1)
        self.runner = asyncio.create_task(self.bot.start(TOKEN))
        await self.discord.wait_ready(timeout=10)

    async def stop_bot(self) -> None:
        await self.bot.close()
        if self.runner is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.runner, 5)
        await self.discord.wait_disconnected(timeout=10)

    async def restart(self) -> None:
        """A new bot on the same database: what survives this survives a real restart."""
        await self.stop_bot()
        await self.start_bot()

    async def slash(
        self,
        command: str,
        subcommand: str | None = None,
        *,
        user: int = MEMBER,
        files: dict[str, tuple[str, bytes, str]] | None = None,
        **options: Any,
    ) -> FakeInteraction:
        """A member runs `/command subcommand option:value ...` in the test channel."""
        return await self.discord.invoke_slash(
            guild_id=GUILD, channel_id=CHANNEL, user_id=user, command=command,
            subcommand=subcommand, options=options, attachments=files or {},
        )  # fmt: skip

    def posts(self, path: str) -> list[dict[str, Any]]:
        """Bodies MusicAPI received on `path` (e.g. "/sonic/upload")."""
        return [body for _, p, body in self.sim.requests if p == f"/api/v1{path}"]

    def creates(self) -> list[dict[str, Any]]:
        """Bodies of every create request MusicAPI received."""
        return [body for method, path, body in self.sim.requests if path.endswith("/sonic/create")]

    async def jobs(self) -> list[Job]:
        async with self.bot.db.read() as conn:
            cursor = await conn.execute("SELECT * FROM jobs WHERE guild_id = ?", (GUILD,))
            return [Job.from_row(row) for row in await cursor.fetchall()]

    async def jobs_told(self, count: int = 1, within: float = 30) -> list[Job]:
        """Wait until there are at least `count` jobs and every one is finished and told
        (posted, card edited, marked notified): after that the scheduler posts nothing more
        for them, so a duplicate that was going to appear has appeared."""

        async def told() -> list[Job]:
            jobs = await self.jobs()
            done = len(jobs) >= count and all(job.state.final and job.notified for job in jobs)
            return jobs if done else []

        return await wait_for(told, within, f"{count} finished and told jobs")

    async def ledger_kinds(self) -> list[tuple[str, int]]:
        async with self.bot.db.read() as conn:
            entries = await ledger_sql.guild_entries(conn, GUILD)
        return [(e.kind, e.amount) for e in entries if e.kind != "setting"]

    async def song(self, user: int = MEMBER, **options: Any) -> Any:
        return await self.discord.invoke_slash(
            guild_id=GUILD, channel_id=CHANNEL, user_id=user,
            command="song", subcommand="create", options=options,
        )  # fmt: skip

    async def clip_messages(self, count: int, within: float = 20) -> list[dict[str, Any]]:
        """Wait until `count` song messages are in the channel; return them."""

        def is_clip(message: dict[str, Any]) -> bool:
            return "your song is ready" in (message.get("content") or "")

        deadline = asyncio.get_running_loop().time() + within
        while True:
            found = [m for m in self.discord.channel_messages(CHANNEL) if is_clip(m)]
            if len(found) >= count or asyncio.get_running_loop().time() > deadline:
                return found
            await asyncio.sleep(0.05)


def settings_env(base_url: str, db_path: Path, **extra: str) -> dict[str, str]:
    return {
        "DISCORD_TOKEN": TOKEN,
        "MUSICAPI_KEY": "test-musicapi-key",
        "MUSICAPI_BASE_URL": base_url,
        "DATABASE_URL": f"sqlite:///{db_path}",
        "POLL_INTERVAL_S": "0.2",
        "JOB_TIMEOUT_S": "60",
        "DEFAULT_GUILD_BUDGET": "100",
        "MUSICAPI_COSTS": "create_music=20",
        "SYNC_COMMANDS": "none",
        # A killed process's jobs move to the next one within ~2.5 s instead of 25 s.
        "JOB_LEASE_S": "2",
        **extra,
    }


@contextlib.asynccontextmanager
async def open_world(
    tmp_path: Path,
    *,
    sim_config: SimulatorConfig | None = None,
    attachment_limit: int | None = None,
    **env: str,
) -> AsyncIterator[World]:
    """The bot, the fake Discord and the simulator, running until the block ends."""
    config = sim_config or SimulatorConfig(generation_time=0.6)
    if config.seed is None:
        # Seeded, so ids and everything derived from them (BPM, tones) repeat run to run.
        config = dataclasses.replace(config, seed=SIM_SEED)
    sim = MusicAPISimulator(config)
    base_url = await sim.start()
    fake = FakeDiscord()
    await fake.start()
    restore = fake.patch_discord()
    if attachment_limit is None:
        fake.add_guild(GUILD, channels=[CHANNEL])
    else:
        fake.add_guild(GUILD, channels=[CHANNEL], attachment_size_limit=attachment_limit)
    fake.add_member(GUILD, MEMBER, name="member")
    fake.add_member(GUILD, OTHER_MEMBER, name="other")
    fake.add_member(GUILD, MODERATOR, name="mod", permissions=MANAGE_GUILD)
    db_path = tmp_path / "bot.db"
    settings = load_settings(settings_env(base_url, db_path, **env))
    world = World(None, fake, sim, Clock.wall(), db_path, settings)  # type: ignore[arg-type]
    try:
        await world.start_bot()
        yield world
    finally:
        if world.bot is not None:
            await world.bot.close()
        if world.runner is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(world.runner, 5)
        await fake.stop()
        restore()
        await sim.stop()


class MakeWorld(Protocol):
    """The `make_world` fixture: `open_world` bound to the test's own directory."""

    def __call__(self, **options: Any) -> contextlib.AbstractAsyncContextManager[World]:
        """`sim_config=SimulatorConfig(...)`, `attachment_limit=N`, settings as `NAME="value"`."""
        ...


@pytest.fixture
def make_world(tmp_path: Path) -> MakeWorld:
    """Factory: `async with make_world(budget=..., sim=SimulatorConfig(...)) as world`."""
    return functools.partial(open_world, tmp_path)


EPHEMERAL_FLAG = 64
LOADING_FLAG = 128


async def answer_of(interaction: Any, wait_s: float = 30) -> dict[str, Any]:
    """The member's answer to an interaction, shaped like an immediate reply.

    Commands are acknowledged first, so a refusal or a private answer comes after the defer
    as an ephemeral follow-up (or fills an ephemeral "thinking…"). This waits until the answer
    has settled and returns `{"type": 4, "data": <that message>}` when it is private; a public
    answer returns the callback response itself (type 5 for a deferred job)."""
    response: dict[str, Any] = await interaction.wait_response()
    if response["type"] not in (5, 6):
        return response
    # After a deferred update (6) of a button or form, only a follow-up can answer.
    updating = response["type"] == 6
    fake = interaction._require_fake()

    def settled() -> dict[str, Any] | None:
        for message in interaction.followups:
            if not message["deleted"]:
                return message  # type: ignore[no-any-return]
        original = None if updating else interaction.original
        if original is not None and not original["deleted"]:
            if not original["flags"] & LOADING_FLAG:
                return original  # type: ignore[no-any-return]
        return None

    message = await fake._wait_until(settled, wait_s, f"the answer to {interaction.describe()}")
    if message["flags"] & EPHEMERAL_FLAG:
        return {"type": 4, "data": message}
    return response
