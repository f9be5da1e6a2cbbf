"""Real, tiny media files for the simulator: a sine-tone WAV, a solid-colour PNG, a MIDI file
and a silent MP3.

Stdlib only, so ``MUSICAPI_SIMULATE=1`` needs nothing extra installed, and the files are
genuinely playable/viewable so delivery code is exercised end to end.
"""

from __future__ import annotations

import io
import math
import struct
import wave
import zlib
from functools import lru_cache

__all__ = [
    "SAMPLE_RATE",
    "WAV_HEADER_BYTES",
    "midi_bytes",
    "midi_pitch",
    "mp3_silence",
    "png_bytes",
    "wav_bytes",
    "wav_frames",
]

SAMPLE_RATE = 8000
WAV_HEADER_BYTES = 44
_SAMPLE_WIDTH = 2  # 16-bit mono
_AMPLITUDE = 0.3 * 32767


def wav_frames(seconds: float, min_bytes: int | None = None) -> int:
    """Frame count for ``seconds`` of audio, grown so the file is at least ``min_bytes``."""
    frames = max(1, round(seconds * SAMPLE_RATE))
    if min_bytes is not None and min_bytes > WAV_HEADER_BYTES:
        frames = max(frames, math.ceil((min_bytes - WAV_HEADER_BYTES) / _SAMPLE_WIDTH))
    return frames


@lru_cache(maxsize=16)
def _one_second(frequency: int) -> bytes:
    # With an integer frequency one second holds whole periods, so repeating it is seamless:
    # a multi-megabyte file costs one second of math.sin calls.
    return b"".join(
        struct.pack("<h", int(_AMPLITUDE * math.sin(2 * math.pi * frequency * i / SAMPLE_RATE)))
        for i in range(SAMPLE_RATE)
    )


@lru_cache(maxsize=32)
def wav_bytes(frequency: int, frames: int) -> bytes:
    """A mono 16-bit 8 kHz WAV of a sine tone, ``frames`` samples long."""
    second = _one_second(frequency)
    whole, rest = divmod(frames, SAMPLE_RATE)
    pcm = second * whole + second[: rest * _SAMPLE_WIDTH]
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(_SAMPLE_WIDTH)
        w.setframerate(SAMPLE_RATE)
        w.writeframes(pcm)
    return out.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data))
        + kind
        + data
        + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


@lru_cache(maxsize=64)
def png_bytes(rgb: tuple[int, int, int], size: int = 64) -> bytes:
    """A ``size``×``size`` solid-colour RGB PNG."""
    row = b"\x00" + bytes(rgb) * size  # filter type 0, then the pixels
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)  # 8-bit RGB, no interlace
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(row * size))
        + _chunk(b"IEND", b"")
    )


def midi_pitch(frequency: float) -> int:
    """The nearest MIDI note number (A4 = 440 Hz = 69)."""
    return max(0, min(127, round(69 + 12 * math.log2(frequency / 440.0))))


def _vlq(value: int) -> bytes:
    """MIDI variable-length quantity."""
    out = [value & 0x7F]
    value >>= 7
    while value:
        out.append(0x80 | (value & 0x7F))
        value >>= 7
    return bytes(reversed(out))


_TICKS_PER_BEAT = 480
_MICROSECONDS_PER_BEAT = 500_000  # 120 bpm: one beat is half a second


def midi_bytes(notes: tuple[tuple[int, float, float], ...]) -> bytes:
    """A format-0 Standard MIDI File of ``(pitch, start_s, end_s)`` notes, one track, 120 bpm."""
    ticks_per_second = _TICKS_PER_BEAT * 1_000_000 / _MICROSECONDS_PER_BEAT
    events: list[tuple[int, bytes]] = []
    for pitch, start, end in notes:
        events.append((round(start * ticks_per_second), bytes((0x90, pitch, 100))))
        events.append((round(end * ticks_per_second), bytes((0x80, pitch, 0))))
    events.sort(key=lambda e: (e[0], e[1][0] == 0x90))  # note-offs before note-ons on a tie
    track = b"\x00\xff\x51\x03" + _MICROSECONDS_PER_BEAT.to_bytes(3, "big")
    now = 0
    for tick, message in events:
        track += _vlq(tick - now) + message
        now = tick
    track += b"\x00\xff\x2f\x00"  # end of track
    header = b"MThd" + struct.pack(">IHHH", 6, 0, 1, _TICKS_PER_BEAT)
    return header + b"MTrk" + struct.pack(">I", len(track)) + track


# MPEG-1 Layer III, 128 kbit/s, 44.1 kHz, mono, no CRC: every frame is 417 bytes and 1152
# samples. With all-zero side information each granule holds no data, which decodes as silence.
_MP3_HEADER = b"\xff\xfb\x90\xc0"
_MP3_FRAME = _MP3_HEADER + bytes(417 - len(_MP3_HEADER))
_MP3_FRAME_SECONDS = 1152 / 44100


@lru_cache(maxsize=8)
def mp3_silence(seconds: float) -> bytes:
    """A playable MP3 of ``seconds`` of silence (Producer's mp3 downloads)."""
    return _MP3_FRAME * max(1, math.ceil(seconds / _MP3_FRAME_SECONDS))
