"""A fake Discord over loopback that the real discord.py client can talk to.

See ``server.FakeDiscord`` for the API and ``harness.running_bot`` for in-process bots.
"""

from .harness import FAKE_TOKEN, running_bot, subprocess_env
from .records import FakeChannel, FakeInteraction, FakeRole, FakeUser
from .server import (
    DEFAULT_APPLICATION_ID,
    DEFAULT_OWNER_ID,
    FakeDiscord,
    FakeGuild,
    GatewaySession,
    RequestRecord,
)

__all__ = [
    "DEFAULT_APPLICATION_ID",
    "DEFAULT_OWNER_ID",
    "FAKE_TOKEN",
    "FakeChannel",
    "FakeDiscord",
    "FakeGuild",
    "FakeInteraction",
    "FakeRole",
    "FakeUser",
    "GatewaySession",
    "RequestRecord",
    "running_bot",
    "subprocess_env",
]
