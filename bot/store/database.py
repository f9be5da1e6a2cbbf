"""The database behind the store: embedded SQLite (the default) or a shared PostgreSQL.

Every store function takes a `Connection` and writes its SQL once, in SQLite's dialect with
`?` placeholders; the PostgreSQL connection translates the placeholders. The few places where
the engines really differ (a JSON field, a per-server lock) ask `conn.dialect`.

`Database.transaction()` gives exclusive, atomic use of a connection: `BEGIN IMMEDIATE` on
SQLite (one writer per file, across processes), a pooled connection inside `BEGIN` on
PostgreSQL. A check-then-write that must not interleave with another one for the same server
(reserving credits against a budget) also calls `conn.lock_guild(guild_id)`, which on
PostgreSQL takes `pg_advisory_xact_lock(guild_id)` until the transaction ends: under READ
COMMITTED, two reservations would otherwise both see the old total and both be granted.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal, Protocol

from bot.store.writable import unwritable_hint

DialectName = Literal["sqlite", "postgres"]

_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


class DatabaseUnavailable(Exception):
    """The database can't be opened (bad URL, server down or refusing, driver missing).

    The message is one plain line for the operator; no traceback is needed to act on it.
    """


class Row(Protocol):
    """A result row: by position (`row[0]`), by column name, and `dict(row)`."""

    def __getitem__(self, key: int | str, /) -> Any: ...

    def keys(self) -> Iterable[str]: ...


class Cursor(Protocol):
    @property
    def rowcount(self) -> int: ...

    async def fetchone(self) -> Any: ...

    async def fetchall(self) -> Iterable[Any]: ...


@dataclass(frozen=True, slots=True)
class Dialect:
    """What differs between the engines, in the few places the SQL can't be the same."""

    name: DialectName

    def json_text(self, column: str, key: str) -> str:
        """SQL for the text of a top-level key of a JSON column."""
        if not key.isidentifier():
            raise ValueError(f"not a plain JSON key: {key!r}")
        if self.name == "postgres":
            return f"({column} ->> '{key}')"
        return f"json_extract({column}, '$.{key}')"

    def joined_ids(self, column: str) -> str:
        """SQL aggregating an integer column into one comma-separated text (no order)."""
        if self.name == "postgres":
            return f"string_agg({column}::text, ',')"
        return f"group_concat({column}, ',')"


SQLITE = Dialect("sqlite")
POSTGRES = Dialect("postgres")


class Connection(ABC):
    """One connection, used inside `Database.transaction()` or `Database.read()`."""

    dialect: Dialect

    @abstractmethod
    async def execute(self, sql: str, params: Sequence[Any] = ()) -> Cursor:
        """Run one statement written with `?` placeholders."""

    @abstractmethod
    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None: ...

    async def execute_fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        """Run one statement and return all its rows (as aiosqlite's helper of that name)."""
        cursor = await self.execute(sql, params)
        return list(await cursor.fetchall())

    @abstractmethod
    async def lock_guild(self, guild_id: int) -> None:
        """Serialise this transaction with every other one that locks the same server."""

    @abstractmethod
    async def lock_daily_cap(self) -> None:
        """Serialise this transaction with every other one, of any server, that checks the
        owner's daily cap. Taken after the server's lock, never before it."""

    async def lock_reservation(self, guild_id: int, *, daily_cap: bool) -> None:
        """The locks a reservation takes before it reads anything: the server's, then (when
        the owner's daily cap applies) the daily cap's. One statement where the engine can."""
        await self.lock_guild(guild_id)
        if daily_cap:
            await self.lock_daily_cap()


class Database(ABC):
    dialect: Dialect

    @staticmethod
    async def open(
        target: Path | str, *, pool_size: int = 10, up_to: int | None = None
    ) -> Database:
        """A file path (or `:memory:`) opens SQLite; a `postgresql://` URL opens PostgreSQL.

        Either way the schema is migrated to the newest version (or to `up_to`) before this
        returns. Raises DatabaseUnavailable with one plain line when that is impossible.
        """
        if isinstance(target, str) and is_postgres_url(target):
            from bot.store.postgres import PostgresDatabase

            return await PostgresDatabase.connect(target, pool_size=pool_size, up_to=up_to)
        from bot.store.sqlite import SqliteDatabase

        return await SqliteDatabase.connect(target, up_to=up_to)

    @abstractmethod
    def transaction(self) -> AbstractAsyncContextManager[Connection]:
        """Exclusive, atomic use of a connection; rolled back if the block raises."""

    @abstractmethod
    def read(self) -> AbstractAsyncContextManager[Connection]:
        """A connection for reads that need no transaction."""

    @abstractmethod
    async def close(self) -> None: ...

    @abstractmethod
    async def migrate(self, up_to: int | None = None) -> list[int]:
        """Apply the migrations not applied yet (up to `up_to`); returns their versions."""

    def listen(self, channel: str) -> AsyncIterator[str] | None:
        """The payloads any process NOTIFYs on `channel`, as they come (PostgreSQL); None
        where the engine has no such thing (SQLite: the processes sharing a file find each
        other's changes by reading it)."""
        return None


async def check_database(target: Path | str) -> None:
    """Open (and so migrate) the database once and close it; raises DatabaseUnavailable."""
    try:
        db = await Database.open(target, pool_size=1)
    except DatabaseUnavailable:
        hint = unwritable_hint(target) if isinstance(target, Path) else None
        if hint is None:
            raise
        raise DatabaseUnavailable(hint) from None
    await db.close()


class SchemaTooNew(DatabaseUnavailable):
    """The database was migrated by a newer release: this code would misread its tables."""


def refuse_newer_schema(applied: Iterable[int], dialect: DialectName) -> None:
    """Raise SchemaTooNew when the database has a migration this code does not know.

    Called by each engine's migrator with the versions it found applied, before it applies
    anything: an older release must not run (and write) on a schema it does not understand.
    """
    newest = max(applied, default=0)
    known = max((version for version, _, _ in migrations(dialect)), default=0)
    if newest > known:
        from bot import __version__

        raise SchemaTooNew(
            f"the database schema is version {newest}, newer than this musicbot "
            f"{__version__} knows (up to {known}): it was upgraded by a newer release. Run "
            "that release, or restore the backup taken before the upgrade (README: Upgrading "
            "and backups)"
        )


# Both engines record applied migrations in this table, with the same DDL.
SCHEMA_MIGRATIONS_DDL = (
    "CREATE TABLE IF NOT EXISTS schema_migrations "
    "(version INTEGER PRIMARY KEY, name TEXT NOT NULL)"
)


def pending_migrations(
    applied: Iterable[int], dialect: DialectName, up_to: int | None = None
) -> list[tuple[int, str, str]]:
    """The dialect's migrations not applied yet (up to `up_to`), oldest first.

    Refuses a newer schema first (see refuse_newer_schema). Each engine's migrator calls it
    under its own lock, with the versions it read there.
    """
    done = set(applied)
    refuse_newer_schema(done, dialect)
    return [
        migration
        for migration in migrations(dialect)
        if migration[0] not in done and (up_to is None or migration[0] <= up_to)
    ]


def is_postgres_url(url: str) -> bool:
    return url.startswith(("postgresql://", "postgres://"))


def migrations(dialect: DialectName) -> list[tuple[int, str, str]]:
    """(version, file name, SQL) of the dialect's migrations, oldest first."""
    found = []
    for entry in resources.files("bot.store.migrations").joinpath(dialect).iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    return sorted(found)
