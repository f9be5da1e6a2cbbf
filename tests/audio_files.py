"""Small real audio files built in code, each stating a chosen length the way its container
does, so tests need neither binaries in the repository nor an encoder. The audio itself is
silence or empty: only what a length reader looks at is real."""

from __future__ import annotations

import struct

from mutagen.ogg import OggPage

MP3_RATE = 44100
MP3_FRAME_SAMPLES = 1152
# MPEG-1 Layer III, no CRC, 128 kbit/s, 44.1 kHz, no padding, mono: 417-byte frames.
MP3_HEADER = b"\xff\xfb\x90\xc0"
MP3_FRAME_BYTES = 144 * 128_000 // MP3_RATE
MONO_SIDE_INFO = 17


def mp3(seconds: float, frames_after: int = 4) -> bytes:
    """An ID3v2 tag, a first frame whose Xing header counts the frames of `seconds`, then a
    few silent frames (all-zero side info and main data decode as silence)."""
    frames = round(seconds * MP3_RATE / MP3_FRAME_SAMPLES)
    xing = b"Xing" + struct.pack(">II", 0x1, frames)
    first = MP3_HEADER + b"\x00" * MONO_SIDE_INFO + xing
    first += b"\x00" * (MP3_FRAME_BYTES - len(first))
    silent = MP3_HEADER + b"\x00" * (MP3_FRAME_BYTES - 4)
    id3 = b"ID3\x03\x00\x00\x00\x00\x00\x00"  # an empty ID3v2.3 tag, as most encoders write
    return id3 + first + silent * frames_after


def flac(seconds: float, rate: int = 44100) -> bytes:
    """The `fLaC` marker and a STREAMINFO block counting the samples of `seconds`."""
    samples = round(seconds * rate)
    channels, bits = 1, 16
    packed = (rate << 44) | ((channels - 1) << 41) | ((bits - 1) << 36) | samples
    info = struct.pack(">HH", 4096, 4096) + b"\x00" * 6 + packed.to_bytes(8, "big")
    info += b"\x00" * 16  # MD5 of the decoded audio: zero means "not computed"
    return b"fLaC" + bytes([0x80]) + len(info).to_bytes(3, "big") + info


def _ogg(packets: list[list[bytes]], last_position: int) -> bytes:
    pages = []
    for sequence, page_packets in enumerate(packets):
        page = OggPage()
        page.serial, page.sequence, page.packets = 1, sequence, page_packets
        page.first = sequence == 0
        page.last = sequence == len(packets) - 1
        page.position = last_position if page.last else 0
        pages.append(page.write())
    return b"".join(pages)


def ogg_vorbis(seconds: float, rate: int = 44100) -> bytes:
    """Vorbis identification and comment headers, then a last page whose granule position
    is the sample count of `seconds`."""
    ident = b"\x01vorbis" + struct.pack("<IBIiii", 0, 1, rate, 0, 64_000, 0) + b"\xb8\x01"
    vendor = b"musicbot tests"
    comment = b"\x03vorbis" + struct.pack("<I", len(vendor)) + vendor + b"\x00" * 4 + b"\x01"
    setup = b"\x05vorbis" + b"\x00" * 8
    return _ogg([[ident], [comment, setup], [b"\x00" * 32]], round(seconds * rate))


def ogg_opus(seconds: float, pre_skip: int = 312) -> bytes:
    """Opus headers and a last page at 48 kHz granule `seconds` past the pre-skip."""
    head = b"OpusHead" + struct.pack("<BBHIhB", 1, 1, pre_skip, 48000, 0, 0)
    vendor = b"musicbot tests"
    tags = b"OpusTags" + struct.pack("<I", len(vendor)) + vendor + b"\x00" * 4
    return _ogg([[head], [tags], [b"\x00" * 32]], round(seconds * 48000) + pre_skip)


def _atom(name: bytes, body: bytes) -> bytes:
    return struct.pack(">I", 8 + len(body)) + name + body


def m4a(seconds: float, audio_bytes: int = 64, moov_last: bool = False) -> bytes:
    """`ftyp`, an `mdat` of `audio_bytes`, and a `moov` with one sound track whose `mdhd`
    states `seconds` (before the `mdat` as "fast start" files have it, or after it)."""
    timescale = 44100
    ticks = round(seconds * timescale)
    mdhd = _atom(b"mdhd", struct.pack(">BxxxIIIIHH", 0, 0, 0, timescale, ticks, 0, 0))
    hdlr = _atom(b"hdlr", b"\x00" * 8 + b"soun" + b"\x00" * 12 + b"sound\x00")
    movie = struct.pack(">BxxxIIII", 0, 0, 0, 1000, round(seconds * 1000))
    mvhd = _atom(b"mvhd", movie + b"\x00" * 80)
    moov = _atom(b"moov", mvhd + _atom(b"trak", _atom(b"mdia", mdhd + hdlr)))
    ftyp = _atom(b"ftyp", b"M4A \x00\x00\x00\x00M4A isom")
    mdat = _atom(b"mdat", b"\x00" * audio_bytes)
    return ftyp + (mdat + moov if moov_last else moov + mdat)
