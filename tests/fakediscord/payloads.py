"""Discord-shaped payloads of the world: users, roles, members, guilds, messages.

Part of ``FakeDiscord`` (server.py): a mixin over the state set up in its ``__init__``."""

# The public API takes explicit ``timeout=`` arguments (bounded waits by design).

from __future__ import annotations

from typing import Any

from ._util import (
    INTENT_GUILD_MEMBERS,
)
from .state import (
    FakeGuild,
    GatewaySession,
)


class PayloadsMixin:
    """Discord-shaped payloads of the world: users, roles, members, guilds, messages."""

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
