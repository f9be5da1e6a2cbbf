"""The one line an operator needs when the SQLite file's directory is not theirs to write.

The container runs as uid 10001; a directory bind-mounted on /data from the host usually
belongs to root. SQLite only says "unable to open database file", which names neither the user
nor the fix.
"""

from __future__ import annotations

import os
from pathlib import Path


def _nearest_existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def unwritable_hint(database: Path) -> str | None:
    """What to do when this process may not write the database file or its directory (the
    nearest one that exists: the bot creates the rest); None when it may."""
    if str(database) == ":memory:":
        return None
    database = database.absolute()
    blocked = database if database.exists() and not os.access(database, os.W_OK) else None
    # Resolved: in the image /app/data is a link to /data, the directory to name.
    directory = _nearest_existing(database.parent).resolve()
    if blocked is None and not os.access(directory, os.W_OK | os.X_OK):
        blocked = directory
    if blocked is None:
        return None
    blocked = blocked.resolve()
    uid, gid = os.getuid(), os.getgid()
    owner = blocked.stat().st_uid
    return (
        f"{blocked} is not writable by uid {uid}, the user the bot runs as (it belongs to uid "
        f"{owner}): run chown -R {uid}:{gid} on it (on the host: on the directory mounted "
        "there), or use a named volume"
    )
