"""What a member sees of a message: Discord markdown rendered the way the client does, enough to
check what the bot sends.

`render(text)` returns the visible text (escapes consumed, formatting markers gone, a masked
link shown as its label, invisible spaces dropped) and what took effect: links, bold spans,
headings and other line formats, mentions. `check_message` applies the product's rule (what
the bot shows is what it meant) to a message or embed as the fake Discord recorded it.

The rules modelled are Discord's (simple-markdown): a backslash before any ASCII punctuation
shows that character; `**`, `__`, `~~`, `||` format only when closed later; `*x*` and `_x_`
are italics (`_` only at word boundaries); code spans and blocks show their text literally;
`[label](url)` is a link when the target is an http(s) address (in `<…>` or not); a bare
http(s) address is a link; `<@id>`, `<@!id>`, `<@&id>`, `<#id>`, `@everyone`, `@here` are
mentions; `# `, `## `, `### `, `-# ` start a heading, `> ` a quote, `- `, `* `, `+ ` and `1. `
a list, at the start of a line. Embed footers and author names show text as it is.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

ZWSP = "\u200b"
_PUNCTUATION = frozenset(string.punctuation)
_LINE_FORMAT = re.compile(r"^[ \t]*(#{1,3} |-# |> |>>> |[-*+] |\d+\. )")
_MASKED_LINK = re.compile(r"\[((?:\\.|[^\\\]\n])*)\]\((<[^>\n]*>|[^)\s]*)\)")
_MENTION = re.compile(r"<(@!?|@&|#)(\d+)>")
_TIMESTAMP = re.compile(r"<t:(-?\d+)(?::[tTdDfFR])?>")
_CUSTOM_EMOJI = re.compile(r"<a?:\w+:\d+>")
_ANGLE_URL = re.compile(r"<(https?://[^\s>]+)>")
_BARE_URL = re.compile(r"https?://[^\s<]+[^<.,:;\"')\]\s]")
_EVERYONE = re.compile(r"@(everyone|here)\b")
_PAIRED = ("**", "__", "~~", "||")


@dataclass
class Rendered:
    text: str = ""
    links: list[tuple[str, str]] = field(default_factory=list)  # (label as seen, target)
    bold: list[str] = field(default_factory=list)
    line_formats: list[tuple[str, str]] = field(default_factory=list)  # (marker, line)
    mentions: list[str] = field(default_factory=list)

    def merge(self, other: Rendered) -> None:
        self.links += other.links
        self.bold += other.bold
        self.line_formats += other.line_formats
        self.mentions += other.mentions


def render(markdown: str) -> Rendered:
    """`markdown` as Discord shows it."""
    out = Rendered()
    lines: list[str] = []
    in_block = False
    for line in markdown.split("\n"):
        if line.lstrip().startswith("```"):
            in_block = not in_block  # a fence line shows nothing (the bot puts them alone)
            continue
        if in_block:
            lines.append(line)
            continue
        found = _LINE_FORMAT.match(line)
        if found:
            out.line_formats.append((found[1].strip(), line))
            line = line[found.end() :]
        inline = _inline(line)
        out.merge(inline)
        lines.append(inline.text)
    # The invisible space that breaks a mention is not seen.
    out.text = "\n".join(lines).replace(ZWSP, "")
    out.bold = [text.replace(ZWSP, "") for text in out.bold]
    out.links = [(label.replace(ZWSP, ""), target) for label, target in out.links]
    return out


def _inline(text: str) -> Rendered:
    out = Rendered()
    visible: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        rest = text[i:]
        if char == "\\" and i + 1 < len(text) and text[i + 1] in _PUNCTUATION:
            visible.append(text[i + 1])
            i += 2
            continue
        if char == "`":
            ticks = len(rest) - len(rest.lstrip("`"))
            close = text.find("`" * ticks, i + ticks)
            if close > 0:
                visible.append(text[i + ticks : close])
                i = close + ticks
                continue
        if char == "[":
            found = _MASKED_LINK.match(text, i)
            if found:
                target = found[2][1:-1] if found[2].startswith("<") else found[2]
                if target.startswith(("http://", "https://")):
                    label = _inline(found[1])
                    out.merge(label)
                    out.links.append((label.text, target))
                    visible.append(label.text)
                    i = found.end()
                    continue
        if char == "<":
            for pattern, kind in (
                (_MENTION, "mention"),
                (_TIMESTAMP, "time"),
                (_CUSTOM_EMOJI, "emoji"),
                (_ANGLE_URL, "link"),
            ):
                found = pattern.match(text, i)
                if found:
                    if kind == "mention":
                        out.mentions.append(found[0])
                        visible.append("@mention")
                    elif kind == "link":
                        out.links.append((found[1], found[1]))
                        visible.append(found[1])
                    else:
                        visible.append(f"[{kind}]")
                    i = found.end()
                    break
            else:
                visible.append(char)
                i += 1
            continue
        if char == "h":
            found = _BARE_URL.match(text, i)
            if found and (i == 0 or not text[i - 1].isalnum()):
                out.links.append((found[0], found[0]))
                visible.append(found[0])
                i = found.end()
                continue
        if char == "@":
            found = _EVERYONE.match(text, i)
            if found:
                out.mentions.append(found[0])
                visible.append(found[0])
                i = found.end()
                continue
        marker = next((m for m in _PAIRED if rest.startswith(m)), None)
        if marker is not None:
            end = _closing(text, i + 2, marker)
            if end is not None:
                inner = _inline(text[i + 2 : end])
                out.merge(inner)
                if marker == "**":
                    out.bold.append(inner.text)
                visible.append(inner.text)
                i = end + 2
                continue
        if char in "*_" and _opens_italic(text, i):
            end = _closing(text, i + 1, char)
            if end is not None and end > i + 1:
                inner = _inline(text[i + 1 : end])
                out.merge(inner)
                visible.append(inner.text)
                i = end + 1
                continue
        visible.append(char)
        i += 1
    out.text = "".join(visible)
    return out


def _opens_italic(text: str, i: int) -> bool:
    if text[i] == "_":
        return i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")
    return i + 1 < len(text) and not text[i + 1].isspace()


def _closing(text: str, start: int, marker: str) -> int | None:
    """Where an unescaped `marker` closes what opened before `start` (same line only)."""
    j = start
    while j < len(text):
        if text[j] == "\\":
            j += 2
            continue
        if text[j] == "\n":
            return None
        if text.startswith(marker, j):
            if marker == "_" and j + 1 < len(text) and text[j + 1].isalnum():
                j += 1
                continue
            if len(marker) == 1 and text.startswith(marker * 2, j):
                j += 2
                continue
            return j
        j += 1
    return None


# -- the rule -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Given:
    """Text the bot received from a member or MusicAPI, as typed, and the mentions and link
    targets in it that must never take effect."""

    texts: Sequence[str]
    hosts: frozenset[str] = frozenset({"evil.example"})
    labels: frozenset[str] = frozenset({"x", "pwn", "free credits"})


# Escapes that show: the bot escaped something twice, or escaped its own formatting.
_VISIBLE_ESCAPE = re.compile(r"\\[*_#~|`>\[\]()<@:-]")
_MARKERS = re.compile(r"\*\*|__|~~|\|\|")


def problems(markdown: str, given: Given, *, allowed_mentions: Iterable[str] = ()) -> list[str]:
    """Everything wrong with what a member sees of `markdown`."""
    seen = render(markdown)
    found: list[str] = []
    rest = _without_given(seen.text, given.texts)
    escaped = _VISIBLE_ESCAPE.findall(rest)
    if escaped:
        found.append(f"visible escapes {escaped} in {seen.text!r}")
    markers = _MARKERS.findall(rest)
    if markers:
        found.append(f"formatting shown as text {markers} in {seen.text!r}")
    for label, target in seen.links:
        host = (urlsplit(target).hostname or "").lower()
        if host in given.hosts or label in given.labels:
            found.append(f"a link from given text works: [{label}]({target})")
    allowed = set(allowed_mentions)
    for mention in seen.mentions:
        if mention not in allowed:
            found.append(f"a mention from given text works: {mention}")
    for marker, line in seen.line_formats:
        if any(line_part in line for line_part in _given_fragments(given)):
            found.append(f"given text formats a line ({marker!r}): {line!r}")
    return found


def _without_given(seen: str, texts: Sequence[str]) -> str:
    """What the bot itself shows: `seen` without the given texts, whole or cut with "…"
    (each line of a given text counts on its own, as lines are shown apart)."""
    pieces = {line.strip() for text in texts for line in text.split("\n") if line.strip()}
    for piece in sorted(pieces, key=len, reverse=True):
        seen = seen.replace(piece, "")
        for end in range(len(piece) - 1, 9, -1):
            cut = piece[:end].rstrip() + "…"
            if cut in seen:
                seen = seen.replace(cut, "")
                break
    return seen


def _given_fragments(given: Given) -> list[str]:
    return [word for text in given.texts for word in text.split() if len(word) >= 4]


def message_texts(message: dict[str, Any]) -> list[tuple[str, str, bool]]:
    """(where, text, rendered as markdown) for every text of a message or its earlier states."""
    states = [*message.get("history", []), message]
    texts: list[tuple[str, str, bool]] = []
    for number, state in enumerate(states):
        where = f"message {message.get('id')} state {number}"
        if state.get("content"):
            texts.append((f"{where} content", state["content"], True))
        for embed in state.get("embeds") or []:
            for key in ("title", "description"):
                if embed.get(key):
                    texts.append((f"{where} embed {key}", embed[key], True))
            for item in embed.get("fields") or []:
                texts.append((f"{where} field name", item.get("name", ""), True))
                texts.append((f"{where} field {item.get('name')!r}", item.get("value", ""), True))
            if (embed.get("footer") or {}).get("text"):
                texts.append((f"{where} footer", embed["footer"]["text"], False))
            if (embed.get("author") or {}).get("name"):
                texts.append((f"{where} author", embed["author"]["name"], False))
    return texts


def check_message(
    message: dict[str, Any], given: Given, *, allowed_mentions: Iterable[str] = ()
) -> list[str]:
    """What is wrong with a recorded message (all its states): markdown texts by the rule,
    plain texts (footers) must not show escapes at all."""
    found: list[str] = []
    allowed = list(allowed_mentions)
    for where, text, is_markdown in message_texts(message):
        if is_markdown:
            found += [f"{where}: {p}" for p in problems(text, given, allowed_mentions=allowed)]
        elif "\\" in text:
            found.append(f"{where}: a plain text shows a backslash: {text!r}")
    return found


def shows(markdown: str, typed: str) -> bool:
    """Whether `typed` shows exactly as typed in what a member sees of `markdown`."""
    return typed in render(markdown).text
