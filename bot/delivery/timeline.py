"""A lyrics timeline as an `.lrc` file: one timed line per sung line. Pure functions.

MusicAPI times single words (docs/musicapi/protocol.md §3.10), but a karaoke player shows lines. The
clip's own lyrics say where the lines break, so the timed words are matched back to them; when they
cannot be (an uploaded song without stored lyrics, or words MusicAPI heard differently), the words
are grouped into lines at line breaks in the words themselves, at pauses and by length instead.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from bot.musicapi.results import AlignedWord

# "[Verse]", "[Chorus 2]": structure, not sung words.
SECTION_TAG = re.compile(r"^\s*\[[^\]]*\]\s*$")
# Share of words that must match the lyrics for their line breaks to be trusted.
MIN_MATCHED = 0.8
# How many lyric words a timed word may skip ahead to find its match (a word MusicAPI missed).
LOOKAHEAD = 3
# Without usable lyrics: a gap this long between two words starts a new line...
PAUSE_S = 1.0
# ...and no line grows longer than this many words.
WORDS_PER_LINE = 8
PREVIEW_LINES = 8


@dataclass(frozen=True, slots=True)
class TimedLine:
    start_s: float
    text: str


def normalise(token: str) -> str:
    """A word as compared: case and punctuation do not matter ("Stars," == "stars")."""
    return "".join(ch for ch in token.lower() if ch.isalnum())


def lyric_lines(lyrics: str) -> list[str]:
    return [
        line.strip() for line in lyrics.splitlines() if line.strip() and not SECTION_TAG.match(line)
    ]


def timed_lines(words: Sequence[AlignedWord], lyrics: str) -> list[TimedLine]:
    """Lines with the time their first word is sung, in order."""
    sung = [w for w in words if normalise(w.word) and not SECTION_TAG.match(w.word)]
    if not sung:
        return []
    return _by_lyrics(sung, lyric_lines(lyrics)) or _by_pauses(sung)


def _by_lyrics(words: Sequence[AlignedWord], lines: Sequence[str]) -> list[TimedLine] | None:
    """Each lyric line timed by its first matched word; None when the match is too poor."""
    tokens = [
        (normalise(token), index)
        for index, line in enumerate(lines)
        for token in line.split()
        if normalise(token)
    ]
    if not tokens:
        return None
    starts: dict[int, float] = {}
    position = matched = 0
    for word in words:
        key = normalise(word.word)
        for ahead in range(position, min(position + LOOKAHEAD + 1, len(tokens))):
            if tokens[ahead][0] == key:
                starts.setdefault(tokens[ahead][1], word.start_s)
                position, matched = ahead + 1, matched + 1
                break
    # Measured against the longer of the two, so missing words and extra words both count.
    if matched < MIN_MATCHED * max(len(words), len(tokens)):
        return None
    return _fill_gaps(lines, starts, words[-1].end_s)


def _fill_gaps(lines: Sequence[str], starts: dict[int, float], end_s: float) -> list[TimedLine]:
    """A line none of whose words matched still belongs in the file: it takes the start of
    the next timed line (or the end of singing), which keeps the order and the text."""
    result: list[TimedLine] = []
    upcoming = end_s
    for index in range(len(lines) - 1, -1, -1):
        upcoming = starts.get(index, upcoming)
        result.append(TimedLine(upcoming, lines[index]))
    result.reverse()
    # Matching can only move forward, but make the order explicit for players that need it.
    latest = 0.0
    ordered: list[TimedLine] = []
    for line in result:
        latest = max(latest, line.start_s)
        ordered.append(TimedLine(latest, line.text))
    return ordered


def _by_pauses(words: Sequence[AlignedWord]) -> list[TimedLine]:
    lines: list[TimedLine] = []
    current: list[AlignedWord] = []

    def flush() -> None:
        if current:
            text = " ".join(w.word.strip() for w in current)
            lines.append(TimedLine(current[0].start_s, text))
            current.clear()

    for word in words:
        if current and (
            word.start_s - current[-1].end_s >= PAUSE_S or len(current) >= WORDS_PER_LINE
        ):
            flush()
        current.append(word)
        if "\n" in word.word:  # the aligner kept the lyrics' own line break
            flush()
    flush()
    return lines


def stamp(seconds: float) -> str:
    """`mm:ss.xx`, the LRC time tag (minutes may pass 99 for very long songs)."""
    hundredths = round(max(0.0, seconds) * 100)
    minutes, hundredths = divmod(hundredths, 6000)
    return f"{minutes:02d}:{hundredths // 100:02d}.{hundredths % 100:02d}"


def to_lrc(lines: Sequence[TimedLine], title: str = "") -> str:
    # A tag value cannot hold a line break or a closing bracket without breaking the file.
    name = " ".join(re.sub(r"[\[\]]", " ", title).split())
    head = [f"[ti:{name}]"] if name else []
    body = [f"[{stamp(line.start_s)}]{line.text}" for line in lines]
    return "\n".join([*head, *body]) + "\n"


def preview(lines: Sequence[TimedLine], count: int = PREVIEW_LINES) -> str:
    return "\n".join(f"[{stamp(line.start_s)}] {line.text}" for line in lines[:count])
