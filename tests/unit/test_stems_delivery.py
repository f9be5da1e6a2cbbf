"""Stems delivery against a real database and a recording channel with Discord's nonce rule."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import discord
import pytest

from bot.delivery.stems import MAX_FILES, StemsDelivery, stem_names
from bot.store import clips as clip_sql
from bot.store import jobs as job_sql
from bot.store.clips import StoredClip
from bot.store.database import Database
from bot.store.jobs import Job, NewJob
from tests.helpers import stored_clip

T0 = 1_800_000_000.0
WAV = b"RIFF\x00\x00\x00\x00WAVEfmt " + b"\x00" * 88  # 100 bytes that sniff as WAV


@dataclass
class Sent:
    id: int
    content: str
    attachments: list[Any]
    nonce: str


@dataclass
class Channel:
    """Keeps Discord's `enforce_nonce` promise: a nonce seen before returns the first message."""

    sent: list[Sent] = field(default_factory=list)
    by_nonce: dict[str, Sent] = field(default_factory=dict)
    refuse_files: bool = False
    refused: int = 0
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    async def send(self, content: str, *, files: list[discord.File], nonce: str, **_: Any) -> Sent:
        if nonce in self.by_nonce:
            return self.by_nonce[nonce]
        if files and self.refuse_files:
            self.refused += 1
            raise discord.HTTPException(SimpleNamespace(status=413, reason="too large"), "")
        attachments = [SimpleNamespace(filename=f.filename) for f in files]
        message = Sent(next(self.ids), content, attachments, nonce)
        self.sent.append(message)
        self.by_nonce[nonce] = message
        return message


class Fetch:
    """Every stem is 100 bytes; `failing` URLs cannot be fetched (a link instead)."""

    def __init__(self) -> None:
        self.failing: set[str] = set()

    async def __call__(self, url: str, max_bytes: int) -> bytes | None:
        return None if url in self.failing or len(WAV) > max_bytes else WAV


@pytest.fixture
async def db(db_target: Path | str) -> AsyncIterator[Database]:
    database = await Database.open(db_target)
    yield database
    await database.close()


async def stems_job(db: Database, names: list[str], prefix: str = "stem") -> Job:
    async with db.transaction() as conn:
        source_job = await job_sql.insert(conn, new_job("create_music", {}), T0)
        await clip_sql.upsert(conn, clip("source", source_job, "Harbour *Lights*", "generated"))
        job_id = await job_sql.insert(conn, new_job("stems_full", {"clip_id": "source"}), T0)
        for n, name in enumerate(names):
            await clip_sql.upsert(conn, clip(f"{prefix}-{n}", job_id, name, "stem"))
        job = await job_sql.get(conn, job_id)
    assert job is not None
    return job


def new_job(operation: str, request: dict[str, Any]) -> NewJob:
    return NewJob(
        guild_id=1, channel_id=2, user_id=3, operation=operation, request=request,
        summary="s", cost=1,
    )  # fmt: skip


def clip(clip_id: str, job_id: int, title: str, source: str) -> StoredClip:
    return stored_clip(
        clip_id=clip_id, job_id=job_id, user_id=3, title=title, tags="", lyrics="",
        duration=2.5, model=None, audio_url=f"http://cdn.test/{clip_id}.wav", source=source,
        created_at=T0,
    )  # fmt: skip


def carried(channel: Channel) -> list[str]:
    """Every stem the created messages carry, by file or by link, in order."""
    found = []
    for message in channel.sent:
        found += [a.filename.rsplit(".", 1)[0] for a in message.attachments]
        found += [
            line.split("[", 1)[1].split("]", 1)[0].lower()
            for line in message.content.splitlines()
            if line.startswith("🔗")
        ]
    return found


def test_stem_names_are_file_safe_and_unique() -> None:
    stems = [clip(f"s{n}", 1, title, "stem") for n, title in enumerate(
        ["Vocals", "Backing Vocals", "Vocals", "", "FX/Noise"]
    )]  # fmt: skip
    assert list(stem_names(stems).values()) == [
        "vocals", "backing-vocals", "vocals-2", "stem", "fx-noise",
    ]  # fmt: skip


