"""The lyrics form of `/song custom`, `/song persona` and the lyrics-draft buttons."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, TypedDict

import discord

from bot.interactions.forms import Form
from bot.interactions.jobs import start_job
from bot.jobs.operations import sonic_create
from bot.markdown import TEXT_SHOWN, TITLE_SHOWN, Markdown, bold, escape
from bot.musicapi.families.sonic import SonicCreate
from bot.store.clips import StoredClip
from bot.validation import sonic as validation

if TYPE_CHECKING:
    from bot.app import MusicBot

# Discord text inputs hold at most 4000 characters; longer lyrics come as a lyrics_file.
MODAL_LYRICS_MAX = 4000
TITLE_MAX_FOR_FORM = validation.TITLE_MAX


class CustomOptions(TypedDict):
    """`/song custom`'s options besides the lyrics, carried from the command to its form."""

    title: str | None
    style: str | None
    model: str
    vocal: str | None


class LyricsModal(Form, title="Your lyrics"):
    lyrics: discord.ui.TextInput[LyricsModal] = discord.ui.TextInput(
        label="Lyrics",
        style=discord.TextStyle.paragraph,
        placeholder="[Verse]\n…\n\n[Chorus]\n…",
        max_length=MODAL_LYRICS_MAX,
    )

    def __init__(
        self,
        bot: MusicBot,
        *,
        title: str | None,
        style: str | None,
        model: str,
        instrumental: bool,
        vocal: str | None,
        default_lyrics: str | None = None,
        persona_id: str | None = None,
    ) -> None:
        super().__init__()
        self.bot = bot
        self.options: CustomOptions = {
            "title": title,
            "style": style,
            "model": model,
            "vocal": vocal,
        }
        self.persona_id = persona_id
        self.instrumental = instrumental
        if default_lyrics:
            self.lyrics.default = default_lyrics[:MODAL_LYRICS_MAX]
        self.lyrics.required = not instrumental

    async def submit(self, interaction: discord.Interaction) -> None:
        request = validation.build_custom(
            lyrics=self.lyrics.value, instrumental=self.instrumental, **self.options
        )
        if self.persona_id is not None:
            request = replace(request, task_type="persona_music", persona_id=self.persona_id)
        await start_job(self.bot, interaction, sonic_create(request, summary_of(request)))


def clip_name(clip: StoredClip) -> Markdown:
    """A song's title in bold, escaped, for a job's summary."""
    return bold(escape(clip.title or "Untitled", TITLE_SHOWN))


def summary_of(request: SonicCreate) -> Markdown:
    """The job card's words for a new song; the member's words escaped, each part bounded."""
    parts: list[str] = []
    if request.title:
        parts.append(bold(escape(request.title, TITLE_SHOWN)))
    if request.gpt_description_prompt:
        parts.append(escape(request.gpt_description_prompt, TEXT_SHOWN))
    elif request.prompt:
        parts.append("Custom lyrics")
    if request.tags:
        parts.append(f"Style: {escape(request.tags, TEXT_SHOWN)}")
    if request.make_instrumental:
        parts.append("Instrumental")
    parts.append(f"Model: {escape(request.mv, 40)}")
    return Markdown("\n".join(parts))
