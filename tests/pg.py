"""A throwaway PostgreSQL cluster for tests and benchmarks: initdb + pg_ctl on 127.0.0.1.

The cluster lives in a temporary directory (data and socket), listens on a free loopback port
with trust authentication, and runs without fsync: it is thrown away at the end. As root the
server binaries run as the `postgres` user (`runuser -u postgres --`), since PostgreSQL
refuses to run as root. Starting takes about a second. A small watchdog process stops the
cluster if the process that started it dies without stopping it (a killed test run).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

MISSING = (
    "PostgreSQL server binaries (initdb, pg_ctl) not found: install the Debian package "
    "`postgresql` (apt-get install postgresql)"
)


class PostgresMissing(RuntimeError):
    pass


# Run in its own session (so a kill of the test run's process group spares it): waits for the
# starting process to end, then stops the cluster and removes its directory.
_WATCHDOG = """
import os, shutil, subprocess, sys, time
parent, root, *stop = sys.argv[1:]
while True:
    try:
        os.kill(int(parent), 0)
    except ProcessLookupError:
        break
    time.sleep(1)
subprocess.run(stop, capture_output=True, check=False)
shutil.rmtree(root, ignore_errors=True)
"""


def find_bindir() -> Path | None:
    """PG_BINDIR when set (and nothing else then), else initdb on PATH, else the newest
    /usr/lib/postgresql/*/bin."""
    configured = os.environ.get("PG_BINDIR")
    if configured:
        return Path(configured) if (Path(configured) / "initdb").exists() else None
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).parent
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    return candidates[-1].parent if candidates else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class PostgresCluster:
    """One initdb'd cluster. `url(db)` gives a libpq URL for a database in it."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="musicbot-pg-"))
        self.data = self.root / "data"
        self.socket_dir = self.root
        self.port = 0
        self._names = itertools.count(1)
        self._as_postgres = os.geteuid() == 0
        self._watchdog: subprocess.Popen[bytes] | None = None
        if self._as_postgres:
            shutil.chown(self.root, "postgres", "postgres")

    def _command(self, *args: str) -> list[str]:
        command = [str(self.bindir / args[0]), *args[1:]]
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        return command

    def _run(self, *args: str) -> None:
        command = self._command(*args)
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{args[0]} failed: {done.stdout}{done.stderr}".strip())

    def start(self) -> PostgresCluster:
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-sync",
            "--no-instructions",
        )
        last_error: Exception | None = None
        for _ in range(5):  # the free port we picked may be taken before the server binds it
            self.port = _free_port()
            options = (
                f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.socket_dir} "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
                "-c max_connections=200 -c shared_buffers=32MB"
            )
            try:
                self._run(
                    "pg_ctl",
                    "-D",
                    str(self.data),
                    "-l",
                    str(self.root / "server.log"),
                    "-w",
                    "-t",
                    "30",
                    "-o",
                    options,
                    "start",
                )
                self._start_watchdog()
                return self
            except RuntimeError as error:
                last_error = error
        self.stop()  # a server that came up late must not outlive us
        raise RuntimeError(f"PostgreSQL did not start: {last_error}")

    def _start_watchdog(self) -> None:
        stop = self._command("pg_ctl", "-D", str(self.data), "-m", "immediate", "stop")
        self._watchdog = subprocess.Popen(
            [sys.executable, "-c", _WATCHDOG, str(os.getpid()), str(self.root), *stop],
            start_new_session=True,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def stop(self) -> None:
        with contextlib.suppress(RuntimeError):
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)
        if self._watchdog is not None:
            self._watchdog.kill()
            self._watchdog.wait()

    def url(self, database: str = "postgres", user: str = "postgres") -> str:
        return f"postgresql://{user}@127.0.0.1:{self.port}/{database}"

    def admin(self, *statements: str) -> None:
        """Run statements as the superuser (CREATE DATABASE can't run in a transaction)."""
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            for statement in statements:
                conn.execute(statement)  # type: ignore[arg-type]  # our own literal SQL

    def create_database(self, owner: str = "postgres", prefix: str = "t") -> str:
        """A new empty database; returns its URL (as `owner`)."""
        name = f"{prefix}_{os.getpid()}_{next(self._names)}"
        self.admin(f'CREATE DATABASE "{name}" OWNER "{owner}" TEMPLATE template0')
        return self.url(name, owner)


def start_cluster() -> PostgresCluster:
    """Raises PostgresMissing (its message names the Debian package) without the binaries."""
    bindir = find_bindir()
    if bindir is None:
        raise PostgresMissing(MISSING)
    return PostgresCluster(bindir).start()
