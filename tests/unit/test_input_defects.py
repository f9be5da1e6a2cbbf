"""One test per input defect of issue 7, each failing on the code before `bot/validation/`:
the refusal names the option and the limit, and it is an `InputError` (never a `ValueError`
that would reach the member as "Something went wrong")."""

from __future__ import annotations

from typing import Any

import pytest

from bot.store.clips import StoredClip
from bot.validation import attachments, choices, families, sonic, tools
from bot.validation.text import quote, visible_text
from tests.helpers import refused, stored_clip

MODELS = ("sonic-v4", "sonic-v4-5", "sonic-v5")
DISCORD_CONTENT_MAX = 2000
INVISIBLE = [
    "\u200b\u200b\u200b",  # zero-width spaces
    "\u200d\u200c\u2060\ufeff",  # joiners, word joiner, BOM
    "\u202e\u2066\u2069\u200f",  # bidi controls
    "\u3164\u115f",  # Hangul fillers (drawn as nothing)
    "\u00a0\u3000\u2003 \t\n",  # spaces of every width
    "\U000e0041\U000e0042",  # tag characters
]


def clip(duration: float | None = 120.0) -> StoredClip:
    return stored_clip(duration=duration)


# -- a 4,000-character choice made a reply Discord rejected: no answer at all ---------------


@pytest.mark.parametrize(
    ("call", "options"),
    [
        (choices.model, {"value": "m" * 4000, "allowed": MODELS, "default": "sonic-v5"}),
        (
            families.build_nuro_bgm,
            {"description": "d", "duration": 30, "genre": None, "mood": "x" * 4000,
             "instrument": None},
        ),
        (
            families.build_nuro_bgm,
            {"description": "d", "duration": 30, "genre": None, "mood": None,
             "instrument": "@everyone " * 400},
        ),
        (
            families.build_nuro_vocal,
            {"lyrics": "la", "duration": 30, "genre": "g" * 4000, "mood": None, "gender": None,
             "timbre": None},
        ),
        (families.check_download_format, {"value": "f" * 4000}),
    ],
)  # fmt: skip
def test_a_long_unknown_choice_gets_a_short_refused(call: Any, options: dict[str, Any]) -> None:
    error = refused(call, **options)
    assert len(str(error)) < 300 < DISCORD_CONTENT_MAX
    assert "x" * 100 not in str(error) and "@everyone" not in str(error)
    assert error.field in ("model", "mood", "instrument", "genre", "format")


# -- numbers checked as they will be sent -----------------------------------------------------


def test_extend_at_that_rounds_to_zero_is_refused() -> None:
    error = refused(sonic.build_extend, clip(), at=0.001, lyrics=None, style=None, model="sonic-v5")
    assert error.field == "at" and "more than 0" in str(error) and "sent as 0" in str(error)


def test_extend_at_that_rounds_to_the_song_end_is_refused() -> None:
    error = refused(
        sonic.build_extend, clip(120.0), at=119.996, lyrics=None, style=None, model="sonic-v5"
    )
    assert error.field == "at" and "120" in str(error)


@pytest.mark.parametrize("build", [sonic.build_replace, sonic.build_sample])
def test_a_window_that_rounds_to_nothing_is_refused_not_a_value_error(build: Any) -> None:
    extra = {"lyrics": None} if build is sonic.build_replace else {"description": None}
    error = refused(build, clip(), start=10, end=10.004, style=None, model="sonic-v5", **extra)
    assert error.field == "end" and "after `start` (10 s)" in str(error)


@pytest.mark.parametrize("build", [sonic.build_replace, sonic.build_sample])
def test_a_window_shorter_than_the_minimum_is_refused(build: Any) -> None:
    extra = {"lyrics": None} if build is sonic.build_replace else {"description": None}
    error = refused(build, clip(), start=10, end=10.3, style=None, model="sonic-v5", **extra)
    assert error.field == "end" and "0.5 s" in str(error)


