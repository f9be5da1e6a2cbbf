"""Member text: invisible characters out first, then the required and length checks.

`str.strip()` keeps zero-width spaces, bidi controls and other format characters, so a
description made only of them used to pass as filled in and reach MusicAPI (and be charged).
Here such characters are removed before anything is measured, and what remains is the text
that is sent: the length a member is told about is the length MusicAPI sees.

Two joiners stay when they sit between visible characters: U+200D builds emoji sequences
(👩‍🎤) and U+200C is part of the spelling of Persian and Indic words.
"""

from __future__ import annotations

import unicodedata

from bot.errors import InputError
from bot.markdown import Markdown, code

ZWNJ, ZWJ = "\u200c", "\u200d"
# Letters and symbols that draw nothing (the usual "blank name" characters); they are not in
# a format category, so they are listed.
BLANK_CHARACTERS = frozenset(
    "\u115f\u1160\u3164\uffa0\u2800\u034f\u17b4\u17b5\u180e\u2061\u2062\u2063\u2064"
)
# Categories removed wherever they stand: format (Cf: zero-width, bidi, tags), controls other
# than line breaks and tabs (Cc), surrogates and unassigned/private code points are kept out of
# this list on purpose (Co can be a server's custom glyph; Cn can be a newer emoji).
_REMOVED_CATEGORIES = frozenset({"Cf", "Cc", "Cs"})
_KEPT_CONTROLS = frozenset("\n\t")
# What a reply may quote of member text, by default: short enough that any refusal fits.
QUOTE_MAX = 100


def _visible(char: str) -> bool:
    """A character that draws something (not space, not a mark or joiner on its own)."""
    if char in BLANK_CHARACTERS or char.isspace():
        return False
    category = unicodedata.category(char)
    return category not in _REMOVED_CATEGORIES and category[0] not in ("Z", "M")


def _removed(text: str, index: int) -> bool:
    char = text[index]
    if char in _KEPT_CONTROLS:
        return False
    if char in (ZWJ, ZWNJ):
        inside = 0 < index < len(text) - 1
        return not (inside and _visible(text[index - 1]) and _visible(text[index + 1]))
    if char in BLANK_CHARACTERS:
        return True
    return unicodedata.category(char) in _REMOVED_CATEGORIES


def visible_text(value: str | None) -> str:
    """`value` without invisible characters, line endings made `\\n`, ends stripped.

    Returns "" when nothing visible is left (only spaces, joiners, marks or blanks)."""
    if not value:
        return ""
    text = value.replace("\r\n", "\n").replace("\r", "\n")
    text = "".join(c for i, c in enumerate(text) if not _removed(text, i)).strip()
    return text if any(_visible(c) for c in text) else ""


def optional_text(field: str, value: str | None, limit: int | None = None) -> str | None:
    """Visible text, None when blank; refused past `limit` characters (as sent)."""
    text = visible_text(value)
    if not text:
        return None
    if limit is not None and len(text) > limit:
        raise InputError(field, f"is {len(text)} characters; the limit is {limit}.")
    return text


def required_text(field: str, value: str | None, limit: int | None = None) -> str:
    text = optional_text(field, value, limit)
    if text is None:
        raise InputError(field, "is required and cannot be empty (or only invisible characters).")
    return text


def text_option(
    field: str, value: str | None, limit: int | None = None, *, required: bool = False
) -> str | None:
    """`required_text` or `optional_text`, chosen by a flag (for options required sometimes)."""
    return required_text(field, value, limit) if required else optional_text(field, value, limit)


def quote(value: str, limit: int = QUOTE_MAX) -> Markdown:
    """Member text to repeat in a reply, as inline code: invisible characters out, cut to
    `limit` characters with "…". Code shows what was typed literally (no formatting, link or
    mention works inside it, and nothing needs escaping), and the result is short, so a reply
    that repeats it always fits Discord's limits."""
    return code(visible_text(value), limit)
