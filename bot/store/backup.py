"""`musicbot backup PATH`: a consistent copy of the SQLite database while the bot runs.

SQLite's online backup API copies the database page by page under its own locking, so the
copy is consistent even while the bot writes (WAL mode lets it keep writing meanwhile). The
copy is written next to PATH under a temporary name, checked with `PRAGMA integrity_check`,
then renamed into place, so PATH is either a whole, checked backup or absent. It is created
with mode 0600 before anything is copied into it: a backup holds the webhook secret and live
interaction tokens, like the database.

PostgreSQL has its own tool for this, `pg_dump`; see the README.
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

PAGES_PER_STEP = 1024  # between steps the bot's own writes can get the lock
PRIVATE_FILE = 0o600


class BackupError(Exception):
    """One plain line for the operator."""


@dataclass(frozen=True, slots=True)
class BackupResult:
    path: Path
    size: int
    schema_version: int


def backup_sqlite(source: Path, target: Path) -> BackupResult:
    """Copy the database at `source` to `target` (a new file); raises BackupError."""
    if not source.is_file():
        raise BackupError(f"no SQLite database at {source} (check DATABASE_URL)")
    if target.exists():
        raise BackupError(f"{target} already exists; give a new file name")
    if not target.parent.is_dir():
        raise BackupError(f"{target.parent} is not a directory")
    partial = target.with_name(f".{target.name}.partial")
    try:
        partial.unlink(missing_ok=True)  # a leftover of a killed run: its mode is unknown
        os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE))
        os.chmod(partial, PRIVATE_FILE)  # exactly, whatever the umask
        # Read-only on the source: a backup must never be able to change the live database.
        with (
            closing(sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)) as src,
            closing(sqlite3.connect(partial)) as dst,
        ):
            src.execute("PRAGMA busy_timeout=10000")
            src.backup(dst, pages=PAGES_PER_STEP)
            # A standalone file: no -wal or -shm beside it is needed to read it.
            dst.execute("PRAGMA journal_mode=DELETE")
            (verdict,) = dst.execute("PRAGMA integrity_check").fetchone()
            if verdict != "ok":
                raise BackupError(f"the copy failed its integrity check: {verdict}")
            (version,) = dst.execute("SELECT MAX(version) FROM schema_migrations").fetchone()
        os.replace(partial, target)
    except (sqlite3.Error, OSError) as error:
        raise BackupError(f"could not back up {source}: {error}") from None
    finally:
        partial.unlink(missing_ok=True)
    return BackupResult(target, target.stat().st_size, int(version or 0))


PG_DUMP_ADVICE = (
    "DATABASE_URL is PostgreSQL: back it up with its own tool, for example\n"
    '  pg_dump --format=custom --file=musicbot.dump "$DATABASE_URL"\n'
    "and restore with pg_restore (see the README, Upgrading and backups)."
)
