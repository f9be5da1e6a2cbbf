"""REST: interaction callbacks, follow-ups and webhook messages.

Part of ``FakeDiscord`` (server.py): a mixin over the state set up in its ``__init__``."""

# The public API takes explicit ``timeout=`` arguments (bounded waits by design).

from __future__ import annotations

import time
from typing import Any

from aiohttp import web

from ._util import (
    FLAG_EPHEMERAL,
    FLAG_LOADING,
    UNKNOWN_INTERACTION,
    UNKNOWN_MESSAGE,
    UNKNOWN_WEBHOOK,
    ApiError,
    form_error,
    json_response,
    no_content,
    unknown,
)
from ._validation import (
    validate_message,
    validate_modal,
)
from .records import FakeInteraction
from .state import (
    _BODY,
    _Body,
    _Upload,
)


class RestInteractionsMixin:
    """REST: interaction callbacks, follow-ups and webhook messages."""

    def _interaction_for_webhook(self, request: web.Request) -> FakeInteraction:
        if request.match_info["app_id"] != str(self.application_id):
            raise unknown("Webhook", UNKNOWN_WEBHOOK)
        interaction = self._interactions_by_token.get(request.match_info["token"])
        if interaction is None or interaction.expired:
            raise ApiError(401, 50027, "Invalid Webhook Token")
        return interaction

    @staticmethod
    def _message_payload_and_uploads(request: web.Request) -> tuple[dict[str, Any], list[_Upload]]:
        body: _Body = request[_BODY]
        payload = body.json if isinstance(body.json, dict) else {}
        return payload, body.files

    async def _h_callback(self, request: web.Request) -> web.Response:
        interaction = self.interactions.get(int(request.match_info["interaction_id"]))
        if (
            interaction is None
            or interaction.token != request.match_info["token"]
            or interaction.expired
        ):
            raise ApiError(404, UNKNOWN_INTERACTION, "Unknown interaction")
        elapsed = time.monotonic() - interaction.created_monotonic
        if (
            self.interaction_response_timeout is not None
            and elapsed > self.interaction_response_timeout
        ):
            raise ApiError(404, UNKNOWN_INTERACTION, "Unknown interaction")
        if interaction.response is not None:
            raise ApiError(400, 40060, "Interaction has already been acknowledged.")
        body, uploads = self._message_payload_and_uploads(request)
        try:
            response_type = int(body["type"])
        except (KeyError, TypeError, ValueError):
            raise form_error("type", "BASE_TYPE_REQUIRED", "This field is required") from None
        data = body.get("data") or {}
        self._check_uploads(uploads, interaction.guild_id)

        message: dict[str, Any] | None = None
        created = False
        if response_type == 4:
            if interaction.type == 4:
                raise form_error(
                    "type", "INTERACTION_RESPONSE_TYPE_INVALID", "Invalid response type"
                )
            validate_message(data, file_count=len(uploads), creating=True)
            flags = int(data.get("flags") or 0) & ~FLAG_LOADING
            message = self._new_message(
                channel_id=interaction.channel_id,
                author_id=self.bot_user_id,
                payload=data,
                uploads=uploads,
                msg_type=20 if interaction.type == 2 else 0,
                flags=flags,
                interaction=interaction,
                webhook=True,
            )
            interaction._original_id = message["id"]
            created = True
        elif response_type == 5:
            if interaction.type == 4:
                raise form_error(
                    "type", "INTERACTION_RESPONSE_TYPE_INVALID", "Invalid response type"
                )
            flags = FLAG_LOADING | (int(data.get("flags") or 0) & FLAG_EPHEMERAL)
            message = self._new_message(
                channel_id=interaction.channel_id,
                author_id=self.bot_user_id,
                payload={},
                uploads=[],
                msg_type=20 if interaction.type == 2 else 0,
                flags=flags,
                interaction=interaction,
                webhook=True,
            )
            interaction._original_id = message["id"]
            interaction._awaiting_fill = True
            created = True
        elif response_type in (6, 7):
            if interaction.message_id is None:
                raise form_error(
                    "type",
                    "INTERACTION_RESPONSE_TYPE_INVALID",
                    "This response type is only valid for component interactions",
                )
            message = self.messages[interaction.message_id]
            interaction._original_id = message["id"]
            if response_type == 7:
                validate_message(data, file_count=len(uploads), creating=False)
                self._apply_edit(message, data, uploads)
        elif response_type == 8:
            if interaction.type != 4:
                raise form_error(
                    "type", "INTERACTION_RESPONSE_TYPE_INVALID", "Invalid response type"
                )
            choices = data.get("choices") or []
            if len(choices) > 25:
                raise form_error(
                    "data.choices", "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length."
                )
            interaction.autocomplete_choices = choices
        elif response_type == 9:
            if interaction.type == 5:
                raise form_error(
                    "type",
                    "INTERACTION_RESPONSE_TYPE_INVALID",
                    "Cannot respond to a modal with a modal",
                )
            validate_modal(data)
            interaction.modal = data
        elif response_type != 1:
            raise form_error("type", "INTERACTION_RESPONSE_TYPE_INVALID", "Invalid response type")

        interaction.response = {"type": response_type, "data": data}
        interaction.responded_after = elapsed
        self._changed()
        if message is not None:
            if created:
                await self._announce_create(message)
            elif response_type == 7:
                await self._announce_update(message)

        if request.query.get("with_response", "").lower() not in ("1", "true"):
            return no_content()
        callback: dict[str, Any] = {
            "id": str(interaction.id),
            "type": interaction.type,
            "response_message_loading": response_type == 5,
            "response_message_ephemeral": bool(message and message["ephemeral"]),
        }
        resource: dict[str, Any] = {"type": response_type}
        if message is not None and response_type in (4, 5, 7):
            callback["response_message_id"] = str(message["id"])
            resource["message"] = self._wire_message(message)
        return json_response({"interaction": callback, "resource": resource})

    async def _h_followup(self, request: web.Request) -> web.StreamResponse:
        interaction = self._interaction_for_webhook(request)
        if interaction.response is None or interaction.response_type in (1, 8, 9):
            raise unknown("Webhook", UNKNOWN_WEBHOOK)
        payload, uploads = self._message_payload_and_uploads(request)
        self._check_uploads(uploads, interaction.guild_id)
        validate_message(payload, file_count=len(uploads), creating=True)
        original = interaction.original
        if interaction._awaiting_fill and original is not None and not original["deleted"]:
            # The first followup after a "thinking" defer fills the deferred message.
            self._apply_edit(original, payload, uploads)
            interaction._awaiting_fill = False
            record = original
            await self._announce_update(record)
        else:
            flags = int(payload.get("flags") or 0) & ~FLAG_LOADING
            record = self._new_message(
                channel_id=interaction.channel_id,
                author_id=self.bot_user_id,
                payload=payload,
                uploads=uploads,
                msg_type=0,
                flags=flags,
                interaction=interaction,
                webhook=True,
                original_response_id=interaction._original_id,
            )
            interaction.followups.append(record)
            self._changed()
            await self._announce_create(record)
        if request.query.get("wait", "").lower() in ("1", "true"):
            return json_response(self._wire_message(record))
        return no_content()

    def _webhook_target(self, request: web.Request) -> tuple[FakeInteraction, dict[str, Any]]:
        interaction = self._interaction_for_webhook(request)
        raw = request.match_info["message_id"]
        if raw == "@original":
            record = interaction.original
        else:
            record = self.messages.get(int(raw)) if raw.isdigit() else None
            if (
                record is not None
                and record["id"] != interaction._original_id
                and record not in interaction.followups
            ):
                record = None
        if record is None or record["deleted"]:
            raise unknown("Message", UNKNOWN_MESSAGE)
        return interaction, record

    async def _h_webhook_get(self, request: web.Request) -> web.Response:
        _, record = self._webhook_target(request)
        return json_response(self._wire_message(record))

    async def _h_webhook_edit(self, request: web.Request) -> web.Response:
        interaction, record = self._webhook_target(request)
        payload, uploads = self._message_payload_and_uploads(request)
        self._check_uploads(uploads, interaction.guild_id)
        validate_message(payload, file_count=len(uploads), creating=False)
        self._apply_edit(record, payload, uploads)
        if record["id"] == interaction._original_id:
            interaction._awaiting_fill = False
        await self._announce_update(record)
        return json_response(self._wire_message(record))

    async def _h_webhook_delete(self, request: web.Request) -> web.Response:
        _, record = self._webhook_target(request)
        await self._delete_message(record)
        return no_content()
