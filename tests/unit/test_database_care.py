"""Database care: `musicbot backup` while the bot writes, and a newer schema refused."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.cli import main as cli
from bot.store.backup import BackupError, backup_sqlite
from bot.store.database import Database, SchemaTooNew, migrations

NEWEST = max(version for version, _, _ in migrations("sqlite"))


async def fill(db: Database, rows: int) -> None:
    async with db.transaction() as conn:
        for n in range(rows):
            await conn.execute(
                "INSERT INTO guild_settings (guild_id, budget, budget_period, updated_at) "
                "VALUES (?, ?, 'month', 0)",
                (1000 + n, n),
            )


async def count_settings(target: Path) -> int:
    db = await Database.open(target)
    try:
        async with db.read() as conn:
            cursor = await conn.execute("SELECT COUNT(*) FROM guild_settings")
            row = await cursor.fetchone()
            return int(row[0])
    finally:
        await db.close()


async def test_backup_while_open_makes_a_database_that_opens(tmp_path: Path) -> None:
    live = await Database.open(tmp_path / "live.db")
    try:
        await fill(live, 500)
        # The bot keeps its connection open (WAL, uncheckpointed writes) during the backup.
        result = await asyncio.to_thread(backup_sqlite, tmp_path / "live.db", tmp_path / "b.db")
        await fill_more(live)
    finally:
        await live.close()
    assert result.schema_version == NEWEST and result.size > 0
    assert not (tmp_path / "b.db-wal").exists()  # a standalone file
    # Opens through the bot's own store (and so migrates cleanly), with the rows of the time.
    assert await count_settings(tmp_path / "b.db") == 500
    with sqlite3.connect(tmp_path / "b.db") as raw:
        assert raw.execute("PRAGMA integrity_check").fetchone() == ("ok",)


async def fill_more(db: Database) -> None:
    async with db.transaction() as conn:
        await conn.execute(
            "INSERT INTO guild_settings (guild_id, budget, budget_period, updated_at) "
            "VALUES (1, 1, 'month', 0)"
        )


def test_backup_never_overwrites_and_names_the_problem(tmp_path: Path) -> None:
    with pytest.raises(BackupError, match="no SQLite database"):
        backup_sqlite(tmp_path / "missing.db", tmp_path / "b.db")
    (tmp_path / "live.db").write_bytes(b"")
    (tmp_path / "b.db").write_bytes(b"keep me")
    with pytest.raises(BackupError, match="already exists"):
        backup_sqlite(tmp_path / "live.db", tmp_path / "b.db")
    assert (tmp_path / "b.db").read_bytes() == b"keep me"
    (tmp_path / "junk.db").write_bytes(b"not a database at all" * 100)
    with pytest.raises(BackupError, match="could not back up"):
        backup_sqlite(tmp_path / "junk.db", tmp_path / "c.db")
    assert not (tmp_path / "c.db").exists()
    assert not list(tmp_path.glob(".*partial"))


async def test_backup_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db = await Database.open(tmp_path / "live.db")
    await fill(db, 3)
    await db.close()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", "sqlite:///live.db")
    assert await asyncio.to_thread(cli, ["backup", "copy.db"]) == 0
    assert "Backed up live.db to copy.db" in capsys.readouterr().out
    assert await count_settings(tmp_path / "copy.db") == 3

    monkeypatch.setenv("DATABASE_URL", "postgresql://bot@127.0.0.1:5432/musicbot")
    assert cli(["backup", "copy2.db"]) == 1
    assert "pg_dump" in capsys.readouterr().err
    assert not (tmp_path / "copy2.db").exists()


async def mark_newer(target: Path | str) -> None:
    db = await Database.open(target)
    try:
        async with db.transaction() as conn:
            await conn.execute(
                "INSERT INTO schema_migrations (version, name) VALUES (?, ?)",
                (NEWEST + 1, f"{NEWEST + 1:04d}_from_the_future.sql"),
            )
    finally:
        await db.close()


async def test_a_newer_schema_is_refused_on_both_engines(db_target: Path | str) -> None:
    await mark_newer(db_target)
    with pytest.raises(SchemaTooNew) as refused:
        await Database.open(db_target)
    text = str(refused.value)
    assert f"version {NEWEST + 1}" in text and f"up to {NEWEST}" in text
    assert "\n" not in text


@pytest.mark.e2e  # starts a process
async def test_the_bot_refuses_a_newer_schema_in_one_line(tmp_path: Path) -> None:
    await mark_newer(tmp_path / "bot.db")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "MUSICAPI_"))}
    env |= {
        "DISCORD_TOKEN": "a.b.c",
        "MUSICAPI_SIMULATE": "1",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", env=env, cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), 30)
    lines = err.decode().strip().splitlines()
    assert proc.returncode == 2 and out == b""
    assert len(lines) == 1, lines
    assert "DATABASE_URL" in lines[0] and "newer than this musicbot" in lines[0]


# -- the database and its backups are private to the bot's user --------------------------------


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The loosest umask: files must be private by what the bot sets, not by the umask."""
    old = os.umask(0)
    yield
    os.umask(old)


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


async def test_a_new_database_its_wal_and_its_directory_are_private(
    tmp_path: Path, open_umask: None
) -> None:
    path = tmp_path / "data" / "musicbot.db"
    live = await Database.open(path)
    try:
        await fill(live, 3)  # WAL mode: the -wal and -shm files exist while it is open
        files = [path, path.with_name("musicbot.db-wal"), path.with_name("musicbot.db-shm")]
        assert all(file.exists() for file in files)
        assert [mode(file) for file in files] == [0o600, 0o600, 0o600]
        assert mode(path.parent) == 0o700  # the bot made the directory
    finally:
        await live.close()


async def test_an_older_installs_database_is_made_private(tmp_path: Path, open_umask: None) -> None:
    path = tmp_path / "musicbot.db"
    await (await Database.open(path)).close()
    os.chmod(path, 0o644)
    os.chmod(tmp_path, 0o755)
    db = await Database.open(path)
    await db.close()
    assert mode(path) == 0o600
    assert mode(tmp_path) == 0o755  # a directory the bot did not make is the operator's


async def test_every_backup_is_private_from_its_first_byte(
    tmp_path: Path, open_umask: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    live = await Database.open(tmp_path / "live.db")
    try:
        await fill(live, 10)
    finally:
        await live.close()
    # A loose leftover of a killed backup is not reused with its mode.
    leftover = tmp_path / ".b.db.partial"
    leftover.write_bytes(b"")
    os.chmod(leftover, 0o666)
    seen: list[int] = []
    real_connect = sqlite3.connect

    def watching(target: object, *args: object, **kwargs: object) -> sqlite3.Connection:
        if str(target).endswith(".partial"):  # the copy, as SQLite is about to write into it
            seen.append(mode(Path(str(target))))
        return real_connect(target, *args, **kwargs)  # type: ignore[arg-type]  # passed through

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sqlite3, "connect", watching)
        backup_sqlite(tmp_path / "live.db", tmp_path / "b.db")
    assert seen == [0o600]
    assert mode(tmp_path / "b.db") == 0o600 and not leftover.exists()
    monkeypatch.chdir(tmp_path)  # and through the command, as an operator runs it
    monkeypatch.setenv("DATABASE_URL", "sqlite:///live.db")
    assert await asyncio.to_thread(cli, ["backup", "c.db"]) == 0
    assert mode(tmp_path / "c.db") == 0o600