def test_producer_replace_window_uses_the_same_check() -> None:
    error = refused(
        families.build_producer_replace, clip(), uploaded=False, starts_at=10, ends_at=10.004,
        instruction=None,
    )  # fmt: skip
    assert error.field == "ends_at" and "after `starts_at`" in str(error)


# -- a command of several steps checked completely before the upload is paid for ----------


@pytest.mark.parametrize(
    ("plan", "field"),
    [
        (sonic.UploadPlan("extend", at=9007199254740992), "at"),
        (sonic.UploadPlan("extend", at=0.001), "at"),
        (sonic.UploadPlan("add-instrumental", end=2.0**53), "end"),
        (sonic.UploadPlan("add-instrumental", end=0.001), "end"),
        (sonic.UploadPlan("add-vocals", lyrics="\u200b\u200b", end=5.0), "lyrics"),
        (sonic.UploadPlan("cover", style="s" * 1001), "style"),
    ],
)
def test_every_step_of_an_upload_is_checked_before_the_upload(
    plan: sonic.UploadPlan, field: str
) -> None:
    assert refused(plan.check, "sonic-v5").field == field


def test_an_upload_whose_length_is_known_bounds_the_next_step() -> None:
    assert refused(sonic.UploadPlan("extend", at=30.0).check, "sonic-v5", 20.0).field == "at"
    sonic.UploadPlan("extend", at=19.5).check("sonic-v5", 20.0)


def test_vox_end_without_start_is_checked_as_a_window_from_0() -> None:
    for end in (0.0, 0.001, 0.3):
        assert refused(tools.vox_window, None, end, 120.0).field == "end"
    assert tools.vox_window(None, 0.5, 120.0) == tools.VoxWindow(None, 0.5)


# -- invisible text counts as empty ------------------------------------------------------------


@pytest.mark.parametrize("blank", INVISIBLE)
def test_invisible_text_is_empty_everywhere(blank: str) -> None:
    cases: list[tuple[Any, dict[str, Any], str]] = [
        (
            sonic.build_create,
            {"description": blank, "style": None, "title": None, "instrumental": False,
             "model": "sonic-v5", "vocal": None, "negative": None},
            "description",
        ),
        (
            sonic.build_custom,
            {"lyrics": blank, "style": None, "title": None, "instrumental": False,
             "model": "sonic-v5", "vocal": None},
            "lyrics",
        ),
        (tools.lyrics_description, {"description": blank}, "description"),
        (tools.tags_style, {"style": blank}, "style"),
        (
            tools.build_persona,
            {"clip_id": "c", "name": blank, "description": None, "styles": None},
            "name",
        ),
        (
            families.build_nuro_bgm,
            {"description": blank, "duration": 30, "genre": None, "mood": None,
             "instrument": None},
            "description",
        ),
        (
            families.build_nuro_vocal,
            {"lyrics": blank, "duration": 30, "genre": None, "mood": None, "gender": None,
             "timbre": None},
            "lyrics",
        ),
        (families.build_studio, {"style": blank, "lyrics": None, "instrumental": False}, "style"),
    ]  # fmt: skip
    for call, options, field in cases:
        assert refused(call, **options).field == field, call


def test_invisible_characters_do_not_count_towards_a_limit_and_are_not_sent() -> None:
    request = sonic.build_create(
        description="\u200b" * 500 + "rain" + "\u202e", style=None, title=None,
        instrumental=False, model="sonic-v5", vocal=None, negative=None,
    )  # fmt: skip
    assert request.gpt_description_prompt == "rain"


def test_joiners_inside_words_and_emoji_are_kept() -> None:
    assert visible_text("👩\u200d🎤 sings") == "👩\u200d🎤 sings"
    assert visible_text("\u200dmi\u200cro\u200d") == "mi\u200cro"


