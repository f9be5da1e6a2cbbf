"""PostgreSQL behind the same store interface: psycopg 3 (async) with a psycopg-pool pool.

Why psycopg 3 and not asyncpg: its async cursor (`await conn.execute(...)`, `fetchone`,
`fetchall`, `rowcount`) is the shape aiosqlite already has, so every store function stays one
function for both engines behind this thin adapter; it speaks libpq connection strings and
environment variables operators already use, and psycopg-pool is its maintained pool. asyncpg
is faster per statement, but its API (`fetch`, `$1`, no cursor rowcount) would need a second
copy of every query, and a reservation's cost is dominated by round trips, not the driver.

Placeholders are written as `?` everywhere and become `%s` here. JSON columns are `jsonb`
but read back as text, like SQLite's TEXT, so rows decode the same way on both engines.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from contextlib import asynccontextmanager
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from bot.store.database import (
    POSTGRES,
    SCHEMA_MIGRATIONS_DDL,
    Connection,
    Cursor,
    Database,
    DatabaseUnavailable,
    pending_migrations,
)

try:
    import psycopg
    from psycopg.types.string import TextLoader
    from psycopg_pool import AsyncConnectionPool
except ImportError:  # pragma: no cover - exercised only where the extra is missing
    psycopg = None  # type: ignore[assignment]  # the module is optional: checked at open

if TYPE_CHECKING:
    from psycopg import AsyncConnection

log = logging.getLogger(__name__)

# pg_advisory_xact_lock has two key spaces that never overlap: one bigint (used per server,
# with the guild id) and two ints. Process-wide locks use the two-int form with this first key.
LOCK_SPACE = 0x6D75_7369  # "musi"
MIGRATION_LOCK = (LOCK_SPACE, 1)
# Serialises every reservation checked against the owner's daily cap, across servers.
DAILY_CAP_LOCK = (LOCK_SPACE, 2)

CONNECT_TIMEOUT_S = 10


class Record:
    """A row readable by position, by column name, and as `dict(row)` (like sqlite3.Row)."""

    __slots__ = ("_index", "_values")

    def __init__(self, index: dict[str, int], values: Sequence[Any]) -> None:
        self._index = index
        self._values = values

    def __getitem__(self, key: int | str) -> Any:
        if isinstance(key, str):
            return self._values[self._index[key]]
        return self._values[key]

    def keys(self) -> list[str]:
        return list(self._index)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"Record({dict(zip(self._index, self._values, strict=True))!r})"


def record_row(cursor: Any) -> Callable[[Sequence[Any]], Record]:
    """psycopg's row factory protocol: called with the cursor (sync or async, hence Any)."""
    names = [column.name for column in cursor.description or ()]
    index = {name: position for position, name in enumerate(names)}

    def make(values: Sequence[Any]) -> Record:
        return Record(index, values)

    return make


_QMARK = re.compile(r"\?")


@lru_cache(maxsize=1024)
def to_pg(sql: str) -> str:
    """`?` placeholders become `%s`; a literal `%` is doubled so psycopg leaves it alone."""
    return _QMARK.sub("%s", sql.replace("%", "%%"))


class PostgresConnection(Connection):
    dialect = POSTGRES

    def __init__(self, raw: AsyncConnection[Record]) -> None:
        self.raw = raw

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> Cursor:
        # Always a tuple, never None: psycopg only rewrites `%%` when parameters are given.
        cursor: Cursor = await self.raw.execute(to_pg(sql), tuple(params))
        return cursor

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        async with self.raw.cursor() as cursor:
            await cursor.executemany(to_pg(sql), list(rows))

    async def lock_guild(self, guild_id: int) -> None:
        await self.raw.execute("SELECT pg_advisory_xact_lock(%s::bigint)", (guild_id,))

    async def lock_daily_cap(self) -> None:
        await self.raw.execute("SELECT pg_advisory_xact_lock(%s, %s)", DAILY_CAP_LOCK)

    async def lock_reservation(self, guild_id: int, *, daily_cap: bool) -> None:
        if not daily_cap:
            await self.lock_guild(guild_id)
            return
        # One round trip. The outer select runs on the CTE's row, so the server's lock is
        # granted before the daily cap's is asked for: the order every transaction uses.
        await self.raw.execute(
            """WITH server AS MATERIALIZED (SELECT pg_advisory_xact_lock(%s::bigint))
               SELECT pg_advisory_xact_lock(%s, %s) FROM server""",
            (guild_id, *DAILY_CAP_LOCK),
        )


