"""World setup and lookups: guilds, channels, members, roles, users, DMs.

Part of ``FakeDiscord`` (server.py): a mixin over the state set up in its ``__init__``."""

# The public API takes explicit ``timeout=`` arguments (bounded waits by design).

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ._util import (
    ADMINISTRATOR,
    ALL_PERMISSIONS,
    DEFAULT_ATTACHMENT_SIZE_LIMIT,
    DEFAULT_EVERYONE_PERMISSIONS,
    INTENT_GUILD_MEMBERS,
    INTENT_GUILDS,
    UNKNOWN_CHANNEL,
    UNKNOWN_MESSAGE,
    unknown,
)
from .state import (
    FakeGuild,
    _Member,
)


class WorldMixin:
    """World setup and lookups: guilds, channels, members, roles, users, DMs."""

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