def test_quote_is_short_escaped_and_pings_nobody() -> None:
    quoted = quote("@everyone **" + "x" * 5000, 50)
    assert len(quoted) <= 50 and quoted.endswith("…`")
    # Inline code shows its text literally: the asterisks are kept as typed, not escaped
    # (a backslash would show), and the mention is broken by an invisible space.
    assert "@everyone" not in quoted and quoted.startswith("`@")
    assert "**" in quoted and "\\" not in quoted


# -- files checked by content --------------------------------------------------------------

WAV_HEADER = (
    b"RIFF" + (36 + 16000).to_bytes(4, "little") + b"WAVEfmt " + (16).to_bytes(4, "little")
    + (1).to_bytes(2, "little") + (1).to_bytes(2, "little") + (8000).to_bytes(4, "little")
    + (16000).to_bytes(4, "little") + (2).to_bytes(2, "little") + (16).to_bytes(2, "little")
    + b"data" + (16000).to_bytes(4, "little")
)  # fmt: skip


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (b"ID3\x04\x00\x00\x00\x00\x00\x00", "mp3"),
        (b"\xff\xfb\x90\xc0" + b"\x00" * 8, "mp3"),
        (b"\xff\xf1\x50\x80" + b"\x00" * 8, "mp3"),  # ADTS AAC frame
        (WAV_HEADER, "wav"),
        (b"OggS\x00\x02" + b"\x00" * 8, "ogg"),
        (b"fLaC\x00\x00\x00\x22", "flac"),
        (b"\x00\x00\x00\x20ftypM4A ", "m4a"),
        (b"\x1a\x45\xdf\xa3\x01\x00", "webm"),
    ],
)
def test_audio_is_recognised_by_its_bytes(head: bytes, kind: str) -> None:
    assert attachments.check_audio_head(head, "song") == kind


@pytest.mark.parametrize(
    "head",
    [
        b"%PDF-1.4\n",
        b"\x89PNG\r\n\x1a\n",
        b"\xff\xd8\xff\xe0JFIF",  # a JPEG renamed .mp3
        b"\xff\xff\xff\xff",  # 0xFF bytes that are not an MPEG frame
        b"hello, this is text",
        b"",
    ],
)
def test_files_that_are_not_audio_are_refused_whatever_their_name(head: bytes) -> None:
    error = refused(attachments.check_audio_head, head, "song.mp3")
    assert error.field == "file" and "not audio" in str(error)


def test_a_wav_header_gives_its_length() -> None:
    assert attachments.wav_seconds(WAV_HEADER, 44 + 16000) == 1.0
    assert attachments.wav_seconds(b"ID3\x04" + b"\x00" * 40, 10_000) is None


def test_lyrics_files_must_be_utf8_text_and_bounded() -> None:
    assert attachments.decode_lyrics_file("[Verse]\r\nsí".encode()) == "[Verse]\nsí"
    assert refused(attachments.decode_lyrics_file, b"\xff\xfe\x00").field == "lyrics_file"
    big = b"a" * (attachments.LYRICS_FILE_MAX_BYTES + 1)
    assert refused(attachments.decode_lyrics_file, big).field == "lyrics_file"


# -- found by the fuzz: a song of another family sent to a Sonic endpoint ------------------------


@pytest.mark.parametrize("family", ["producer", "nuro", "riffusion", "studio"])
def test_a_song_of_another_family_is_refused_for_sonic_commands(family: str) -> None:
    error = refused(sonic.check_sonic_source, "clip", family)
    assert error.field == "clip" and f"/{family}" in str(error)


@pytest.mark.parametrize("family", ["sonic", "sync"])  # made by /song, or uploaded
def test_sonic_songs_and_uploads_are_accepted(family: str) -> None:
    sonic.check_sonic_source("clip", family)


def test_seconds_typed_into_a_form_are_parsed_and_must_be_finite() -> None:
    from bot.validation.numbers import typed_seconds

    assert typed_seconds("at", " 1,5\u200b ") == 1.5
    for bad in ("", "\u200b", "sixty", "nan", "inf", "1e400"):
        assert refused(typed_seconds, "at", bad).field == "at", bad
