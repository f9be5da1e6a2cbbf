"""Interaction data from registered commands: options checked like Discord, modal answers.

Part of ``FakeDiscord`` (server.py): a mixin over the state set up in its ``__init__``."""

# The public API takes explicit ``timeout=`` arguments (bounded waits by design).

from __future__ import annotations

from typing import Any

from ._util import (
    ALL_PERMISSIONS,
)
from .records import FakeChannel, FakeRole, FakeUser
from .state import (
    UNREGISTERED_COMMAND_ID,
    log,
)


class OptionsMixin:
    """Interaction data from registered commands: options checked like Discord, modal answers."""

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
