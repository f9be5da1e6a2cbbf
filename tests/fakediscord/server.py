"""A fake Discord (REST + gateway) on loopback that the real discord.py client talks to.

Usage (in-process)::

    fake = FakeDiscord()
    await fake.start()
    restore = fake.patch_discord()        # Route.BASE + DiscordWebSocket.DEFAULT_GATEWAY
    fake.add_guild(GUILD, channels=[CHANNEL])
    fake.add_member(GUILD, USER, name="alice")
    ... start a commands.Bot(guild_ready_timeout=0.1) with any token ...
    await fake.wait_ready()
    ix = await fake.invoke_slash(guild_id=GUILD, channel_id=CHANNEL, user_id=USER, command="ping")
    await ix.wait_response()

Out of process: give the bot ``fake.subprocess_env()`` (``DISCORD_API_BASE_URL`` and the
gateway URL; see ``harness.py``).
"""

# The public API takes explicit ``timeout=`` arguments (bounded waits by design).
# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import re
import secrets
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from ._util import (
    ADMINISTRATOR,
    ALL_PERMISSIONS,
    DEFAULT_ATTACHMENT_SIZE_LIMIT,
    DEFAULT_EVERYONE_PERMISSIONS,
    FLAG_EPHEMERAL,
    FLAG_LOADING,
    INTENT_DIRECT_MESSAGES,
    INTENT_GUILD_MEMBERS,
    INTENT_GUILD_MESSAGES,
    INTENT_GUILDS,
    INTENT_MESSAGE_CONTENT,
    UNKNOWN_CHANNEL,
    UNKNOWN_COMMAND,
    UNKNOWN_GUILD,
    UNKNOWN_INTERACTION,
    UNKNOWN_MEMBER,
    UNKNOWN_MESSAGE,
    UNKNOWN_USER,
    UNKNOWN_WEBHOOK,
    ApiError,
    SnowflakeFactory,
    form_error,
    guess_content_type,
    iso_now,
    json_response,
    no_content,
    unknown,
)
from ._validation import (
    validate_command,
    validate_message,
    validate_modal,
    walk_components,
)
from .records import FakeChannel, FakeInteraction, FakeRole, FakeUser

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


