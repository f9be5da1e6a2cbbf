"""The length of uploaded audio read from its bytes (mutagen over a sparse view of the file),
and files that only start like audio refused."""

from __future__ import annotations

import asyncio

import pytest

from bot.validation import attachments, offloop
from bot.validation.audio_length import (
    FETCH_BUDGET_BYTES,
    FETCH_MIN_BYTES,
    CutOff,
    NotParsable,
    SparseFile,
    TooLarge,
    Unfetched,
    _outcome,
    length_in,
    read_length,
)
from tests.audio_files import (
    MP3_FRAME_SAMPLES,
    MP3_RATE,
    flac,
    id3_bomb,
    m4a,
    mp3,
    mp3_encoded,
    ogg_opus,
    ogg_vorbis,
    wav,
    webm,
)

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
        (mp3_encoded(3.0), 3.0, MP3_FRAME_S),
        (wav(2.5), 2.5, 0),
        (webm(12.0), 12.0, 0),
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


def test_a_file_needing_more_than_the_read_budget_is_refused_unread() -> None:
    # An ID3 tag larger than the budget hides the first frame: the parser never sees it.
    tag_size = FETCH_BUDGET_BYTES + 1024
    synchsafe = bytes((tag_size >> shift) & 0x7F for shift in (21, 14, 7, 0))
    data = b"ID3\x03\x00\x00" + synchsafe + b"\x00" * tag_size + mp3(5.0)[10:]
    with pytest.raises(TooLarge):
        length_of(data)


def test_the_crafted_tag_is_refused_after_one_small_read() -> None:
    data = id3_bomb(415_000)
    assert 8 * 2**20 < len(data) < 9 * 2**20
    with pytest.raises(TooLarge):
        length_of(data)


@pytest.mark.parametrize(
    "data",
    [
        mp3_encoded(30.0)[:3072],  # a download cut off after 3 KiB: the Xing header counts more
        wav(3.0)[:3000],
        webm(12.0, audio_bytes=100_000)[:3000],
        # A "fast start" M4A cut off inside its audio: the `mdat` box runs past the end.
        m4a(42.0, audio_bytes=200_000)[:100_000],
        # A FLAC whose frames (each at least the smallest STREAMINFO states) cannot fit.
        flac(60.0, min_frame_bytes=2000)[:300_000],
        flac(60.0, min_frame_bytes=2000, picture_bytes=500_000)[:1_500_000],  # art not audio
    ],
    ids=["mp3", "wav", "webm", "m4a", "flac", "flac-with-cover-art"],
)
def test_a_file_shorter_than_its_header_says_is_cut_off(data: bytes) -> None:
    with pytest.raises(CutOff) as cut:
        length_of(data)
    assert cut.value.actual == len(data) < cut.value.stated


async def test_a_parse_past_its_time_limit_is_killed_while_the_loop_runs_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A tag within the budget whose parse takes mutagen tens of seconds.
    monkeypatch.setattr(offloop, "PARSE_TIME_LIMIT_S", 1.5)
    data = id3_bomb(150_000)
    assert len(data) < FETCH_BUDGET_BYTES
    loop = asyncio.get_running_loop()
    gaps: list[float] = []
    stop = asyncio.Event()

    async def ticker() -> None:
        while not stop.is_set():
            before = loop.time()
            await asyncio.sleep(0.01)
            gaps.append(loop.time() - before - 0.01)

    async def fetch(start: int, count: int) -> bytes:
        return data[start : start + count]

    ticking = asyncio.create_task(ticker())
    started = loop.time()
    with pytest.raises(offloop.ParseTimedOut):
        await read_length("mp3", len(data), data[:FETCH_MIN_BYTES], fetch)
    took = loop.time() - started
    stop.set()
    await ticking
    assert took < 2 * 1.5 + 3  # two rounds at most, each stopped at its limit
    assert len(gaps) > 50 and max(gaps) < 0.5


@pytest.mark.parametrize(
    "answer",
    [[], {"seconds": "1"}, {"unfetched": [5, 1]}, {"cut_off": [1]}, {"x": 1}, {"a": 1, "b": 2}],
)
def test_a_malformed_answer_from_the_parser_is_a_crash(answer: object) -> None:
    with pytest.raises(offloop.ParseCrashed):
        _outcome(answer)


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


def test_a_webm_without_a_duration_has_no_length_and_other_ebml_is_not_webm() -> None:
    assert length_in("webm", len(webm(None)), {0: webm(None)}) is None
    mkv = webm(3.0).replace(b"webm", b"mkvx", 1)
    with pytest.raises(NotParsable):
        length_in("webm", len(mkv), {0: mkv})
    with pytest.raises(NotParsable):
        length_in("webm", 100, {0: b"\x1a\x45\xdf\xa3" + b"\x00" * 96})


def test_a_wav_written_as_a_stream_is_not_taken_for_cut_off() -> None:
    # Written to a pipe, a WAV's RIFF and data sizes are placeholders: the file size counts.
    streamed = bytearray(wav(2.0))
    streamed[4:8] = b"\xff\xff\xff\xff"
    streamed[40:44] = b"\xff\xff\xff\xff"
    assert length_in("wav", len(streamed), {0: bytes(streamed)}) == 2.0


@pytest.mark.parametrize(
    "data",
    [
        m4a(42.0, audio_bytes=200_000),
        m4a(42.0, audio_bytes=200_000, moov_last=True),
        flac(60.0, min_frame_bytes=2000),
        flac(60.0, min_frame_bytes=2000, picture_bytes=500_000),
        flac(60.0, min_frame_bytes=0, audio_bytes=3000),  # sizes unknown: nothing to hold it to
        flac(60.0, min_frame_bytes=12, audio_bytes=646 * 12),  # all silence: tiny frames
    ],
    ids=["m4a", "m4a-moov-last", "flac", "flac-cover-art", "flac-streamed", "flac-silence"],
)
def test_whole_m4a_and_flac_files_are_not_taken_for_cut_off(data: bytes) -> None:
    length, _ = length_of(data)
    assert length is not None and length > 40


def test_a_flac_whose_audio_does_not_start_where_its_blocks_end_is_not_judged() -> None:
    # Some writers got a PICTURE block's size wrong, and mutagen reads the picture itself
    # instead: counted by its stated size, the audio would seem to start 1 MB later, and the
    # file would look cut off. No frame starts there, so only the whole file is held to the
    # frames' minimum, which it meets.
    data = bytearray(flac(60.0, min_frame_bytes=2000, picture_bytes=500_000))
    at = 4 + 4 + 34  # the PICTURE block's header
    assert data[at] == 0x80 | 6
    stated = int.from_bytes(data[at + 1 : at + 4], "big") + 1_000_000
    data[at + 1 : at + 4] = stated.to_bytes(3, "big")
    length, _ = length_of(bytes(data))
    assert length == 60.0
