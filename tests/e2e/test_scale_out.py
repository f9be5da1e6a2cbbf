"""Three `python -m bot` processes with shard ranges on one PostgreSQL, against the fake
Discord: servers on every shard, songs in flight, then `kill -9` of one process. The others
take its songs over (default lease settings) and deliver each once, charged once, into
servers whose shards they do not run."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

import psycopg

from bot.shards import shard_of
from bot.simulator import MusicAPISimulator, SimulatorConfig
from tests.e2e.conftest import MEMBER, TOKEN
from tests.fakediscord import FakeDiscord

SHARDS = 4
# Shard ranges of the three processes: every shard run exactly once.
RANGES = ("0-1", "2", "3")
KILLED = 1  # the process running shard 2
TAKEOVER_WITHIN_S = 30.0


def guilds_on_every_shard(per_shard: int) -> list[int]:
    """Snowflake-sized guild ids, `per_shard` of them on each shard."""
    found: list[int] = []
    n = 10**17 >> 22
    while len(found) < SHARDS * per_shard:
        guild_id = n << 22
        if sum(shard_of(g, SHARDS) == shard_of(guild_id, SHARDS) for g in found) < per_shard:
            found.append(guild_id)
        n += 1
    return found


def bot_env(
    fake: FakeDiscord, sim_url: str, db_url: str, shard_ids: str, sync: str
) -> dict[str, str]:
    prefixes = ("DISCORD_", "MUSICAPI_", "DATABASE_", "DEFAULT_", "DEV_", "SYNC_", "OWNER_",
                "POLL_", "JOB_", "LOG_", "MODELS", "SIMULATOR_", "SHARD_")  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    env.update(
        DISCORD_TOKEN=TOKEN,
        DISCORD_API_BASE_URL=fake.url,
        MUSICAPI_KEY="test-musicapi-key",
        MUSICAPI_BASE_URL=sim_url,
        DATABASE_URL=db_url,
        POLL_INTERVAL_S="0.2",
        JOB_TIMEOUT_S="120",
        DEFAULT_GUILD_BUDGET="100",
        MUSICAPI_COSTS="create_music=20",
        SYNC_COMMANDS=sync,
        SHARD_COUNT=str(SHARDS),
        SHARD_IDS=shard_ids,
        LOG_LEVEL="INFO",
        # JOB_LEASE_S is left at its default: the 30 s takeover is the default's promise.
    )
    return env


async def start_bot(env: dict[str, str], log: Path) -> asyncio.subprocess.Process:
    with log.open("ab") as handle:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", env=env, cwd=log.parent, stdout=handle, stderr=handle
        )


def query(db_url: str, sql: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(db_url) as conn:
        return list(conn.execute(sql).fetchall())


def clip_messages(fake: FakeDiscord, channel_id: int) -> list[dict[str, Any]]:
    return [
        m
        for m in fake.channel_messages(channel_id)
        if "your song is ready" in (m["content"] or "") and not m["deleted"]
    ]


async def wait_until(predicate: Any, within: float) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if predicate():
            return True
        await asyncio.sleep(0.1)
    return bool(predicate())


async def test_a_killed_process_s_songs_are_delivered_by_the_others(
    pg_url: str, tmp_path: Path
) -> None:
    # Long enough that every song is still being made when the process dies.
    sim = MusicAPISimulator(SimulatorConfig(generation_time=10.0, seed=9))
    sim_url = await sim.start()
    fake = FakeDiscord(shard_count=SHARDS)
    await fake.start()
    guilds = guilds_on_every_shard(per_shard=2)
    channels = {guild_id: guild_id + 1 for guild_id in guilds}
    for guild_id, channel_id in channels.items():
        fake.add_guild(guild_id, channels=[channel_id])
        fake.add_member(guild_id, MEMBER, name="member")

    logs = [tmp_path / f"bot{n}.log" for n in range(len(RANGES))]
    for log in logs:
        log.parent.mkdir(parents=True, exist_ok=True)
    # All three at once, on an empty database: the schema is migrated exactly once. Only the
    # first registers the commands.
    procs = await asyncio.gather(
        *(
            start_bot(bot_env(fake, sim_url, pg_url, ids, "global" if n == 0 else "none"), log)
            for n, (ids, log) in enumerate(zip(RANGES, logs, strict=True))
        )
    )

    def logs_text() -> str:
        return "\n".join(f"--- bot{n}\n{log.read_text()[-4000:]}" for n, log in enumerate(logs))

    try:
        await fake.wait_shards_ready(SHARDS, timeout=60)
        puts = [r for r in fake.request_log if r.method == "PUT" and "/commands" in r.path]
        assert len(puts) == 1 and fake.registered_commands["global"], logs_text()
        assert query(pg_url, "SELECT COUNT(*) FROM schema_migrations")[0][0] == len(
            query(pg_url, "SELECT version FROM schema_migrations")
        )

        interactions = [
            await fake.invoke_slash(
                guild_id=guild_id,
                channel_id=channels[guild_id],
                user_id=MEMBER,
                command="song",
                subcommand="create",
                options={"description": f"song {n}"},
            )
            for n, guild_id in enumerate(guilds)
        ]
        # Every song accepted upstream (its card is shown), none finished yet: then kill -9.
        assert await wait_until(
            lambda: all(ix.original and ix.original.get("embeds") for ix in interactions), 30
        ), logs_text()
        in_flight = query(pg_url, "SELECT COUNT(*) FROM jobs WHERE task_id IS NOT NULL")
        assert in_flight[0][0] == len(guilds)
        assert all(not clip_messages(fake, c) for c in channels.values())
        killed = procs[KILLED]
        owner_rows = query(pg_url, "SELECT id, guild_id, owner FROM jobs")
        killed_jobs = {
            job_id: guild_id
            for job_id, guild_id, owner in owner_rows
            if owner.split(":")[1] == str(killed.pid)
        }
        # The killed process owned the songs of its shard's servers (it received them).
        assert sorted(killed_jobs.values()) == sorted(
            g for g in guilds if shard_of(g, SHARDS) == 2
        ), owner_rows
        killed.send_signal(signal.SIGKILL)
        await killed.wait()
        killed_at = time.monotonic()

        def all_delivered() -> bool:
            return all(len(clip_messages(fake, c)) >= 2 for c in channels.values())

        assert await wait_until(all_delivered, TAKEOVER_WITHIN_S), logs_text()
        took = time.monotonic() - killed_at

        def all_told() -> bool:  # marked notified: no process posts them again
            rows = query(pg_url, "SELECT state, notified FROM jobs")
            return all(state == "succeeded" and notified for state, notified in rows)

        assert await wait_until(all_told, 30), logs_text()

        for guild_id, channel_id in channels.items():
            assert len(clip_messages(fake, channel_id)) == 2, (guild_id, logs_text())
        # Delivered by a survivor, after a claim (epoch 2), and charged once.
        survivors = {str(p.pid) for n, p in enumerate(procs) if n != KILLED}
        for job_id, owner, epoch, state in query(
            pg_url, "SELECT id, owner, lease_epoch, state FROM jobs ORDER BY id"
        ):
            assert state == "succeeded"
            if job_id in killed_jobs:
                assert owner.split(":")[1] in survivors and epoch == 2, (job_id, owner, epoch)
        ledger = query(
            pg_url,
            "SELECT job_id, kind, amount FROM ledger WHERE kind != 'setting' ORDER BY job_id, id",
        )
        assert ledger == [
            (job_id, kind, 20) for (job_id,) in query(pg_url, "SELECT id FROM jobs ORDER BY id")
            for kind in ("reserve", "commit")
        ]  # fmt: skip
        creates = [p for _, p, _ in sim.requests if p.endswith("/sonic/create")]
        assert len(creates) == len(guilds)  # taken over, never resubmitted
        print(f"takeover and delivery {took:.1f} s after kill -9")

        # Shard 2 comes back in a new process: a button under a song another process posted
        # there works (its state is all in the database).
        procs.append(
            await start_bot(bot_env(fake, sim_url, pg_url, RANGES[KILLED], "none"), logs[KILLED])
        )
        await fake.wait_shards_ready(SHARDS, timeout=60)
        guild_id = next(g for g in guilds if shard_of(g, SHARDS) == 2)
        song = clip_messages(fake, channels[guild_id])[0]
        bpm_button = next(
            c["custom_id"]
            for row in song["components"]
            for c in row["components"]
            if c.get("label") == "BPM"
        )
        press = await fake.click_button(
            guild_id=guild_id, channel_id=channels[guild_id], user_id=MEMBER,
            message_id=song["id"], custom_id=bpm_button,
        )  # fmt: skip
        answer = await press.wait_original(lambda m: bool(m.get("embeds")), timeout=30)
        assert answer["embeds"][0]["title"].startswith("Tempo of"), logs_text()
    finally:
        for n, proc in enumerate(procs):
            if n != KILLED and proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
        codes = [await asyncio.wait_for(p.wait(), 30) for p in procs]
        await fake.stop()
        await sim.stop()
    assert [c for n, c in enumerate(codes) if n != KILLED] == [0] * (len(procs) - 1), logs_text()
