"""The subset of Discord's request validation that catches real bot bugs.

Everything raises :class:`ApiError` 400 with the code Discord uses, so discord.py raises
``discord.HTTPException`` with the same ``code`` it would in production.
"""

from __future__ import annotations

import re
from typing import Any

from ._util import FLAG_COMPONENTS_V2, ApiError, form_error

_NAME_RE = re.compile(r"^[-_\w]{1,32}$")


def _len(value: Any) -> int:
    return len(value) if isinstance(value, str) else 0


def validate_embeds(embeds: Any, path: str = "embeds") -> None:
    if not isinstance(embeds, list):
        raise form_error(path, "MODEL_TYPE_CONVERT", "Only iterables may be used in a ListType")
    if len(embeds) > 10:
        raise form_error(path, "BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length.")
    total = 0
    for index, embed in enumerate(embeds):
        where = f"{path}.{index}"
        limits = (("title", 256), ("description", 4096))
        for key, limit in limits:
            if _len(embed.get(key)) > limit:
                raise form_error(
                    f"{where}.{key}", "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length."
                )
            total += _len(embed.get(key))
        fields = embed.get("fields") or []
        if len(fields) > 25:
            raise form_error(
                f"{where}.fields", "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length."
            )
        for findex, field in enumerate(fields):
            for key, limit in (("name", 256), ("value", 1024)):
                value = field.get(key)
                if not isinstance(value, str) or not value:
                    raise form_error(
                        f"{where}.fields.{findex}.{key}",
                        "BASE_TYPE_REQUIRED",
                        "This field is required",
                    )
                if len(value) > limit:
                    raise form_error(
                        f"{where}.fields.{findex}.{key}",
                        "BASE_TYPE_MAX_LENGTH",
                        f"Must be {limit} or fewer in length.",
                    )
                total += len(value)
        footer = embed.get("footer") or {}
        if _len(footer.get("text")) > 2048:
            raise form_error(
                f"{where}.footer.text", "BASE_TYPE_MAX_LENGTH", "Must be 2048 or fewer in length."
            )
        total += _len(footer.get("text"))
        author = embed.get("author") or {}
        if _len(author.get("name")) > 256:
            raise form_error(
                f"{where}.author.name", "BASE_TYPE_MAX_LENGTH", "Must be 256 or fewer in length."
            )
        total += _len(author.get("name"))
    if total > 6000:
        raise form_error(path, "MAX_EMBED_SIZE_EXCEEDED", "Embed size exceeds maximum size of 6000")


def validate_components(components: Any, flags: int, path: str = "components") -> None:
    if not isinstance(components, list):
        raise form_error(path, "MODEL_TYPE_CONVERT", "Only iterables may be used in a ListType")
    if not flags & FLAG_COMPONENTS_V2:
        if len(components) > 5:
            raise form_error(path, "BASE_TYPE_MAX_LENGTH", "Must be 5 or fewer in length.")
        for index, row in enumerate(components):
            if row.get("type") != 1:
                raise form_error(
                    f"{path}.{index}.type",
                    "UNION_TYPE_CHOICES",
                    'Value of field "type" must be one of (1,).',
                )
            children = row.get("components") or []
            if not 1 <= len(children) <= 5:
                raise form_error(
                    f"{path}.{index}.components",
                    "BASE_TYPE_BAD_LENGTH",
                    "Must be between 1 and 5 in length.",
                )
    seen: set[str] = set()
    for component in _walk(components):
        custom_id = component.get("custom_id")
        if custom_id is None:
            continue
        if len(custom_id) > 100:
            raise form_error(
                f"{path}.custom_id", "BASE_TYPE_MAX_LENGTH", "Must be 100 or fewer in length."
            )
        if custom_id in seen:
            raise form_error(
                f"{path}.custom_id",
                "COMPONENT_CUSTOM_ID_DUPLICATED",
                "Component custom id cannot be duplicated",
            )
        seen.add(custom_id)
        label = component.get("label")
        if component.get("type") == 2 and label is not None and len(label) > 80:
            raise form_error(
                f"{path}.label", "BASE_TYPE_MAX_LENGTH", "Must be 80 or fewer in length."
            )


def _walk(components: Any):
    for component in components or []:
        if not isinstance(component, dict):
            continue
        yield component
        yield from _walk(component.get("components"))
        for key in ("component", "accessory"):
            child = component.get(key)
            if isinstance(child, dict):
                yield from _walk([child])


def walk_components(components: Any):
    """Every component dict in a (possibly nested, components-v2) component tree."""
    yield from _walk(components)


