"""REST: channels, messages, typing and reactions.

Part of ``FakeDiscord`` (server.py): a mixin over the state set up in its ``__init__``."""

# The public API takes explicit ``timeout=`` arguments (bounded waits by design).

from __future__ import annotations

import time

from aiohttp import web

from ._util import (
    FLAG_EPHEMERAL,
    FLAG_LOADING,
    UNKNOWN_MESSAGE,
    ApiError,
    json_response,
    no_content,
    unknown,
)
from ._validation import (
    validate_message,
)


class RestChannelsMixin:
    """REST: channels, messages, typing and reactions."""

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
