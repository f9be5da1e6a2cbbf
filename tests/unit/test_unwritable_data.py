"""A data directory the bot may not write (in Docker: a host directory owned by root, mounted
on /data, while the bot runs as uid 10001): one line naming the uid and the fix."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.store import writable
from bot.store.database import DatabaseUnavailable, check_database
from bot.store.writable import unwritable_hint


def deny_writes_to(monkeypatch: pytest.MonkeyPatch, blocked: Path) -> None:
    """As if `blocked` belonged to another user: os.access is what root would not feel."""
    real = os.access

    def access(path: object, mode: int, **kwargs: object) -> bool:
        if Path(str(path)) == blocked and mode & os.W_OK:
            return False
        return real(path, mode)  # type: ignore[arg-type]  # os.PathLike or str, as given

    monkeypatch.setattr(writable.os, "access", access)


def test_the_directory_behind_a_link_is_the_one_named(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # The image's /app/data is a link to /data: the hint names /data, where the mount is.
    volume = tmp_path / "volume"
    volume.mkdir()
    (tmp_path / "app-data").symlink_to(volume)
    deny_writes_to(monkeypatch, volume)
    hint = unwritable_hint(tmp_path / "app-data" / "musicbot.db")
    assert hint is not None and hint.startswith(f"{volume} is not writable")


def test_a_writable_directory_needs_no_hint(tmp_path: Path) -> None:
    assert unwritable_hint(tmp_path / "musicbot.db") is None
    assert unwritable_hint(tmp_path / "not" / "made" / "yet.db") is None
    assert unwritable_hint(Path(":memory:")) is None


def test_the_hint_names_the_directory_the_uid_and_the_fix(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    deny_writes_to(monkeypatch, tmp_path)
    hint = unwritable_hint(tmp_path / "data" / "musicbot.db")  # the nearest existing directory
    assert hint is not None and "\n" not in hint
    uid, gid = os.getuid(), os.getgid()
    assert hint.startswith(f"{tmp_path} is not writable by uid {uid}, the user the bot runs as")
    assert f"it belongs to uid {tmp_path.stat().st_uid}" in hint
    assert f"chown -R {uid}:{gid}" in hint and "named volume" in hint


def test_an_unwritable_database_file_is_named_too(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    database = tmp_path / "musicbot.db"
    database.write_bytes(b"")
    deny_writes_to(monkeypatch, database)
    hint = unwritable_hint(database)
    assert hint is not None and hint.startswith(f"{database} is not writable by uid")


async def test_check_database_gives_the_hint_when_sqlite_cannot_open_the_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "musicbot.db").mkdir()  # SQLite cannot open it, whoever runs the test
    with pytest.raises(DatabaseUnavailable) as plain:
        await check_database(tmp_path / "musicbot.db")
    assert "can't open SQLite database" in str(plain.value)  # writable: SQLite's own reason
    deny_writes_to(monkeypatch, tmp_path)
    with pytest.raises(DatabaseUnavailable) as hinted:
        await check_database(tmp_path / "musicbot.db")
    assert f"{tmp_path} is not writable by uid {os.getuid()}" in str(hinted.value)