def validate_message(payload: dict[str, Any], *, file_count: int, creating: bool) -> None:
    content = payload.get("content")
    if content is not None and not isinstance(content, str):
        raise form_error("content", "BASE_TYPE_STRING", "Must be a string.")
    if content and len(content) > 2000:
        raise form_error("content", "BASE_TYPE_MAX_LENGTH", "Must be 2000 or fewer in length.")
    flags = int(payload.get("flags") or 0)
    if flags & FLAG_COMPONENTS_V2 and content:
        raise form_error(
            "content",
            "MESSAGE_CANNOT_USE_LEGACY_FIELDS_WITH_COMPONENTS_V2",
            "The 'content' field cannot be used when using MessageFlags.IS_COMPONENTS_V2",
        )
    if payload.get("embeds") is not None:
        validate_embeds(payload["embeds"])
    if payload.get("components") is not None:
        validate_components(payload["components"], flags)
    if creating and not (
        content
        or payload.get("embeds")
        or payload.get("components")
        or payload.get("sticker_ids")
        or payload.get("poll")
        or file_count
    ):
        raise ApiError(400, 50006, "Cannot send an empty message")


def validate_modal(data: dict[str, Any]) -> None:
    title = data.get("title")
    if not isinstance(title, str) or not title:
        raise form_error("data.title", "BASE_TYPE_REQUIRED", "This field is required")
    if len(title) > 45:
        raise form_error("data.title", "BASE_TYPE_MAX_LENGTH", "Must be 45 or fewer in length.")
    custom_id = data.get("custom_id")
    if not isinstance(custom_id, str) or not custom_id:
        raise form_error("data.custom_id", "BASE_TYPE_REQUIRED", "This field is required")
    if len(custom_id) > 100:
        raise form_error(
            "data.custom_id", "BASE_TYPE_MAX_LENGTH", "Must be 100 or fewer in length."
        )
    components = data.get("components") or []
    if not 1 <= len(components) <= 5:
        raise form_error(
            "data.components", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 5 in length."
        )
    for component in _walk(components):
        if component.get("type") == 4:
            label = component.get("label")
            if label is not None and len(label) > 45:
                raise form_error(
                    "data.components.label",
                    "BASE_TYPE_MAX_LENGTH",
                    "Must be 45 or fewer in length.",
                )
        if component.get("type") == 18 and len(component.get("label") or "") > 45:
            raise form_error(
                "data.components.label", "BASE_TYPE_MAX_LENGTH", "Must be 45 or fewer in length."
            )


def _check_name(name: Any, path: str) -> None:
    if not isinstance(name, str) or not _NAME_RE.match(name) or name != name.lower():
        raise form_error(
            path, "APPLICATION_COMMAND_INVALID_NAME", f"Command name is invalid: {name!r}"
        )


def _check_description(description: Any, path: str) -> None:
    if not isinstance(description, str) or not 1 <= len(description) <= 100:
        raise form_error(path, "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")


def _check_options(options: list[dict[str, Any]], path: str, depth: int) -> None:
    if len(options) > 25:
        raise form_error(path, "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
    names: set[str] = set()
    seen_optional = False
    for index, option in enumerate(options):
        where = f"{path}.{index}"
        _check_name(option.get("name"), f"{where}.name")
        _check_description(option.get("description"), f"{where}.description")
        if option["name"] in names:
            raise form_error(
                f"{where}.name",
                "APPLICATION_COMMAND_OPTIONS_NAME_ALREADY_EXISTS",
                "Option names must be unique",
            )
        names.add(option["name"])
        kind = option.get("type")
        if kind in (1, 2):
            if depth >= 2 or (kind == 2 and depth >= 1):
                raise form_error(
                    f"{where}.type",
                    "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID",
                    "Sub-command nesting too deep",
                )
            _check_options(option.get("options") or [], f"{where}.options", depth + 1)
            continue
        if option.get("required"):
            if seen_optional:
                raise form_error(
                    f"{where}.required",
                    "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                    "Required options must be placed before non-required options",
                )
        else:
            seen_optional = True
        if len(option.get("choices") or []) > 25:
            raise form_error(
                f"{where}.choices", "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length."
            )


def validate_command(command: dict[str, Any], path: str = "") -> None:
    prefix = f"{path}." if path else ""
    kind = command.get("type", 1)
    if kind == 1:
        _check_name(command.get("name"), f"{prefix}name")
        _check_description(command.get("description"), f"{prefix}description")
        _check_options(command.get("options") or [], f"{prefix}options", 0)
    else:
        name = command.get("name")
        if not isinstance(name, str) or not 1 <= len(name) <= 32:
            raise form_error(
                f"{prefix}name", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 32 in length."
            )
        if command.get("description"):
            raise form_error(
                f"{prefix}description",
                "APPLICATION_COMMAND_CONTEXT_MENU_DESCRIPTION",
                "Context menu commands cannot have description",
            )
