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


FLAC_BLOCK = 4096  # samples per frame, as libFLAC writes them by default


def flac(
    seconds: float,
    rate: int = 44100,
    *,
    min_frame_bytes: int = 0,
    picture_bytes: int = 0,
    audio_bytes: int | None = None,
) -> bytes:
    """The `fLaC` marker and a STREAMINFO block counting the samples of `seconds`. With
    `min_frame_bytes` (0: "unknown", as a streaming encoder leaves it) the STREAMINFO states
    the smallest frame, and frames follow: every frame of `seconds` at that size, or
    `audio_bytes` of them (a frame sync code, then zeros). `picture_bytes`: a PICTURE block
    with that much image data between STREAMINFO and the audio, as cover art is stored."""
    samples = round(seconds * rate)
    channels, bits = 1, 16
    packed = (rate << 44) | ((channels - 1) << 41) | ((bits - 1) << 36) | samples
    frame_sizes = min_frame_bytes.to_bytes(3, "big") + min_frame_bytes.to_bytes(3, "big")
    info = struct.pack(">HH", FLAC_BLOCK, FLAC_BLOCK) + frame_sizes + packed.to_bytes(8, "big")
    info += b"\x00" * 16  # MD5 of the decoded audio: zero means "not computed"
    last = 0x80 if not picture_bytes else 0x00
    blocks = bytes([last]) + len(info).to_bytes(3, "big") + info
    if picture_bytes:  # a front cover (type 3) of `picture_bytes` of image data
        mime = b"image/png"
        picture = struct.pack(">II", 3, len(mime)) + mime + struct.pack(">I", 0)
        picture += struct.pack(">IIIII", 500, 500, 24, 0, picture_bytes) + b"\x00" * picture_bytes
        blocks += bytes([0x80 | 6]) + len(picture).to_bytes(3, "big") + picture
    if audio_bytes is None:
        audio_bytes = -(-samples // FLAC_BLOCK) * min_frame_bytes
    audio = (b"\xff\xf8" + b"\x00" * (audio_bytes - 2)) if audio_bytes else b""
    return b"fLaC" + blocks + audio


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


def mp3_encoded(seconds: float) -> bytes:
    """A whole MP3 as an encoder writes it: its Xing header counts the frames and the bytes of
    the stream, and every frame is there (417 bytes each, so about 16 KiB a second)."""
    frames = round(seconds * MP3_RATE / MP3_FRAME_SAMPLES)
    xing = b"Xing" + struct.pack(">III", 0x3, frames, (frames + 1) * MP3_FRAME_BYTES)
    first = MP3_HEADER + b"\x00" * MONO_SIDE_INFO + xing
    first += b"\x00" * (MP3_FRAME_BYTES - len(first))
    silent = MP3_HEADER + b"\x00" * (MP3_FRAME_BYTES - 4)
    return b"ID3\x03\x00\x00\x00\x00\x00\x00" + first + silent * frames


def id3_bomb(frames: int = 415_000, seconds: float = 30.0) -> bytes:
    """An MP3 whose ID3v2 tag holds `frames` tiny text frames (20 bytes each: 415,000 make
    ~8 MiB), then real audio. mutagen copies the rest of the tag once per frame it reads, so
    parsing the tag takes time that grows with the square of its size (minutes at 8 MiB)."""
    frame = b"TXXX" + struct.pack(">I", 10) + b"\x00\x00" + b"\x00" + b"x" * 9
    body = frame * frames
    size = len(body)
    synchsafe = bytes((size >> shift) & 0x7F for shift in (21, 14, 7, 0))
    return b"ID3\x03\x00\x00" + synchsafe + body + mp3_encoded(seconds)[10:]


def wav(seconds: float, rate: int = 8000) -> bytes:
    """A canonical 8-bit mono WAV (`fmt ` then `data`) of `seconds` of silence."""
    data = b"\x80" * round(seconds * rate)
    fmt = struct.pack("<HHIIHH", 1, 1, rate, rate, 1, 8)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
    body += b"data" + struct.pack("<I", len(data)) + data
    return b"RIFF" + struct.pack("<I", len(body)) + body


def _ebml(element_id: int, body: bytes) -> bytes:
    size = b"\x01" + len(body).to_bytes(7, "big")  # an 8-byte size vint: valid for any size
    return element_id.to_bytes((element_id.bit_length() + 7) // 8, "big") + size + body


def webm(seconds: float | None, audio_bytes: int = 256) -> bytes:
    """EBML header (DocType webm), then a Segment with an Info whose Duration (in ms, the
    default TimecodeScale) states `seconds` (none when None, as live recorders write), a
    Tracks element and one Cluster of `audio_bytes`."""
    header = _ebml(0x1A45DFA3, _ebml(0x4286, b"\x01") + _ebml(0x4282, b"webm"))
    info = _ebml(0x2AD7B1, (1_000_000).to_bytes(3, "big"))
    if seconds is not None:
        info += _ebml(0x4489, struct.pack(">d", seconds * 1000))
    tracks = _ebml(0x1654AE6B, _ebml(0xAE, _ebml(0x86, b"A_OPUS")))
    cluster = _ebml(0x1F43B675, _ebml(0xE7, b"\x00") + _ebml(0xA3, b"\x00" * audio_bytes))
    return header + _ebml(0x18538067, _ebml(0x1549A966, info) + tracks + cluster)