class FakeDiscord:
    """Fake Discord REST API + gateway. One instance per test; all state is inspectable."""

    def __init__(
        self,
        *,
        application_id: int = DEFAULT_APPLICATION_ID,
        bot_user_id: int | None = None,
        owner_id: int = DEFAULT_OWNER_ID,
        bot_name: str = "FakeBot",
        token: str | None = None,
        heartbeat_interval_ms: int = 41250,
        interaction_response_timeout: float | None = None,
        dispatch_message_events: bool = True,
        shard_count: int = 1,
    ) -> None:
        self.application_id = application_id
        self.bot_user_id = bot_user_id if bot_user_id is not None else application_id
        self.owner_id = owner_id
        self.bot_name = bot_name
        # If set, REST calls (except webhooks) and IDENTIFY must present this token.
        self.token = token
        self.heartbeat_interval_ms = heartbeat_interval_ms
        # Discord gives 3 s for the first callback; ``None`` disables the check.
        self.interaction_response_timeout = interaction_response_timeout
        self.dispatch_message_events = dispatch_message_events
        # What GET /gateway/bot recommends. Sessions that IDENTIFY with [shard_id, count] get
        # only the guilds (and their events) of that shard: (guild_id >> 22) % count.
        self.shard_count = shard_count
        self.nonce_window_seconds = NONCE_WINDOW_SECONDS

        self.url = ""
        self.gateway_url = ""
        self.snowflake = SnowflakeFactory()

        self.users: dict[int, dict[str, Any]] = {}
        self.guilds: dict[int, FakeGuild] = {}
        self.channels: dict[int, dict[str, Any]] = {}
        self.messages: dict[int, dict[str, Any]] = {}
        self.interactions: dict[int, FakeInteraction] = {}
        self.registered_commands: dict[Any, list[dict[str, Any]]] = {}
        self.requests: list[tuple[str, str, Any]] = []
        self.request_log: list[RequestRecord] = []
        self.unknown_routes: list[tuple[str, str]] = []
        self.left_guilds: list[int] = []  # guilds the bot left (DELETE /users/@me/guilds/…)
        self.errors: list[str] = []  # exceptions inside the fake itself (bugs in the fake)
        self.sessions: list[GatewaySession] = []
        self.identify_count = 0
        self.resume_count = 0
        self.invalid_session_count = 0
        self.heartbeats = 0

        self._interactions_by_token: dict[str, FakeInteraction] = {}
        self._attachments: dict[int, tuple[str, bytes, str]] = {}
        # (attachment id, first byte, byte count) of every attachment download, ranges included
        self.attachment_reads: list[tuple[int, int, int]] = []
        self._nonces: dict[tuple[int, int, str], tuple[int, float]] = {}
        self._dm_channels: dict[int, int] = {}
        self._injections: list[_Injection] = []
        self._sockets: set[web.WebSocketResponse] = set()
        # False: the gateway refuses new connections (503), so a dropped client stays down.
        self.gateway_open = True
        self._change = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._background: set[asyncio.Task[Any]] = set()
        self._pending_events: set[asyncio.Task[Any]] = set()

        self._ensure_user(self.bot_user_id, name=bot_name, bot=True)
        self._ensure_user(self.owner_id, name="owner")

    # ------------------------------------------------------------------ lifecycle

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        if self._runner is not None:
            raise RuntimeError("FakeDiscord already started")
        app = web.Application(middlewares=[self._middleware], client_max_size=256 * 1024 * 1024)
        self._add_routes(app.router)
        runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        self._runner = runner
        bound_host, bound_port = runner.addresses[0][:2]
        self.url = f"http://{bound_host}:{bound_port}"
        self.gateway_url = f"ws://{bound_host}:{bound_port}/gateway"
        log.debug("fake discord listening on %s", self.url)

    async def stop(self) -> None:
        """Close every gateway socket, then the HTTP server. Safe to call twice."""
        runner, self._runner = self._runner, None
        if runner is None:
            return
        await self.disconnect_clients(code=1001)
        for ws in list(self._sockets):
            with contextlib.suppress(Exception):
                await asyncio.wait_for(ws.close(code=1001), 2)
        if self._background:
            await asyncio.wait(set(self._background), timeout=2)
        for task in list(self._background):
            task.cancel()
        await runner.cleanup()
        self._changed()

    async def __aenter__(self) -> FakeDiscord:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def api_base(self) -> str:
        return f"{self.url}{API_PREFIX}"

    def patch_discord(self) -> _Restore:
        """Point discord.py in this process at the fake; returns a restore callable/context mgr."""
        import discord.gateway
        import discord.http
        import yarl

        if not self.url:
            raise RuntimeError("start() the fake before patching discord.py")
        old_base = discord.http.Route.BASE
        old_gateway = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
        discord.http.Route.BASE = self.api_base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(self.gateway_url)

        def restore() -> None:
            discord.http.Route.BASE = old_base
            discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = old_gateway

        return _Restore(restore)

    def subprocess_env(self, *, shim: bool = True) -> dict[str, str]:
        """Environment variables for a bot subprocess (merge into ``os.environ``).

        ``DISCORD_API_BASE_URL`` is what ``python -m bot`` reads. discord.py 2.7's
        non-sharded client never asks REST for the gateway URL (it connects straight to
        ``DiscordWebSocket.DEFAULT_GATEWAY``), so with ``shim=True`` a ``sitecustomize``
        on ``PYTHONPATH`` also points that at the fake (and sets ``Route.BASE``).
        """
        from .harness import subprocess_env

        return subprocess_env(self, shim=shim)

    # ------------------------------------------------------------------ world setup

    def add_guild(
        self,
        guild_id: int,
        *,
        name: str = "Test Guild",
        owner_id: int | None = None,
        channels: list[int] | None = None,
        roles: list[dict[str, Any]] | None = None,
        members: list[dict[str, Any]] | None = None,
        attachment_size_limit: int = DEFAULT_ATTACHMENT_SIZE_LIMIT,
        preferred_locale: str = "en-US",
    ) -> FakeGuild:
        """Add a guild the bot is in. ``owner_id`` defaults to a fresh "guild-owner" member.

        Dispatches GUILD_CREATE when a client is already connected (the bot "joins").
        """
        if guild_id in self.guilds:
            raise ValueError(f"guild {guild_id} already exists")
        owner = owner_id if owner_id is not None else self.snowflake()
        bot_role_id = self.snowflake()
        role_map: dict[int, dict[str, Any]] = {
            guild_id: self._role_payload(
                {"id": guild_id, "name": "@everyone", "permissions": DEFAULT_EVERYONE_PERMISSIONS},
                position=0,
            ),
            bot_role_id: self._role_payload(
                {
                    "id": bot_role_id,
                    "name": self.bot_name,
                    "permissions": ALL_PERMISSIONS,
                    "managed": True,
                    "tags": {"bot_id": str(self.bot_user_id)},
                },
                position=1,
            ),
        }
        for index, role in enumerate(roles or [], start=2):
            normalized = self._role_payload(role, position=index)
            role_map[int(normalized["id"])] = normalized
        guild = FakeGuild(
            id=guild_id,
            name=name,
            owner_id=owner,
            roles=role_map,
            channel_ids=[],
            members={},
            attachment_size_limit=attachment_size_limit,
            bot_role_id=bot_role_id,
            preferred_locale=preferred_locale,
        )
        self.guilds[guild_id] = guild
        for channel_id in channels or []:
            self._create_channel(guild, channel_id)
        guild.members[self.bot_user_id] = _Member(self.bot_user_id, roles=[bot_role_id])
        self._ensure_user(owner, name="guild-owner" if owner_id is None else None)
        guild.members.setdefault(owner, _Member(owner, roles=[]))
        for member in members or []:
            user_id = int(member.get("id", member.get("user_id", 0)))
            self.add_member(
                guild_id,
                user_id,
                name=member.get("name"),
                roles=member.get("roles", ()),
                permissions=member.get("permissions"),
            )
        if self.sessions:
            self._spawn_event(
                self._dispatch(
                    "GUILD_CREATE",
                    lambda s: self._guild_create_payload(guild, s),
                    guild_id=guild_id,
                )
            )
        return guild

    def add_channel(
        self, guild_id: int, channel_id: int, *, name: str | None = None
    ) -> dict[str, Any]:
        guild = self._guild(guild_id)
        channel = self._create_channel(guild, channel_id, name=name)
        if self.sessions:
            self._spawn_event(
                self._dispatch(
                    "CHANNEL_CREATE", dict(channel), intent=INTENT_GUILDS, guild_id=guild_id
                )
            )
        return channel

    def add_member(
        self,
        guild_id: int,
        user_id: int,
        *,
        name: str | None = None,
        roles: Iterable[int] = (),
        permissions: int | None = None,
        nick: str | None = None,
    ) -> None:
        """Add (or update) a member. ``permissions`` overrides the role-derived value."""
        guild = self._guild(guild_id)
        self._ensure_user(user_id, name=name)
        role_ids = [int(r) for r in roles]
        for role_id in role_ids:
            if role_id not in guild.roles:
                guild.roles[role_id] = self._role_payload(
                    {"id": role_id, "name": f"role-{role_id}"}, position=len(guild.roles)
                )
        existing = guild.members.get(user_id)
        if existing is not None:
            existing.roles = role_ids or existing.roles
            existing.permissions = permissions if permissions is not None else existing.permissions
            existing.nick = nick if nick is not None else existing.nick
            return
        guild.members[user_id] = _Member(
            user_id, roles=role_ids, nick=nick, permissions=permissions
        )
        if any(s.ready for s in self.sessions):
            payload = self._member_payload(guild, user_id) | {"guild_id": str(guild_id)}
            self._spawn_event(
                self._dispatch(
                    "GUILD_MEMBER_ADD", payload, intent=INTENT_GUILD_MEMBERS, guild_id=guild_id
                )
            )

    def add_role(
        self, guild_id: int, role_id: int, *, name: str | None = None, permissions: int = 0
    ) -> dict[str, Any]:
        guild = self._guild(guild_id)
        role = self._role_payload(
            {"id": role_id, "name": name or f"role-{role_id}", "permissions": permissions},
            position=len(guild.roles),
        )
        guild.roles[role_id] = role
        if self.sessions:
            # As Discord does, so a running bot's role cache knows the new role.
            payload = {"guild_id": str(guild_id), "role": dict(role)}
            self._spawn_event(
                self._dispatch(
                    "GUILD_ROLE_CREATE", payload, intent=INTENT_GUILDS, guild_id=guild_id
                )
            )
        return role

    def add_user(
        self, user_id: int, *, name: str | None = None, bot: bool = False
    ) -> dict[str, Any]:
        return self._ensure_user(user_id, name=name, bot=bot)

    def member_permissions(self, guild_id: int, user_id: int) -> int:
        guild = self._guild(guild_id)
        member = guild.members.get(user_id)
        if member is not None and member.permissions is not None:
            return member.permissions
        if user_id == guild.owner_id:
            return ALL_PERMISSIONS
        perms = int(guild.roles[guild.id]["permissions"])
        for role_id in member.roles if member else []:
            role = guild.roles.get(role_id)
            if role is not None:
                perms |= int(role["permissions"])
        return ALL_PERMISSIONS if perms & ADMINISTRATOR else perms

    def dm_channel_id(self, user_id: int) -> int:
        """The DM channel with ``user_id`` (created on first use, like POST /users/@me/channels)."""
        existing = self._dm_channels.get(user_id)
        if existing is not None:
            return existing
        self._ensure_user(user_id)
        channel_id = self.snowflake()
        self.channels[channel_id] = {
            "id": str(channel_id),
            "type": 1,
            "recipients": [self.users[user_id]],
            "last_message_id": None,
            "flags": 0,
        }
        self._dm_channels[user_id] = channel_id
        return channel_id

    # ------------------------------------------------------------------ failure injection

    def expire_token(self, token: str) -> None:
        """Webhook calls with this interaction token now get 401 (50027); callbacks 404 (10062)."""
        interaction = self._interactions_by_token.get(token)
        if interaction is None:
            raise KeyError(f"no interaction with token {token!r}")
        interaction.expired = True

    def rate_limit_next(
        self,
        path_contains: str,
        *,
        retry_after: float = 0.05,
        count: int = 1,
        global_: bool = False,
    ) -> None:
        """The next ``count`` REST calls whose ``"METHOD /path"`` contains the string get a 429."""
        self._injections.append(
            _Injection(path_contains, "ratelimit", count, retry_after=retry_after, global_=global_)
        )

    def fail_next(
        self,
        path_contains: str,
        status: int = 500,
        count: int = 1,
        *,
        code: int | None = None,
        message: str | None = None,
    ) -> None:
        """The next ``count`` matching REST calls fail with ``status``.

        Note: discord.py retries 500/502/504 itself (sleeping 1 s, 3 s, ... between tries).
        """
        self._injections.append(
            _Injection(path_contains, "fail", count, status=status, code=code, message=message)
        )

    def clear_injections(self) -> None:
        self._injections.clear()

    # ------------------------------------------------------------------ gateway control

    async def wait_ready(self, timeout: float = 10) -> None:
        """Wait until a client is connected, identified (or resumed) and got every GUILD_CREATE."""
        await self._wait_until(
            lambda: any(s.ready and s.live for s in self.sessions),
            timeout,
            "a gateway client to identify and receive its guilds",
        )

    async def wait_disconnected(self, timeout: float = 10) -> None:
        """Wait until no gateway client is connected (e.g. after stopping a bot process)."""
        await self._wait_until(
            lambda: not self._sockets and self.connected_clients == 0,
            timeout,
            "every gateway client to disconnect",
        )

    async def disconnect_clients(self, *, code: int = 4000, invalidate: bool = False) -> None:
        """Close every gateway socket. With the default code 4000 discord.py RESUMEs;
        ``invalidate=True`` forgets the sessions so it has to IDENTIFY again."""
        closing: list[web.WebSocketResponse] = []
        for session in self.sessions:
            if invalidate:
                session.closed = True
            if session.ws is not None:
                closing.append(session.ws)
                session.ws = None
            session.ready = False
        closing.extend(ws for ws in self._sockets if ws not in closing)
        for ws in closing:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(ws.close(code=code, message=b"fakediscord disconnect"), 3)
        self._changed()

    async def wait_shards_ready(self, shard_count: int, timeout: float = 30) -> None:
        """Wait until every shard 0 .. shard_count-1 has a connected, identified session
        (several bot processes, each running a range of them)."""
        await self._wait_until(
            lambda: self.ready_shards() >= set(range(shard_count)),
            timeout,
            f"all {shard_count} shards to identify",
        )

    def ready_shards(self) -> set[int]:
        return {s.shard[0] for s in self.sessions if s.ready and s.live and s.shard is not None}

    @staticmethod
    def serves(session: GatewaySession, guild_id: int | None) -> bool:
        """Whether a session receives a guild's events: its shard is (guild_id >> 22) % count."""
        if guild_id is None or session.shard is None:
            return True
        shard_id, count = int(session.shard[0]), int(session.shard[1])
        return (guild_id >> 22) % max(count, 1) == shard_id

    @property
    def connected_clients(self) -> int:
        return sum(1 for s in self.sessions if s.live)

    # ------------------------------------------------------------------ driving interactions

    async def invoke_slash(
        self,
        *,
        guild_id: int | None,
        channel_id: int,
        user_id: int,
        command: str,
        subcommand: str | None = None,
        group: str | None = None,
        options: dict[str, Any] | None = None,
        attachments: dict[str, tuple[str, bytes, str]] | None = None,
        permissions: int | None = None,
        locale: str = "en-US",
        timeout: float = 10,
    ) -> FakeInteraction:
        """Dispatch a CHAT_INPUT application command (type 2) and return its record.

        Option types come from the registered command when there is one (unknown option
        names then raise ``ValueError``); otherwise from the Python type: str 3, int 4,
        float 10, bool 5, FakeUser 6, FakeChannel 7, FakeRole 8. ``attachments`` maps an
        option name to ``(filename, bytes, content_type)`` (type 11, served by the fake).
        """
        data, _ = self._command_data(
            guild_id, command, subcommand, group, options or {}, attachments or {}, focused=None
        )
        return await self._dispatch_interaction(
            2,
            guild_id,
            channel_id,
            user_id,
            data,
            permissions=permissions,
            locale=locale,
            timeout=timeout,
        )

    async def autocomplete(
        self,
        *,
        guild_id: int | None,
        channel_id: int,
        user_id: int,
        command: str,
        focused: str,
        options: dict[str, Any] | None = None,
        subcommand: str | None = None,
        group: str | None = None,
        timeout: float = 10,
    ) -> FakeInteraction:
        """Dispatch an APPLICATION_COMMAND_AUTOCOMPLETE (type 4); choices end up in
        ``interaction.autocomplete_choices``."""
        data, _ = self._command_data(
            guild_id, command, subcommand, group, options or {}, {}, focused=focused
        )
        return await self._dispatch_interaction(
            4, guild_id, channel_id, user_id, data, timeout=timeout
        )

    async def click_button(
        self,
        *,
        guild_id: int | None,
        channel_id: int,
        user_id: int,
        message_id: int,
        custom_id: str,
        permissions: int | None = None,
        timeout: float = 10,
    ) -> FakeInteraction:
        """Dispatch a MESSAGE_COMPONENT (type 3, component_type 2) for a stored message."""
        return await self.click_component(
            guild_id=guild_id,
            channel_id=channel_id,
            user_id=user_id,
            message_id=message_id,
            custom_id=custom_id,
            component_type=2,
            permissions=permissions,
            timeout=timeout,
        )

    async def select_values(
        self,
        *,
        guild_id: int | None,
        channel_id: int,
        user_id: int,
        message_id: int,
        custom_id: str,
        values: list[str],
        timeout: float = 10,
    ) -> FakeInteraction:
        """Dispatch a string-select (component_type 3) choice."""
        return await self.click_component(
            guild_id=guild_id,
            channel_id=channel_id,
            user_id=user_id,
            message_id=message_id,
            custom_id=custom_id,
            component_type=3,
            values=values,
            timeout=timeout,
        )

    async def click_component(
        self,
        *,
        guild_id: int | None,
        channel_id: int,
        user_id: int,
        message_id: int,
        custom_id: str,
        component_type: int,
        values: list[str] | None = None,
        permissions: int | None = None,
        timeout: float = 10,
    ) -> FakeInteraction:
        message = self.messages.get(message_id)
        if message is None or message["deleted"]:
            raise ValueError(f"no message {message_id} to click on")
        component = next(
            (c for c in walk_components(message["components"]) if c.get("custom_id") == custom_id),
            None,
        )
        if component is None:
            present = [c.get("custom_id") for c in walk_components(message["components"])]
            raise ValueError(f"message {message_id} has no component {custom_id!r} (has {present})")
        if component.get("disabled"):
            raise ValueError(f"component {custom_id!r} on message {message_id} is disabled")
        data: dict[str, Any] = {"custom_id": custom_id, "component_type": component_type}
        if "id" in component:
            data["id"] = component["id"]
        if values is not None:
            data["values"] = list(values)
        return await self._dispatch_interaction(
            3,
            guild_id,
            channel_id,
            user_id,
            data,
            message=message,
            permissions=permissions,
            timeout=timeout,
        )

    async def submit_modal(
        self,
        *,
        guild_id: int | None,
        channel_id: int,
        user_id: int,
        custom_id: str,
        values: dict[str, Any],
        message: dict[str, Any] | None = None,
        permissions: int | None = None,
        timeout: float = 10,
    ) -> FakeInteraction:
        """Dispatch a MODAL_SUBMIT (type 5).

        The submitted components mirror the modal the bot last sent with this custom_id
        (action rows *and* discord.py 2.7's label (18) components); inputs missing from
        ``values`` are sent empty. Values: ``str`` for text inputs/radio, ``list[str]`` for
        selects/checkbox groups, ``bool`` for a checkbox, ``(filename, bytes, content_type)``
        or a list of them for a file upload (19). Without a recorded modal every value is
        sent as a text input in its own action row. ``message`` is a stored message dict
        (or id) when the modal was opened from a component.
        """
        modal = self._find_modal(custom_id)
        resolved: dict[str, Any] = {}
        if modal is not None:
            unknown_ids = set(values) - {
                c.get("custom_id") for c in walk_components(modal.get("components"))
            }
            if unknown_ids:
                raise ValueError(f"modal {custom_id!r} has no inputs {sorted(unknown_ids)}")
            components = [self._modal_answer(c, values, resolved) for c in modal["components"]]
        else:
            components = [
                {"type": 1, "components": [{"type": 4, "custom_id": key, "value": str(value)}]}
                for key, value in values.items()
            ]
        data: dict[str, Any] = {"custom_id": custom_id, "components": components}
        if resolved:
            data["resolved"] = resolved
        message_record = None
        if message is not None:
            message_id = message if isinstance(message, int) else int(message["id"])
            message_record = self.messages[message_id]
        return await self._dispatch_interaction(
            5,
            guild_id,
            channel_id,
            user_id,
            data,
            message=message_record,
            permissions=permissions,
            timeout=timeout,
        )

    async def post_user_message(
        self,
        *,
        channel_id: int,
        user_id: int,
        content: str = "",
        attachments: list[tuple[str, bytes, str]] | None = None,
    ) -> dict[str, Any]:
        """A user writes in a channel: stores the message and dispatches MESSAGE_CREATE."""
        channel = self._channel(channel_id)
        self._ensure_user(user_id)
        uploads = [
            _Upload(f"files[{i}]", name, blob, ctype)
            for i, (name, blob, ctype) in enumerate(attachments or [])
        ]
        guild_id = int(channel["guild_id"]) if channel.get("guild_id") else None
        if guild_id is not None:
            guild = self.guilds[guild_id]
            if user_id not in guild.members:
                self.add_member(guild_id, user_id)
        record = self._new_message(
            channel_id=channel_id,
            author_id=user_id,
            payload={"content": content},
            uploads=uploads,
            msg_type=0,
            flags=0,
        )
        await self._announce_create(record)
        return record

    # ------------------------------------------------------------------ observing

    def channel_messages(self, channel_id: int) -> list[dict[str, Any]]:
        """Messages visible in the channel (no ephemerals, no deleted), oldest first."""
        return [
            m
            for m in self.messages.values()
            if m["channel_id"] == channel_id and not m["deleted"] and not m["ephemeral"]
        ]

    async def wait_for(
        self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 10
    ) -> dict[str, Any]:
        """First (non-deleted) message, existing or future, created or edited, matching
        ``predicate``. Predicates raising KeyError/IndexError/TypeError count as False."""

        def check() -> dict[str, Any] | None:
            for message in list(self.messages.values()):
                if not message["deleted"] and self._safe(predicate, message):
                    return message
            return None

        return await self._wait_until(check, timeout, "a message matching the predicate")

    async def wait_for_request(
        self, method: str, path_contains: str, timeout: float = 10, *, status: int | None = None
    ) -> RequestRecord:
        """First REST call (already made or future) matching method/path (and status)."""

        def check() -> RequestRecord | None:
            for record in self.request_log:
                if (
                    record.method == method.upper()
                    and path_contains in record.path
                    and record.status
                    and (status is None or record.status == status)
                ):
                    return record
            return None

        return await self._wait_until(
            check, timeout, f"a {method} request containing {path_contains!r}"
        )

    def find_command(
        self, name: str, *, guild_id: int | None = None, type: int = 1
    ) -> dict[str, Any] | None:
        scope: Any = "global" if guild_id is None else guild_id
        return next(
            (
                c
                for c in self.registered_commands.get(scope, [])
                if c["name"] == name and c.get("type", 1) == type
            ),
            None,
        )

    def attachment_bytes(self, attachment_id: int) -> bytes:
        return self._attachments[attachment_id][1]

    # ------------------------------------------------------------------ internals: waiting

    def _changed(self) -> None:
        event, self._change = self._change, asyncio.Event()
        event.set()

    async def _wait_until(self, check: Callable[[], Any], timeout: float, what: str) -> Any:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            result = check()
            if result:
                return result
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"fakediscord: timed out after {timeout}s waiting for {what}")
            event = self._change
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), remaining)

    @staticmethod
    def _safe(predicate: Callable[[dict[str, Any]], bool], message: dict[str, Any]) -> bool:
        try:
            return bool(predicate(message))
        except (KeyError, IndexError, TypeError, AttributeError):
            return False

    def _spawn_event(self, coro: Any) -> None:
        """A gateway event caused by a test's change (a guild, channel, member or role added).

        Sent in the background, since the change is made synchronously; but Discord delivers
        one connection's events in order, so the next interaction waits for these first (a
        channel added before a command must be known when the command arrives)."""
        task = self._spawn(coro)
        if task is not None:
            self._pending_events.add(task)
            task.add_done_callback(self._pending_events.discard)

    def _spawn(self, coro: Any) -> asyncio.Task[Any] | None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            coro.close()
            return None
        task = loop.create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return task

    # ------------------------------------------------------------------ internals: payloads

    def _ensure_user(
        self, user_id: int, *, name: str | None = None, bot: bool = False
    ) -> dict[str, Any]:
        user = self.users.get(user_id)
        if user is None:
            username = name or f"user{user_id % 100000}"
            user = {
                "id": str(user_id),
                "username": username,
                "global_name": username,
                "discriminator": "0",
                "avatar": None,
                "bot": bot,
                "system": False,
                "public_flags": 0,
                "flags": 0,
            }
            if bot:
                user["discriminator"] = "0001"
                user["global_name"] = None
                user["verified"] = True
                user["mfa_enabled"] = False
            self.users[user_id] = user
        elif name:
            user["username"] = name
            if not user.get("bot"):
                user["global_name"] = name
        return user

    def _bot_user(self) -> dict[str, Any]:
        return self.users[self.bot_user_id]

    @staticmethod
    def _role_payload(role: dict[str, Any], *, position: int) -> dict[str, Any]:
        payload = {
            "id": str(role["id"]),
            "name": role.get("name", f"role-{role['id']}"),
            "permissions": str(int(role.get("permissions", 0))),
            "position": role.get("position", position),
            "color": role.get("color", 0),
            "colors": {
                "primary_color": role.get("color", 0),
                "secondary_color": None,
                "tertiary_color": None,
            },
            "hoist": role.get("hoist", False),
            "managed": role.get("managed", False),
            "mentionable": role.get("mentionable", False),
            "icon": None,
            "unicode_emoji": None,
            "flags": 0,
        }
        if "tags" in role:
            payload["tags"] = role["tags"]
        return payload

    def _create_channel(
        self, guild: FakeGuild, channel_id: int, *, name: str | None = None
    ) -> dict[str, Any]:
        if channel_id in self.channels:
            raise ValueError(f"channel {channel_id} already exists")
        channel = {
            "id": str(channel_id),
            "type": 0,
            "guild_id": str(guild.id),
            "name": name or f"channel-{len(guild.channel_ids) + 1}",
            "position": len(guild.channel_ids),
            "permission_overwrites": [],
            "topic": None,
            "nsfw": False,
            "rate_limit_per_user": 0,
            "parent_id": None,
            "last_message_id": None,
            "flags": 0,
        }
        self.channels[channel_id] = channel
        guild.channel_ids.append(channel_id)
        return channel

    def _member_payload(
        self,
        guild: FakeGuild,
        user_id: int,
        *,
        with_user: bool = True,
        permissions: int | None = None,
    ) -> dict[str, Any]:
        member = guild.members[user_id]
        payload: dict[str, Any] = {
            "roles": [str(r) for r in member.roles],
            "nick": member.nick,
            "avatar": None,
            "banner": None,
            "joined_at": member.joined_at,
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "pending": False,
            "flags": 0,
            "communication_disabled_until": None,
        }
        if with_user:
            payload["user"] = self._ensure_user(user_id)
        if permissions is not None:
            payload["permissions"] = str(permissions)
        return payload

    def _guild_base_payload(self, guild: FakeGuild) -> dict[str, Any]:
        return {
            "id": str(guild.id),
            "name": guild.name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "owner_id": str(guild.owner_id),
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "roles": list(guild.roles.values()),
            "emojis": [],
            "stickers": [],
            "features": [],
            "mfa_level": 0,
            "application_id": None,
            "system_channel_id": str(guild.channel_ids[0]) if guild.channel_ids else None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "safety_alerts_channel_id": None,
            "max_members": 500000,
            "vanity_url_code": None,
            "description": None,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "preferred_locale": guild.preferred_locale,
            "nsfw_level": 0,
            "premium_progress_bar_enabled": False,
        }

    def _guild_create_payload(self, guild: FakeGuild, session: GatewaySession) -> dict[str, Any]:
        payload = self._guild_base_payload(guild)
        # Without GUILD_MEMBERS Discord only sends the bot itself (and voice members).
        member_ids = (
            list(guild.members) if session.intents & INTENT_GUILD_MEMBERS else [self.bot_user_id]
        )
        payload.update(
            {
                "joined_at": guild.joined_at,
                "large": False,
                "unavailable": False,
                "member_count": len(guild.members),
                "members": [self._member_payload(guild, uid) for uid in member_ids],
                "channels": [
                    {k: v for k, v in self.channels[cid].items() if k != "guild_id"}
                    for cid in guild.channel_ids
                ],
                "threads": [],
                "presences": [],
                "voice_states": [],
                "stage_instances": [],
                "guild_scheduled_events": [],
                "soundboard_sounds": [],
                "lazy": True,
            }
        )
        return payload

    def _app_info(self) -> dict[str, Any]:
        return {
            "id": str(self.application_id),
            "name": self.bot_name,
            "icon": None,
            "description": "",
            "summary": "",
            "type": None,
            "hook": True,
            "bot_public": True,
            "bot_require_code_grant": False,
            "verify_key": "0" * 64,
            "owner": self._ensure_user(self.owner_id),
            "team": None,
            "flags": 0,
            "rpc_origins": [],
            "redirect_uris": [],
            "interactions_endpoint_url": None,
            "tags": [],
            "approximate_guild_count": len(self.guilds),
            "bot": self._bot_user(),
            "integration_types_config": {"0": {}},
        }

    def _wire_attachment(self, attachment: dict[str, Any]) -> dict[str, Any]:
        wire = {
            "id": str(attachment["id"]),
            "filename": attachment["filename"],
            "size": attachment["size"],
            "url": attachment["url"],
            "proxy_url": attachment["proxy_url"],
            "content_type": attachment["content_type"],
        }
        if attachment.get("description") is not None:
            wire["description"] = attachment["description"]
        if attachment.get("ephemeral"):
            wire["ephemeral"] = True
        return wire

    def _wire_message(self, record: dict[str, Any], *, gateway: bool = False) -> dict[str, Any]:
        wire: dict[str, Any] = {
            "id": str(record["id"]),
            "channel_id": str(record["channel_id"]),
            "author": record["author"],
            "content": record["content"],
            "timestamp": record["timestamp"],
            "edited_timestamp": record["edited_timestamp"],
            "tts": record["tts"],
            "mention_everyone": record["mention_everyone"],
            "mentions": [self._ensure_user(uid) for uid in record["mentions"]],
            "mention_roles": [str(r) for r in record["mention_roles"]],
            "attachments": [self._wire_attachment(a) for a in record["attachments"]],
            "embeds": record["embeds"],
            "reactions": [
                {"emoji": {"id": None, "name": emoji}, "count": 1, "me": True}
                for emoji in record["reactions"]
            ],
            "pinned": record["pinned"],
            "type": record["type"],
            "flags": record["flags"],
            "components": record["components"],
        }
        if record["guild_id"] is not None:
            wire["guild_id"] = str(record["guild_id"])
            guild = self.guilds.get(record["guild_id"])
            if gateway and guild is not None and record["author_id"] in guild.members:
                wire["member"] = self._member_payload(guild, record["author_id"], with_user=False)
        for key in ("nonce", "message_reference", "interaction_metadata", "poll"):
            if record.get(key) is not None:
                wire[key] = record[key]
        if record["webhook_id"] is not None:
            wire["webhook_id"] = str(record["webhook_id"])
        if record["application_id"] is not None:
            wire["application_id"] = str(record["application_id"])
        return wire

    # ------------------------------------------------------------------ internals: messages

    def _guild_limit(self, guild_id: int | None) -> int:
        if guild_id is None or guild_id not in self.guilds:
            return DEFAULT_ATTACHMENT_SIZE_LIMIT
        return self.guilds[guild_id].attachment_size_limit

    def _check_uploads(self, uploads: list[_Upload], guild_id: int | None) -> None:
        limit = self._guild_limit(guild_id)
        for upload in uploads:
            if len(upload.data) > limit:
                raise ApiError(413, 40005, "Request entity too large")

    def _store_attachment(
        self,
        filename: str,
        data: bytes,
        content_type: str,
        *,
        description: str | None = None,
        ephemeral: bool = False,
    ) -> dict[str, Any]:
        attachment_id = self.snowflake()
        self._attachments[attachment_id] = (filename, data, content_type)
        url = f"{self.url}/attachments/{attachment_id}/{filename}"
        return {
            "id": attachment_id,
            "filename": filename,
            "size": len(data),
            "content_type": content_type,
            "data": data,
            "url": url,
            "proxy_url": url,
            "description": description,
            "ephemeral": ephemeral,
        }

    def _build_attachments(
        self,
        entries: list[dict[str, Any]] | None,
        uploads: list[_Upload],
        existing: list[dict[str, Any]],
        *,
        ephemeral: bool,
    ) -> list[dict[str, Any]]:
        by_index = {u.index: u for u in uploads if u.index is not None}
        unindexed = [u for u in uploads if u.index is None]
        used: set[int] = set()
        result: list[dict[str, Any]] = []
        existing_by_id = {int(a["id"]): a for a in existing}
        if entries is None:
            result.extend(existing)
            entries = []
        for entry in entries:
            raw_id = entry.get("id")
            try:
                entry_id = int(raw_id) if raw_id is not None else None
            except (TypeError, ValueError):
                entry_id = None
            if entry_id is not None and entry_id in by_index and entry_id not in existing_by_id:
                upload = by_index[entry_id]
                used.add(entry_id)
                result.append(
                    self._store_attachment(
                        entry.get("filename") or upload.filename,
                        upload.data,
                        guess_content_type(
                            entry.get("filename") or upload.filename, upload.content_type
                        ),
                        description=entry.get("description"),
                        ephemeral=ephemeral,
                    )
                )
            elif entry_id is not None and entry_id in existing_by_id:
                result.append(existing_by_id[entry_id])
        for index, upload in sorted(by_index.items()):
            if index not in used:
                result.append(
                    self._store_attachment(
                        upload.filename,
                        upload.data,
                        guess_content_type(upload.filename, upload.content_type),
                        ephemeral=ephemeral,
                    )
                )
        for upload in unindexed:
            result.append(
                self._store_attachment(
                    upload.filename,
                    upload.data,
                    guess_content_type(upload.filename, upload.content_type),
                    ephemeral=ephemeral,
                )
            )
        return result

    def _resolve_mentions(self, record: dict[str, Any]) -> None:
        content = record["content"] or ""
        allowed = record["allowed_mentions"]
        if allowed is None:
            parse = {"users", "roles", "everyone"}
            users: set[int] = set()
            roles: set[int] = set()
        else:
            parse = set(allowed.get("parse") or [])
            users = {int(u) for u in allowed.get("users") or []}
            roles = {int(r) for r in allowed.get("roles") or []}
        mentioned = list(dict.fromkeys(int(u) for u in _USER_MENTION.findall(content)))
        record["mentions"] = [u for u in mentioned if "users" in parse or u in users]
        reference = record.get("message_reference")
        if reference and (allowed is None or allowed.get("replied_user", False)):
            target = self.messages.get(int(reference.get("message_id") or 0))
            if target is not None and target["author_id"] not in record["mentions"]:
                record["mentions"].append(target["author_id"])
        mentioned_roles = list(dict.fromkeys(int(r) for r in _ROLE_MENTION.findall(content)))
        record["mention_roles"] = [r for r in mentioned_roles if "roles" in parse or r in roles]
        record["mention_everyone"] = (
            "@everyone" in content or "@here" in content
        ) and "everyone" in parse

    def _new_message(
        self,
        *,
        channel_id: int,
        author_id: int,
        payload: dict[str, Any],
        uploads: list[_Upload],
        msg_type: int,
        flags: int,
        interaction: FakeInteraction | None = None,
        webhook: bool = False,
        original_response_id: int | None = None,
    ) -> dict[str, Any]:
        channel = self.channels[channel_id]
        guild_id = int(channel["guild_id"]) if channel.get("guild_id") else None
        message_id = self.snowflake()
        ephemeral = bool(flags & FLAG_EPHEMERAL)
        record: dict[str, Any] = {
            "id": message_id,
            "channel_id": channel_id,
            "guild_id": guild_id,
            "author": self._ensure_user(author_id),
            "author_id": author_id,
            "content": payload.get("content") or "",
            "embeds": list(payload.get("embeds") or []),
            "components": list(payload.get("components") or []),
            "attachments": self._build_attachments(
                payload.get("attachments"), uploads, [], ephemeral=ephemeral
            ),
            "flags": flags,
            "ephemeral": ephemeral,
            "nonce": payload.get("nonce"),
            "tts": bool(payload.get("tts", False)),
            "allowed_mentions": payload.get("allowed_mentions"),
            "message_reference": payload.get("message_reference"),
            "poll": payload.get("poll"),
            "sticker_ids": payload.get("sticker_ids"),
            "mentions": [],
            "mention_roles": [],
            "mention_everyone": False,
            "reactions": [],
            "pinned": False,
            "type": msg_type,
            "timestamp": iso_now(),
            "edited_timestamp": None,
            "edits": 0,
            "history": [],
            "deleted": False,
            "webhook_id": self.application_id if webhook else None,
            "application_id": self.application_id if interaction is not None else None,
            "interaction_id": interaction.id if interaction is not None else None,
            "token": interaction.token if interaction is not None else None,
            "interaction_metadata": None,
        }
        if interaction is not None:
            metadata: dict[str, Any] = {
                "id": str(interaction.id),
                "type": interaction.type,
                "user": self._ensure_user(interaction.user_id),
                "authorizing_integration_owners": interaction.payload.get(
                    "authorizing_integration_owners", {}
                ),
            }
            data = interaction.payload.get("data") or {}
            if interaction.type == 2:
                metadata["name"] = data.get("name")
                metadata["command_type"] = data.get("type", 1)
            if interaction.message_id is not None:
                metadata["interacted_message_id"] = str(interaction.message_id)
            if original_response_id is not None:
                metadata["original_response_message_id"] = str(original_response_id)
            record["interaction_metadata"] = metadata
        self._resolve_mentions(record)
        self.messages[message_id] = record
        channel["last_message_id"] = str(message_id)
        self._changed()
        return record

    def _apply_edit(
        self, record: dict[str, Any], payload: dict[str, Any], uploads: list[_Upload]
    ) -> None:
        snapshot = {
            key: record[key]
            for key in ("content", "embeds", "components", "flags", "edited_timestamp")
        }
        snapshot["attachments"] = [a["filename"] for a in record["attachments"]]
        new_content = record["content"]
        if "content" in payload:
            new_content = payload["content"] or ""
        new_embeds = record["embeds"]
        if "embeds" in payload:
            new_embeds = list(payload["embeds"] or [])
        new_components = record["components"]
        if "components" in payload:
            new_components = list(payload["components"] or [])
        new_attachments = record["attachments"]
        if "attachments" in payload or uploads:
            new_attachments = self._build_attachments(
                payload.get("attachments"),
                uploads,
                record["attachments"],
                ephemeral=record["ephemeral"],
            )
        if not (
            new_content or new_embeds or new_components or new_attachments or record.get("poll")
        ):
            raise ApiError(400, 50006, "Cannot send an empty message")
        record["history"].append(snapshot)
        record["content"] = new_content
        record["embeds"] = new_embeds
        record["components"] = new_components
        record["attachments"] = new_attachments
        flags = record["flags"]
        if payload.get("flags") is not None:
            flags = (int(payload["flags"]) & ~FLAG_EPHEMERAL) | (flags & FLAG_EPHEMERAL)
        record["flags"] = flags & ~FLAG_LOADING
        if "allowed_mentions" in payload:
            record["allowed_mentions"] = payload["allowed_mentions"]
        self._resolve_mentions(record)
        record["edits"] += 1
        record["edited_timestamp"] = iso_now()
        self._changed()

    def _message_event_payload(
        self, record: dict[str, Any], session: GatewaySession
    ) -> dict[str, Any]:
        wire = self._wire_message(record, gateway=True)
        privileged = (
            record["author_id"] == self.bot_user_id
            or session.intents & INTENT_MESSAGE_CONTENT
            or self.bot_user_id in record["mentions"]
            or record["guild_id"] is None
        )
        if not privileged:
            wire.update(content="", embeds=[], attachments=[], components=[])
        return wire

    async def _announce_create(self, record: dict[str, Any]) -> None:
        if not self.dispatch_message_events or record["ephemeral"]:
            return
        intent = INTENT_GUILD_MESSAGES if record["guild_id"] is not None else INTENT_DIRECT_MESSAGES
        await self._dispatch(
            "MESSAGE_CREATE",
            lambda s: self._message_event_payload(record, s),
            intent=intent,
            guild_id=record["guild_id"],
        )

    async def _announce_update(self, record: dict[str, Any]) -> None:
        if not self.dispatch_message_events or record["ephemeral"]:
            return
        intent = INTENT_GUILD_MESSAGES if record["guild_id"] is not None else INTENT_DIRECT_MESSAGES
        await self._dispatch(
            "MESSAGE_UPDATE",
            lambda s: self._message_event_payload(record, s),
            intent=intent,
            guild_id=record["guild_id"],
        )

    async def _delete_message(self, record: dict[str, Any]) -> None:
        record["deleted"] = True
        self._changed()
        if not self.dispatch_message_events or record["ephemeral"]:
            return
        payload: dict[str, Any] = {"id": str(record["id"]), "channel_id": str(record["channel_id"])}
        if record["guild_id"] is not None:
            payload["guild_id"] = str(record["guild_id"])
        intent = INTENT_GUILD_MESSAGES if record["guild_id"] is not None else INTENT_DIRECT_MESSAGES
        await self._dispatch("MESSAGE_DELETE", payload, intent=intent, guild_id=record["guild_id"])

    # ------------------------------------------------------------------ internals: lookups

    def _guild(self, guild_id: int) -> FakeGuild:
        guild = self.guilds.get(int(guild_id))
        if guild is None:
            raise KeyError(f"unknown guild {guild_id}; call add_guild() first")
        return guild

    def _channel(self, channel_id: int) -> dict[str, Any]:
        channel = self.channels.get(int(channel_id))
        if channel is None:
            raise unknown("Channel", UNKNOWN_CHANNEL)
        return channel

    def _visible_message(self, channel_id: int, message_id: int) -> dict[str, Any]:
        record = self.messages.get(message_id)
        if (
            record is None
            or record["deleted"]
            or record["channel_id"] != channel_id
            or record["ephemeral"]
        ):
            raise unknown("Message", UNKNOWN_MESSAGE)
        return record

    # ------------------------------------------------------------------ internals: gateway

    async def _send_to(self, session: GatewaySession, event: str, data: Any) -> None:
        async with session.lock:
            session.seq += 1
            text = json.dumps({"op": 0, "t": event, "s": session.seq, "d": data})
            session.buffer.append((session.seq, text))
            ws = session.ws
            if ws is not None and not ws.closed:
                try:
                    await ws.send_str(text)
                except (ConnectionError, RuntimeError) as exc:
                    log.debug("dropping %s for session %s: %s", event, session.session_id, exc)

    async def _dispatch(
        self,
        event: str,
        data: Any,
        *,
        intent: int | None = None,
        sessions: Iterable[GatewaySession] | None = None,
        guild_id: int | None = None,
    ) -> int:
        """Send a DISPATCH to every open session (buffered for resume); returns live count.

        A guild's event goes only to sessions of the shard that guild belongs to, as on
        Discord; events without a guild go to every session."""
        delivered = 0
        for session in list(sessions if sessions is not None else self.sessions):
            if session.closed or not self.serves(session, guild_id):
                continue
            if intent is not None and not session.intents & intent:
                continue
            payload = data(session) if callable(data) else data
            await self._send_to(session, event, payload)
            delivered += session.live
        return delivered

    async def _h_gateway(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(max_msg_size=0)
        if not ws.can_prepare(request).ok:
            return json_response({"url": self.gateway_url})
        if not self.gateway_open:
            return web.Response(status=503, text="gateway closed by the test")
        await ws.prepare(request)
        self._sockets.add(ws)
        session: GatewaySession | None = None
        try:
            hello = {
                "op": 10,
                "s": None,
                "t": None,
                "d": {"heartbeat_interval": self.heartbeat_interval_ms, "_trace": ["fakediscord"]},
            }
            await ws.send_str(json.dumps(hello))
            async for message in ws:
                if message.type is not WSMsgType.TEXT:
                    continue
                try:
                    frame = json.loads(message.data)
                except ValueError:
                    await ws.close(code=4002, message=b"Error while decoding payload.")
                    break
                op = frame.get("op")
                data = frame.get("d") or {}
                if op == 1:
                    self.heartbeats += 1
                    await ws.send_str('{"op": 11, "s": null, "t": null, "d": null}')
                elif op == 2:
                    if session is not None:
                        await ws.close(code=4005, message=b"Already authenticated.")
                        break
                    session = await self._identify(ws, data)
                    if session is None:
                        break
                elif op == 6:
                    session = await self._resume(ws, data)
                elif op == 8:
                    if session is not None:
                        await self._request_members(session, data)
                elif op in (3, 4):
                    continue
                else:
                    log.debug("fake gateway ignoring op %s", op)
        except Exception as exc:  # pragma: no cover - defensive
            if not isinstance(exc, (ConnectionError, asyncio.CancelledError)):
                self.errors.append(f"gateway: {exc!r}")
                log.exception("fake gateway handler failed")
            raise
        finally:
            self._sockets.discard(ws)
            log.debug("gateway socket closed with %s", ws.close_code)
            if session is not None and session.ws is ws:
                session.ws = None
                session.ready = False
                # Note: discord.py 2.7 on aiohttp 3.14 usually closes with 4000 even from
                # Client.close() (its reader task answers the close first), so a stopped
                # bot's session normally stays resumable, as it would on Discord.
                if ws.close_code in (1000, 1001):
                    session.closed = True
            self._changed()
        return ws

    async def _identify(
        self, ws: web.WebSocketResponse, data: dict[str, Any]
    ) -> GatewaySession | None:
        token = data.get("token")
        if self.token is not None and token != self.token:
            await ws.close(code=4004, message=b"Authentication failed.")
            return None
        session = GatewaySession(
            session_id=uuid.uuid4().hex,
            token=token,
            intents=int(data.get("intents") or 0),
            shard=data.get("shard"),
            ws=ws,
        )
        self.sessions.append(session)
        self.identify_count += 1
        ready: dict[str, Any] = {
            "v": 10,
            "user": self._bot_user(),
            "user_settings": {},
            "guilds": [
                {"id": str(gid), "unavailable": True}
                for gid in self.guilds
                if self.serves(session, gid)
            ],
            "session_id": session.session_id,
            "session_type": "normal",
            "resume_gateway_url": self.gateway_url,
            "application": {"id": str(self.application_id), "flags": 0},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": [],
            "auth": {},
            "_trace": ["fakediscord"],
        }
        if session.shard is not None:
            ready["shard"] = session.shard
        await self._send_to(session, "READY", ready)
        for guild in list(self.guilds.values()):
            if not self.serves(session, guild.id):
                continue
            await self._send_to(session, "GUILD_CREATE", self._guild_create_payload(guild, session))
        session.ready = True
        self._changed()
        return session

    async def _resume(
        self, ws: web.WebSocketResponse, data: dict[str, Any]
    ) -> GatewaySession | None:
        session = next(
            (s for s in self.sessions if s.session_id == data.get("session_id") and not s.closed),
            None,
        )
        if session is None or (self.token is not None and data.get("token") != self.token):
            self.invalid_session_count += 1
            await ws.send_str(json.dumps({"op": 9, "s": None, "t": None, "d": False}))
            return None
        previous = session.ws
        since = int(data.get("seq") or 0)
        async with session.lock:
            session.ws = ws
            for seq, text in list(session.buffer):
                if seq > since:
                    await ws.send_str(text)
        if previous is not None and previous is not ws:
            self._spawn(previous.close(code=4000))
        self.resume_count += 1
        await self._send_to(session, "RESUMED", {"_trace": ["fakediscord"]})
        session.ready = True
        self._changed()
        return session

    async def _request_members(self, session: GatewaySession, data: dict[str, Any]) -> None:
        raw_ids = data.get("guild_id")
        guild_ids = raw_ids if isinstance(raw_ids, list) else [raw_ids]
        for raw in guild_ids:
            guild = self.guilds.get(int(raw or 0))
            if guild is None:
                continue
            not_found: list[str] = []
            user_ids = data.get("user_ids")
            if user_ids is not None:
                wanted = [int(u) for u in (user_ids if isinstance(user_ids, list) else [user_ids])]
                found = [u for u in wanted if u in guild.members]
                not_found = [str(u) for u in wanted if u not in guild.members]
            else:
                query = (data.get("query") or "").lower()
                found = [
                    u
                    for u in guild.members
                    if self._ensure_user(u)["username"].lower().startswith(query)
                ]
                limit = int(data.get("limit") or 0)
                if limit:
                    found = found[:limit]
            payload: dict[str, Any] = {
                "guild_id": str(guild.id),
                "members": [self._member_payload(guild, u) for u in found],
                "chunk_index": 0,
                "chunk_count": 1,
                "not_found": not_found,
            }
            if data.get("presences"):
                payload["presences"] = []
            if data.get("nonce") is not None:
                payload["nonce"] = data["nonce"]
            await self._send_to(session, "GUILD_MEMBERS_CHUNK", payload)

    # ------------------------------------------------------------------ internals: interactions

    def _command_scope(self, guild_id: int | None, name: str) -> tuple[dict[str, Any] | None, bool]:
        if guild_id is not None:
            for command in self.registered_commands.get(guild_id, []):
                if command["name"] == name and command.get("type", 1) == 1:
                    return command, True
        for command in self.registered_commands.get("global", []):
            if command["name"] == name and command.get("type", 1) == 1:
                return command, False
        return None, False

    def _command_data(
        self,
        guild_id: int | None,
        command: str,
        subcommand: str | None,
        group: str | None,
        options: dict[str, Any],
        attachments: dict[str, tuple[str, bytes, str]],
        *,
        focused: str | None,
    ) -> tuple[dict[str, Any], dict[str, Any] | None]:
        registered, is_guild = self._command_scope(guild_id, command)
        if registered is None and self.registered_commands:
            log.warning("invoking /%s which the bot has not registered", command)
        schema: list[dict[str, Any]] | None = registered.get("options", []) if registered else None
        path = [command]
        if group is not None:
            if subcommand is None:
                raise ValueError("group= needs subcommand=")
            schema = self._sub_schema(schema, group, 2, path)
            path.append(group)
        if subcommand is not None:
            schema = self._sub_schema(schema, subcommand, 1, path)
            path.append(subcommand)
        resolved: dict[str, Any] = {}
        leaf: list[dict[str, Any]] = []
        for name, value in options.items():
            leaf.append(
                self._option(guild_id, path, schema, name, value, resolved, focused == name)
            )
        for name, (filename, blob, content_type) in attachments.items():
            spec = self._option_spec(schema, name, path)
            if spec is not None and spec["type"] != 11:
                raise ValueError(
                    f"option {name!r} of /{' '.join(path)} is not an attachment option"
                )
            attachment = self._store_attachment(filename, blob, content_type, ephemeral=True)
            resolved.setdefault("attachments", {})[str(attachment["id"])] = self._wire_attachment(
                attachment
            )
            leaf.append({"name": name, "type": 11, "value": str(attachment["id"])})
        if schema is not None:
            given = {o["name"] for o in leaf}
            missing = [
                o["name"]
                for o in schema
                if o.get("required") and o["name"] not in given and o.get("type") not in (1, 2)
            ]
            if missing and focused is None:
                raise ValueError(f"/{' '.join(path)} is missing required options {missing}")
        top: list[dict[str, Any]] = leaf
        if subcommand is not None:
            top = [{"type": 1, "name": subcommand, "options": leaf}]
            if group is not None:
                top = [{"type": 2, "name": group, "options": top}]
        data: dict[str, Any] = {
            "id": registered["id"] if registered else str(UNREGISTERED_COMMAND_ID),
            "name": command,
            "type": 1,
            "options": top,
        }
        if resolved:
            data["resolved"] = resolved
        if is_guild and guild_id is not None:
            data["guild_id"] = str(guild_id)
        return data, registered

    @staticmethod
    def _sub_schema(
        schema: list[dict[str, Any]] | None, name: str, kind: int, path: list[str]
    ) -> list[dict[str, Any]] | None:
        if schema is None:
            return None
        for option in schema:
            if option["name"] == name and option.get("type") == kind:
                return option.get("options", [])
        label = "group" if kind == 2 else "subcommand"
        names = [o["name"] for o in schema if o.get("type") in (1, 2)]
        raise ValueError(f"/{' '.join(path)} has no {label} {name!r} (has {names})")

    @staticmethod
    def _option_spec(
        schema: list[dict[str, Any]] | None, name: str, path: list[str]
    ) -> dict[str, Any] | None:
        if schema is None:
            return None
        for option in schema:
            if option["name"] == name:
                return option
        names = [o["name"] for o in schema]
        raise ValueError(f"/{' '.join(path)} has no option {name!r} (has {names})")

    def _option(
        self,
        guild_id: int | None,
        path: list[str],
        schema: list[dict[str, Any]] | None,
        name: str,
        value: Any,
        resolved: dict[str, Any],
        focused: bool,
    ) -> dict[str, Any]:
        spec = self._option_spec(schema, name, path)
        if spec is not None:
            kind = int(spec["type"])
        elif isinstance(value, bool):
            kind = 5
        elif isinstance(value, int):
            kind = 4
        elif isinstance(value, float):
            kind = 10
        elif isinstance(value, FakeUser):
            kind = 6
        elif isinstance(value, FakeChannel):
            kind = 7
        elif isinstance(value, FakeRole):
            kind = 8
        else:
            kind = 3
        option: dict[str, Any] = {"name": name, "type": kind}
        if focused:
            option["focused"] = True
            option["value"] = str(value)
            return option
        if kind == 3:
            option["value"] = str(value)
        elif kind == 4:
            option["value"] = int(value)
        elif kind == 10:
            option["value"] = value
        elif kind == 5:
            option["value"] = bool(value)
        elif kind in (6, 9) and not isinstance(value, FakeRole):
            user_id = value.id if isinstance(value, FakeUser) else int(value)
            user = self._ensure_user(user_id)
            resolved.setdefault("users", {})[str(user_id)] = user
            if guild_id is not None:
                guild = self._guild(guild_id)
                if user_id in guild.members:
                    resolved.setdefault("members", {})[str(user_id)] = self._member_payload(
                        guild,
                        user_id,
                        with_user=False,
                        permissions=self.member_permissions(guild_id, user_id),
                    )
            option["value"] = str(user_id)
        elif kind in (8, 9):
            role_id = value.id if isinstance(value, FakeRole) else int(value)
            if guild_id is None:
                raise ValueError("role options need a guild")
            role = self._guild(guild_id).roles.get(role_id)
            if role is None:
                raise ValueError(f"guild {guild_id} has no role {role_id}")
            resolved.setdefault("roles", {})[str(role_id)] = role
            option["value"] = str(role_id)
        elif kind == 7:
            channel_id = value.id if isinstance(value, FakeChannel) else int(value)
            channel = self._channel(channel_id)
            resolved.setdefault("channels", {})[str(channel_id)] = {
                "id": channel["id"],
                "type": channel["type"],
                "name": channel.get("name"),
                "permissions": str(ALL_PERMISSIONS),
                "guild_id": channel.get("guild_id"),
                "parent_id": channel.get("parent_id"),
            }
            option["value"] = str(channel_id)
        else:
            raise ValueError(f"option {name!r}: type {kind} is not supported by the fake")
        return option

    def _find_modal(self, custom_id: str) -> dict[str, Any] | None:
        for interaction in reversed(list(self.interactions.values())):
            if interaction.modal is not None and interaction.modal.get("custom_id") == custom_id:
                return interaction.modal
        return None

    def _modal_answer(
        self, component: dict[str, Any], values: dict[str, Any], resolved: dict[str, Any]
    ) -> dict[str, Any]:
        kind = component.get("type")
        if kind == 1:
            answer: dict[str, Any] = {
                "type": 1,
                "components": [
                    self._modal_answer(c, values, resolved) for c in component["components"]
                ],
            }
        elif kind == 18:
            answer = {
                "type": 18,
                "component": self._modal_answer(component["component"], values, resolved),
            }
        elif kind == 10:
            answer = {"type": 10, "content": component.get("content", "")}
        else:
            custom_id = component.get("custom_id")
            answer = {"type": kind, "custom_id": custom_id}
            value = values.get(custom_id)
            if kind == 4:
                answer["value"] = "" if value is None else str(value)
            elif kind == 21:
                answer["value"] = value
            elif kind == 23:
                answer["value"] = bool(value)
            elif kind == 19:
                files = [] if value is None else value if isinstance(value, list) else [value]
                ids = []
                for filename, blob, content_type in files:
                    attachment = self._store_attachment(
                        filename, blob, content_type, ephemeral=True
                    )
                    resolved.setdefault("attachments", {})[str(attachment["id"])] = (
                        self._wire_attachment(attachment)
                    )
                    ids.append(str(attachment["id"]))
                answer["values"] = ids
            else:
                answer["values"] = [] if value is None else [str(v) for v in value]
        if "id" in component:
            answer["id"] = component["id"]
        return answer

    async def _dispatch_interaction(
        self,
        interaction_type: int,
        guild_id: int | None,
        channel_id: int,
        user_id: int,
        data: dict[str, Any],
        *,
        message: dict[str, Any] | None = None,
        permissions: int | None = None,
        locale: str = "en-US",
        timeout: float = 10,
    ) -> FakeInteraction:
        interaction_id = self.snowflake()
        token = f"fakeix.{interaction_id}.{secrets.token_hex(16)}"
        self._ensure_user(user_id)
        payload: dict[str, Any] = {
            "id": str(interaction_id),
            "application_id": str(self.application_id),
            "type": interaction_type,
            "data": data,
            "token": token,
            "version": 1,
            "locale": locale,
            "entitlements": [],
            "entitlement_sku_ids": [],
            "app_permissions": str(ALL_PERMISSIONS),
            "attachment_size_limit": self._guild_limit(guild_id),
        }
        if guild_id is not None:
            guild = self._guild(guild_id)
            if user_id not in guild.members:
                self.add_member(guild_id, user_id)
            if channel_id not in self.channels:
                self.add_channel(guild_id, channel_id)
            channel = self.channels[channel_id]
            if channel.get("guild_id") != str(guild_id):
                raise ValueError(f"channel {channel_id} is not in guild {guild_id}")
            perms = (
                permissions
                if permissions is not None
                else self.member_permissions(guild_id, user_id)
            )
            payload.update(
                {
                    "guild_id": str(guild_id),
                    "guild": {
                        "id": str(guild_id),
                        "locale": guild.preferred_locale,
                        "features": [],
                    },
                    "guild_locale": guild.preferred_locale,
                    "channel_id": str(channel_id),
                    "channel": dict(channel) | {"permissions": str(perms)},
                    "member": self._member_payload(guild, user_id, permissions=perms),
                    "authorizing_integration_owners": {"0": str(guild_id)},
                    "context": 0,
                }
            )
        else:
            if channel_id not in self.channels:
                raise ValueError(f"unknown DM channel {channel_id}; use fake.dm_channel_id(user)")
            channel = self.channels[channel_id]
            payload.update(
                {
                    "channel_id": str(channel_id),
                    "channel": dict(channel),
                    "user": self._ensure_user(user_id),
                    "authorizing_integration_owners": {"0": "0"},
                    "context": 1,
                }
            )
        if message is not None:
            payload["message"] = self._wire_message(message)
        interaction = FakeInteraction(
            id=interaction_id,
            token=token,
            type=interaction_type,
            guild_id=guild_id,
            channel_id=channel_id,
            user_id=user_id,
            payload=payload,
            message_id=message["id"] if message is not None else None,
            _fake=self,
        )
        self.interactions[interaction_id] = interaction
        self._interactions_by_token[token] = interaction
        await self._wait_until(
            lambda: any(s.ready and s.live and self.serves(s, guild_id) for s in self.sessions),
            timeout,
            f"a connected gateway client to receive {interaction.describe()}",
        )
        if self._pending_events:
            await asyncio.wait(set(self._pending_events))
        interaction.created_monotonic = time.monotonic()
        await self._dispatch("INTERACTION_CREATE", payload, guild_id=guild_id)
        return interaction

    # ------------------------------------------------------------------ HTTP plumbing

    def _add_routes(self, router: web.UrlDispatcher) -> None:
        api = API_PREFIX
        add = router.add_route
        add("GET", "/gateway", self._h_gateway)
        add("GET", "/", self._h_gateway)
        add("GET", "/attachments/{attachment_id}/{filename}", self._h_attachment)
        add("GET", f"{api}/gateway", self._h_get_gateway)
        add("GET", f"{api}/gateway/bot", self._h_get_gateway_bot)
        add("GET", f"{api}/users/{{user_id}}", self._h_get_user)
        add("POST", f"{api}/users/@me/channels", self._h_create_dm)
        add("DELETE", f"{api}/users/@me/guilds/{{guild_id}}", self._h_leave_guild)
        add("GET", f"{api}/oauth2/applications/@me", self._h_app_info)
        add("GET", f"{api}/applications/@me", self._h_app_info)
        for scope in ("", "/guilds/{guild_id}"):
            base = f"{api}/applications/{{app_id}}{scope}/commands"
            add("GET", base, self._h_list_commands)
            add("PUT", base, self._h_put_commands)
            add("POST", base, self._h_post_command)
            add("GET", base + "/{command_id}", self._h_get_command)
            add("PATCH", base + "/{command_id}", self._h_patch_command)
            add("DELETE", base + "/{command_id}", self._h_delete_command)
        add("POST", f"{api}/interactions/{{interaction_id}}/{{token}}/callback", self._h_callback)
        add("POST", f"{api}/webhooks/{{app_id}}/{{token}}", self._h_followup)
        msg = f"{api}/webhooks/{{app_id}}/{{token}}/messages/{{message_id}}"
        add("GET", msg, self._h_webhook_get)
        add("PATCH", msg, self._h_webhook_edit)
        add("DELETE", msg, self._h_webhook_delete)
        add("GET", f"{api}/channels/{{channel_id}}", self._h_get_channel)
        add("GET", f"{api}/channels/{{channel_id}}/messages", self._h_history)
        add("POST", f"{api}/channels/{{channel_id}}/messages", self._h_create_message)
        cmsg = f"{api}/channels/{{channel_id}}/messages/{{message_id}}"
        add("GET", cmsg, self._h_get_message)
        add("PATCH", cmsg, self._h_edit_message)
        add("DELETE", cmsg, self._h_delete_channel_message)
        add("POST", f"{api}/channels/{{channel_id}}/typing", self._h_typing)
        reaction = cmsg + "/reactions/{emoji}/{who}"
        add("PUT", reaction, self._h_add_reaction)
        add("DELETE", reaction, self._h_remove_reaction)
        add("GET", f"{api}/guilds/{{guild_id}}", self._h_get_guild)
        add("GET", f"{api}/guilds/{{guild_id}}/channels", self._h_guild_channels)
        add("GET", f"{api}/guilds/{{guild_id}}/roles", self._h_guild_roles)
        add("GET", f"{api}/guilds/{{guild_id}}/members", self._h_list_members)
        add("GET", f"{api}/guilds/{{guild_id}}/members/{{user_id}}", self._h_get_member)
        add("*", "/{tail:.*}", self._h_unknown)

    @web.middleware
    async def _middleware(
        self, request: web.Request, handler: Callable[[web.Request], Any]
    ) -> web.StreamResponse:
        path = request.path
        if path in ("/", "/gateway"):
            return await handler(request)
        api_path = path[len(API_PREFIX) :] if path.startswith(API_PREFIX + "/") else path
        record = RequestRecord(
            method=request.method, path=api_path, query=dict(request.query), json=None, files=[]
        )
        self.request_log.append(record)
        try:
            body = await self._read_body(request)
        except ApiError as error:
            record.status = error.status
            self.requests.append((request.method, api_path, None))
            self._changed()
            return error.response()
        record.json = body.json
        record.files = [(u.filename, len(u.data)) for u in body.files]
        request[_BODY] = body
        self.requests.append((request.method, api_path, body.json))
        response: web.StreamResponse
        injection = (
            self._take_injection(request.method, api_path) if path.startswith(API_PREFIX) else None
        )
        if injection is not None:
            response = self._injected_response(injection)
        elif (
            self.token is not None
            and path.startswith(API_PREFIX)
            and not api_path.startswith(("/webhooks/", "/interactions/"))
            and request.headers.get("Authorization") != f"Bot {self.token}"
        ):
            response = json_response({"message": "401: Unauthorized", "code": 0}, status=401)
        else:
            try:
                response = await handler(request)
            except ApiError as error:
                response = error.response()
            except web.HTTPException:
                raise
            except Exception as exc:
                # A bug in the fake: answer 400 (not 500 — discord.py would retry for ~25 s).
                log.exception("fake discord handler crashed on %s %s", request.method, path)
                self.errors.append(f"{request.method} {api_path}: {exc!r}")
                response = json_response(
                    {"message": f"fakediscord internal error: {exc!r}", "code": 0}, status=400
                )
        record.status = response.status
        self._changed()
        return response

    async def _read_body(self, request: web.Request) -> _Body:
        body = _Body()
        if not request.body_exists:
            return body
        content_type = request.content_type
        if content_type.startswith("multipart/"):
            reader = await request.multipart()
            while True:
                part = await reader.next()
                if part is None:
                    break
                data = await part.read(decode=False)  # type: ignore[union-attr]
                name = part.name or ""  # type: ignore[union-attr]
                filename = part.filename  # type: ignore[union-attr]
                if name == "payload_json":
                    body.json = json.loads(bytes(data).decode())
                elif filename is not None or name.startswith("file"):
                    ctype = part.headers.get("Content-Type", "application/octet-stream")  # type: ignore[union-attr]
                    body.files.append(_Upload(name, filename or name, bytes(data), ctype))
            return body
        raw = await request.read()
        if raw:
            try:
                body.json = json.loads(raw)
            except ValueError:
                raise ApiError(400, 50109, "The request body contains invalid JSON.") from None
        return body

    def _take_injection(self, method: str, path: str) -> _Injection | None:
        key = f"{method} {path}"
        for injection in self._injections:
            if injection.match in key:
                injection.count -= 1
                if injection.count <= 0:
                    self._injections.remove(injection)
                return injection
        return None

    @staticmethod
    def _injected_response(injection: _Injection) -> web.Response:
        if injection.kind == "ratelimit":
            retry = injection.retry_after
            headers = {
                "Via": "1.1 google",
                "Retry-After": str(max(1, math.ceil(retry))),
                "X-RateLimit-Limit": "5",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": f"{time.time() + retry:.3f}",
                "X-RateLimit-Reset-After": f"{retry:.3f}",
                "X-RateLimit-Scope": "global" if injection.global_ else "user",
            }
            if injection.global_:
                headers["X-RateLimit-Global"] = "true"
            else:
                headers["X-RateLimit-Bucket"] = "fakediscord-" + secrets.token_hex(4)
            body = {
                "message": "You are being rate limited.",
                "retry_after": retry,
                "global": injection.global_,
                "code": 0,
            }
            return json_response(body, status=429, headers=headers)
        default_code, default_message = _STATUS_DEFAULTS.get(
            injection.status, (0, "Injected failure")
        )
        code = injection.code if injection.code is not None else default_code
        message = injection.message if injection.message is not None else default_message
        return json_response({"message": message, "code": code}, status=injection.status)

    # ------------------------------------------------------------------ REST: misc

    async def _h_unknown(self, request: web.Request) -> web.Response:
        self.unknown_routes.append((request.method, request.path))
        log.warning("fakediscord: unknown route %s %s", request.method, request.path)
        return json_response({"message": "Unknown route", "code": 0}, status=404)

    async def _h_get_gateway(self, request: web.Request) -> web.Response:
        return json_response({"url": self.gateway_url})

    async def _h_get_gateway_bot(self, request: web.Request) -> web.Response:
        return json_response(
            {
                "url": self.gateway_url,
                "shards": self.shard_count,
                "session_start_limit": {
                    "total": 1000,
                    "remaining": 999,
                    "reset_after": 14_400_000,
                    "max_concurrency": 1,
                },
            }
        )

    async def _h_get_user(self, request: web.Request) -> web.Response:
        raw = request.match_info["user_id"]
        if raw == "@me":
            return json_response(self._bot_user())
        user = self.users.get(int(raw)) if raw.isdigit() else None
        if user is None:
            raise unknown("User", UNKNOWN_USER)
        return json_response(user)

    async def _h_create_dm(self, request: web.Request) -> web.Response:
        payload = request[_BODY].json or {}
        user_id = int(payload.get("recipient_id") or 0)
        if user_id not in self.users:
            raise unknown("User", UNKNOWN_USER)
        return json_response(self.channels[self.dm_channel_id(user_id)])

    async def _h_app_info(self, request: web.Request) -> web.Response:
        return json_response(self._app_info())

    async def _h_attachment(self, request: web.Request) -> web.Response:
        try:
            attachment_id = int(request.match_info["attachment_id"])
            filename, data, content_type = self._attachments[attachment_id]
        except (KeyError, ValueError):
            return web.Response(status=404, text="Not Found")
        if filename != request.match_info["filename"]:
            return web.Response(status=404, text="Not Found")
        # Discord's CDN answers range requests (206), as the bot's reads of audio rely on.
        try:
            span = request.http_range
        except ValueError:
            return web.Response(status=416, text="Range Not Satisfiable")
        start, stop, _ = span.indices(len(data))
        if (span.start is None and span.stop is None) or start >= stop:
            self.attachment_reads.append((attachment_id, 0, len(data)))
            return web.Response(body=data, headers={"Content-Type": content_type})
        self.attachment_reads.append((attachment_id, start, stop - start))
        headers = {
            "Content-Type": content_type,
            "Content-Range": f"bytes {start}-{stop - 1}/{len(data)}",
        }
        return web.Response(status=206, body=data[start:stop], headers=headers)

    # ------------------------------------------------------------------ REST: commands

    def _command_scope_key(self, request: web.Request) -> Any:
        if int(request.match_info["app_id"]) != self.application_id:
            raise ApiError(403, 50001, "Missing Access")
        raw = request.match_info.get("guild_id")
        if raw is None:
            return "global"
        guild_id = int(raw)
        if guild_id not in self.guilds:
            raise ApiError(403, 50001, "Missing Access")
        return guild_id

    def _store_command(
        self, scope: Any, command: dict[str, Any], existing: list[dict[str, Any]]
    ) -> dict[str, Any]:
        kind = command.get("type", 1)
        previous = next(
            (c for c in existing if c["name"] == command.get("name") and c.get("type", 1) == kind),
            None,
        )
        stored = dict(command)
        stored.update(
            {
                "id": previous["id"] if previous else str(self.snowflake()),
                "application_id": str(self.application_id),
                "version": str(self.snowflake()),
                "type": kind,
                "description": command.get("description", ""),
                "default_member_permissions": command.get("default_member_permissions"),
                "nsfw": command.get("nsfw", False),
            }
        )
        if scope != "global":
            stored["guild_id"] = str(scope)
        else:
            stored.pop("guild_id", None)
        return stored

    async def _h_list_commands(self, request: web.Request) -> web.Response:
        scope = self._command_scope_key(request)
        return json_response(self.registered_commands.get(scope, []))

    async def _h_put_commands(self, request: web.Request) -> web.Response:
        scope = self._command_scope_key(request)
        commands = request[_BODY].json
        if not isinstance(commands, list):
            raise form_error("_", "BASE_TYPE_ARRAY", "Must be an array.")
        if len(commands) > 100:
            raise form_error("_", "BASE_TYPE_MAX_LENGTH", "Must be 100 or fewer in length.")
        seen: set[tuple[str, int]] = set()
        for index, command in enumerate(commands):
            validate_command(command, str(index))
            key = (command["name"], command.get("type", 1))
            if key in seen:
                raise form_error(
                    str(index),
                    "APPLICATION_COMMANDS_DUPLICATE_NAME",
                    f"Application command names must be unique: {key[0]}",
                )
            seen.add(key)
        existing = self.registered_commands.get(scope, [])
        stored = [self._store_command(scope, c, existing) for c in commands]
        self.registered_commands[scope] = stored
        return json_response(stored)

    async def _h_post_command(self, request: web.Request) -> web.Response:
        scope = self._command_scope_key(request)
        command = request[_BODY].json or {}
        validate_command(command)
        existing = self.registered_commands.setdefault(scope, [])
        stored = self._store_command(scope, command, existing)
        replaced = [c for c in existing if c["id"] != stored["id"]]
        created = len(replaced) == len(existing)
        self.registered_commands[scope] = [*replaced, stored]
        return json_response(stored, status=201 if created else 200)

    def _find_stored_command(self, request: web.Request) -> tuple[Any, dict[str, Any]]:
        scope = self._command_scope_key(request)
        command_id = request.match_info["command_id"]
        for command in self.registered_commands.get(scope, []):
            if command["id"] == command_id:
                return scope, command
        raise ApiError(404, UNKNOWN_COMMAND, "Unknown application command")

    async def _h_get_command(self, request: web.Request) -> web.Response:
        _, command = self._find_stored_command(request)
        return json_response(command)

    async def _h_patch_command(self, request: web.Request) -> web.Response:
        _, command = self._find_stored_command(request)
        merged = {**command, **(request[_BODY].json or {})}
        validate_command(merged)
        command.update(merged)
        command["version"] = str(self.snowflake())
        return json_response(command)

    async def _h_delete_command(self, request: web.Request) -> web.Response:
        scope, command = self._find_stored_command(request)
        self.registered_commands[scope] = [
            c for c in self.registered_commands[scope] if c is not command
        ]
        return no_content()

    # ------------------------------------------------------------------ REST: interactions

    def _interaction_for_webhook(self, request: web.Request) -> FakeInteraction:
        if request.match_info["app_id"] != str(self.application_id):
            raise unknown("Webhook", UNKNOWN_WEBHOOK)
        interaction = self._interactions_by_token.get(request.match_info["token"])
        if interaction is None or interaction.expired:
            raise ApiError(401, 50027, "Invalid Webhook Token")
        return interaction

    @staticmethod
    def _message_payload_and_uploads(request: web.Request) -> tuple[dict[str, Any], list[_Upload]]:
        body: _Body = request[_BODY]
        payload = body.json if isinstance(body.json, dict) else {}
        return payload, body.files

    async def _h_callback(self, request: web.Request) -> web.Response:
        interaction = self.interactions.get(int(request.match_info["interaction_id"]))
        if (
            interaction is None
            or interaction.token != request.match_info["token"]
            or interaction.expired
        ):
            raise ApiError(404, UNKNOWN_INTERACTION, "Unknown interaction")
        elapsed = time.monotonic() - interaction.created_monotonic
        if (
            self.interaction_response_timeout is not None
            and elapsed > self.interaction_response_timeout
        ):
            raise ApiError(404, UNKNOWN_INTERACTION, "Unknown interaction")
        if interaction.response is not None:
            raise ApiError(400, 40060, "Interaction has already been acknowledged.")
        body, uploads = self._message_payload_and_uploads(request)
        try:
            response_type = int(body["type"])
        except (KeyError, TypeError, ValueError):
            raise form_error("type", "BASE_TYPE_REQUIRED", "This field is required") from None
        data = body.get("data") or {}
        self._check_uploads(uploads, interaction.guild_id)

        message: dict[str, Any] | None = None
        created = False
        if response_type == 4:
            if interaction.type == 4:
                raise form_error(
                    "type", "INTERACTION_RESPONSE_TYPE_INVALID", "Invalid response type"
                )
            validate_message(data, file_count=len(uploads), creating=True)
            flags = int(data.get("flags") or 0) & ~FLAG_LOADING
            message = self._new_message(
                channel_id=interaction.channel_id,
                author_id=self.bot_user_id,
                payload=data,
                uploads=uploads,
                msg_type=20 if interaction.type == 2 else 0,
                flags=flags,
                interaction=interaction,
                webhook=True,
            )
            interaction._original_id = message["id"]
            created = True
        elif response_type == 5:
            if interaction.type == 4:
                raise form_error(
                    "type", "INTERACTION_RESPONSE_TYPE_INVALID", "Invalid response type"
                )
            flags = FLAG_LOADING | (int(data.get("flags") or 0) & FLAG_EPHEMERAL)
            message = self._new_message(
                channel_id=interaction.channel_id,
                author_id=self.bot_user_id,
                payload={},
                uploads=[],
                msg_type=20 if interaction.type == 2 else 0,
                flags=flags,
                interaction=interaction,
                webhook=True,
            )
            interaction._original_id = message["id"]
            interaction._awaiting_fill = True
            created = True
        elif response_type in (6, 7):
            if interaction.message_id is None:
                raise form_error(
                    "type",
                    "INTERACTION_RESPONSE_TYPE_INVALID",
                    "This response type is only valid for component interactions",
                )
            message = self.messages[interaction.message_id]
            interaction._original_id = message["id"]
            if response_type == 7:
                validate_message(data, file_count=len(uploads), creating=False)
                self._apply_edit(message, data, uploads)
        elif response_type == 8:
            if interaction.type != 4:
                raise form_error(
                    "type", "INTERACTION_RESPONSE_TYPE_INVALID", "Invalid response type"
                )
            choices = data.get("choices") or []
            if len(choices) > 25:
                raise form_error(
                    "data.choices", "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length."
                )
            interaction.autocomplete_choices = choices
        elif response_type == 9:
            if interaction.type == 5:
                raise form_error(
                    "type",
                    "INTERACTION_RESPONSE_TYPE_INVALID",
                    "Cannot respond to a modal with a modal",
                )
            validate_modal(data)
            interaction.modal = data
        elif response_type != 1:
            raise form_error("type", "INTERACTION_RESPONSE_TYPE_INVALID", "Invalid response type")

        interaction.response = {"type": response_type, "data": data}
        interaction.responded_after = elapsed
        self._changed()
        if message is not None:
            if created:
                await self._announce_create(message)
            elif response_type == 7:
                await self._announce_update(message)

        if request.query.get("with_response", "").lower() not in ("1", "true"):
            return no_content()
        callback: dict[str, Any] = {
            "id": str(interaction.id),
            "type": interaction.type,
            "response_message_loading": response_type == 5,
            "response_message_ephemeral": bool(message and message["ephemeral"]),
        }
        resource: dict[str, Any] = {"type": response_type}
        if message is not None and response_type in (4, 5, 7):
            callback["response_message_id"] = str(message["id"])
            resource["message"] = self._wire_message(message)
        return json_response({"interaction": callback, "resource": resource})

    async def _h_followup(self, request: web.Request) -> web.StreamResponse:
        interaction = self._interaction_for_webhook(request)
        if interaction.response is None or interaction.response_type in (1, 8, 9):
            raise unknown("Webhook", UNKNOWN_WEBHOOK)
        payload, uploads = self._message_payload_and_uploads(request)
        self._check_uploads(uploads, interaction.guild_id)
        validate_message(payload, file_count=len(uploads), creating=True)
        original = interaction.original
        if interaction._awaiting_fill and original is not None and not original["deleted"]:
            # The first followup after a "thinking" defer fills the deferred message.
            self._apply_edit(original, payload, uploads)
            interaction._awaiting_fill = False
            record = original
            await self._announce_update(record)
        else:
            flags = int(payload.get("flags") or 0) & ~FLAG_LOADING
            record = self._new_message(
                channel_id=interaction.channel_id,
                author_id=self.bot_user_id,
                payload=payload,
                uploads=uploads,
                msg_type=0,
                flags=flags,
                interaction=interaction,
                webhook=True,
                original_response_id=interaction._original_id,
            )
            interaction.followups.append(record)
            self._changed()
            await self._announce_create(record)
        if request.query.get("wait", "").lower() in ("1", "true"):
            return json_response(self._wire_message(record))
        return no_content()

    def _webhook_target(self, request: web.Request) -> tuple[FakeInteraction, dict[str, Any]]:
        interaction = self._interaction_for_webhook(request)
        raw = request.match_info["message_id"]
        if raw == "@original":
            record = interaction.original
        else:
            record = self.messages.get(int(raw)) if raw.isdigit() else None
            if (
                record is not None
                and record["id"] != interaction._original_id
                and record not in interaction.followups
            ):
                record = None
        if record is None or record["deleted"]:
            raise unknown("Message", UNKNOWN_MESSAGE)
        return interaction, record

    async def _h_webhook_get(self, request: web.Request) -> web.Response:
        _, record = self._webhook_target(request)
        return json_response(self._wire_message(record))

    async def _h_webhook_edit(self, request: web.Request) -> web.Response:
        interaction, record = self._webhook_target(request)
        payload, uploads = self._message_payload_and_uploads(request)
        self._check_uploads(uploads, interaction.guild_id)
        validate_message(payload, file_count=len(uploads), creating=False)
        self._apply_edit(record, payload, uploads)
        if record["id"] == interaction._original_id:
            interaction._awaiting_fill = False
        await self._announce_update(record)
        return json_response(self._wire_message(record))

    async def _h_webhook_delete(self, request: web.Request) -> web.Response:
        _, record = self._webhook_target(request)
        await self._delete_message(record)
        return no_content()

    # ------------------------------------------------------------------ REST: channels

    async def _h_get_channel(self, request: web.Request) -> web.Response:
        return json_response(self._channel(int(request.match_info["channel_id"])))

    async def _h_history(self, request: web.Request) -> web.Response:
        channel_id = int(request.match_info["channel_id"])
        self._channel(channel_id)
        limit = max(1, min(100, int(request.query.get("limit", 50))))
        messages = self.channel_messages(channel_id)
        if "before" in request.query:
            messages = [m for m in messages if m["id"] < int(request.query["before"])]
        if "after" in request.query:
            after = [m for m in messages if m["id"] > int(request.query["after"])]
            return json_response([self._wire_message(m) for m in reversed(after[:limit])])
        newest_first = list(reversed(messages))[:limit]
        return json_response([self._wire_message(m) for m in newest_first])

    async def _h_create_message(self, request: web.Request) -> web.Response:
        channel_id = int(request.match_info["channel_id"])
        channel = self._channel(channel_id)
        payload, uploads = self._message_payload_and_uploads(request)
        guild_id = int(channel["guild_id"]) if channel.get("guild_id") else None
        self._check_uploads(uploads, guild_id)
        validate_message(payload, file_count=len(uploads), creating=True)
        nonce = payload.get("nonce")
        nonce_key = (channel_id, self.bot_user_id, str(nonce)) if nonce is not None else None
        now = time.monotonic()
        if nonce_key is not None and payload.get("enforce_nonce"):
            seen = self._nonces.get(nonce_key)
            if seen is not None and now - seen[1] <= self.nonce_window_seconds:
                existing = self.messages.get(seen[0])
                if existing is not None:
                    return json_response(self._wire_message(existing))
        flags = int(payload.get("flags") or 0) & ~(FLAG_EPHEMERAL | FLAG_LOADING)
        reference = payload.get("message_reference")
        record = self._new_message(
            channel_id=channel_id,
            author_id=self.bot_user_id,
            payload=payload,
            uploads=uploads,
            msg_type=19 if reference else 0,
            flags=flags,
        )
        if nonce_key is not None:
            self._nonces[nonce_key] = (record["id"], now)
        await self._announce_create(record)
        return json_response(self._wire_message(record))

    async def _h_get_message(self, request: web.Request) -> web.Response:
        record = self._visible_message(
            int(request.match_info["channel_id"]),
            self._int_or_404(request.match_info["message_id"]),
        )
        return json_response(self._wire_message(record))

    async def _h_edit_message(self, request: web.Request) -> web.Response:
        channel_id = int(request.match_info["channel_id"])
        channel = self._channel(channel_id)
        record = self._visible_message(
            channel_id, self._int_or_404(request.match_info["message_id"])
        )
        payload, uploads = self._message_payload_and_uploads(request)
        if record["author_id"] != self.bot_user_id and set(payload) - {"flags"}:
            raise ApiError(403, 50005, "Cannot edit a message authored by another user")
        guild_id = int(channel["guild_id"]) if channel.get("guild_id") else None
        self._check_uploads(uploads, guild_id)
        validate_message(payload, file_count=len(uploads), creating=False)
        self._apply_edit(record, payload, uploads)
        await self._announce_update(record)
        return json_response(self._wire_message(record))

    async def _h_delete_channel_message(self, request: web.Request) -> web.Response:
        record = self._visible_message(
            int(request.match_info["channel_id"]),
            self._int_or_404(request.match_info["message_id"]),
        )
        await self._delete_message(record)
        return no_content()

    async def _h_typing(self, request: web.Request) -> web.Response:
        self._channel(int(request.match_info["channel_id"]))
        return no_content()

    async def _h_add_reaction(self, request: web.Request) -> web.Response:
        record = self._visible_message(
            int(request.match_info["channel_id"]),
            self._int_or_404(request.match_info["message_id"]),
        )
        emoji = request.match_info["emoji"]
        if emoji not in record["reactions"]:
            record["reactions"].append(emoji)
            self._changed()
        return no_content()

    async def _h_remove_reaction(self, request: web.Request) -> web.Response:
        record = self._visible_message(
            int(request.match_info["channel_id"]),
            self._int_or_404(request.match_info["message_id"]),
        )
        emoji = request.match_info["emoji"]
        if emoji in record["reactions"]:
            record["reactions"].remove(emoji)
            self._changed()
        return no_content()

    @staticmethod
    def _int_or_404(raw: str) -> int:
        if not raw.isdigit():
            raise unknown("Message", UNKNOWN_MESSAGE)
        return int(raw)

    # ------------------------------------------------------------------ REST: guilds

    def _rest_guild(self, request: web.Request) -> FakeGuild:
        raw = request.match_info["guild_id"]
        guild = self.guilds.get(int(raw)) if raw.isdigit() else None
        if guild is None:
            raise unknown("Guild", UNKNOWN_GUILD)
        return guild

    async def _h_leave_guild(self, request: web.Request) -> web.Response:
        """The bot leaves a guild: it is gone, and GUILD_DELETE tells the client so."""
        guild = self._rest_guild(request)
        del self.guilds[guild.id]
        self.left_guilds.append(guild.id)
        self._spawn_event(self._dispatch("GUILD_DELETE", {"id": str(guild.id)}, guild_id=guild.id))
        self._changed()
        return web.Response(status=204)

    async def _h_get_guild(self, request: web.Request) -> web.Response:
        guild = self._rest_guild(request)
        payload = self._guild_base_payload(guild)
        if request.query.get("with_counts", "").lower() in ("1", "true"):
            payload["approximate_member_count"] = len(guild.members)
            payload["approximate_presence_count"] = 0
        return json_response(payload)

    async def _h_guild_channels(self, request: web.Request) -> web.Response:
        guild = self._rest_guild(request)
        return json_response([self.channels[cid] for cid in guild.channel_ids])

    async def _h_guild_roles(self, request: web.Request) -> web.Response:
        guild = self._rest_guild(request)
        return json_response(list(guild.roles.values()))

    async def _h_list_members(self, request: web.Request) -> web.Response:
        guild = self._rest_guild(request)
        limit = max(1, min(1000, int(request.query.get("limit", 1))))
        after = int(request.query.get("after", 0))
        ids = sorted(uid for uid in guild.members if uid > after)[:limit]
        return json_response([self._member_payload(guild, uid) for uid in ids])

    async def _h_get_member(self, request: web.Request) -> web.Response:
        guild = self._rest_guild(request)
        raw = request.match_info["user_id"]
        user_id = self.bot_user_id if raw == "@me" else int(raw) if raw.isdigit() else 0
        if user_id not in guild.members:
            raise unknown("Member", UNKNOWN_MEMBER)
        return json_response(self._member_payload(guild, user_id))


class _Restore:
    """Callable that undoes ``patch_discord``; also usable as a context manager."""

    def __init__(self, restore: Callable[[], None]) -> None:
        self._restore = restore
        self._done = False

    def __call__(self) -> None:
        if not self._done:
            self._done = True
            self._restore()

    def __enter__(self) -> _Restore:
        return self

    def __exit__(self, *exc: object) -> None:
        self()
