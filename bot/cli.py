"""The `musicbot` command: `musicbot` (or `musicbot run`) runs the bot, `musicbot backup PATH`
copies its SQLite database, `musicbot healthcheck` asks a running bot's /healthz (the Docker
HEALTHCHECK). `python -m bot` takes the same arguments."""

from __future__ import annotations

import argparse
import sys
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path

from dotenv import find_dotenv, load_dotenv

from bot import __version__
from bot.config import ConfigError, database_setting, listen_setting
from bot.store.backup import PG_DUMP_ADVICE, BackupError, backup_sqlite

HEALTHCHECK_TIMEOUT_S = 4.0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="musicbot",
        description="AI music for Discord servers, through MusicAPI. Settings come from the "
        "environment and .env (see .env.example).",
    )
    root.add_argument("--version", action="version", version=f"musicbot {__version__}")
    commands = root.add_subparsers(dest="command", metavar="{run,backup,healthcheck}")
    commands.add_parser("run", help="run the bot (the default)")
    backup = commands.add_parser(
        "backup",
        help="copy the SQLite database to PATH, safely while the bot runs",
        description="Copy the SQLite database named by DATABASE_URL to PATH with SQLite's "
        "online backup, while the bot keeps running. For PostgreSQL, use pg_dump.",
    )
    backup.add_argument("path", type=Path, metavar="PATH", help="the new backup file")
    commands.add_parser(
        "healthcheck",
        help="ask the running bot's /healthz (on METRICS_LISTEN); exit 0 when healthy",
    )
    return root


def healthcheck() -> int:
    """The container's HEALTHCHECK: no curl in a slim image, and the port follows the config.

    Exits 0 when healthy and 1 otherwise, a configuration error included: Docker reads any
    other status as reserved."""
    load_dotenv(find_dotenv(usecwd=True))
    try:
        listen = listen_setting()
    except ConfigError as error:
        print(f"Configuration error: {error.variable}: {error.problem}", file=sys.stderr)
        return 1
    if listen is None:
        print("METRICS_LISTEN is not set, so there is no /healthz to ask.", file=sys.stderr)
        return 1
    host, port = listen
    # A wildcard address is where the bot listens, not where to connect.
    host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)
    url = f"http://{f'[{host}]' if ':' in host else host}:{port}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=HEALTHCHECK_TIMEOUT_S) as response:
            print(response.read().decode("utf-8", "replace"))
            return 0
    except urllib.error.HTTPError as error:  # 503: unhealthy, with the reasons in the body
        print(error.read().decode("utf-8", "replace"))
        return 1
    except OSError as error:
        print(f"no answer from {url}: {error}", file=sys.stderr)
        return 1


def backup(path: Path) -> int:
    load_dotenv(find_dotenv(usecwd=True))
    try:
        target = database_setting()
    except ConfigError as error:
        print(f"Configuration error: {error.variable}: {error.problem}", file=sys.stderr)
        return 2
    if isinstance(target, str):
        print(PG_DUMP_ADVICE, file=sys.stderr)
        return 1
    try:
        result = backup_sqlite(target, path)
    except BackupError as error:
        print(f"Backup failed: {error}", file=sys.stderr)
        return 1
    print(
        f"Backed up {target} to {result.path} ({result.size / 1e6:.1f} MB, "
        f"schema version {result.schema_version})."
    )
    return 0


def main(argv: Sequence[str] | None = None, *, run: Callable[[], int] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command == "backup":
        return backup(args.path)
    if args.command == "healthcheck":
        return healthcheck()
    if run is not None:
        return run()
    from bot.__main__ import main as run_bot

    return run_bot()
