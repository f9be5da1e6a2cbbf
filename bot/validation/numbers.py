"""Numbers checked as they will be sent: after the rounding the request carries.

Seconds go upstream with two decimals, so `at: 0.001` leaves as `continue_at: 0.0`. A check on
the typed value passed it and MusicAPI refused the 0 with a 400; here every bound is applied to
the rounded value, and the reply says so when the rounding is what made the difference.
"""

from __future__ import annotations

import math

from bot.errors import InputError
from bot.validation.text import visible_text

SECONDS_PLACES = 2  # the precision of every time in seconds sent upstream
SECONDS_STEP = 10**-SECONDS_PLACES


def as_sent(seconds: float) -> float:
    """A time in seconds exactly as the request will carry it."""
    return round(float(seconds), SECONDS_PLACES)


def finite(field: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InputError(field, "must be a number.")
    return float(value)


def _rounding_note(typed: float, sent: float) -> str:
    return "" if typed == sent else f" ({typed:g} is sent as {sent:g}, to 0.01 s)"


def seconds(
    field: str,
    value: float,
    *,
    above: float | None = None,
    at_least: float | None = None,
    below: float | None = None,
    at_most: float | None = None,
    limit_is: str = "",
) -> float:
    """`value` in seconds as sent, within the bounds given (`above`/`below` exclusive,
    `at_least`/`at_most` inclusive). `limit_is` names the upper bound, e.g. "the song's
    length", so the refusal says where the number comes from."""
    sent = as_sent(finite(field, value))
    named = f" ({limit_is})" if limit_is else ""
    note = _rounding_note(float(value), sent)
    if above is not None and not sent > above:
        raise InputError(field, f"must be more than {above:g} seconds{note}.")
    if at_least is not None and not sent >= at_least:
        if at_least == 0:
            raise InputError(field, f"cannot be negative; it must be 0 seconds or more{note}.")
        raise InputError(field, f"must be at least {at_least:g} seconds{note}.")
    if below is not None and not sent < below:
        raise InputError(field, f"must be less than {below:g} seconds{named}{note}.")
    if at_most is not None and not sent <= at_most:
        raise InputError(field, f"must be at most {at_most:g} seconds{named}{note}.")
    return sent


def typed_seconds(field: str, text: str) -> float:
    """Seconds typed into a form ("60", "1,5"); checked for bounds by the command after."""
    try:
        value = float(visible_text(text).replace(",", "."))
    except ValueError:
        raise InputError(field, "must be a number of seconds, like 60.") from None
    return finite(field, value)


def whole(field: str, value: int | None, low: int, high: int, unit: str = "seconds") -> int:
    """A whole number from `low` to `high` (Discord integer options; sent as is)."""
    if (
        value is None
        or isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or not float(value).is_integer()
        or not low <= value <= high
    ):
        raise InputError(field, f"must be a whole number of {unit} from {low} to {high}.")
    return int(value)


def fraction(field: str, value: float | None) -> float | None:
    """An optional weight from 0 to 1 (sent as typed)."""
    if value is None:
        return None
    number = finite(field, value)
    if not 0 <= number <= 1:
        raise InputError(field, "must be between 0 and 1.")
    return number
