"""Fault run: songs in flight, `kill -9` of the bot during submits, a flaky CDN, then counts.

    python -m bench.fault_run [--songs 40] [--kills 2] [--cdn-failures 2]

Runs `python -m bot` as a real process against the loopback fake Discord and the MusicAPI
simulator (creates slowed so that kills land while submits are in flight; every result file
fails `--cdn-failures` times before it is served). Commands arrive one every 50 ms; the bot is
killed with SIGKILL `--kills` times while they arrive, and restarted each time. At the end it
prints what an operator and the members saw: jobs delivered or released, possibly billed
orphans (and how many tasks MusicAPI really made that no job tracks), replies left "thinking",
members never answered, and files attached or linked. Nothing is asserted: it is a report.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sqlite3
import sys
import tempfile
from pathlib import Path

from bot.simulator import MusicAPISimulator, SimulatorConfig
from tests.e2e.conftest import CHANNEL, GUILD, MEMBER, TOKEN, settings_env
from tests.fakediscord import FakeDiscord

LOADING = 1 << 7


def _env(fake: FakeDiscord, sim: MusicAPISimulator, db: Path) -> dict[str, str]:
    keep = ("DISCORD_", "MUSICAPI_", "DATABASE_", "DEFAULT_", "DEV_", "SYNC_", "OWNER_", "POLL_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(keep)}
    env.update(settings_env(sim.base_url, db, DEFAULT_GUILD_BUDGET="100000"))
    env["DISCORD_API_BASE_URL"] = fake.url
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[1])
    return env


async def _start(env: dict[str, str], log: Path) -> asyncio.subprocess.Process:
    handle = log.open("ab")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", env=env, stdout=handle, stderr=handle
    )
    handle.close()
    return proc


async def run(songs: int, kills: int, cdn_failures: int) -> None:
    sim = MusicAPISimulator(
        SimulatorConfig(
            generation_time=4.0, api_key="test-musicapi-key", seed=8, cdn_failures=cdn_failures
        )
    )
    await sim.start()
    sim.stall("/api/v1/sonic/create", 0.6, count=songs)  # every create is in flight 0.6 s
    fake = FakeDiscord(token=TOKEN)
    await fake.start()
    fake.add_guild(GUILD, channels=[CHANNEL])
    fake.add_member(GUILD, MEMBER, name="member")
    work = Path(tempfile.mkdtemp(prefix="fault-run-"))
    db, log = work / "bot.db", work / "bot.log"
    env = _env(fake, sim, db)
    proc = await _start(env, log)
    await fake.wait_ready(timeout=60)

    interactions = []
    kill_at = {round((k + 1) * songs / (kills + 1)) for k in range(kills)}
    for n in range(songs):
        if n in kill_at:
            proc.send_signal(signal.SIGKILL)
            await proc.wait()
            await fake.disconnect_clients()
            proc = await _start(env, log)
            await fake.wait_ready(timeout=60)
        try:
            interactions.append(
                await fake.invoke_slash(
                    guild_id=GUILD,
                    channel_id=CHANNEL,
                    user_id=MEMBER,
                    command="song",
                    subcommand="create",
                    options={"description": f"fault run song {n}"},
                    timeout=30,
                )
            )
        except TimeoutError:
            pass
        await asyncio.sleep(0.05)

    # Let every job settle: delivered, or released and told.
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 120
    while loop.time() < deadline:
        with sqlite3.connect(db) as conn:
            (open_jobs,) = conn.execute("SELECT COUNT(*) FROM jobs WHERE notified = 0").fetchone()
        if open_jobs == 0:
            break
        await asyncio.sleep(0.5)
    await asyncio.sleep(2)  # card edits after the last outcome

    with sqlite3.connect(db) as conn:
        states = dict(conn.execute("SELECT state, COUNT(*) FROM jobs GROUP BY state").fetchall())
        orphans = conn.execute("SELECT COUNT(*) FROM jobs WHERE orphaned_at IS NOT NULL")
        (orphan_count,) = orphans.fetchone()
        tracked = {
            row[0] for row in conn.execute("SELECT task_id FROM jobs WHERE task_id IS NOT NULL")
        }
        unsettled = conn.execute("SELECT COUNT(*) FROM jobs WHERE notified = 0").fetchone()[0]
    messages = fake.channel_messages(CHANNEL)
    clips = [m for m in messages if "your song is ready" in (m["content"] or "")]
    attached = sum(
        1 for m in clips if any(a["filename"].endswith(".wav") for a in m["attachments"])
    )
    linked = sum(1 for m in clips if "🔗" in (m["content"] or ""))
    never_acked = sum(1 for ix in interactions if ix.response is None)
    stuck = sum(
        1
        for ix in interactions
        if ix.response is not None
        and ix.original is not None
        and not ix.original["deleted"]
        and ix.original["flags"] & LOADING
    )
    creates = sum(1 for _, p, _ in sim.requests if p.endswith("/sonic/create"))
    untracked = len(set(sim.tasks) - tracked)

    proc.send_signal(signal.SIGTERM)
    code = await proc.wait()
    await fake.stop()
    await sim.stop()

    rows = [
        ("songs asked for", songs),
        ("kill -9 during submits", kills),
        ("commands never acknowledged (sent while the bot was down)", never_acked),
        ("jobs", sum(states.values())),
        ("jobs delivered", states.get("succeeded", 0)),
        ("jobs released (member told)", states.get("failed", 0)),
        ("  of which possibly billed orphans", orphan_count),
        ("jobs unsettled at the end", unsettled),
        ("create requests sent", creates),
        ("tasks MusicAPI made", len(sim.tasks)),
        ("tasks made that no job tracks (billed orphans)", untracked),
        ("replies left 'thinking…'", stuck),
        ("songs posted", len(clips)),
        ("songs with the file attached", attached),
        ("songs posted as a link", linked),
        ("exit status of the final SIGTERM", code),
    ]
    width = max(len(name) for name, _ in rows)
    print(f"{'measure':<{width}} | value")
    print(f"{'-' * width}-|------")
    for name, value in rows:
        print(f"{name:<{width}} | {value}")
    print(f"(log: {log})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--songs", type=int, default=40)
    parser.add_argument("--kills", type=int, default=2)
    parser.add_argument("--cdn-failures", type=int, default=2)
    args = parser.parse_args()
    asyncio.run(run(args.songs, args.kills, args.cdn_failures))


if __name__ == "__main__":
    main()
