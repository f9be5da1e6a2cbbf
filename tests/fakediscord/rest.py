"""HTTP plumbing (middleware, bodies, injected failures) and the small REST routes.

Part of ``FakeDiscord`` (server.py): a mixin over the state set up in its ``__init__``."""

# The public API takes explicit ``timeout=`` arguments (bounded waits by design).

from __future__ import annotations

import json
import math
import secrets
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web

from ._util import (
    UNKNOWN_GUILD,
    UNKNOWN_MEMBER,
    UNKNOWN_USER,
    ApiError,
    json_response,
    unknown,
)
from .state import (
    _BODY,
    _STATUS_DEFAULTS,
    API_PREFIX,
    FakeGuild,
    RequestRecord,
    _Body,
    _Injection,
    _Upload,
    log,
)


class RestMixin:
    """HTTP plumbing (middleware, bodies, injected failures) and the small REST routes."""

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
