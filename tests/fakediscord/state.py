"""The fake's records and constants: guilds, members, gateway sessions, REST requests,
injected failures. Plain dataclasses the mixins share and tests assert on."""

from __future__ import annotations

import asyncio
import logging
import re
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from ._util import (
    iso_now,
)

log = logging.getLogger("fakediscord")

API_PREFIX = "/api/v10"
DEFAULT_APPLICATION_ID = 1_200_000_000_000_000_001
DEFAULT_OWNER_ID = 1_200_000_000_000_000_100
UNREGISTERED_COMMAND_ID = 1_200_000_000_000_000_999

_USER_MENTION = re.compile(r"<@!?(\d+)>")
_ROLE_MENTION = re.compile(r"<@&(\d+)>")
_FILE_FIELD = re.compile(r"^files?\[(\d+)\]$")

# Discord's "few minutes" for ``enforce_nonce``.
NONCE_WINDOW_SECONDS = 300.0


@dataclass
class RequestRecord:
    """One REST call as the fake saw it (``FakeDiscord.request_log``)."""

    method: str
    path: str  # API path without ``/api/v10`` (other paths verbatim)
    query: dict[str, str]
    json: Any
    files: list[tuple[str, int]]  # (filename, size)
    status: int = 0


@dataclass
class _Upload:
    field: str
    filename: str
    data: bytes
    content_type: str

    @property
    def index(self) -> int | None:
        match = _FILE_FIELD.match(self.field)
        return int(match.group(1)) if match else None


@dataclass
class _Body:
    json: Any = None
    files: list[_Upload] = field(default_factory=list)


_BODY = web.RequestKey("fakediscord_body", _Body)


@dataclass
class _Member:
    user_id: int
    roles: list[int]
    nick: str | None = None
    permissions: int | None = None
    joined_at: str = field(default_factory=iso_now)


@dataclass
class FakeGuild:
    id: int
    name: str
    owner_id: int
    roles: dict[int, dict[str, Any]]
    channel_ids: list[int]
    members: dict[int, _Member]
    attachment_size_limit: int
    bot_role_id: int
    preferred_locale: str = "en-US"
    joined_at: str = field(default_factory=iso_now)


@dataclass
class _Injection:
    match: str
    kind: str  # "ratelimit" | "fail"
    count: int
    retry_after: float = 0.05
    global_: bool = False
    status: int = 500
    code: int | None = None
    message: str | None = None


@dataclass(eq=False)
class GatewaySession:
    session_id: str
    token: str | None
    intents: int
    shard: list[int] | None
    ws: web.WebSocketResponse | None = None
    seq: int = 0
    ready: bool = False
    closed: bool = False  # the client closed it cleanly; not resumable
    buffer: deque[tuple[int, str]] = field(default_factory=lambda: deque(maxlen=1000))
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    @property
    def live(self) -> bool:
        return self.ws is not None and not self.ws.closed


_STATUS_DEFAULTS: dict[int, tuple[int, str]] = {
    400: (50035, "Invalid Form Body"),
    401: (0, "401: Unauthorized"),
    403: (50013, "Missing Permissions"),
    404: (0, "404: Not Found"),
    413: (40005, "Request entity too large"),
    500: (0, "500: Internal Server Error"),
    502: (0, "502: Bad Gateway"),
    503: (0, "503: Service Unavailable"),
}
