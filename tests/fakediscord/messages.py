"""Messages: creation, edits, uploads, nonces, mentions and their gateway events.

Part of ``FakeDiscord`` (server.py): a mixin over the state set up in its ``__init__``."""

# The public API takes explicit ``timeout=`` arguments (bounded waits by design).

from __future__ import annotations

from typing import Any

from ._util import (
    DEFAULT_ATTACHMENT_SIZE_LIMIT,
    FLAG_EPHEMERAL,
    FLAG_LOADING,
    INTENT_DIRECT_MESSAGES,
    INTENT_GUILD_MESSAGES,
    INTENT_MESSAGE_CONTENT,
    ApiError,
    guess_content_type,
    iso_now,
)
from .records import FakeInteraction
from .state import (
    _ROLE_MENTION,
    _USER_MENTION,
    GatewaySession,
    _Upload,
)


class MessagesMixin:
    """Messages: creation, edits, uploads, nonces, mentions and their gateway events."""

    def _guild_limit(self, guild_id: int | None) -> int:
        if guild_id is None or guild_id not in self.guilds:
            return DEFAULT_ATTACHMENT_SIZE_LIMIT
        return self.guilds[guild_id].attachment_size_limit

    def _check_uploads(self, uploads: list[_Upload], guild_id: int | None) -> None:
        limit = self._guild_limit(guild_id)
        for upload in uploads:
            if len(upload.data) > limit:
                raise ApiError(413, 40005, "Request entity too large")

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
