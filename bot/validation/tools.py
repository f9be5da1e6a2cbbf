"""`/tools`, `/persona` and `/lyrics`: the options of the synchronous MusicAPI calls."""

from __future__ import annotations

from dataclasses import dataclass

from bot.musicapi.families.sonic import MAX_VOX_WINDOW_S, PersonaCreate
from bot.validation.built import checked
from bot.validation.text import optional_text, required_text
from bot.validation.windows import window, window_start

# upsample-tags refuses longer tags (the style limit of docs/musicapi/protocol.md §3.1)
STYLE_MAX = 1000
LYRICS_DESCRIPTION_MAX = 119  # "The description character length should be less than 120."
PERSONA_NAME_MAX = 79  # "The name character length should be less than 80."
PERSONA_DESCRIPTION_MAX = 199
PERSONA_STYLES_MAX = 2000


@dataclass(frozen=True, slots=True)
class VoxWindow:
    """What `/sonic/vox` is sent: either end may be left to MusicAPI (None)."""

    start: float | None
    end: float | None


def vox_window(start: float | None, end: float | None, duration: float | None) -> VoxWindow:
    """The vocal window (docs/musicapi/protocol.md §3.7: at most 30 s; both ends optional upstream).

    The docs do not say where a missing `start` falls; 0 is the only reading under which a lone
    `end` is surely within the 30 s, so a lone `end` is checked as the window 0–`end`. A lone
    `start` must leave room for a window before the song ends.
    """
    if end is not None:
        part = window(start, end, duration, longest=MAX_VOX_WINDOW_S)
        return VoxWindow(None if start is None else part.start, part.end)
    if start is None:
        return VoxWindow(None, None)
    return VoxWindow(window_start("start", start, duration), None)


def tags_style(style: str | None) -> str:
    """`/tools tags style`."""
    return required_text("style", style, STYLE_MAX)


def lyrics_description(description: str | None) -> str:
    """`/lyrics write description`."""
    return required_text("description", description, LYRICS_DESCRIPTION_MAX)


def build_persona(
    clip_id: str, *, name: str | None, description: str | None, styles: str | None
) -> PersonaCreate:
    """`/persona create`: a persona from a song's voice and style
    (docs/musicapi/protocol.md §3.3)."""
    return checked(
        PersonaCreate(
            name=required_text("name", name, PERSONA_NAME_MAX),
            clip_id=clip_id,
            describe=optional_text("description", description, PERSONA_DESCRIPTION_MAX),
            styles=optional_text("styles", styles, PERSONA_STYLES_MAX),
        ),
        {"describe": "description"},
    )


def voice_name(filename: str) -> str:
    """A name for a persona cloned from a recording: the file's name, visible and short."""
    base = filename.rsplit(".", 1)[0]
    return (optional_text("file", base) or "voice")[:PERSONA_NAME_MAX]
