"""Choices (model, mood, instrument, format, ...): matched to the documented spelling, and
refused without repeating what was typed.

A refusal used to quote the typed value in full: a 4,000-character `model` made a 4,119-
character reply that Discord rejects (50035), so the member got no answer at all. A refusal
here names the option and the allowed values; a typed value is quoted only shortened and
escaped (`text.quote`).
"""

from __future__ import annotations

from collections.abc import Iterable

from bot.errors import InputError
from bot.markdown import escape
from bot.validation.text import quote, visible_text

SHORT_LIST = 10  # a refusal names every allowed value when there are at most this many
QUOTED_MAX = 40  # how much of an unknown value a refusal repeats


def _where(options: tuple[str, ...]) -> str:
    # Long lists (Nuro's genres) are in the option's own list of suggestions.
    return ", ".join(map(escape, options)) if len(options) <= SHORT_LIST else "the option's list"


def choice(field: str, value: str | None, allowed: Iterable[str]) -> str | None:
    """The documented spelling of `value` in `allowed` (case does not matter), None if blank."""
    typed = visible_text(value)
    if not typed:
        return None
    options = tuple(allowed)
    found = {option.casefold(): option for option in options}.get(typed.casefold())
    if found is None:
        raise InputError(
            field, f"{quote(typed, QUOTED_MAX)} is not offered; choose from {_where(options)}."
        )
    return found


def required_choice(field: str, value: str | None, allowed: Iterable[str]) -> str:
    options = tuple(allowed)
    found = choice(field, value, options)
    if found is None:
        raise InputError(field, f"must be one of {_where(options)}.")
    return found


def choice_list(
    field: str, value: str | None, allowed: Iterable[str], most: int
) -> tuple[str, ...]:
    """A comma-separated list of documented values, at most `most`, duplicates dropped."""
    if value is None:
        return ()
    options = tuple(allowed)
    chosen: list[str] = []
    for part in value.split(","):
        canonical = choice(field, part, options)
        if canonical is not None and canonical not in chosen:
            chosen.append(canonical)
            if len(chosen) > most:
                raise InputError(field, f"takes at most {most} values.")
    return tuple(chosen)


def model(value: str | None, allowed: Iterable[str], default: str) -> str:
    """The `model` option: one of the models this bot offers (its settings), or the default."""
    return choice("model", value, allowed) or default
