"""Fixtures for the fake-Discord harness's own tests."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from tests.fakediscord import FakeDiscord

GUILD_ID = 1_300_000_000_000_000_001
CHANNEL_ID = 1_300_000_000_000_000_002
OTHER_CHANNEL_ID = 1_300_000_000_000_000_003
USER_ID = 1_300_000_000_000_000_010
ADMIN_ID = 1_300_000_000_000_000_011
ADMIN_ROLE_ID = 1_300_000_000_000_000_020
SMALL_GUILD_ID = 1_300_000_000_000_000_101
SMALL_CHANNEL_ID = 1_300_000_000_000_000_102
SMALL_LIMIT = 1024


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    fake = FakeDiscord()
    await fake.start()
    fake.add_guild(
        GUILD_ID,
        name="Harness Guild",
        channels=[CHANNEL_ID, OTHER_CHANNEL_ID],
        roles=[{"id": ADMIN_ROLE_ID, "name": "admins", "permissions": 1 << 3}],
    )
    fake.add_member(GUILD_ID, USER_ID, name="alice")
    fake.add_member(GUILD_ID, ADMIN_ID, name="root", roles=[ADMIN_ROLE_ID])
    fake.add_guild(
        SMALL_GUILD_ID, name="Small", channels=[SMALL_CHANNEL_ID], attachment_size_limit=SMALL_LIMIT
    )
    fake.add_member(SMALL_GUILD_ID, USER_ID, name="alice")
    try:
        yield fake
    finally:
        await fake.stop()
    assert fake.errors == [], f"the fake itself crashed: {fake.errors}"


@pytest.fixture(autouse=True)
def _no_leaked_tasks(caplog: pytest.LogCaptureFixture):
    """Fail on 'Task was destroyed but it is pending' / unclosed-session noise."""
    caplog.set_level(logging.ERROR, logger="asyncio")
    yield
    gc.collect()
    noisy = [
        r.getMessage()
        for r in caplog.records
        if r.name == "asyncio"
        and ("Task was destroyed" in r.getMessage() or "Unclosed" in r.getMessage())
    ]
    assert not noisy, noisy
