"""The gateway: HELLO, IDENTIFY/READY, RESUME, member chunks, dispatch, shards.

Part of ``FakeDiscord`` (server.py): a mixin over the state set up in its ``__init__``."""

# The public API takes explicit ``timeout=`` arguments (bounded waits by design).
# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import Iterable
from typing import Any

from aiohttp import WSMsgType, web

from ._util import (
    json_response,
)
from .state import (
    GatewaySession,
    log,
)


class GatewayMixin:
    """The gateway: HELLO, IDENTIFY/READY, RESUME, member chunks, dispatch, shards."""

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
