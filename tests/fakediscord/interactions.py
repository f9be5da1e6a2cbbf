"""A member's side of interactions: slash commands, autocomplete, buttons, selects, forms.

Part of ``FakeDiscord`` (server.py): a mixin over the state set up in its ``__init__``."""

# The public API takes explicit ``timeout=`` arguments (bounded waits by design).
# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
import secrets
import time
from typing import Any

from ._util import (
    ALL_PERMISSIONS,
)
from ._validation import (
    walk_components,
)
from .records import FakeInteraction
from .state import (
    _Upload,
)


class InteractionsMixin:
    """A member's side of interactions: slash commands, autocomplete, buttons, selects, forms."""

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
