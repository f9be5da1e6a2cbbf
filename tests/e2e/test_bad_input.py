"""Bad input through the real bot: a clear refusal naming the option, and nothing
forwarded to MusicAPI and nothing charged, including after the command was acknowledged."""

from __future__ import annotations

from typing import Any

import pytest

from bot.validation.audio_length import FETCH_MIN_BYTES
from tests.audio_files import flac, m4a, mp3, mp3_encoded, ogg_opus, ogg_vorbis, webm
from tests.e2e.conftest import World
from tests.helpers import refusal_text

NOT_AUDIO = ("demo.mp3", b"\xff\xd8\xff\xe0JFIF" + b"\x00" * 256, "audio/mpeg")
AUDIO = ("demo.mp3", mp3(2.0), "audio/mpeg")
BIG = 2.0**53  # 9007199254740992: the largest number option Discord sends


def spending_calls(world: World) -> list[str]:
    return [path for method, path, _ in world.sim.requests if method == "POST"]


async def first_clip(world: World) -> str:
    await world.song(description="a song to edit")
    clip_messages = await world.clip_messages(2)
    return str(clip_messages[0]["embeds"][0]["footer"]["text"][5:])


@pytest.mark.parametrize(
    ("command", "subcommand", "files", "options", "words"),
    [
        ("song", "create", None, {"description": "x", "model": "m" * 4000}, "`model`"),
        ("song", "create", None, {"description": "\u200b\u200d\u2060"}, "`description`"),
        ("song", "upload", {"file": NOT_AUDIO}, {}, "not audio"),
        ("song", "upload", {"file": AUDIO}, {"action": "extend", "at": BIG}, "`at`"),
        ("song", "upload", {"file": AUDIO}, {"action": "add-instrumental", "end": 0.001}, "`end`"),
        ("song", "upload", {"file": AUDIO}, {"action": "add-instrumental", "end": BIG}, "`end`"),
        ("persona", "voice", {"file": NOT_AUDIO}, {}, "not audio"),
        ("nuro", "instrumental", None, {"description": "d", "duration": 30, "mood": "x" * 4000},
         "`mood`"),
        ("lyrics", "write", None, {"description": "\u202e\u200b"}, "`description`"),
        ("tools", "tags", None, {"style": "\u3164\u3164"}, "`style`"),
        ("request", "song", None, {"description": "\ufeff\u200b"}, "`description`"),
    ],
)  # fmt: skip
async def test_bad_input_is_refused_and_nothing_is_forwarded_or_charged(
    make_world: Any,
    command: str,
    subcommand: str,
    files: dict[str, Any] | None,
    options: dict[str, Any],
    words: str,
) -> None:
    async with make_world() as world:
        text = await refusal_text(await world.slash(command, subcommand, files=files, **options))
        assert words in text and len(text) < 500
        assert spending_calls(world) == []
        assert await world.ledger_kinds() == []
        assert world.discord.errors == []


@pytest.mark.parametrize(
    "file",
    [
        ("twenty.mp3", mp3(20.0), "audio/mpeg"),
        ("twenty.ogg", ogg_vorbis(20.0), "audio/ogg"),
        ("twenty.opus", ogg_opus(20.0), "audio/ogg"),
        ("twenty.flac", flac(20.0), "audio/flac"),
        ("twenty.m4a", m4a(20.0, audio_bytes=200_000, moov_last=True), "audio/mp4"),
        ("twenty.webm", webm(20.0), "audio/webm"),
    ],
)
@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"action": "extend", "at": 25.0}, "`at`"),
        ({"action": "add-instrumental", "end": 25.0}, "`end`"),
    ],
)
async def test_upload_follow_up_past_the_files_real_length_is_refused_before_the_upload(
    make_world: Any, file: tuple[str, bytes, str], options: dict[str, Any], field: str
) -> None:
    # 25 s is under the 8-minute cap on uploads: only the file's own length (20 s, read from
    # its bytes) shows that the follow-up cannot succeed.
    async with make_world() as world:
        upload = await world.slash("song", "upload", files={"file": file}, **options)
        text = await refusal_text(upload)
        assert field in text and "20" in text and "went wrong" not in text
        assert spending_calls(world) == [] and world.posts("/sonic/upload") == []
        assert await world.ledger_kinds() == []
        # Read by ranges (the first bytes, then what mutagen asks for), never downloaded whole.
        read = sum(count for _, _, count in world.discord.attachment_reads)
        assert 0 < read <= min(len(file[1]), 2 * FETCH_MIN_BYTES)


