"""Both engines behind one store: same schema, migrations once, plain roles, clear errors."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from pathlib import Path

import pytest

from bot.store.database import Database, DatabaseUnavailable, migrations
from tests.pg import PostgresCluster, PostgresMissing, start_cluster
from tests.store_worker import run_together

ROOT = Path(__file__).resolve().parents[2]


async def schema(db: Database) -> dict[str, set[str]]:
    """table -> column names, as the engine itself describes them."""
    async with db.read() as conn:
        if db.dialect.name == "sqlite":
            cursor = await conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
            tables = [row[0] for row in await cursor.fetchall()]
            found = {}
            for table in tables:
                cursor = await conn.execute(f"PRAGMA table_info({table})")
                found[table] = {row[1] for row in await cursor.fetchall()}
            return found
        cursor = await conn.execute(
            """SELECT table_name, column_name FROM information_schema.columns
               WHERE table_schema = 'public'"""
        )
        result: dict[str, set[str]] = {}
        for row in await cursor.fetchall():
            result.setdefault(row[0], set()).add(row[1])
        return result


async def test_both_engines_end_with_the_same_tables_and_columns(
    tmp_path: Path, pg_url: str
) -> None:
    assert [v for v, _, _ in migrations("sqlite")] == [v for v, _, _ in migrations("postgres")]
    lite = await Database.open(tmp_path / "schema.db")
    pg = await Database.open(pg_url)
    try:
        lite_schema, pg_schema = await schema(lite), await schema(pg)
    finally:
        await lite.close()
        await pg.close()
    assert "ledger_totals" in lite_schema and "jobs" in lite_schema
    assert lite_schema == pg_schema


@pytest.mark.e2e  # starts a process
async def test_processes_starting_at_once_migrate_exactly_once(db_target: Path | str) -> None:
    results = await run_together([["migrate", str(db_target)] for _ in range(4)])
    applied = [name for result in results for name in result["applied"]]  # type: ignore[attr-defined]
    engine = "postgres" if isinstance(db_target, str) else "sqlite"
    assert sorted(applied) == [name for _, name, _ in migrations(engine)]


async def test_an_ordinary_owner_role_with_trust_authentication_runs_the_bot(
    pg_cluster: PostgresCluster,
) -> None:
    pg_cluster.admin("CREATE ROLE plain_owner LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE")
    url = pg_cluster.create_database(owner="plain_owner")
    assert url.startswith("postgresql://plain_owner@")  # no password: trust authentication
    db = await Database.open(url)
    try:
        async with db.transaction() as conn:
            cursor = await conn.execute(
                "SELECT rolsuper FROM pg_roles WHERE rolname = current_user"
            )
            assert (await cursor.fetchone())[0] is False
            cursor = await conn.execute(
                "SELECT count(*) FROM pg_extension WHERE extname != ?", ("plpgsql",)
            )
            assert (await cursor.fetchone())[0] == 0
            await conn.lock_guild(1)
    finally:
        await db.close()


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_an_unreachable_server_is_one_line() -> None:
    with pytest.raises(DatabaseUnavailable) as caught:
        await Database.open(f"postgresql://postgres@127.0.0.1:{_closed_port()}/musicbot")
    message = str(caught.value)
    assert "\n" not in message and "can't connect to PostgreSQL" in message
    assert "127.0.0.1" in message


async def test_a_refusing_server_is_one_line(pg_cluster: PostgresCluster) -> None:
    with pytest.raises(DatabaseUnavailable) as caught:
        await Database.open(pg_cluster.url("postgres", user="nobody_here"))
    message = str(caught.value)
    assert "\n" not in message and "nobody_here" in message


@pytest.mark.e2e  # starts a process
@pytest.mark.parametrize("problem", ["unreachable", "refusing"])
async def test_the_bot_exits_2_with_one_line_when_postgresql_fails(
    problem: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    if problem == "unreachable":
        url = f"postgresql://postgres@127.0.0.1:{_closed_port()}/musicbot"
    else:
        cluster: PostgresCluster = request.getfixturevalue("pg_cluster")
        url = cluster.url("postgres", user="nobody_here")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DISCORD_", "MUSICAPI_", "DATABASE_", "LOG_"))
    }
    # MUSICAPI_SIMULATE: nothing else is needed; Discord is never reached (the check comes first).
    env.update(DISCORD_TOKEN="a.b.c", MUSICAPI_SIMULATE="1", DATABASE_URL=url,
               PYTHONPATH=str(ROOT))  # fmt: skip
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", env=env, cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    lines = err.decode().strip().splitlines()
    assert proc.returncode == 2
    assert len(lines) == 1 and lines[0].startswith("Configuration error: DATABASE_URL:"), lines
    assert out == b""


async def test_a_file_that_is_not_a_database_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "not.db"
    path.write_bytes(b"this is not SQLite" * 100)
    with pytest.raises(DatabaseUnavailable) as caught:
        await Database.open(path)
    assert "\n" not in str(caught.value)


async def test_discord_ids_and_epoch_times_keep_full_precision(database: Database) -> None:
    from bot.store import jobs as job_sql
    from bot.store.jobs import NewJob

    big = 1_234_567_890_123_456_789  # beyond INTEGER's 2**31
    now = 1_795_132_800.123456
    async with database.transaction() as conn:
        job_id = await job_sql.insert(
            conn,
            NewJob(
                guild_id=big,
                channel_id=big + 1,
                user_id=big + 2,
                operation="create_music",
                request={"clip_id": "Abc"},
                summary="s",
                cost=1,
            ),
            now,
        )
        job = await job_sql.get(conn, job_id)
    assert job is not None
    assert (job.guild_id, job.channel_id, job.user_id) == (big, big + 1, big + 2)
    assert job.created_at == now and job.request == {"clip_id": "Abc"}


def test_missing_server_binaries_name_the_debian_package(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PG_BINDIR", str(tmp_path))  # a directory without initdb
    with pytest.raises(PostgresMissing) as caught:
        start_cluster()
    assert "\n" not in str(caught.value) and "Debian package `postgresql`" in str(caught.value)
