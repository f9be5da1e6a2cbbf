"""Fixtures shared by every test layer: a throwaway PostgreSQL cluster, and the database
fixtures that run a test on both engines (SQLite file, then a fresh PostgreSQL database)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.store.database import Database
from tests import network_guard
from tests.pg import PostgresCluster, PostgresMissing, start_cluster

network_guard.install()  # every test stays on loopback, whatever the code under test attempts

BACKENDS = ("sqlite", "postgres")


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PostgresCluster]:
    """One cluster per test process (per xdist worker), stopped at the end of the session.

    Never skipped: without the server binaries every test that needs it fails with one line
    naming the Debian package to install."""
    try:
        cluster = start_cluster()
    except PostgresMissing as error:
        missing = str(error)
    else:
        yield cluster
        cluster.stop()
        return
    pytest.fail(missing, pytrace=False)  # outside the except: one line, no chained report


@pytest.fixture
def pg_url(pg_cluster: PostgresCluster) -> str:
    """The URL of a new, empty database in the throwaway cluster (owned by the superuser)."""
    return pg_cluster.create_database()


@pytest.fixture(params=BACKENDS)
def db_target(request: pytest.FixtureRequest, tmp_path: Path) -> Path | str:
    """What `Database.open` takes, once per engine: a fresh SQLite file or PostgreSQL URL."""
    if request.param == "sqlite":
        return tmp_path / "test.db"
    url: str = request.getfixturevalue("pg_url")
    return url


@pytest.fixture
async def database(db_target: Path | str) -> AsyncIterator[Database]:
    """An open, migrated database on each engine in turn."""
    opened = await Database.open(db_target)
    yield opened
    await opened.close()