@pytest.mark.parametrize(
    ("command", "options", "words"),
    [
        ("extend", {"at": 0.001}, "`at`"),
        ("replace", {"start": 1.0, "end": 1.004}, "`end`"),
        ("sample", {"start": 1.0, "end": 1.004}, "`end`"),
    ],
)
async def test_numbers_are_checked_as_sent_on_edits(
    make_world: Any, command: str, options: dict[str, Any], words: str
) -> None:
    async with make_world(DEFAULT_GUILD_BUDGET="1000") as world:
        clip_id = await first_clip(world)
        before, charged = spending_calls(world), await world.ledger_kinds()
        text = await refusal_text(await world.slash("song", command, clip=clip_id, **options))
        assert words in text and "went wrong" not in text
        assert spending_calls(world) == before and await world.ledger_kinds() == charged


async def test_vox_end_without_start_is_refused_before_upstream(make_world: Any) -> None:
    async with make_world() as world:
        clip_id = await first_clip(world)
        before, charged = spending_calls(world), await world.ledger_kinds()
        text = await refusal_text(await world.slash("tools", "vox", clip=clip_id, end=0.0))
        assert "`end`" in text
        assert spending_calls(world) == before and await world.ledger_kinds() == charged


async def test_a_producer_song_is_refused_by_sonic_commands_before_upstream(
    make_world: Any,
) -> None:
    async with make_world() as world:
        await (await world.slash("producer", "create", sound="lofi")).wait_response()
        message = (await world.clip_messages(1))[0]
        clip_id = str(message["embeds"][0]["footer"]["text"]).removeprefix("Clip ")
        before, charged = spending_calls(world), await world.ledger_kinds()
        for command, subcommand, options in (
            ("tools", "vox", {}),
            ("tools", "wav", {}),
            ("song", "extend", {"at": 1.0}),
            ("persona", "create", {"name": "Voice"}),
        ):
            interaction = await world.slash(command, subcommand, clip=clip_id, **options)
            assert "`/producer`" in await refusal_text(interaction), (command, subcommand)
        assert spending_calls(world) == before and await world.ledger_kinds() == charged


@pytest.mark.parametrize(
    ("file", "options", "words"),
    [
        # MusicAPI takes at most 8 minutes: a 9-minute file is refused before it is paid for.
        (("long.mp3", mp3(540.0), "audio/mpeg"), {}, "8:00"),
        (("long.mp3", mp3(540.0), "audio/mpeg"), {"action": "cover"}, "8:00"),
        # A WebM's length is read from its Segment Info: `at` past its 12 s is refused.
        (("short.webm", webm(12.0), "audio/webm"), {"action": "extend", "at": 20.0}, "12"),
        # A live-recorded WebM states no length, so the 8 minutes cannot be checked.
        (("live.webm", webm(None), "audio/webm"), {}, "does not say how long"),
        # A download cut off after 3 KiB: its Xing header counts 30 s of frames.
        (("cut.mp3", mp3_encoded(30.0)[:3072], "audio/mpeg"), {}, "cut off"),
    ],
)
async def test_uploads_too_long_unmeasurable_or_cut_off_are_refused_before_anything_is_paid(
    make_world: Any, file: tuple[str, bytes, str], options: dict[str, Any], words: str
) -> None:
    async with make_world() as world:
        text = await refusal_text(
            await world.slash("song", "upload", files={"file": file}, **options)
        )
        field = "`at`" if "at" in options else "`file`"
        assert field in text and words in text and "went wrong" not in text, text
        assert spending_calls(world) == [] and world.posts("/sonic/upload") == []
        assert await world.ledger_kinds() == []
