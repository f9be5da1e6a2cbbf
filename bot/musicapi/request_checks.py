"""Checks shared by the request builders: each raises ``ValueError`` naming the field.

A local ``ValueError`` turns a guaranteed 400 into an error before any network call (and before
the bot reserves credits), so the messages are written for a developer, not a member.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import fields
from typing import Any

__all__ = [
    "body_of",
    "check_bool",
    "check_choice",
    "check_max_len",
    "check_number",
    "check_window",
    "is_missing",
    "require",
]


def is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def require(obj: Any, names: Iterable[str], context: str) -> None:
    for name in names:
        if is_missing(getattr(obj, name)):
            raise ValueError(f"{name} is required {context}")


def check_bool(name: str, value: Any) -> None:
    # The server type-checks booleans, so a truthy "false" must not slip through.
    if value is not None and not isinstance(value, bool):
        raise ValueError(f"{name} must be a boolean")


def check_number(
    name: str,
    value: Any,
    low: float | None = None,
    high: float | None = None,
    *,
    integer: bool = False,
    low_exclusive: bool = False,
) -> None:
    """``value`` (when set) is a finite number within ``[low, high]`` (``(low, high]``)."""
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{name} must be a number")
    if integer and not float(value).is_integer():
        raise ValueError(f"{name} must be a whole number")
    too_low = low is not None and (value <= low if low_exclusive else value < low)
    if too_low or (high is not None and value > high):
        left = "(" if low_exclusive else "["
        raise ValueError(f"{name} must be in {left}{low}, {high}]; got {value}")


def check_max_len(name: str, value: Any, limit: int) -> None:
    if value is None:
        return
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a string")
    if len(value) > limit:
        raise ValueError(f"{name} must be at most {limit} characters; got {len(value)}")


def check_choice(name: str, value: Any, allowed: Iterable[str]) -> None:
    options = tuple(allowed)
    if value is not None and value not in options:
        raise ValueError(f"{name} must be one of {', '.join(options)}; got {value!r}")


def check_window(start_name: str, start: Any, end_name: str, end: Any) -> None:
    """Both numbers, ``0 <= start < end``."""
    check_number(start_name, start, 0)
    check_number(end_name, end, 0)
    if start is not None and end is not None and end <= start:
        raise ValueError(f"{end_name} must be greater than {start_name}")


def body_of(obj: Any, *, skip: Iterable[str] = ()) -> dict[str, Any]:
    """A dataclass as a JSON body, without unset (``None``) fields."""
    skipped = set(skip)
    body: dict[str, Any] = {}
    for f in fields(obj):
        value = getattr(obj, f.name)
        if value is not None and f.name not in skipped:
            body[f.name] = list(value) if isinstance(value, tuple) else value
    return body
