"""The embedded SQLite database: one aiosqlite connection, WAL, numbered migrations.

aiosqlite runs every statement on one worker thread, but an `await` between two statements of
a transaction lets another coroutine slip its own statements into it. Every use therefore goes
through `transaction()`, which holds an asyncio lock and opens `BEGIN IMMEDIATE`, so that a
check-then-write (like reserving credits against a budget) is atomic within this process and,
through SQLite's write lock, against other processes sharing the file.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sqlite3
import time
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite

from bot.store.database import (
    SCHEMA_MIGRATIONS_DDL,
    SQLITE,
    Connection,
    Cursor,
    Database,
    DatabaseUnavailable,
    pending_migrations,
)

log = logging.getLogger(__name__)


class SqliteConnection(Connection):
    dialect = SQLITE

    def __init__(self, raw: aiosqlite.Connection) -> None:
        self.raw = raw

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> Cursor:
        return await self.raw.execute(sql, params)

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        await self.raw.executemany(sql, rows)

    async def lock_guild(self, guild_id: int) -> None:
        # BEGIN IMMEDIATE already holds the file's only write lock.
        return None

    async def lock_daily_cap(self) -> None:
        return None  # the same write lock serialises every server's transactions


async def _switch_to_wal(raw: aiosqlite.Connection, within_s: float = 10.0) -> None:
    """PRAGMA journal_mode=WAL, retried while another process holds the file: on a brand-new
    file SQLite can answer "database is locked" at once, without waiting for busy_timeout,
    when several processes open it at the same moment."""
    deadline = time.monotonic() + within_s
    while True:
        try:
            await raw.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() >= deadline:
                raise
            await asyncio.sleep(0.05)


# The file holds the webhook secret and live interaction tokens: the bot's user only.
PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700


def make_private(path: Path) -> None:
    """Create the database file (and its directory, if missing) private to this user, before
    SQLite writes a byte; SQLite gives its -wal and -shm files the database file's mode. An
    existing file of an older install, and its -wal and -shm, are made private as well."""
    parent = path.parent
    if not parent.exists():
        parent.mkdir(parents=True, mode=PRIVATE_DIR, exist_ok=True)
        os.chmod(parent, PRIVATE_DIR)  # exactly, whatever the umask
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, PRIVATE_FILE))
    for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        try:
            if file.exists() and file.stat().st_mode & 0o777 != PRIVATE_FILE:
                os.chmod(file, PRIVATE_FILE)
        except PermissionError:  # someone else's file (a shared volume): say so, carry on
            log.warning("could not make %s private (mode 0600): not this user's file", file)


async def _connect(path: str) -> aiosqlite.Connection:
    """aiosqlite.connect, which on failure lets its worker thread finish first: the thread
    reports its stop to the event loop, and a loop closed before that (the process exiting on
    the error) prints "RuntimeError: Event loop is closed" from the thread."""
    connecting = aiosqlite.connect(path, isolation_level=None)
    try:
        return await connecting
    except BaseException:
        worker = getattr(connecting, "_thread", None)  # aiosqlite keeps it private
        if worker is not None and worker.is_alive():
            await asyncio.to_thread(worker.join, 5.0)
        raise


class SqliteDatabase(Database):
    dialect = SQLITE

    def __init__(self, raw: aiosqlite.Connection) -> None:
        self._conn = SqliteConnection(raw)
        self._lock = asyncio.Lock()

    @classmethod
    async def connect(cls, path: Path | str, *, up_to: int | None = None) -> SqliteDatabase:
        try:
            if str(path) != ":memory:":
                make_private(Path(path))
            # isolation_level=None: we issue BEGIN/COMMIT ourselves.
            raw = await _connect(str(path))
        except (OSError, sqlite3.Error) as error:
            raise DatabaseUnavailable(f"can't open SQLite database {path}: {error}") from None
        raw.row_factory = aiosqlite.Row
        db = cls(raw)
        try:
            # The busy timeout first: switching to WAL needs a moment of exclusive access,
            # which another process opening the same file at the same time may hold.
            await raw.execute("PRAGMA busy_timeout=10000")
            await _switch_to_wal(raw)
            await raw.execute("PRAGMA synchronous=NORMAL")
            await raw.execute("PRAGMA foreign_keys=ON")
            await db.migrate(up_to)
        except sqlite3.DatabaseError as error:  # e.g. the file is not a database
            await raw.close()
            raise DatabaseUnavailable(f"can't open SQLite database {path}: {error}") from None
        except BaseException:
            await raw.close()
            raise
        return db

    async def close(self) -> None:
        await self._conn.raw.close()

    async def migrate(self, up_to: int | None = None) -> list[int]:
        """Apply every migration not applied yet (up to `up_to`); returns their versions.

        BEGIN IMMEDIATE takes the write lock before the applied versions are read, so of
        several processes starting at once exactly one applies each migration.
        """
        raw = self._conn.raw
        done: list[int] = []
        async with self._lock:
            await raw.execute("BEGIN IMMEDIATE")
            try:
                await raw.execute(SCHEMA_MIGRATIONS_DDL)
                cursor = await raw.execute("SELECT version FROM schema_migrations")
                applied = [row[0] for row in await cursor.fetchall()]
                for version, name, sql in pending_migrations(applied, "sqlite", up_to):
                    log.info("applying database migration %s", name)
                    # Statements one by one: executescript would commit our transaction.
                    for statement in split_sql(sql):
                        await raw.execute(statement)
                    await raw.execute(
                        "INSERT INTO schema_migrations (version, name) VALUES (?, ?)",
                        (version, name),
                    )
                    done.append(version)
                await raw.execute("COMMIT")
            except BaseException:
                await raw.execute("ROLLBACK")
                raise
        return done

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Connection]:
        """Exclusive use of the connection inside BEGIN IMMEDIATE ... COMMIT."""
        async with self._lock:
            raw = self._conn.raw
            try:
                await raw.execute("BEGIN IMMEDIATE")
                yield self._conn
            except BaseException:
                await _roll_back(raw)
                raise
            try:
                await raw.execute("COMMIT")
            except BaseException:
                await _roll_back(raw)  # a failed COMMIT leaves the transaction open
                raise

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Connection]:
        """Exclusive use of the connection for reads (no transaction needed)."""
        async with self._lock:
            yield self._conn


async def _roll_back(raw: aiosqlite.Connection) -> None:
    """ROLLBACK whatever is open, even after a cancellation.

    aiosqlite runs statements in order on its own thread, and a cancelled `await` does not
    take back a statement already queued there: a task cancelled while its BEGIN (or
    COMMIT) waits still has it run. This ROLLBACK queues behind it, so the connection never
    stays inside a transaction for the next user. "No transaction is active" is fine."""
    with contextlib.suppress(sqlite3.Error):
        await raw.execute("ROLLBACK")


def split_sql(script: str) -> list[str]:
    """The statements of a script; a trigger's BEGIN ... END stays one statement."""
    statements: list[str] = []
    current = ""
    for line in script.splitlines(keepends=True):
        if not current and (not line.strip() or line.lstrip().startswith("--")):
            continue
        current += line
        if sqlite3.complete_statement(current):
            statements.append(current.strip())
            current = ""
    if current.strip():
        statements.append(current.strip())
    return statements
