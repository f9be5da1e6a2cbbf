"""/tools option checks: each refusal names the option and the limit."""

from __future__ import annotations

import pytest

from bot.errors import InputError
from bot.validation.tools import tags_style as check_style
from bot.validation.tools import vox_window


@pytest.mark.parametrize(
    ("start", "end", "duration"),
    [
        (None, None, None),
        (None, None, 2.5),
        (0.0, 30.0, None),
        (10.0, 40.0, 60.0),
        (None, 30.0, None),
        (2.0, None, 2.5),
        (0.5, 2.5, 2.5),
    ],
)
def test_windows_that_are_accepted(
    start: float | None, end: float | None, duration: float | None
) -> None:
    part = vox_window(start, end, duration)
    assert (part.start, part.end) == (start, end)


@pytest.mark.parametrize(
    ("start", "end", "duration", "field", "words"),
    [
        (-0.1, None, None, "start", "0 seconds or more"),
        (None, -1.0, None, "end", "0 seconds or more"),
        (float("nan"), None, None, "start", "must be a number"),
        (5.0, 5.0, None, "end", "after `start` (5 s)"),
        (5.0, 5.4, None, "end", "by at least 0.5 s"),
        (5.0, 4.0, None, "end", "after `start`"),
        (0.0, 30.5, None, "end", "at most 30 seconds"),
        (None, 31.0, None, "end", "at most 30 s"),
        (10.0, 41.0, 120.0, "end", "at most 40 s"),
        (2.5, None, 2.5, "start", "0.5 s before the song's length (2.5 seconds)"),
        (2.1, None, 2.5, "start", "0.5 s before the song's length (2.5 seconds)"),
        (1.0, 3.0, 2.5, "end", "song's length (2.5 seconds)"),
    ],
)
def test_windows_that_are_refused(
    start: float | None, end: float | None, duration: float | None, field: str, words: str
) -> None:
    with pytest.raises(InputError) as refused:
        vox_window(start, end, duration)
    assert refused.value.field == field and words in str(refused.value)


def test_style_is_trimmed_required_and_at_most_1000_characters() -> None:
    assert check_style("  lofi hip hop ") == "lofi hip hop"
    assert check_style("s" * 1000) == "s" * 1000
    for bad, words in (("", "cannot be empty"), ("  \n ", "cannot be empty"), ("s" * 1001, "1000")):
        with pytest.raises(InputError) as refused:
            check_style(bad)
        assert refused.value.field == "style" and words in str(refused.value)
