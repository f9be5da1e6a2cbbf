"""REST: application commands, global and per guild.

Part of ``FakeDiscord`` (server.py): a mixin over the state set up in its ``__init__``."""

# The public API takes explicit ``timeout=`` arguments (bounded waits by design).

from __future__ import annotations

from typing import Any

from aiohttp import web

from ._util import (
    UNKNOWN_COMMAND,
    ApiError,
    form_error,
    json_response,
    no_content,
)
from ._validation import (
    validate_command,
)
from .state import (
    _BODY,
)


class RestCommandsMixin:
    """REST: application commands, global and per guild."""

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