async def test_stems_fill_messages_up_to_the_file_count_and_the_byte_budget(db: Database) -> None:
    job = await stems_job(db, [f"Stem {n}" for n in range(12)])
    channel = Channel()
    delivery = StemsDelivery(db, Fetch(), lambda: T0)
    assert await delivery.deliver(channel, job, budget=1_000_000) == 12  # type: ignore[arg-type]
    assert [len(m.attachments) for m in channel.sent] == [MAX_FILES, 2]

    job = await stems_job(db, [f"Stem {n}" for n in range(5)], prefix="small")
    channel = Channel()
    await delivery.deliver(channel, job, budget=250)  # type: ignore[arg-type]
    assert [len(m.attachments) for m in channel.sent] == [2, 2, 1]
    assert channel.sent[0].attachments[0].filename == "stem-0.wav"
    assert "your stems of **Harbour \\*Lights\\*** are ready (1–2 of 5)" in channel.sent[0].content


async def test_a_stem_larger_than_the_budget_is_linked(db: Database) -> None:
    job = await stems_job(db, ["Vocals", "Drums"])
    channel = Channel()
    await StemsDelivery(db, Fetch(), lambda: T0).deliver(channel, job, budget=50)  # type: ignore[arg-type]
    [message] = channel.sent
    assert message.attachments == []
    assert "[Vocals](<http://cdn.test/stem-0.wav>)" in message.content
    assert "[Drums](<http://cdn.test/stem-1.wav>)" in message.content
    assert "may expire" in message.content


async def test_a_413_turns_the_rest_of_the_delivery_into_links(db: Database) -> None:
    job = await stems_job(db, [f"Stem {n}" for n in range(12)])
    channel = Channel(refuse_files=True)
    await StemsDelivery(db, Fetch(), lambda: T0).deliver(channel, job, budget=250)  # type: ignore[arg-type]
    assert channel.refused == 1  # once refused, no further upload is tried
    # The refused message goes out as links; the rest follow as links in one message.
    assert [m.attachments for m in channel.sent] == [[], []]
    assert sorted(carried(channel)) == sorted(f"stem {n}" for n in range(12))
    async with db.read() as conn:
        assert len(await clip_sql.delivered(conn, job.id)) == 12


async def test_a_retry_after_a_crash_trusts_the_message_that_exists(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """First attempt: stem 0 cannot be fetched, so the first message carries it as a link and
    has room for stems 1 and 2. The record fails after the send. On the retry stem 0 fetches
    fine, so this attempt would pack only stems 0 and 1 under the same nonce; Discord returns
    the first message, and stem 2 must count as delivered rather than be posted again."""
    job = await stems_job(db, ["A", "B", "C", "D"])
    channel, fetch = Channel(), Fetch()
    fetch.failing.add("http://cdn.test/stem-0.wav")
    real = clip_sql.record_delivery

    async def crash(*args: Any) -> None:
        raise RuntimeError("process died after Discord accepted the message")

    monkeypatch.setattr(clip_sql, "record_delivery", crash)
    delivery = StemsDelivery(db, fetch, lambda: T0)
    with pytest.raises(RuntimeError):
        await delivery.deliver(channel, job, budget=250)  # type: ignore[arg-type]
    assert [len(m.attachments) for m in channel.sent] == [2]

    monkeypatch.setattr(clip_sql, "record_delivery", real)
    fetch.failing.clear()
    await delivery.deliver(channel, job, budget=250)  # type: ignore[arg-type]
    assert len(channel.sent) == 2
    assert sorted(carried(channel)) == ["a", "b", "c", "d"]  # each stem exactly once
    async with db.read() as conn:
        done = await clip_sql.delivered(conn, job.id)
    assert done == {"stem-0": 1, "stem-1": 1, "stem-2": 1, "stem-3": 2}

    await delivery.deliver(channel, job, budget=250)  # type: ignore[arg-type]
    assert len(channel.sent) == 2  # everything recorded: nothing more to post
