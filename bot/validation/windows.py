"""Time windows and moments in a song, checked one way for every command.

A window is `start < end` with at least `MIN_WINDOW_S` between them, inside the song, all as
sent (two decimals). `/song replace|sample`, `/song upload` add-vocals/add-instrumental,
`/tools vox` and `/producer replace` all go through `window`; single moments (`/song extend
at`, `/producer extend starts_at`) through `moment`.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.errors import InputError
from bot.validation.numbers import as_sent, finite, seconds

# MusicAPI documents no minimum; a window shorter than half a second holds less than a beat,
# so nothing useful can be regenerated, sampled or sung in it.
MIN_WINDOW_S = 0.5
# The longest audio MusicAPI takes as an upload (docs/musicapi/protocol.md §3.14: 8 minutes). It
# bounds times in a file about to be uploaded, whose length is not known yet.
LONGEST_UPLOAD_S = 8 * 60.0
SONG_LENGTH = "the song's length"
UPLOAD_LENGTH = "the longest upload MusicAPI takes"


@dataclass(frozen=True, slots=True)
class Window:
    start: float
    end: float


def song_limit(duration: float | None) -> float | None:
    """The end of the song as sent; None when its length is not known (nothing to check)."""
    return None if duration is None else as_sent(duration)


def window(
    start: float | None,
    end: float | None,
    duration: float | None,
    *,
    names: tuple[str, str] = ("start", "end"),
    longest: float | None = None,
) -> Window:
    """`start` (0 when left out) to `end`, both as sent; `end` must be given. `duration` is
    the song's length when known. `longest` caps the window itself (`/tools vox`: 30 s)."""
    first, last = names
    limit = song_limit(duration)
    begin = 0.0 if start is None else window_start(first, start, duration)
    if end is None:
        raise InputError(last, "is needed: where the part ends, in seconds.")
    typed = finite(last, end)
    finish = seconds(last, typed, at_least=0)
    note = "" if typed == finish else f" ({typed:g} is sent as {finish:g}, to 0.01 s)"
    if not finish >= begin + MIN_WINDOW_S:
        raise InputError(
            last,
            f"must be after `{first}` ({begin:g} s), by at least {MIN_WINDOW_S:g} s{note}.",
        )
    if longest is not None and finish - begin > longest:
        raise InputError(
            last,
            f"the window is at most {longest:g} seconds; with `{first}` at {begin:g} s, "
            f"`{last}` can be at most {begin + longest:g} s.",
        )
    if limit is not None and finish > limit:
        raise InputError(last, f"must be within {SONG_LENGTH} ({limit:g} seconds){note}.")
    return Window(begin, finish)


def window_start(field: str, start: float, duration: float | None) -> float:
    """Where a window starts, as sent: 0 or more, leaving `MIN_WINDOW_S` before the end."""
    limit = song_limit(duration)
    begin = seconds(field, start, at_least=0)
    if limit is not None and begin + MIN_WINDOW_S > limit:
        raise InputError(
            field, f"must be at least {MIN_WINDOW_S:g} s before {SONG_LENGTH} ({limit:g} seconds)."
        )
    return begin


def moment(field: str, value: float, duration: float | None, *, strictly_inside: bool) -> float:
    """A point in the song, as sent. `strictly_inside`: more than 0 and before the end (Sonic's
    `continue_at`); otherwise from 0 up to the very end (Producer's `starts_at`)."""
    limit = song_limit(duration)
    if strictly_inside:
        return seconds(field, value, above=0, below=limit, limit_is=SONG_LENGTH)
    return seconds(field, value, at_least=0, at_most=limit, limit_is=SONG_LENGTH)
