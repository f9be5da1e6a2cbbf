"""The length of uploaded audio read from its bytes (mutagen over a sparse view of the file),
and files that only start like audio refused."""

from __future__ import annotations

import asyncio

import pytest

from bot.validation import attachments
from bot.validation.audio_length import (
    FETCH_BUDGET_BYTES,
    FETCH_MIN_BYTES,
    NotParsable,
    SparseFile,
    Unfetched,
    length_in,
    read_length,
)
from tests.audio_files import MP3_FRAME_SAMPLES, MP3_RATE, flac, m4a, mp3, ogg_opus, ogg_vorbis

MP3_FRAME_S = MP3_FRAME_SAMPLES / MP3_RATE


def length_of(data: bytes, head: int = FETCH_MIN_BYTES) -> tuple[float | None, list[int]]:
    """The length read from `data` as the bot reads an attachment: its first `head` bytes,
    then whatever mutagen asks for. Also the offsets fetched after the head."""
    fetched: list[int] = []

    async def fetch(start: int, count: int) -> bytes:
        fetched.append(start)
        return data[start : start + count]

    kind = attachments.audio_kind(data[: attachments.HEAD_BYTES])
    assert kind is not None
    return asyncio.run(read_length(kind, len(data), data[:head], fetch)), fetched


@pytest.mark.parametrize(
    ("data", "seconds", "tolerance"),
    [
        (mp3(12.5), 12.5, MP3_FRAME_S),  # an mp3 is a whole number of frames
        (mp3(300.0), 300.0, MP3_FRAME_S),
        (flac(7.25), 7.25, 0),
        (ogg_vorbis(3.5), 3.5, 0),
        (ogg_opus(61.0), 61.0, 0),
        (m4a(42.0), 42.0, 0),
    ],
)
def test_the_length_is_read_from_each_container(
    data: bytes, seconds: float, tolerance: float
) -> None:
    length, fetched = length_of(data)
    assert length == pytest.approx(seconds, abs=tolerance + 1e-9)
    assert fetched == []  # small files: the first read holds everything mutagen needs


def test_an_index_at_the_end_costs_one_more_read_not_a_download() -> None:
    # An MP4 that is not "fast start": its `moov` follows 2 MB of audio.
    data = m4a(9.0, audio_bytes=2_000_000, moov_last=True)
    length, fetched = length_of(data)
    assert length == 9.0
    assert len(fetched) == 1 and fetched[0] > len(data) - FETCH_MIN_BYTES - 1


def test_a_length_past_the_read_budget_stays_unknown() -> None:
    # An ID3 tag larger than the budget (cover art) hides the first frame: unknown, not refused.
    tag_size = FETCH_BUDGET_BYTES + 1024
    synchsafe = bytes((tag_size >> shift) & 0x7F for shift in (21, 14, 7, 0))
    data = b"ID3\x03\x00\x00" + synchsafe + b"\x00" * tag_size + mp3(5.0)[10:]
    assert length_of(data) == (None, [])


def test_a_sparse_file_names_the_bytes_it_does_not_hold() -> None:
    view = SparseFile(100, {0: b"a" * 10, 90: b"z" * 10})
    assert view.read(4) == b"aaaa" and view.tell() == 4
    view.seek(-5, 2)
    assert view.read() == b"zzzzz"
    view.seek(8)
    with pytest.raises(Unfetched) as gap:
        view.read(4)
    assert (gap.value.start, gap.value.end) == (8, 12)


@pytest.mark.parametrize(
    ("kind", "data"),
    [
        ("mp3", b"ID3\x03\x00\x00\x00" + b"\x00" * 2048),  # a tag and no audio
        ("mp3", b"\xff\xfb\x90\xc0" + b"\x00" * 1024),  # one frame header, then nothing
        ("ogg", b"OggS\x00\x02" + b"\x00" * 512),  # the magic number alone
        ("flac", b"fLaC" + b"\x00" * 64),
        ("m4a", b"\x00\x00\x00\x10ftypM4A \x00\x00\x00\x00"),  # no `moov`
    ],
)
def test_bytes_that_only_start_like_audio_are_not_parsable(kind: str, data: bytes) -> None:
    with pytest.raises(NotParsable):
        length_in(kind, len(data), {0: data})


def test_formats_without_a_reader_have_no_length() -> None:
    assert length_in("webm", 100, {0: b"\x1a\x45\xdf\xa3" + b"\x00" * 96}) is None
