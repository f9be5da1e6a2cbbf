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
from collections.abc import Callable
from typing import Any

from aiohttp import web

from ._util import (
    SnowflakeFactory,
)
from .cdn import CdnMixin
from .gateway import GatewayMixin
from .interactions import InteractionsMixin
from .messages import MessagesMixin
from .options import OptionsMixin
from .payloads import PayloadsMixin
from .records import FakeInteraction
from .rest import RestMixin
from .rest_channels import RestChannelsMixin
from .rest_commands import RestCommandsMixin
from .rest_interactions import RestInteractionsMixin
from .state import (
    API_PREFIX,
    DEFAULT_APPLICATION_ID,
    DEFAULT_OWNER_ID,
    NONCE_WINDOW_SECONDS,
    FakeGuild,
    GatewaySession,
    RequestRecord,
    _Injection,
    log,
)
from .world import WorldMixin

__all__ = [
    "DEFAULT_APPLICATION_ID",
    "DEFAULT_OWNER_ID",
    "FakeDiscord",
    "FakeGuild",
    "GatewaySession",
    "RequestRecord",
]


class FakeDiscord(
    WorldMixin,
    PayloadsMixin,
    MessagesMixin,
    GatewayMixin,
    InteractionsMixin,
    OptionsMixin,
    RestMixin,
    RestCommandsMixin,
    RestInteractionsMixin,
    RestChannelsMixin,
    CdnMixin,
):
    """Fake Discord REST API + gateway. One instance per test; all state is inspectable.

    Each concern lives in its own module (see the mixins above and README.md)."""

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
