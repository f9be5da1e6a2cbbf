"""Discord markdown the bot writes, with member and upstream text made safe inside it.

Two kinds of text meet in every message: the bot's own formatting (bold, links, mentions of
the requester) and text it was given (a member's title, MusicAPI's error, a file name). The
second kind must show exactly as typed, with no formatting, link, heading or ping of its own,
and the first must render. Mixing them up either way is a visible defect: escaping the whole
assembled message shows the bot's own `**` as asterisks; not escaping given text lets a title
like `[free credits](https://…)` become a working link.

So given text is escaped once, where it is put into the bot's markdown (`escape`), and the
result is a `Markdown` value: text that is already safe and is never escaped again. Links to
upstream files are built only by `link`, which accepts web addresses alone and percent-encodes
what could end the link early.

`discord.utils.escape_markdown` is not used for this: it escapes a masked link only at its
first bracket, so the second link of `[a](b) [c](d)` stays live, and it leaves headings after
the first line, lists and mentions alone.
"""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

# Escaped wherever they stand: emphasis, code, spoilers, quotes, masked links, mentions and
# custom emoji (`<@1>`, `<:x:1>`, `<t:1>`), headings, and the backslash itself.
_ALWAYS = frozenset("\\*_~|`<>[]#")
# At the start of a line (after spaces) these begin a list ("- ", "+ ", "1. ") or subtext
# ("-# "): the sign, or the dot after the digits, is escaped.
_LINE_START = re.compile(r"^([ \t]*\d*)([-+.])", re.MULTILINE)
_MARK = "\x00"
ZWSP = "\u200b"
ELLIPSIS = "…"
# Longer links are not worth keeping: Discord cuts embeds and messages long before that.
LINK_URL_MAX = 900
# How much of a title, and of a description or style, a job's summary shows (as escaped), so
# a summary's parts fit the card together.
TITLE_SHOWN = 100
TEXT_SHOWN = 160
# What `link` percent-encodes besides non-ASCII: anything that ends a link target, opens a
# second one, or breaks the `<…>` that keeps Discord from unfurling it.
_URL_SAFE = "/:?#&=%+,;@!$'*-._~"


class Markdown(str):
    """Text already safe to send as Discord markdown: the bot's own formatting, with any member
    or upstream text in it escaped. Building one from given text goes through `escape`."""

    __slots__ = ()


def _units(text: str) -> list[str]:
    """`text` escaped, as a list of pieces that must not be split when it is shortened."""
    marked = _LINE_START.sub(lambda m: f"{m[1]}{_MARK}{m[2]}", text.replace(_MARK, ""))
    units: list[str] = []
    escape_next = False
    for char in marked:
        if char == _MARK:
            escape_next = True
        elif escape_next or char in _ALWAYS:
            escape_next = False
            units.append("\\" + char)
        elif char == "@":
            # `@everyone` and `@here` are mentions even without `<>`; an invisible space
            # after the `@` keeps them words (discord.py's escape_mentions does the same).
            units.append("@" + ZWSP)
        else:
            units.append(char)
    return _break_autolinks(units)


def _break_autolinks(units: list[str]) -> list[str]:
    """`https://…` in given text would still be a clickable link: its colon is escaped."""
    return [
        "\\:" if unit == ":" and units[index + 1 : index + 3] == ["/", "/"] else unit
        for index, unit in enumerate(units)
    ]


def escape(text: str | None, limit: int | None = None) -> Markdown:
    """Member or upstream `text`, shown exactly as typed: no formatting, link, heading or
    mention of its own. Cut to `limit` characters (as sent, escapes included) with "…"."""
    units = _units((text or "").strip())
    if limit is not None and sum(map(len, units)) > limit:
        units = _cut(units, limit) if limit >= len(ELLIPSIS) else []
    return Markdown("".join(units))


def _cut(units: list[str], limit: int) -> list[str]:
    """The whole units that fit in `limit` characters together with a closing "…": an escape
    is one unit, so a cut never leaves half of one behind."""
    kept: list[str] = []
    used = len(ELLIPSIS)
    for unit in units:
        if used + len(unit) > limit:
            break
        kept.append(unit)
        used += len(unit)
    return [*kept, ELLIPSIS]


def bold(text: Markdown) -> Markdown:
    return Markdown(f"**{text}**") if text else text


def code(text: str, limit: int | None = None) -> Markdown:
    """Given text as inline code (ids, file names, a typed value): shown literally, so nothing
    is escaped; a backtick, which would end the code early, becomes a look-alike, and a line
    break a space. An `@` gets the invisible space too, so the text stays a word wherever it
    is pasted. At most `limit` characters in all (backticks included), cut with "…"."""
    units = ["@" + ZWSP if c == "@" else c for c in text.replace("`", "ˋ").replace("\n", " ")]
    units = units if units and "".join(units).strip() else []
    room = None if limit is None else max(limit - 2, 0)
    if room is not None and sum(map(len, units)) > room:
        units = _cut(units, room)
    return Markdown(f"`{''.join(units)}`") if units else Markdown("")


def link_target(url: str | None) -> str | None:
    """`url` made safe as a markdown link target, or None when it is not a web address."""
    if not url:
        return None
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    if len(url) > LINK_URL_MAX:
        return None
    # Spaces, brackets, parentheses, `<>`, quotes and backslashes are percent-encoded; so is
    # anything outside printable ASCII. `%` stays, so an address already encoded is kept.
    return quote(url, safe=_URL_SAFE)


def link(label: str, url: str | None) -> Markdown | None:
    """A masked link `[label](<url>)` to a web address, or None when `url` is not one. The
    label is given text (escaped here); `<…>` keeps Discord from unfurling a preview."""
    target = link_target(url)
    if target is None:
        return None
    return Markdown(f"[{escape(label, 100) or 'link'}](<{target}>)")


def shorten(text: Markdown, limit: int) -> Markdown:
    """Bot markdown cut to `limit` characters without breaking it: whole lines first; a line
    that must be cut loses its formatting rather than leave half of it showing."""
    if len(text) <= limit:
        return text
    lines = text.split("\n")
    kept: list[str] = []
    used = 0
    for line in lines:
        extra = len(line) + (1 if kept else 0)
        if used + extra + len(ELLIPSIS) + 1 > limit:
            break
        kept.append(line)
        used += extra
    if kept:
        return Markdown("\n".join(kept) + ("\n" if len(kept) < len(lines) else "") + ELLIPSIS)
    return escape(plain(Markdown(lines[0])) + (" …" if len(lines) > 1 else ""), limit)


_ESCAPED = re.compile(r"\\([^0-9A-Za-z\s])")
_FORMATTING = re.compile(r"\*\*|__|~~|\|\|")


def plain(text: Markdown) -> str:
    """Roughly what `text` shows, as plain text: escapes and bold/underline markers removed.
    For cutting a line that does not fit; `escape` makes it markdown again."""
    without_marks = _FORMATTING.sub("", text)
    return _ESCAPED.sub(r"\1", without_marks).replace(ZWSP, "")
