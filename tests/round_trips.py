"""Counting the statements a transaction sends, for the reservation's round-trip budget.

`CountingDatabase` wraps a `Database`: inside each `transaction()` it puts a recorder between
the engine's adapter (bot/store/postgres.py or sqlite.py) and its driver connection, so every
statement the adapter sends is recorded, whichever store function sent it. On PostgreSQL each
recorded statement is one round trip to the server; `under_lock` keeps those sent after the
advisory lock was taken (the transaction's BEGIN and COMMIT are not sent through it).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from bot.store.database import Connection, Database

LOCK = "pg_advisory_xact_lock"


class _Recorder:
    """The driver connection, with every statement it is given written down first."""

    def __init__(self, raw: Any, statements: list[str]) -> None:
        self._raw = raw
        self._statements = statements

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        self._statements.append(sql)
        return await self._raw.execute(sql, params)

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> Any:
        rows = list(rows)
        self._statements.extend(sql for _ in rows)  # counted as one each, the worst case
        return await self._raw.executemany(sql, rows)

    @asynccontextmanager
    async def cursor(self) -> AsyncIterator[Any]:
        async with self._raw.cursor() as cursor:
            yield _Recorder(cursor, self._statements)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._raw, name)


class CountingDatabase(Database):
    def __init__(self, inner: Database) -> None:
        self.inner = inner
        self.dialect = inner.dialect
        self.transactions: list[list[str]] = []

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Connection]:
        async with self.inner.transaction() as conn:
            statements: list[str] = []
            self.transactions.append(statements)
            raw = conn.raw  # type: ignore[attr-defined]  # both adapters keep their driver here
            conn.raw = _Recorder(raw, statements)  # type: ignore[attr-defined]  # as above
            try:
                yield conn
            finally:
                conn.raw = raw  # type: ignore[attr-defined]  # SQLite's connection is shared

    def read(self) -> AbstractAsyncContextManager[Connection]:
        return self.inner.read()

    async def close(self) -> None:
        await self.inner.close()

    async def migrate(self, up_to: int | None = None) -> list[int]:
        return await self.inner.migrate(up_to)

    def last(self) -> list[str]:
        return self.transactions[-1]


def under_lock(statements: list[str]) -> list[str]:
    """The statements sent after the first advisory lock (all of them when none was taken:
    SQLite's BEGIN IMMEDIATE already locks)."""
    for index, sql in enumerate(statements):
        if LOCK in sql:
            return statements[index + 1 :]
    return statements