def _configure_sync(raw: AsyncConnection[Record]) -> None:
    # jsonb comes back as its text, as SQLite's TEXT does, so rows decode the same way.
    raw.adapters.register_loader("jsonb", TextLoader)
    raw.adapters.register_loader("json", TextLoader)


async def _configure(raw: AsyncConnection[Record]) -> None:
    _configure_sync(raw)


def describe_error(error: BaseException) -> str:
    """libpq's message on one line (it spreads hints over several)."""
    return " ".join(str(error).split()) or type(error).__name__


class PostgresDatabase(Database):
    dialect = POSTGRES

    def __init__(self, pool: AsyncConnectionPool[AsyncConnection[Record]]) -> None:
        self._pool = pool

    @classmethod
    async def connect(
        cls, url: str, *, pool_size: int = 10, up_to: int | None = None
    ) -> PostgresDatabase:
        if psycopg is None:
            raise DatabaseUnavailable(
                'PostgreSQL needs the "postgres" extra: pip install ".[postgres]"'
            )
        # One plain connection first: it gives libpq's own reason when the server is
        # unreachable or refuses us (a pool would only time out), and runs the migrations.
        try:
            first = await psycopg.AsyncConnection.connect(
                url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S, row_factory=record_row
            )
        except (psycopg.Error, OSError) as error:
            raise DatabaseUnavailable(
                f"can't connect to PostgreSQL: {describe_error(error)}"
            ) from None
        try:
            _configure_sync(first)
            await migrate(first, up_to)
        finally:
            await first.close()
        pool = AsyncConnectionPool(
            url,
            min_size=1,
            max_size=max(1, pool_size),
            kwargs={"autocommit": True, "row_factory": record_row},
            configure=_configure,
            open=False,
        )
        try:
            await pool.open(wait=True, timeout=CONNECT_TIMEOUT_S)
        except Exception as error:
            await pool.close()
            raise DatabaseUnavailable(
                f"can't connect to PostgreSQL: {describe_error(error)}"
            ) from None
        return cls(pool)

    async def close(self) -> None:
        await self._pool.close()

    async def migrate(self, up_to: int | None = None) -> list[int]:
        async with self._pool.connection() as raw:
            return await migrate(raw, up_to)

    async def listen(self, channel: str) -> AsyncIterator[str]:
        """LISTEN on a connection of its own (outside the pool, which would take it back
        between statements), yielding each payload until the caller stops iterating."""
        if not channel.isidentifier():
            raise ValueError(f"not a plain channel name: {channel!r}")
        conninfo = self._pool.conninfo
        assert isinstance(conninfo, str)  # the URL given to connect()
        raw = await psycopg.AsyncConnection.connect(
            conninfo, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S
        )
        try:
            await raw.execute(f"LISTEN {channel}")
            async for notice in raw.notifies():
                yield notice.payload
        finally:
            await raw.close()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Connection]:
        async with self._pool.connection() as raw, raw.transaction():
            yield PostgresConnection(raw)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Connection]:
        async with self._pool.connection() as raw:
            yield PostgresConnection(raw)


async def migrate(raw: AsyncConnection[Record], up_to: int | None = None) -> list[int]:
    """Apply every migration not applied yet (up to `up_to`); returns their versions.

    DDL is transactional in PostgreSQL, and an advisory lock taken before the applied
    versions are read lets exactly one of several processes starting at once migrate.
    """
    done: list[int] = []
    async with raw.transaction():
        await raw.execute("SELECT pg_advisory_xact_lock(%s, %s)", MIGRATION_LOCK)
        await raw.execute(SCHEMA_MIGRATIONS_DDL)
        cursor = await raw.execute("SELECT version FROM schema_migrations")
        applied = [row[0] for row in await cursor.fetchall()]
        for version, name, sql in pending_migrations(applied, "postgres", up_to):
            log.info("applying database migration %s", name)
            await raw.execute(sql)  # no parameters: the whole script in one round trip
            await raw.execute(
                "INSERT INTO schema_migrations (version, name) VALUES (%s, %s)", (version, name)
            )
            done.append(version)
    return done
