"""The request builders' own checks, kept as a safety net behind validation.

Validation runs first and names the option and the limit. Should a builder still find a
problem (a rule checked nowhere in `bot.validation`), its `ValueError` becomes an `InputError`
here, so the member reads a refusal instead of "Something went wrong" and nothing is charged.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Protocol, TypeVar

from bot.errors import InputError

log = logging.getLogger(__name__)


class Buildable(Protocol):
    def to_body(self) -> dict[str, Any]: ...


R = TypeVar("R", bound=Buildable)


def checked(request: R, options: Mapping[str, str] | None = None) -> R:
    """`request` once its body builds; `options` maps body fields to the option names a
    member knows (`continue_at` → `at`)."""
    try:
        request.to_body()
    except ValueError as error:
        # Validation should have caught it first: worth a warning, so the gap gets closed.
        log.warning("request builder refused what validation passed: %s", error)
        text = str(error)
        field = text.split(" ", 1)[0]
        problem = text[len(field) :].strip() or "is not valid."
        raise InputError((options or {}).get(field, field), problem[:200]) from error
    return request
