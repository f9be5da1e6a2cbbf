"""Fixtures shared by every test layer: a throwaway PostgreSQL cluster, and the database
fixtures that run a test on both engines (SQLite file, then a fresh PostgreSQL database)."""

from __future__ import annotations

import importlib.util
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.store.database import Database
from tests import network_guard
from tests.pg import PostgresCluster, PostgresMissing, start_cluster

if importlib.util.find_spec("xdist") is None:  # `-n auto` in pyproject.toml needs it
    raise pytest.UsageError('pytest-xdist is not installed: pip install -e ".[test]"')

network_guard.install()  # every test stays on loopback, whatever the code under test attempts

BACKENDS = ("sqlite", "postgres")

# The slow tier, marked `e2e` so `pytest -m "not e2e"` runs the rest in seconds: everything
# under tests/e2e (the real bot against the fake Discord and the simulator), the harness test
# that runs a bot subprocess, and, marked by hand where they are, tests elsewhere that start
# `python -m bot` or several store processes.
E2E_PATHS = ("tests/e2e/", "tests/discordharness/test_subprocess.py")
ROOT = Path(__file__).resolve().parent.parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        relative = item.path.resolve().relative_to(ROOT).as_posix()
        if relative.startswith(E2E_PATHS):
            item.add_marker(pytest.mark.e2e)
    # The slow tier first, so the workers start the long tests at once and share out the many
    # short ones at the end, instead of waiting on one long test last.
    items.sort(key=lambda item: item.get_closest_marker("e2e") is None)


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
